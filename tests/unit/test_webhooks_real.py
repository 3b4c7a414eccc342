"""Shopify and WooCommerce bodies as the platforms send them (tests/data/README.md names each source), signed as
they sign them, read back through the ingest API. A test that changes a copy says what it changed and why."""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from app import create_app
from shop.tables import Customer, Order, OrderEvent, Product, WebhookReceipt
from tests.unit.test_webhooks import fixture, shopify, woocommerce

NO_EMAIL = "shopify_order_1073459969.json"  # Shopify's answer to an order created with line items only
ORDER = "shopify_order_450789469.json"  # three iPod Nano variants, one of each
DELIVERED = "shopify_orders_updated_2628173987889.json"  # captured orders/updated, fulfillment delivered
WOO = "woocommerce_order_727.json"  # WooCommerce REST docs' order 727


async def order(client: AsyncTestClient, api_headers: dict[str, str], external_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/orders/{external_id}", headers=api_headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def items(body: dict[str, Any], *keys: str) -> list[tuple[Any, ...]]:
    return [tuple(item[key] for key in keys) for item in body["items"]]


async def test_shopify_order_without_email_is_stored_and_never_asked(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    response = await shopify(client, settings, "orders/create", fixture(NO_EMAIL))
    assert (response.status_code, response.json()) == (200, {"status": "accepted"})
    body = await order(client, api_headers, "1073459969")
    assert (body["customer"], body["not_asked"], body["currency"], body["total"]) == (None, "no_email", "EUR", "238.47")
    # No SKU, product or variant: the line's own id stands in.
    assert items(body, "sku", "name", "quantity", "price", "product_ref", "variant_ref") == [
        ("line-1071823180", "Big Brown Bear Boots", 3, "74.99", "", "")
    ]
    assert await Customer.count() == 0


async def test_shopify_order_keeps_customer_and_platform_ids(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER))
    body = await order(client, api_headers, "450789469")
    assert body["customer"]["email"] == "bob.norman@hostmail.com"
    assert (body["customer"]["name"], body["not_asked"], body["delivered_at"]) == ("Bob Norman", "", None)
    assert items(body, "sku", "product_ref", "variant_ref", "quantity") == [
        ("IPOD2008GREEN", "632910392", "39072856", 1),
        ("IPOD2008RED", "632910392", "49148385", 1),
        ("IPOD2008BLACK", "632910392", "457924702", 1),
    ]


async def test_delivery_inside_orders_updated_is_recorded(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    response = await shopify(client, settings, "orders/updated", fixture(DELIVERED))
    assert response.json() == {"status": "accepted"}
    body = await order(client, api_headers, "2628173987889")
    assert body["delivered_at"] == "2021-02-22T22:47:22Z"  # the delivered fulfillment's updated_at
    # Shopify pads names ("Customer " + "Example", "Customer  Example"): one space between words.
    assert body["customer"]["name"] == "Customer Example"
    assert items(body, "sku", "quantity", "variant_ref") == [
        ("18500B", 1, "32556228804657"),
        ("5000B", 2, "32556225757233"),
    ]
    assert await OrderEvent.select(OrderEvent.type, OrderEvent.source).output(nested=False) == [
        {"type": "delivered", "source": "shopify"}
    ]


async def test_fulfillment_event_delivered_records_the_delivery(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER), webhook_id="o")
    in_transit = fixture("shopify_fulfillment_event_334455.json")
    ignored = await shopify(client, settings, "fulfillment_events/create", in_transit, webhook_id="e1")
    assert ignored.json() == {"status": "ignored"}
    # The same event once the carrier reports the parcel delivered (changed: `status`).
    delivered = {**in_transit, "status": "delivered"}
    accepted = await shopify(client, settings, "fulfillment_events/create", delivered, webhook_id="e2")
    assert accepted.json() == {"status": "accepted"}
    assert (await order(client, api_headers, "450789469"))["delivered_at"] == "2013-11-01T20:06:08Z"


async def test_partial_then_full_refund(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER), webhook_id="o")
    first = await shopify(client, settings, "refunds/create", fixture("shopify_refund_509562969.json"), webhook_id="r1")
    assert first.json() == {"status": "accepted"}
    body = await order(client, api_headers, "450789469")
    black_and_green = "2024-01-02T13:59:11Z"
    assert items(body, "sku", "returned_at") == [
        ("IPOD2008GREEN", black_and_green),
        ("IPOD2008RED", None),
        ("IPOD2008BLACK", black_and_green),
    ]
    assert (body["returned_at"], body["not_asked"]) == (None, "")  # the red one is still asked about

    again = await shopify(client, settings, "refunds/create", fixture("shopify_refund_509562969.json"), webhook_id="r1")
    assert again.json() == {"status": "duplicate"}
    await shopify(client, settings, "refunds/create", fixture("shopify_refund_929361466.json"), webhook_id="r2")
    body = await order(client, api_headers, "450789469")
    assert [row[0] for row in items(body, "returned_at")] == [black_and_green, "2024-01-02T14:01:02Z", black_and_green]
    assert (body["returned_at"], body["not_asked"]) == ("2024-01-02T14:01:02Z", "refunded")
    assert await OrderEvent.select(OrderEvent.type).output(nested=False) == [{"type": "returned"}]


async def test_refund_of_an_order_not_stored_yet_is_left_for_the_retry(
    client: AsyncTestClient, settings: Settings
) -> None:
    early = await shopify(client, settings, "refunds/create", fixture("shopify_refund_929361466.json"), webhook_id="r")
    assert early.json() == {"status": "unknown_order"}
    assert await WebhookReceipt.count() == 0


@pytest.mark.parametrize(
    ("topic", "name"),
    [("disputes/create", "shopify_disputes_create.json"), ("orders/edited", "shopify_orders_edited.json")],
)
async def test_other_shopify_topics_are_acknowledged(
    client: AsyncTestClient, settings: Settings, topic: str, name: str
) -> None:
    response = await shopify(client, settings, topic, fixture(name))
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert await Order.count() == 0


async def test_shopify_product_topic_goes_to_the_catalogue(client: AsyncTestClient, settings: Settings) -> None:
    response = await shopify(client, settings, "products/update", fixture("shopify_products_update.json"))
    assert response.json() == {"status": "accepted"}
    assert await Product.count() == 1


async def test_woocommerce_names_are_decoded_and_ids_kept(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    response = await woocommerce(client, settings, fixture(WOO), topic="order.created")
    assert response.json() == {"status": "accepted"}
    body = await order(client, api_headers, "wc-727")
    assert items(body, "sku", "name", "quantity", "product_ref", "variant_ref") == [
        ("product-93", "Woo Single #1", 2, "93", ""),
        ("Bar3", "Ship Your Idea – Color: Black, Size: M Test", 1, "22", "23"),
    ]
    assert [Decimal(price) for (price,) in items(body, "price")] == [Decimal("3.00"), Decimal("12.00")]
    assert (body["customer"]["name"], body["customer"]["email"]) == ("John Doe", "john.doe@example.com")


async def test_woocommerce_identical_lines_become_one(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    # The same product added twice (changed: the first line repeated with another id).
    payload = fixture(WOO)
    payload["line_items"].append({**payload["line_items"][0], "id": 319})
    await woocommerce(client, settings, payload, topic="order.created")
    body = await order(client, api_headers, "wc-727")
    assert items(body, "sku", "quantity") == [("product-93", 4), ("Bar3", 1)]


@pytest.mark.parametrize(
    ("status", "configured", "delivered_at"),
    [
        ("completed", "delivered", "2017-03-24T09:00:00Z"),
        ("delivered", "delivered", "2017-03-23T10:00:00Z"),
        ("wc-delivered", "delivered", "2017-03-23T10:00:00Z"),
        ("delivered", "", None),
    ],
)
async def test_woocommerce_delivery_statuses(
    settings: Settings, api_headers: dict[str, str], status: str, configured: str, delivered_at: str | None
) -> None:
    # The order as it is when the shop (or a shipment-tracking plugin) marks it (changed: status and dates).
    payload = {
        **fixture(WOO),
        "status": status,
        "date_modified_gmt": "2017-03-23T10:00:00",
        "date_completed_gmt": "2017-03-24T09:00:00" if status == "completed" else None,
    }
    configured_settings = dataclasses.replace(settings, woocommerce_delivered_status=configured)
    async with AsyncTestClient(app=create_app(configured_settings)) as client:
        await woocommerce(client, configured_settings, payload)
        assert (await order(client, api_headers, "wc-727"))["delivered_at"] == delivered_at


async def test_woocommerce_partial_refund_with_its_lines(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    await woocommerce(client, settings, fixture(WOO), delivery_id="1", topic="order.created")
    # The docs' refund 724 (WooCommerce refunds API) given back for this order's second line (changed: the
    # refunded line's product, variation, name and SKU), listed in the order's refunds.
    refund = fixture("woocommerce_refund_724.json")
    refund["line_items"][0].update(product_id=22, variation_id=23, name="Ship Your Idea", sku="Bar3")
    payload = {**fixture(WOO), "refunds": [refund], "date_modified_gmt": "2017-03-25T08:00:00"}
    await woocommerce(client, settings, payload, delivery_id="2")
    body = await order(client, api_headers, "wc-727")
    assert items(body, "sku", "returned_at") == [("product-93", None), ("Bar3", "2017-03-21T19:55:37Z")]
    assert (body["returned_at"], body["not_asked"]) == (None, "")


async def test_woocommerce_refund_by_amount_marks_no_line(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    # A partial refund as the order lists it: id, reason, amount (the docs' refund 726).
    payload = {**fixture(WOO), "refunds": [{"id": 726, "reason": "", "total": "-10.00"}]}
    await woocommerce(client, settings, payload)
    body = await order(client, api_headers, "wc-727")
    assert [row[0] for row in items(body, "returned_at")] == [None, None]
    assert body["not_asked"] == ""


async def test_woocommerce_full_refund(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    # Refunded in full (changed: status, modification date, the refund listed).
    payload = {
        **fixture(WOO),
        "status": "refunded",
        "date_modified_gmt": "2017-03-26T12:00:00",
        "refunds": [{"id": 726, "reason": "", "total": "-29.35"}],
    }
    await woocommerce(client, settings, payload)
    body = await order(client, api_headers, "wc-727")
    assert [row[0] for row in items(body, "returned_at")] == ["2017-03-26T12:00:00Z"] * 2
    assert (body["returned_at"], body["not_asked"]) == ("2017-03-26T12:00:00Z", "refunded")


async def test_woocommerce_deleted_then_restored(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    await woocommerce(client, settings, fixture(WOO), delivery_id="1", topic="order.created")
    # order.deleted sends only the id.
    deleted = await woocommerce(client, settings, {"id": 727}, delivery_id="2", topic="order.deleted")
    assert deleted.json() == {"status": "accepted"}
    assert (await order(client, api_headers, "wc-727"))["cancelled_at"] is not None
    restored = await woocommerce(client, settings, fixture(WOO), delivery_id="3", topic="order.restored")
    assert restored.json() == {"status": "accepted"}
    assert (await order(client, api_headers, "wc-727"))["cancelled_at"] is None
    # The history keeps both; the restoring event is how the dashboard's sweep learns the order counts again.
    history = await OrderEvent.select(OrderEvent.type, OrderEvent.source).order_by(OrderEvent.id)
    assert history == [
        {"type": "cancelled", "source": "woocommerce"},
        {"type": "restored", "source": "woocommerce"},
    ]


@pytest.mark.parametrize("status", ["cancelled", "failed"])
async def test_woocommerce_cancelled_and_failed_orders(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str], status: str
) -> None:
    await woocommerce(client, settings, {**copy.deepcopy(fixture(WOO)), "status": status})
    assert (await order(client, api_headers, "wc-727"))["cancelled_at"] == "2017-03-22T19:28:08Z"


async def test_woocommerce_other_topics_are_acknowledged(client: AsyncTestClient, settings: Settings) -> None:
    response = await woocommerce(client, settings, {"id": 719, "code": "10off"}, topic="coupon.created")
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
