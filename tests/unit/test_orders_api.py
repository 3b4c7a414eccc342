from litestar.testing import AsyncTestClient

from shop.tables import Customer, Order, OrderItem
from tests.factories import event_payload, order_payload


async def test_order_is_created_once(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    first = await client.post("/api/v1/orders", json=order_payload(), headers=api_headers)
    again = await client.post("/api/v1/orders", json=order_payload(), headers=api_headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert await Order.count() == 1
    assert await OrderItem.count() == 1
    assert await Customer.count() == 1


async def test_missing_api_key_is_refused(client: AsyncTestClient) -> None:
    response = await client.post("/api/v1/orders", json=order_payload())
    assert response.status_code == 401
    assert await Order.count() == 0


async def test_malformed_order_names_the_field(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    body = order_payload()
    body["customer"]["email"] = "not-an-email"
    response = await client.post("/api/v1/orders", json=body, headers=api_headers)
    assert response.status_code == 400
    assert "email" in response.text
    assert await Order.count() == 0


async def test_event_for_unknown_order_is_404(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    response = await client.post(
        "/api/v1/orders/nope/events", json=event_payload("delivered", "2026-03-03T10:00:00Z"), headers=api_headers
    )
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


async def test_delivery_event_is_accepted_once(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    await client.post("/api/v1/orders", json=order_payload(), headers=api_headers)
    event = event_payload("delivered", "2026-03-03T10:00:00+00:00")
    first = await client.post("/api/v1/orders/1001/events", json=event, headers=api_headers)
    again = await client.post("/api/v1/orders/1001/events", json=event, headers=api_headers)
    assert (first.status_code, first.json()["status"]) == (202, "accepted")
    assert (again.status_code, again.json()["status"]) == (202, "duplicate")
    order = await Order.select(Order.delivered_at).first()
    assert order["delivered_at"].isoformat() == "2026-03-03T10:00:00+00:00"


async def test_a_bad_order_names_every_invalid_field_at_once(
    client: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    body = order_payload()
    del body["placed_at"], body["total"]
    body["customer"]["email"] = "not-an-email"
    response = await client.post("/api/v1/orders", json=body, headers=api_headers)
    assert response.status_code == 400
    problems = {p["key"]: p["message"] for p in response.json()["extra"]}
    assert set(problems) == {"placed_at", "total", "customer.email"}
    assert problems["customer.email"] == "`email` is not an email address"
    assert "placed_at" in response.json()["detail"]
    assert await Order.count() == 0
    assert (await client.post("/api/v1/orders", json=body)).status_code == 401  # the key is asked for first


async def test_a_bad_event_names_every_invalid_field(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    await client.post("/api/v1/orders", json=order_payload(), headers=api_headers)
    response = await client.post(
        "/api/v1/orders/1001/events", json={"type": "teleported", "at": "yesterday"}, headers=api_headers
    )
    assert response.status_code == 400
    assert {p["key"] for p in response.json()["extra"]} == {"type", "at"}
