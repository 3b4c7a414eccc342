"""`PUT` and `GET /api/v1/products/{sku}`: the catalogue by API key, with clear 400s and the OpenAPI schema."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from shop.tables import OrderItem, Product, ProductKey
from tests.factories import order_payload

KETTLE = {
    "title": "Stone kettle 1.5 l",
    "category": "Kettles & Teapots",
    "image_url": "https://cdn.shop.example/kettle.jpg",
    "url": "https://shop.example/products/stone-kettle",
    "gtin": "4006381333931",
    "mpn": "SK-15",
    "brand": "Stonework",
}


async def test_put_creates_then_updates_and_get_reads(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    created = await client.put("/api/v1/products/KETTLE-1", json=KETTLE, headers=api_headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {k: body[k] for k in KETTLE} == KETTLE
    assert (body["sku"], body["source"], body["item_category"], body["deleted_at"]) == (
        "KETTLE-1",
        "api",
        "kettles & teapots",
        None,
    )

    # A field left out keeps its value; "" clears one.
    updated = await client.put(
        "/api/v1/products/KETTLE-1", json={"title": "Stone kettle 1.7 l", "mpn": ""}, headers=api_headers
    )
    assert updated.status_code == 200
    assert (updated.json()["title"], updated.json()["mpn"], updated.json()["brand"]) == (
        "Stone kettle 1.7 l",
        "",
        "Stonework",
    )
    read = await client.get("/api/v1/products/KETTLE-1", headers=api_headers)
    assert read.status_code == 200 and read.json() == updated.json()
    assert (await Product.count(), await ProductKey.count()) == (1, 1)


async def test_put_categorises_items_already_stored(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    await client.post("/api/v1/orders", json=order_payload("A-1", categories=("",)), headers=api_headers)
    await client.put("/api/v1/products/SKU-1", json={"category": "Garden Tools"}, headers=api_headers)
    item = await OrderItem.select(OrderItem.category).first()
    assert item["category"] == "garden tools"


async def test_a_local_static_image_is_accepted(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    body = {"image_url": "/static/demo/products/kettle.png"}
    response = await client.put("/api/v1/products/KETTLE-1", json=body, headers=api_headers)
    assert response.status_code == 201
    assert response.json()["image_url"] == "/static/demo/products/kettle.png"


async def test_bad_input_is_a_400_that_names_the_field(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    cases = {
        "gtin": ({"gtin": "4006381333932"}, "check digit"),
        "digits": ({"gtin": "12345"}, "8, 12, 13 or 14 digits"),
        "image": ({"image_url": "javascript:alert(1)"}, "image_url"),
        "url": ({"url": "ftp://shop.example/x"}, "`url` must be an http(s) address"),
        "long title": ({"title": "T" * 301}, "title"),
        "unknown field": ({"image": "https://cdn.shop.example/k.jpg"}, "image"),
        "wrong type": ({"title": 12}, "title"),
    }
    for name, (body, expected) in cases.items():
        response = await client.put("/api/v1/products/KETTLE-1", json=body, headers=api_headers)
        assert response.status_code == 400, name
        assert expected in response.text, (name, response.text)
    not_json = await client.put(
        "/api/v1/products/KETTLE-1", content=b"{title", headers={**api_headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400
    spaced = await client.put("/api/v1/products/%20KETTLE", json={}, headers=api_headers)
    assert spaced.status_code == 400 and "sku" in spaced.json()["detail"]
    assert await Product.count() == 0


async def test_the_api_needs_a_key(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    assert (await client.put("/api/v1/products/KETTLE-1", json=KETTLE)).status_code == 401
    wrong = {"Authorization": "Bearer not-the-key"}
    assert (await client.put("/api/v1/products/KETTLE-1", json=KETTLE, headers=wrong)).status_code == 401
    assert (await client.get("/api/v1/products/KETTLE-1")).status_code == 401
    assert await Product.count() == 0
    missing = await client.get("/api/v1/products/NOPE", headers=api_headers)
    assert missing.status_code == 404 and "NOPE" in missing.json()["detail"]


async def test_the_catalogue_is_in_the_api_docs(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    product = schema["paths"]["/api/v1/products/{sku}"]
    assert product["put"]["operationId"] == "PutProduct"
    assert product["get"]["operationId"] == "GetProduct"
    assert "catalogue" in product["put"]["tags"]
