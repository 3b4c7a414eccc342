"""A date no shop can mean (before 2000, or more than a day ahead) is refused at every door, naming the field;
and the scheduling rules stay sound for the far-future dates already stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from shop.imports.orders import import_orders
from shop.tables import Order, OrderEvent, WebhookReceipt
from surveys import policy
from tests.factories import event_payload, order_payload
from tests.unit.test_webhooks import SHOPIFY_ORDER_ID, delivered_fulfillment, fixture, shopify, woo_order, woocommerce

NOW = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
FAR_FUTURE = "9999-12-31T23:59:59+00:00"


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.mark.parametrize(
    ("at", "refused"),
    [
        (FAR_FUTURE, "more than a day in the future"),
        ((NOW + timedelta(days=1, minutes=1)).isoformat(), "more than a day in the future"),
        ("1999-12-31T23:59:59+00:00", "before 2000-01-01"),
    ],
)
async def test_api_refuses_an_implausible_event_date_naming_the_field(
    client: AsyncTestClient, api_headers: dict[str, str], at: str, refused: str
) -> None:
    await client.post("/api/v1/orders", json=order_payload(), headers=api_headers)
    response = await client.post("/api/v1/orders/1001/events", json=event_payload("delivered", at), headers=api_headers)
    assert response.status_code == 400
    assert response.json()["detail"] == f"`at` is {refused}: {datetime.fromisoformat(at).isoformat()}"
    assert response.json()["extra"][0]["key"] == "at"
    assert await OrderEvent.count() == 0
    assert (await Order.select(Order.delivered_at).first())["delivered_at"] is None


async def test_api_accepts_a_delivery_just_under_a_day_ahead(
    client: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    await client.post("/api/v1/orders", json=order_payload(), headers=api_headers)
    ahead = event_payload("delivered", NOW + timedelta(hours=23))
    assert (await client.post("/api/v1/orders/1001/events", json=ahead, headers=api_headers)).status_code == 202


async def test_api_refuses_an_order_placed_in_the_far_future(
    client: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    response = await client.post("/api/v1/orders", json=order_payload(placed_at=FAR_FUTURE), headers=api_headers)
    assert response.status_code == 400
    assert "`placed_at` is more than a day in the future" in response.json()["detail"]
    assert await Order.count() == 0


async def test_signed_shopify_delivery_in_the_far_future_is_refused(
    client: AsyncTestClient, settings: Settings
) -> None:
    await shopify(client, settings, "orders/fulfilled", fixture("shopify_orders_fulfilled.json"), webhook_id="a")
    payload = delivered_fulfillment(updated_at="9999-12-31T23:59:59-05:00")
    response = await shopify(client, settings, "fulfillments/update", payload, webhook_id="b")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("`updated_at` is more than a day in the future")
    assert (await Order.select(Order.delivered_at).first())["delivered_at"] is None
    assert not await WebhookReceipt.exists().where(WebhookReceipt.delivery_id == "shopify:b")


async def test_signed_shopify_order_placed_before_2000_is_refused(client: AsyncTestClient, settings: Settings) -> None:
    payload = {**fixture("shopify_orders_fulfilled.json"), "created_at": "0001-01-01T00:00:00Z"}
    response = await shopify(client, settings, "orders/create", payload)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("`created_at` is before 2000-01-01")
    assert not await Order.exists().where(Order.external_id == SHOPIFY_ORDER_ID)


async def test_signed_woocommerce_completion_in_the_far_future_is_refused(
    client: AsyncTestClient, settings: Settings
) -> None:
    completed = woo_order(status="completed", date_completed_gmt="9999-12-31T23:59:59")
    response = await woocommerce(client, settings, completed)
    assert response.status_code == 400
    assert response.json()["detail"].startswith("`date_completed_gmt` is more than a day in the future")
    assert await Order.count() == 0


async def test_csv_import_reports_the_line_and_column_of_an_implausible_date_and_imports_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "orders.csv"
    path.write_text(
        "external_id,placed_at,total,email,sku,item_name,price,delivered_at\n"
        "A-1,2026-03-01T10:00:00+00:00,10.00,a@example.com,S,Soap,10.00,9999-12-31T23:59:59+00:00\n"
        "A-2,1970-01-01T00:00:00+00:00,10.00,b@example.com,S,Soap,10.00,\n"
        "A-3,2026-03-01T10:00:00+00:00,10.00,c@example.com,S,Soap,10.00,2026-03-03T10:00:00+00:00\n"
    )
    report = await import_orders(path)
    assert [(line, message.split(":")[0]) for line, message in report.errors] == [
        (2, "`delivered_at` is more than a day in the future"),
        (3, "`placed_at` is before 2000-01-01"),
    ]
    assert (report.orders_created, report.events_recorded) == (1, 1)
    assert [row["external_id"] for row in await Order.select(Order.external_id)] == ["A-3"]


def test_scheduling_rules_do_not_overflow_at_the_end_of_time() -> None:
    berlin, window = ZoneInfo("Europe/Berlin"), policy.SendWindow()
    last = datetime.max.replace(tzinfo=UTC)
    assert policy.first_ask_at(last, ["furniture"], {"furniture": 14}, 3, berlin, window) == policy.NEVER
    assert policy.into_window(last, ZoneInfo("Pacific/Kiritimati"), window) == policy.NEVER
    assert policy.later(policy.NEVER - timedelta(hours=1), timedelta(days=30)) == policy.NEVER
    held = policy.Situation(
        now=policy.NEVER - timedelta(minutes=1),
        kind="order",
        expires_at=policy.NEVER,
        unsubscribed=False,
        returned=False,
        cancelled=False,
        complaint_open=True,
        recently_asked=False,
        zone=berlin,
        window=window,
    )
    assert policy.decide(held) == policy.Wait(policy.NEVER, "complaint_open")
