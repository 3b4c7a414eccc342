"""Shopify's mandatory privacy webhooks, with the sample bodies from Shopify's webhook reference, signed as
Shopify signs them. Where the sample names a customer we do not hold, a copy names ours: the change is said."""

from __future__ import annotations

import json
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from accounts.tables import AuditEvent
from afterglow.settings import Settings
from shop.tables import Customer, Order
from tests.unit.test_webhooks import fixture, shopify, sign, woocommerce

ORDER = "shopify_order_450789469.json"
BOB = "bob.norman@hostmail.com"


async def privacy(
    client: AsyncTestClient, settings: Settings, topic: str, payload: dict[str, Any], webhook_id: str = "p-1"
) -> Any:
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Shop-Domain": "jsmith.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Hmac-Sha256": sign(settings.shopify_secret, body),
    }
    return await client.post("/webhooks/shopify/privacy", content=body, headers=headers)


def naming_bob(name: str, orders_key: str) -> dict[str, Any]:
    """The sample, naming our customer's order (changed: the order ids)."""
    return {**fixture(name), orders_key: [450789469]}


async def audit_rows() -> list[dict[str, Any]]:
    return await AuditEvent.select(AuditEvent.action, AuditEvent.target, AuditEvent.detail).output(load_json=True)


async def test_data_request_is_recorded_for_staff(client: AsyncTestClient, settings: Settings) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER))
    customer_id = (await Customer.select(Customer.id).first())["id"]
    payload = naming_bob("shopify_customers_data_request.json", "orders_requested")
    response = await privacy(client, settings, "customers/data_request", payload)
    assert (response.status_code, response.json()) == (200, {"status": "recorded"})
    rows = await audit_rows()
    assert [(row["action"], row["target"]) for row in rows] == [("shopify.data_request", f"customer:{customer_id}")]
    assert rows[0]["detail"] == {"data_request": 9999, "held": True}
    assert BOB not in json.dumps(rows)  # the audit log names people by id only
    assert (await Customer.select(Customer.email).first())["email"] == BOB  # nothing erased


async def test_data_request_for_someone_unknown(client: AsyncTestClient, settings: Settings) -> None:
    response = await privacy(client, settings, "customers/data_request", fixture("shopify_customers_data_request.json"))
    assert response.json() == {"status": "nothing_held"}
    assert [(row["action"], row["target"]) for row in await audit_rows()] == [
        ("shopify.data_request", "shopify-customer:191167")
    ]


async def test_customer_redact_erases_the_customer(client: AsyncTestClient, settings: Settings) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER))
    payload = naming_bob("shopify_customers_redact.json", "orders_to_redact")
    response = await privacy(client, settings, "customers/redact", payload)
    assert response.json() == {"status": "erased"}
    customer = await Customer.select(Customer.email, Customer.name).first()
    assert customer["email"].endswith("@erased.invalid")
    assert customer["name"] == ""
    assert await Order.count() == 1  # the order's figures stay, anonymous
    assert [row["action"] for row in await audit_rows()] == ["shopify.customers_redact"]


async def test_customer_redact_for_someone_unknown_erases_nothing(client: AsyncTestClient, settings: Settings) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER))
    response = await privacy(client, settings, "customers/redact", fixture("shopify_customers_redact.json"))
    assert response.json() == {"status": "nothing_held"}
    assert (await Customer.select(Customer.email).first())["email"] == BOB


async def test_shop_redact_erases_every_shopify_customer(client: AsyncTestClient, settings: Settings) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER), webhook_id="o1")
    await shopify(
        client, settings, "orders/updated", fixture("shopify_orders_updated_2628173987889.json"), webhook_id="o2"
    )
    await woocommerce(client, settings, fixture("woocommerce_order_727.json"), topic="order.created")
    response = await privacy(client, settings, "shop/redact", fixture("shopify_shop_redact.json"))
    assert response.json() == {"status": "erased"}
    emails = [row["email"] for row in await Customer.select(Customer.email).order_by(Customer.id)]
    # The two Shopify customers are erased; the one known from WooCommerce only is untouched.
    assert [email.endswith("@erased.invalid") for email in emails] == [True, True, False]
    assert emails[2] == "john.doe@example.com"
    [row] = await audit_rows()
    assert (row["action"], row["target"], row["detail"]) == (
        "shopify.shop_redact",
        "shop:{shop}.myshopify.com",
        {"customers": 2},
    )


async def test_privacy_topics_sent_to_the_orders_address_are_answered(
    client: AsyncTestClient, settings: Settings
) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER), webhook_id="o1")
    payload = naming_bob("shopify_customers_redact.json", "orders_to_redact")
    response = await shopify(client, settings, "customers/redact", payload, webhook_id="p-2")
    assert response.json() == {"status": "erased"}
    assert (await Customer.select(Customer.email).first())["email"].endswith("@erased.invalid")


async def test_redelivery_is_answered_once(client: AsyncTestClient, settings: Settings) -> None:
    await shopify(client, settings, "orders/create", fixture(ORDER))
    payload = naming_bob("shopify_customers_data_request.json", "orders_requested")
    first = await privacy(client, settings, "customers/data_request", payload, webhook_id="same")
    again = await privacy(client, settings, "customers/data_request", payload, webhook_id="same")
    assert (first.json(), again.json()) == ({"status": "recorded"}, {"status": "duplicate"})
    assert len(await audit_rows()) == 1


@pytest.mark.parametrize("signature", ["", "bm90IHRoZSBzaWduYXR1cmU="])
async def test_unsigned_privacy_webhook_is_refused(client: AsyncTestClient, signature: str) -> None:
    body = json.dumps(fixture("shopify_shop_redact.json")).encode()
    headers = {"X-Shopify-Topic": "shop/redact", "X-Shopify-Hmac-Sha256": signature}
    response = await client.post("/webhooks/shopify/privacy", content=body, headers=headers)
    assert response.status_code == 401
    assert await AuditEvent.count() == 0


async def test_other_topic_at_the_privacy_address_is_ignored(client: AsyncTestClient, settings: Settings) -> None:
    response = await privacy(client, settings, "orders/create", fixture(ORDER))
    assert (response.status_code, response.json()) == (200, {"status": "ignored"})
    assert await Order.count() == 0
