"""The admin page of catalogue categories: admins only, CSRF on the save, and the stored items re-categorised."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from litestar.testing import AsyncTestClient

from accounts.tables import AuditEvent
from shop.platforms.products import ProductData
from shop.services.catalogue import store_product
from shop.tables import CategoryMap, OrderItem
from tests.factories import order_payload
from tests.unit.staff_fixtures import csrf_token, make_staff, sign_in

PAGE = "/app/admin/catalogue"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def catalogue(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    for sku, shop_category in (("SKU-1", "Kettles & Teapots"), ("SKU-2", "Kettles & Teapots"), ("SKU-3", "Mugs")):
        await store_product(ProductData("api", (f"sku:{sku}",), sku=sku, shop_category=shop_category), NOW)
    response = await client.post(
        "/api/v1/orders", json=order_payload("A-1", categories=("", "", "")), headers=api_headers
    )
    assert response.status_code == 201


def page_token(text: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', text)
    assert match
    return match.group(1)


async def test_an_admin_maps_shop_categories_and_stored_items_follow(
    client: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    await make_staff()
    await catalogue(client, api_headers)
    assert await sign_in(client, "ada") == 303

    page = await client.get(PAGE)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Kettles & Teapots" in text and "Mugs" in text
    assert re.search(r"Kettles & Teapots</label></th>\s*<td>2</td>", text)
    assert 'name="map:Mugs"' in text
    assert f'href="{PAGE}"' in text  # the admin tabs link the page

    form = {"map:Kettles & Teapots": "Kitchen", "map:Mugs": "", "_csrf_token": page_token(page.text)}
    saved = await client.post(PAGE, data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{PAGE}?changed=1&items=2"
    shown = await client.get(saved.headers["location"])
    assert "Mapping saved for 1 shop category; 2 order items re-categorised." in shown.text

    rows = await OrderItem.select(OrderItem.sku, OrderItem.category).order_by(OrderItem.sku)
    assert [row["category"] for row in rows] == ["kitchen", "kitchen", "mugs"]
    assert await CategoryMap.select(CategoryMap.shop_category, CategoryMap.category) == [
        {"shop_category": "Kettles & Teapots", "category": "kitchen"}
    ]
    audit = await AuditEvent.select(AuditEvent.actor_name).where(AuditEvent.action == "catalogue.map")
    assert audit == [{"actor_name": "ada"}]


async def test_the_page_is_for_admins_only(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    await make_staff()
    await catalogue(client, api_headers)
    assert (await client.get(PAGE, follow_redirects=False)).status_code == 303  # to the sign-in page
    for username in ("max", "sue"):  # a manager and a team member
        client.cookies.clear()
        assert await sign_in(client, username) == 303
        assert (await client.get(PAGE)).status_code == 403
        token = await csrf_token(client)
        refused = await client.post(PAGE, data={"map:Mugs": "kitchen", "_csrf_token": token}, follow_redirects=False)
        assert refused.status_code == 403
    assert await CategoryMap.count() == 0


async def test_saving_needs_the_csrf_token(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    await make_staff()
    await catalogue(client, api_headers)
    assert await sign_in(client, "ada") == 303
    refused = await client.post(PAGE, data={"map:Mugs": "kitchen"}, follow_redirects=False)
    assert refused.status_code == 403
    assert await CategoryMap.count() == 0


async def test_an_empty_catalogue_says_where_products_come_from(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    page = await client.get(PAGE)
    assert page.status_code == 200
    assert "import-products" in page.text
