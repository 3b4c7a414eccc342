"""Poisoned rows planted straight into the database, past every door, next to good orders sent through the API.
Used by the unit suite (SQLite) and the integration suite (PostgreSQL, real workers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from litestar.testing import AsyncTestClient

from shop.tables import Customer, Order, OrderItem
from surveys.tables import Invitation
from tests.factories import event_payload, order_payload

#: Monday afternoon delivery; the invitation is due Thursday 14:00 UTC (15:00 Berlin), inside the window.
DELIVERED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)
FAR_FUTURE = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
GOOD = ("G-1", "G-2", "G-3")


@dataclass
class Planted:
    unplannable_order: int  # delivered, but its customer's time zone does not exist
    far_future_order: int  # "delivered" on 9999-12-31
    undecidable_invitation: int  # due, for the same customer
    unremindable_invitation: int  # reminder due, for the same customer


async def _order(external_id: str, customer_id: int, delivered_at: datetime) -> int:
    rows = await Order.insert(
        Order(
            external_id=external_id,
            placed_at=DELIVERED - timedelta(days=2),
            total=Decimal("10.00"),
            customer=customer_id,
            delivered_at=delivered_at,
        )
    ).returning(Order.id)
    await OrderItem.insert(OrderItem(order=rows[0]["id"], sku="S", name="Soap", price=Decimal("10.00")))
    return int(rows[0]["id"])


async def _invitation(order_id: int, customer_id: int, **values: object) -> int:
    rows = await Invitation.insert(
        Invitation(
            order=order_id,
            customer=customer_id,
            dedupe_key=f"order:{order_id}",
            due_at=DELIVERED,  # due before every good one, so the pass meets it first
            expires_at=DUE + timedelta(days=30),
            token=f"poison-{order_id}",
            **values,
        )
    ).returning(Invitation.id)
    return int(rows[0]["id"])


async def plant_poison() -> Planted:
    """Rows no door lets in, planted first, so a pass meets them before the good ones."""
    lost = await Customer.insert(Customer(email="lost@example.com", timezone="Mars/Olympus")).returning(Customer.id)
    lost_id = int(lost[0]["id"])
    fine = await Customer.insert(Customer(email="later@example.com", timezone="Europe/Berlin")).returning(Customer.id)
    due_order = await _order("P-due", lost_id, DELIVERED)
    remind_order = await _order("P-remind", lost_id, DELIVERED)
    return Planted(
        unplannable_order=await _order("P-plan", lost_id, DELIVERED),
        far_future_order=await _order("P-9999", int(fine[0]["id"]), FAR_FUTURE),
        undecidable_invitation=await _invitation(due_order, lost_id),
        unremindable_invitation=await _invitation(
            remind_order, lost_id, status="sent", sent_at=DELIVERED, reminder_due_at=DELIVERED
        ),
    )


async def deliver_good_orders(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    """Three orders for three customers, ordered and delivered through the API."""
    for n, external_id in enumerate(GOOD):
        body = order_payload(external_id, email=f"good{n}@example.com")
        assert (await client.post("/api/v1/orders", json=body, headers=api_headers)).status_code == 201
        event = event_payload("delivered", DELIVERED)
        accepted = await client.post(f"/api/v1/orders/{external_id}/events", json=event, headers=api_headers)
        assert accepted.status_code == 202, accepted.text


def expected_failures(planted: Planted) -> set[str]:
    """The per-row task failures a pass records: the task, then the row it skipped."""
    return {
        f"surveys.dispatch:order {planted.unplannable_order}",
        f"surveys.dispatch:invitation {planted.undecidable_invitation}",
        f"surveys.dispatch:invitation {planted.unremindable_invitation}",
    }
