import base64
import dataclasses
import hashlib
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from app import create_app
from shop.platforms.orders import PayloadError, signature_valid
from shop.platforms.shopify import shopify_change
from shop.platforms.woocommerce import woocommerce_change
from shop.tables import Customer, Order, OrderEvent, OrderItem, WebhookReceipt

DATA = Path(__file__).parent.parent / "data" / "webhooks"
SHOPIFY_ORDER_ID = "5813749661986"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())  # type: ignore[no-any-return]


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


async def shopify(
    client: AsyncTestClient,
    settings: Settings,
    topic: str,
    payload: dict[str, Any] | bytes,
    webhook_id: str = "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
    signature: str | None = None,
) -> Any:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "lena-shop.myshopify.com",
        "X-Shopify-API-Version": "2026-01",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Hmac-Sha256": sign(settings.shopify_secret, body) if signature is None else signature,
    }
    return await client.post("/webhooks/shopify", content=body, headers=headers)


async def woocommerce(
    client: AsyncTestClient,
    settings: Settings,
    payload: dict[str, Any],
    delivery_id: str = "4711",
    topic: str = "order.updated",
    signature: str | None = None,
) -> Any:
    body = json.dumps(payload).encode()
    resource, _, event = topic.partition(".")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/9.6.1 Hookshot (WordPress/6.7.2)",
        "X-WC-Webhook-Source": "https://shop.example.at/",
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": resource,
        "X-WC-Webhook-Event": event,
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": delivery_id,
        "X-WC-Webhook-Signature": sign(settings.woocommerce_secret, body) if signature is None else signature,
    }
    return await client.post("/webhooks/woocommerce", content=body, headers=headers)


def delivered_fulfillment(**changes: Any) -> dict[str, Any]:
    return {**fixture("shopify_fulfillments_update.json"), **changes}


def woo_order(**changes: Any) -> dict[str, Any]:
    return {**fixture("woocommerce_order_updated.json"), **changes}


async def test_shopify_fulfilled_order_is_stored(client: AsyncTestClient, settings: Settings) -> None:
    response = await shopify(client, settings, "orders/fulfilled", fixture("shopify_orders_fulfilled.json"))
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    order = await Order.select().where(Order.external_id == SHOPIFY_ORDER_ID).first()
    assert order["channel"] == "shopify"
    assert order["total"] == Decimal("84.80")
    assert order["placed_at"] == datetime(2026, 3, 2, 9, 14, 33, tzinfo=UTC)
    assert order["delivered_at"] is None  # fulfilled means shipped
    customer = await Customer.select().first()
    assert (customer["email"], customer["name"], customer["locale"]) == (
        "lena.fischer@example.de",
        "Lena Fischer",
        "de-DE",
    )
    items = await OrderItem.select(OrderItem.sku, OrderItem.category, OrderItem.quantity).order_by(OrderItem.id)
    assert items == [
        {"sku": "MUG-STONE-SAGE", "category": "kitchen", "quantity": 2},
        {"sku": "variant-44361254748450", "category": "", "quantity": 1},
    ]


async def test_shopify_delivery_is_recorded(client: AsyncTestClient, settings: Settings) -> None:
    await shopify(client, settings, "orders/fulfilled", fixture("shopify_orders_fulfilled.json"), webhook_id="a")
    response = await shopify(client, settings, "fulfillments/update", delivered_fulfillment(), webhook_id="b")
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    order = await Order.select(Order.delivered_at).first()
    assert order["delivered_at"] == datetime(2026, 3, 5, 10, 47, 26, tzinfo=UTC)
    event = await OrderEvent.select(OrderEvent.type, OrderEvent.source).first()
    assert event == {"type": "delivered", "source": "shopify"}


async def test_shopify_wrong_signature_stores_nothing(client: AsyncTestClient, settings: Settings) -> None:
    payload = fixture("shopify_orders_fulfilled.json")
    forged = sign("not-the-secret", json.dumps(payload).encode())
    response = await shopify(client, settings, "orders/fulfilled", payload, signature=forged)
    assert response.status_code == 401
    assert "X-Shopify-Hmac-Sha256" in response.json()["detail"]
    assert await Order.count() == 0
    assert await WebhookReceipt.count() == 0


async def test_shopify_missing_signature_is_refused(client: AsyncTestClient) -> None:
    body = json.dumps(fixture("shopify_orders_fulfilled.json")).encode()
    response = await client.post("/webhooks/shopify", content=body, headers={"X-Shopify-Topic": "orders/fulfilled"})
    assert response.status_code == 401
    assert await Order.count() == 0


async def test_shopify_is_refused_when_no_secret_is_configured(settings: Settings) -> None:
    unset = dataclasses.replace(settings, shopify_secret="")
    async with AsyncTestClient(app=create_app(unset)) as client:
        response = await shopify(client, unset, "orders/fulfilled", fixture("shopify_orders_fulfilled.json"))
    assert response.status_code == 401
    assert await Order.count() == 0


async def test_shopify_redelivery_is_processed_once(client: AsyncTestClient, settings: Settings) -> None:
    await shopify(client, settings, "orders/fulfilled", fixture("shopify_orders_fulfilled.json"), webhook_id="a")
    first = await shopify(client, settings, "fulfillments/update", delivered_fulfillment(), webhook_id="b")
    again = await shopify(client, settings, "fulfillments/update", delivered_fulfillment(), webhook_id="b")
    assert first.json() == {"status": "accepted"}
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert await OrderEvent.count() == 1
    assert await Order.count() == 1


async def test_shopify_in_transit_is_ignored(client: AsyncTestClient, settings: Settings) -> None:
    await shopify(client, settings, "orders/fulfilled", fixture("shopify_orders_fulfilled.json"), webhook_id="a")
    in_transit = delivered_fulfillment(shipment_status="in_transit")
    response = await shopify(client, settings, "fulfillments/update", in_transit, webhook_id="b")
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert await OrderEvent.count() == 0


async def test_shopify_unknown_topic_is_ignored(client: AsyncTestClient, settings: Settings) -> None:
    response = await shopify(client, settings, "carts/update", {"id": "exampleCartId", "line_items": []})
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})


async def test_delivery_for_unknown_order_is_left_unclaimed(client: AsyncTestClient, settings: Settings) -> None:
    early = await shopify(client, settings, "fulfillments/update", delivered_fulfillment(), webhook_id="b")
    assert (early.status_code, early.json()) == (200, {"status": "unknown_order"})
    assert await WebhookReceipt.count() == 0
    await shopify(client, settings, "orders/fulfilled", fixture("shopify_orders_fulfilled.json"), webhook_id="a")
    redelivered = await shopify(client, settings, "fulfillments/update", delivered_fulfillment(), webhook_id="b")
    assert redelivered.json() == {"status": "accepted"}
    assert await OrderEvent.count() == 1


async def test_shopify_cancelled_order_records_cancellation(client: AsyncTestClient, settings: Settings) -> None:
    payload = {**fixture("shopify_orders_fulfilled.json"), "cancelled_at": "2026-03-02T12:00:00+01:00"}
    response = await shopify(client, settings, "orders/cancelled", payload)
    assert response.json() == {"status": "accepted"}
    order = await Order.select(Order.cancelled_at).first()
    assert order["cancelled_at"] == datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


async def test_malformed_json_is_400(client: AsyncTestClient, settings: Settings) -> None:
    response = await shopify(client, settings, "orders/fulfilled", b'{"id": 5813749661986, "line_items": [')
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert await Order.count() == 0


async def test_missing_field_is_named(client: AsyncTestClient, settings: Settings) -> None:
    payload = fixture("shopify_orders_fulfilled.json")
    del payload["total_price"]
    response = await shopify(client, settings, "orders/fulfilled", payload)
    assert response.status_code == 400
    assert "total_price" in response.json()["detail"]
    assert await Order.count() == 0
    assert await WebhookReceipt.count() == 0


async def test_unusable_email_stores_the_order_never_asked(client: AsyncTestClient, settings: Settings) -> None:
    # A 400 would make WooCommerce retry, then disable the webhook: the order is kept, without a customer.
    payload = woo_order(billing={**woo_order()["billing"], "email": "jonas at example"})
    response = await woocommerce(client, settings, payload)
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    order = await Order.select(Order.customer, Order.not_asked).first()
    assert order == {"customer": None, "not_asked": "no_email"}
    assert await Customer.count() == 0


async def test_woocommerce_processing_order_is_stored(client: AsyncTestClient, settings: Settings) -> None:
    response = await woocommerce(client, settings, woo_order(), topic="order.created")
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    order = await Order.select().first()
    assert (order["external_id"], order["channel"], order["total"]) == ("wc-727", "woocommerce", Decimal("41.83"))
    assert order["placed_at"] == datetime(2026, 3, 2, 16, 28, 2, tzinfo=UTC)
    item = await OrderItem.select(OrderItem.sku, OrderItem.price, OrderItem.quantity).first()
    assert item == {"sku": "CANDLE-BW-3", "price": Decimal("10.08"), "quantity": 3}
    customer = await Customer.select(Customer.email, Customer.locale).first()
    assert customer == {"email": "jonas.brandt@example.at", "locale": "de"}
    assert await OrderEvent.count() == 0


async def test_woocommerce_completed_is_delivered(client: AsyncTestClient, settings: Settings) -> None:
    completed = woo_order(status="completed", date_completed_gmt="2026-03-04T09:15:00")
    response = await woocommerce(client, settings, completed)
    assert response.json() == {"status": "accepted"}
    order = await Order.select(Order.delivered_at).where(Order.external_id == "wc-727").first()
    assert order["delivered_at"] == datetime(2026, 3, 4, 9, 15, tzinfo=UTC)
    assert await OrderEvent.select(OrderEvent.type, OrderEvent.source).first() == {
        "type": "delivered",
        "source": "woocommerce",
    }


@pytest.mark.parametrize(("status", "event"), [("refunded", "returned"), ("cancelled", "cancelled")])
async def test_woocommerce_status_becomes_event(
    client: AsyncTestClient, settings: Settings, status: str, event: str
) -> None:
    await woocommerce(client, settings, woo_order(), delivery_id="1")
    changed = woo_order(status=status, date_modified_gmt="2026-03-09T08:00:00")
    await woocommerce(client, settings, changed, delivery_id="2")
    # Any later edit resends the order with a newer modification date: still one event.
    later = woo_order(status=status, date_modified_gmt="2026-03-10T08:00:00")
    await woocommerce(client, settings, later, delivery_id="3")
    assert await OrderEvent.select(OrderEvent.type, OrderEvent.at).output(nested=False) == [
        {"type": event, "at": datetime(2026, 3, 9, 8, 0, tzinfo=UTC)}
    ]


async def test_woocommerce_redelivery_is_processed_once(client: AsyncTestClient, settings: Settings) -> None:
    completed = woo_order(status="completed", date_completed_gmt="2026-03-04T09:15:00")
    first = await woocommerce(client, settings, completed, delivery_id="99")
    again = await woocommerce(client, settings, completed, delivery_id="99")
    assert (first.json(), again.json()) == ({"status": "accepted"}, {"status": "duplicate"})
    assert (await Order.count(), await OrderEvent.count(), await WebhookReceipt.count()) == (1, 1, 1)


async def test_woocommerce_ping_is_answered(client: AsyncTestClient) -> None:
    response = await client.post(
        "/webhooks/woocommerce",
        content=b"webhook_id=12",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert (response.status_code, response.json()) == (200, {"status": "pong"})
    assert await WebhookReceipt.count() == 0


async def test_woocommerce_wrong_signature_stores_nothing(client: AsyncTestClient, settings: Settings) -> None:
    response = await woocommerce(client, settings, woo_order(), signature=sign("guess", b"{}"))
    assert response.status_code == 401
    assert await Order.count() == 0


def test_signature_is_hmac_of_the_exact_body() -> None:
    body = b'{"id": 1}'
    assert signature_valid("s3cret", body, sign("s3cret", body))
    assert not signature_valid("s3cret", body + b" ", sign("s3cret", body))
    assert not signature_valid("", body, sign("", body))
    assert not signature_valid("s3cret", body, None)
    assert not signature_valid("s3cret", body, "ünïcode")


def test_shopify_translation_falls_back_for_locale_and_sku() -> None:
    payload = fixture("shopify_orders_fulfilled.json")
    payload["customer_locale"] = None
    payload["line_items"][0].update(sku=None, variant_id=None)
    change = shopify_change("orders/fulfilled", payload)
    assert change is not None and change.order is not None
    assert change.external_id == SHOPIFY_ORDER_ID
    assert change.order.customer.locale == "en"
    assert change.order.items[0].sku == "product-8102261309730"


def test_translation_errors_name_the_field() -> None:
    fulfillment = delivered_fulfillment()
    del fulfillment["order_id"]
    with pytest.raises(PayloadError, match="order_id"):
        shopify_change("fulfillments/update", fulfillment)
    with pytest.raises(PayloadError, match=r"line_items\[0\]\.price"):
        woocommerce_change("order.updated", woo_order(line_items=[{"name": "Candle", "sku": "C", "quantity": 1}]))
    with pytest.raises(PayloadError, match="date_created_gmt"):
        woocommerce_change("order.updated", woo_order(date_created_gmt="last Tuesday"))
