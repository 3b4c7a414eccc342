"""What customers see of the catalogue: each product's image and title in the invitation email and on the review
form, and the catalogue's title in the review widget."""

from __future__ import annotations

import html

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from shop.tables import OrderItem, Product
from tests.unit.survey_fixtures import OPEN_AT, invite

KETTLE = {"title": "Stone kettle 1.5 l", "image_url": "https://cdn.shop.example/kettle.jpg"}
GARDEN = {"title": "Garden shears", "image_url": "/static/demo/products/kettle.png"}


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


async def catalogue(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    for sku, body in (("SKU-1", KETTLE), ("SKU-2", GARDEN)):
        response = await client.put(f"/api/v1/products/{sku}", json=body, headers=api_headers)
        assert response.status_code == 201, response.text


async def test_the_invitation_shows_each_product_image_and_title(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await catalogue(client, api_headers)
    invited = await invite(client, api_headers, settings, categories=("kitchen", "garden"))
    mail = invited.email
    body = html.unescape(mail["html"])
    assert '<img src="https://cdn.shop.example/kettle.jpg" alt="Stone kettle 1.5 l" width="64" height="64"' in body
    # A picture on this server gets its full address: mail programs load images from elsewhere.
    local = f'<img src="{settings.base_url}/static/demo/products/kettle.png" alt="Garden shears"'
    assert local in body
    assert "1 × Stone kettle 1.5 l" in body and "1 × Garden shears" in body
    assert "1 x Stone kettle 1.5 l" in mail["text"]


async def test_an_unknown_product_shows_its_ordered_name_without_a_picture(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    invited = await invite(client, api_headers, settings, categories=("kitchen",))
    assert "<img" not in invited.email["html"]
    assert "1 × Item 1" in invited.email["html"]


async def test_the_review_form_shows_the_image_and_title(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await catalogue(client, api_headers)
    invited = await invite(client, api_headers, settings, categories=("kitchen", "garden"))
    item = await OrderItem.select(OrderItem.id).where(OrderItem.sku == "SKU-1").first()

    page = await client.get(f"{invited.survey_path}/items/{item['id']}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert (
        '<img class="product-image" src="https://cdn.shop.example/kettle.jpg" alt="Stone kettle 1.5 l"'
        ' width="96" height="96"'
    ) in text
    assert "Stone kettle 1.5 l</h2>" in text
    assert '<p class="ordered-as">Item 1</p>' in text  # what the order called it
    assert 'name="title" maxlength="150" value=""' in text  # the review's own title is still the customer's
    assert "img-src 'self' data: https:" in page.headers["content-security-policy"]

    survey = html.unescape((await client.get(invited.survey_path)).text)
    assert 'src="/static/demo/products/kettle.png" alt="Garden shears"' in survey


async def test_an_unsafe_image_address_is_never_shown(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await catalogue(client, api_headers)
    await Product.update({Product.image_url: "javascript:alert(1)"}).where(Product.sku == "SKU-1")
    invited = await invite(client, api_headers, settings, categories=("kitchen",))
    item = await OrderItem.select(OrderItem.id).first()
    page = await client.get(f"{invited.survey_path}/items/{item['id']}")
    assert "javascript:" not in page.text and "javascript:" not in invited.email["html"]
    assert "Stone kettle 1.5 l</h2>" in html.unescape(page.text)


async def test_the_widget_names_the_product_as_the_catalogue_does(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await catalogue(client, api_headers)
    await invite(client, api_headers, settings, categories=("kitchen",))
    page = await client.get("/widget/products/SKU-1")
    assert page.status_code == 200
    assert "Reviews of Stone kettle 1.5 l" in html.unescape(page.text)
