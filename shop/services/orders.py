"""Ingesting orders and their events. Shop code knows nothing of surveys: the scheduler reads these rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from afterglow.db import UNIQUE_VIOLATIONS
from shop.schemas import CustomerIn, CustomerOut, EventIn, ItemOut, OrderIn, OrderOut
from shop.services.categories import categorise_items
from shop.tables import Customer, Order, OrderEvent, OrderItem, WebhookReceipt


class OrderNotFound(LookupError):
    """The shop named an order we were never told about."""

    def __init__(self, external_id: str) -> None:
        super().__init__(f"order {external_id!r} is unknown; send it to /api/v1/orders first")
        self.external_id = external_id


async def upsert_customer(data: CustomerIn) -> int:
    """Return the customer's id, creating them or refreshing what the shop now says about them."""
    existing = await Customer.select(Customer.id).where(Customer.email == data.email).first()
    changes: dict[Any, Any] = {}
    if data.name:
        changes[Customer.name] = data.name
    if data.locale:
        changes[Customer.locale] = data.locale
    if data.timezone:
        changes[Customer.timezone] = data.timezone
    if existing:
        if changes:
            await Customer.update(changes).where(Customer.id == existing["id"])
        return int(existing["id"])
    try:
        rows = await Customer.insert(
            Customer(email=data.email, name=data.name, locale=data.locale, timezone=data.timezone)
        ).returning(Customer.id)
        return int(rows[0]["id"])
    except UNIQUE_VIOLATIONS:
        # Lost a race with a concurrent insert of the same email: use theirs.
        again = await Customer.select(Customer.id).where(Customer.email == data.email).first()
        if again is None:
            raise
        return int(again["id"])


async def ingest_order(data: OrderIn) -> tuple[OrderOut, bool]:
    """Store an order once. Returns the order and whether it was created by this call."""
    existing = await Order.select(Order.id).where(Order.external_id == data.external_id).first()
    if existing:
        return await order_out(int(existing["id"])), False
    customer_id = await upsert_customer(data.customer) if data.customer is not None else None
    try:
        async with Order._meta.db.transaction():
            rows = await Order.insert(
                Order(
                    external_id=data.external_id,
                    channel=data.channel,
                    placed_at=data.placed_at,
                    currency=data.currency,
                    total=data.total,
                    customer=customer_id,
                    not_asked="" if customer_id is not None else "no_email",
                )
            ).returning(Order.id)
            order_id = int(rows[0]["id"])
            await OrderItem.insert(
                *[
                    OrderItem(
                        order=order_id,
                        sku=item.sku,
                        name=item.name,
                        category=item.category.strip().lower(),
                        quantity=item.quantity,
                        price=item.price,
                        product_ref=item.product_ref,
                        variant_ref=item.variant_ref,
                    )
                    for item in data.items
                ]
            )
    except UNIQUE_VIOLATIONS:
        again = await Order.select(Order.id).where(Order.external_id == data.external_id).first()
        if again is None:
            raise
        return await order_out(int(again["id"])), False
    await categorise_items(order_id)
    return await order_out(order_id), True


async def find_order(external_id: str) -> OrderOut:
    """The order the shop knows by `external_id`, or OrderNotFound."""
    row = await Order.select(Order.id).where(Order.external_id == external_id).first()
    if row is None:
        raise OrderNotFound(external_id)
    return await order_out(int(row["id"]))


async def order_out(order_id: int) -> OrderOut:
    order = (
        await Order.select(*Order.all_columns(exclude=[Order.customer]), *Order.customer.all_columns())
        .where(Order.id == order_id)
        .first()
    )
    if order is None:
        raise LookupError(order_id)
    items = await OrderItem.select().where(OrderItem.order == order_id).order_by(OrderItem.id)
    return OrderOut(
        id=order["id"],
        external_id=order["external_id"],
        channel=order["channel"],
        placed_at=order["placed_at"],
        currency=order["currency"],
        total=order["total"],
        customer=CustomerOut(
            email=order["customer.email"],
            name=order["customer.name"],
            locale=order["customer.locale"],
            timezone=order["customer.timezone"],
        )
        if order["customer.id"] is not None
        else None,
        items=[
            ItemOut(
                sku=i["sku"],
                name=i["name"],
                category=i["category"],
                quantity=i["quantity"],
                price=i["price"],
                product_ref=i["product_ref"],
                variant_ref=i["variant_ref"],
                returned_at=i["returned_at"],
            )
            for i in items
        ],
        delivered_at=order["delivered_at"],
        returned_at=order["returned_at"],
        cancelled_at=order["cancelled_at"],
        complaint_open=order["complaint_open"],
        not_asked=order["not_asked"],
    )


_TIMESTAMP_COLUMN = {
    "delivered": Order.delivered_at,
    "returned": Order.returned_at,
    "cancelled": Order.cancelled_at,
}


async def record_event(external_id: str, event: EventIn, source: str = "api") -> bool:
    """Apply one order event. Returns False when the same event was already recorded (a redelivery)."""
    order = await Order.select(Order.id).where(Order.external_id == external_id).first()
    if order is None:
        raise OrderNotFound(external_id)
    order_id = int(order["id"])
    duplicate = await OrderEvent.exists().where(
        (OrderEvent.order == order_id) & (OrderEvent.type == event.type) & (OrderEvent.at == event.at)
    )
    if duplicate:
        return False
    await OrderEvent.insert(OrderEvent(order=order_id, type=event.type, at=event.at, agent=event.agent, source=source))
    column = _TIMESTAMP_COLUMN.get(event.type)
    if column is not None:
        # The first report of a delivery, return or cancellation is the one that counts.
        await Order.update({column: event.at}).where((Order.id == order_id) & column.is_null())
    elif event.type in {"complaint_opened", "complaint_closed"}:
        await _refresh_complaint(order_id)
    return True


async def record_first_report(external_id: str, event: EventIn, source: str) -> None:
    """Record an event a shop's webhook reports, unless the order already has that delivery, return or
    cancellation: shops resend the whole order on every edit, with a fresh modification date, and the first report
    counts. Other event types are recorded as `record_event` does."""
    column = _TIMESTAMP_COLUMN.get(event.type)
    if column is None:
        await record_event(external_id, event, source=source)
        return
    row = await Order.select(column).where(Order.external_id == external_id).first()
    if row is None:
        raise OrderNotFound(external_id)
    if row[column._meta.name] is None:
        await record_event(external_id, event, source=source)


async def _refresh_complaint(order_id: int) -> None:
    """A complaint is open when its latest complaint event (by time, not arrival) opened one."""
    latest = (
        await OrderEvent.select(OrderEvent.type)
        .where((OrderEvent.order == order_id) & OrderEvent.type.is_in(["complaint_opened", "complaint_closed"]))
        .order_by(OrderEvent.at, ascending=False)
        .order_by(OrderEvent.id, ascending=False)
        .first()
    )
    is_open = bool(latest and latest["type"] == "complaint_opened")
    await Order.update({Order.complaint_open: is_open}).where(Order.id == order_id)


async def claim_webhook(source: str, delivery_id: str, topic: str, payload: dict[str, Any]) -> bool:
    """Record a webhook delivery. False when it was handled before (the shop retried it)."""
    key = f"{source}:{delivery_id}"
    if await WebhookReceipt.exists().where(WebhookReceipt.delivery_id == key):
        return False
    try:
        await WebhookReceipt.insert(WebhookReceipt(source=source, delivery_id=key, topic=topic, payload=payload))
    except UNIQUE_VIOLATIONS:
        if await WebhookReceipt.exists().where(WebhookReceipt.delivery_id == key):
            return False
        raise
    return True


async def unsubscribe_customer(customer_id: int, now: datetime) -> None:
    """Stop asking this customer anything, for good."""
    await Customer.update({Customer.unsubscribed_at: now}).where(
        (Customer.id == customer_id) & Customer.unsubscribed_at.is_null()
    )
