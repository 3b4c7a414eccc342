"""The catalogue categorises order items: product webhooks reach items already stored, orders arriving later find
their product, and the owner's mapping of shop categories re-categorises what is stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar.testing import AsyncTestClient

from accounts.tables import AuditEvent
from afterglow.settings import Settings
from shop.platforms.products import ProductData
from shop.services.catalogue import apply_product_webhook, entry_for_sku, store_product
from shop.services.categories import save_category_map, shop_categories
from shop.tables import CategoryMap, OrderItem, Product, ProductKey
from tests.factories import order_payload

DATA = Path(__file__).parent.parent / "data" / "webhooks"
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SHOPIFY_ORDER = "5813749661986"
#: The tea towel of the stored Shopify order: a line item without a SKU.
TOWEL_PRODUCT, TOWEL_VARIANT = 8102261342498, 44361254748450


def fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())  # type: ignore[no-any-return]


async def deliver(client: AsyncTestClient, settings: Settings, source: str, topic: str, payload: dict[str, Any]) -> Any:
    body = json.dumps(payload).encode()
    secret = settings.shopify_secret if source == "shopify" else settings.woocommerce_secret
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    if source == "shopify":
        headers = {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": signature, "X-Shopify-Webhook-Id": topic}
    else:
        headers = {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": signature, "X-WC-Webhook-Delivery-ID": "1"}
    response = await client.post(
        f"/webhooks/{source}", content=body, headers={"Content-Type": "application/json", **headers}
    )
    assert response.status_code == 200, response.text
    return response


async def categories(external_id: str) -> dict[str, str]:
    rows = await OrderItem.select(OrderItem.name, OrderItem.category).where(OrderItem.order.external_id == external_id)
    return {row["name"]: row["category"] for row in rows}


def towel_product(**changes: Any) -> dict[str, Any]:
    """Shopify's documented products/update body, as the shop's tea towel."""
    payload = fixture("shopify_products_update.json") | {"id": TOWEL_PRODUCT, "title": "Linen tea towel"}
    payload["variants"] = [payload["variants"][0] | {"id": TOWEL_VARIANT, "product_id": TOWEL_PRODUCT}]
    return payload | changes


async def test_products_update_reaches_an_order_item_stored_before(client: AsyncTestClient, settings: Settings) -> None:
    await deliver(client, settings, "shopify", "orders/fulfilled", fixture("shopify_orders_fulfilled.json"))
    assert (await categories(SHOPIFY_ORDER))["Linen tea towel"] == ""

    response = await deliver(client, settings, "shopify", "products/update", towel_product(product_type="Textiles"))
    assert response.json() == {"status": "accepted"}
    assert (await categories(SHOPIFY_ORDER))["Linen tea towel"] == "textiles"

    # The shop renames its product type: the item follows, since a Shopify item has no category of its own.
    await deliver(client, settings, "shopify", "products/update", towel_product(product_type="Home Textiles"))
    assert (await categories(SHOPIFY_ORDER))["Linen tea towel"] == "home textiles"
    assert await Product.count() == 1


async def test_a_product_webhook_without_an_id_is_a_400(client: AsyncTestClient, settings: Settings) -> None:
    body = json.dumps({"title": "No id"}).encode()
    signature = base64.b64encode(hmac.new(settings.shopify_secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {"Content-Type": "application/json", "X-Shopify-Topic": "products/update"}
    response = await client.post(
        "/webhooks/shopify", content=body, headers={**headers, "X-Shopify-Hmac-Sha256": signature}
    )
    assert response.status_code == 400 and "`id`" in response.json()["detail"]
    assert await Product.count() == 0


async def test_a_woocommerce_product_categorises_its_items(client: AsyncTestClient, settings: Settings) -> None:
    await deliver(client, settings, "woocommerce", "order.updated", fixture("woocommerce_order_updated.json"))
    payload = fixture("woocommerce_product_updated.json") | {"id": 93, "name": "Beeswax candle set"}
    await deliver(client, settings, "woocommerce", "product.updated", payload)
    assert await categories("wc-727") == {"Beeswax candle set": "clothing"}


async def test_items_find_their_product_by_variant_then_product_then_sku(
    client: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    await store_product(ProductData("woocommerce", ("woocommerce:product:93",), shop_category="Candles"), NOW)
    await store_product(ProductData("woocommerce", ("woocommerce:variation:95",), shop_category="Tapers"), NOW)
    await store_product(ProductData("api", ("sku:CANDLE-1",), shop_category="Wax"), NOW)
    order = order_payload("wc-900", categories=("", "", "", ""))
    order["items"][0] |= {"sku": "CANDLE-1", "product_ref": "93"}
    order["items"][1] |= {"sku": "CANDLE-1", "product_ref": "93", "variant_ref": "95"}
    order["items"][2] |= {"sku": "CANDLE-1", "product_ref": "94"}
    order["items"][3] |= {"sku": "OTHER"}
    response = await client.post("/api/v1/orders", json=order, headers=api_headers)
    assert response.status_code == 201, response.text
    assert await categories("wc-900") == {"Item 1": "candles", "Item 2": "tapers", "Item 3": "wax", "Item 4": ""}


async def test_an_order_arriving_later_finds_its_product(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    await store_product(ProductData("api", ("sku:SKU-1",), sku="SKU-1", shop_category="Kettles & Teapots"), NOW)
    response = await client.post("/api/v1/orders", json=order_payload("A-1", categories=("",)), headers=api_headers)
    assert response.status_code == 201
    assert response.json()["items"][0]["category"] == "kettles & teapots"


async def test_the_mapping_recategorises_stored_items_and_is_audited(
    client: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    for sku, shop_category in (("SKU-1", "Kettles & Teapots"), ("SKU-2", "Kettles & Teapots"), ("SKU-3", "Mugs")):
        await store_product(ProductData("api", (f"sku:{sku}",), sku=sku, shop_category=shop_category), NOW)
    await client.post("/api/v1/orders", json=order_payload("A-1", categories=("", "", "")), headers=api_headers)
    await client.post("/api/v1/orders", json=order_payload("A-2", categories=("",)), headers=api_headers)
    assert await categories("A-1") == {"Item 1": "kettles & teapots", "Item 2": "kettles & teapots", "Item 3": "mugs"}

    saved = await save_category_map({"Kettles & Teapots": " Kitchen ", "Mugs": ""}, None, NOW)
    assert (saved.changed, saved.items) == (["Kettles & Teapots"], 3)
    assert await categories("A-1") == {"Item 1": "kitchen", "Item 2": "kitchen", "Item 3": "mugs"}
    assert await categories("A-2") == {"Item 1": "kitchen"}
    audit = await AuditEvent.select(AuditEvent.action, AuditEvent.detail).output(load_json=True).first()
    assert audit == {"action": "catalogue.map", "detail": {"mapping": {"Kettles & Teapots": "kitchen"}, "items": 3}}

    assert [(c.name, c.products, c.category) for c in await shop_categories()] == [
        ("Kettles & Teapots", 2, "kitchen"),
        ("Mugs", 1, ""),
    ]
    # Saving the same again changes nothing; removing the mapping brings the shop category back.
    assert (await save_category_map({"Kettles & Teapots": "kitchen"}, None, NOW)).items == 0
    assert (await save_category_map({"Kettles & Teapots": ""}, None, NOW)).items == 3
    assert await CategoryMap.count() == 0
    assert (await categories("A-2")) == {"Item 1": "kettles & teapots"}


async def test_an_api_item_keeps_its_own_category_until_it_is_mapped(
    client: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    await client.post("/api/v1/orders", json=order_payload("A-1", categories=("kitchen",)), headers=api_headers)
    await store_product(ProductData("csv", ("sku:SKU-1",), sku="SKU-1", shop_category="Teapots"), NOW)
    assert await categories("A-1") == {"Item 1": "kitchen"}
    await save_category_map({"Teapots": "tea"}, None, NOW)
    assert await categories("A-1") == {"Item 1": "tea"}


async def test_one_product_from_the_api_and_from_shopify(client: AsyncTestClient, settings: Settings) -> None:
    """The API's SKU and the Shopify variant with that SKU are one product: the key moves, nothing duplicates."""
    await store_product(ProductData("api", ("sku:TOWEL-1",), sku="TOWEL-1", title="Tea towel", mpn="TT-1"), NOW)
    payload = towel_product(product_type="Textiles")
    payload["variants"][0]["sku"] = "TOWEL-1"
    await apply_product_webhook("shopify", "products/update", payload, NOW)
    assert await Product.count() == 1
    entry = await entry_for_sku("TOWEL-1")
    assert entry is not None
    assert (entry.title, entry.shop_category, entry.mpn, entry.source) == ("Linen tea towel", "Textiles", "TT-1", "api")
    assert await ProductKey.count() == 3  # its SKU, the Shopify product and its variant


async def test_a_deleted_product_is_marked_and_a_later_update_restores_it(
    client: AsyncTestClient, settings: Settings
) -> None:
    await apply_product_webhook("shopify", "products/update", towel_product(), NOW)
    await apply_product_webhook("shopify", "products/delete", {"id": TOWEL_PRODUCT}, NOW)
    product = await Product.select(Product.deleted_at).first()
    assert product["deleted_at"] == NOW
    assert await shop_categories() == []
    await apply_product_webhook("shopify", "products/delete", {"id": 1}, NOW)  # unknown: nothing happens
    await apply_product_webhook("shopify", "products/update", towel_product(), NOW)
    assert (await Product.select(Product.deleted_at).first())["deleted_at"] is None
    assert await Product.count() == 1
