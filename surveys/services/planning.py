"""Turning deliveries and support contacts into scheduled invitations."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.failures import skip_bad_row
from afterglow.settings import Settings
from shop.tables import Order, OrderEvent, OrderItem
from surveys import policy
from surveys.tables import Invitation

#: The scheduler pass's task name, as admins see it on the "Background tasks" page.
PASS = "surveys.dispatch"


def window(settings: Settings) -> policy.SendWindow:
    return policy.SendWindow(settings.send_window_start, settings.send_window_end)


async def _create(
    *,
    order_id: int,
    customer_id: int,
    kind: str,
    dedupe_key: str,
    due_at: datetime,
    now: datetime,
    settings: Settings,
    agent: str = "",
    support_event: int | None = None,
) -> bool:
    try:
        await Invitation.insert(
            Invitation(
                order=order_id,
                customer=customer_id,
                kind=kind,
                dedupe_key=dedupe_key,
                agent=agent,
                support_event=support_event,
                status="scheduled",
                due_at=due_at,
                expires_at=policy.later(due_at, timedelta(days=settings.expiry_days)),
                token=secrets.token_urlsafe(18),
                created_at=now,  # planned now: the pass's moment, not the database clock
            )
        )
    except UNIQUE_VIOLATIONS:
        return False  # planned already, by an earlier pass or another worker
    return True


async def plan_invitations(now: datetime, settings: Settings) -> int:
    """Schedule an invitation for every recent delivery and support contact that has none. Safe to repeat.
    A row that cannot be planned is recorded as a task failure and skipped; the others are planned."""
    horizon = now - timedelta(
        days=settings.expiry_days + max([settings.default_delay_days, *settings.category_delays.values()])
    )
    created = 0

    delivered = await Order.select(Order.id, Order.delivered_at, Order.customer, Order.customer.timezone).where(
        Order.delivered_at.is_not_null()
        & (Order.delivered_at >= horizon)
        & Order.cancelled_at.is_null()
        # No email, or every line refunded: the order is never asked about.
        & (Order.not_asked == "")
        & Order.customer.is_not_null()
        & Order.id.not_in(Invitation.select(Invitation.order).where(Invitation.kind == "order"))
    )
    if delivered:
        ids = [row["id"] for row in delivered]
        categories: dict[int, list[str]] = {}
        for item in await OrderItem.select(OrderItem.order, OrderItem.category).where(OrderItem.order.is_in(ids)):
            categories.setdefault(item["order"], []).append(item["category"])
        for row in delivered:
            async with skip_bad_row(PASS, f"order {row['id']}", now):
                zone = policy.local_zone(row["customer.timezone"], settings.shop_timezone)
                due = policy.first_ask_at(
                    row["delivered_at"],
                    categories.get(row["id"], []),
                    settings.category_delays,
                    settings.default_delay_days,
                    zone,
                    window(settings),
                )
                created += await _create(
                    order_id=row["id"],
                    customer_id=row["customer"],
                    kind="order",
                    dedupe_key=f"order:{row['id']}",
                    due_at=due,
                    now=now,
                    settings=settings,
                )

    support = await OrderEvent.select(
        OrderEvent.id,
        OrderEvent.order,
        OrderEvent.at,
        OrderEvent.agent,
        OrderEvent.order.customer,
        OrderEvent.order.customer.timezone,
    ).where(
        (OrderEvent.type == "support_resolved")
        & (OrderEvent.at >= horizon)
        & (OrderEvent.order.not_asked == "")
        & OrderEvent.order.customer.is_not_null()
        & OrderEvent.id.not_in(
            Invitation.select(Invitation.support_event).where(Invitation.support_event.is_not_null())
        )
    )
    for row in support:
        async with skip_bad_row(PASS, f"order event {row['id']}", now):
            zone = policy.local_zone(row["order.customer.timezone"], settings.shop_timezone)
            due = policy.into_window(
                policy.later(row["at"], timedelta(hours=settings.support_delay_hours)),
                zone,
                window(settings),
            )
            created += await _create(
                order_id=row["order"],
                customer_id=row["order.customer"],
                kind="support",
                dedupe_key=f"support:{row['id']}",
                agent=row["agent"],
                support_event=row["id"],
                due_at=due,
                now=now,
                settings=settings,
            )
    return created
