"""Doing what a shop's webhook asks: store the order, record its events and refunds, remember the delivery.
Every step is idempotent, so a redelivery changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from shop.platforms.orders import Change, Refund, refunded_item_ids
from shop.schemas import EventIn
from shop.services.orders import OrderNotFound, claim_webhook, ingest_order, record_first_report
from shop.tables import Order, OrderEvent, OrderItem, WebhookReceipt


async def apply_change(change: Change, source: str) -> None:
    """Store the order, then record what happened to it. OrderNotFound when it names an order never stored."""
    if change.order is not None:
        await ingest_order(change.order)
    if change.withdraw_cancellation:
        await withdraw_cancellation(change.external_id, source)
    for event in change.events:
        await record_first_report(change.external_id, event, source)
    if change.refund is not None:
        await record_refund(change.external_id, change.refund, source)


async def handle_change(source: str, delivery_id: str, topic: str, change: Change) -> str:
    """Apply a change and remember its delivery: "accepted", "duplicate" (delivered before) or "unknown_order"."""
    try:
        await apply_change(change, source)
    except OrderNotFound:
        # Answer 2xx (a 4xx would only make the shop retry for two days, then disable the webhook) but leave
        # the delivery unclaimed, so a redelivery after the order has arrived is still applied.
        return "unknown_order"
    # Claim after applying: a failure in between leaves the delivery unclaimed and the shop's retry re-applies it
    # harmlessly, where claiming first could swallow a delivery that was never stored.
    fresh = not delivery_id or await claim_webhook(source, delivery_id, topic, change.summary())
    return "accepted" if fresh else "duplicate"


async def delivery_seen(source: str, delivery_id: str) -> bool:
    """Whether this delivery was handled before (the shop retried it)."""
    return bool(delivery_id) and await WebhookReceipt.exists().where(
        WebhookReceipt.delivery_id == f"{source}:{delivery_id}"
    )


async def record_refund(external_id: str, refund: Refund, source: str) -> None:
    """Mark the refunded lines returned (the first refund of a line counts). Once every line is, the order is
    returned and never asked about (`not_asked: refunded`, unless it had a reason already)."""
    order = await Order.select(Order.id).where(Order.external_id == external_id).first()
    if order is None:
        raise OrderNotFound(external_id)
    order_id = int(order["id"])
    items = await OrderItem.select(
        OrderItem.id,
        OrderItem.sku,
        OrderItem.product_ref,
        OrderItem.variant_ref,
        OrderItem.quantity,
        OrderItem.returned_at,
    ).where(OrderItem.order == order_id)
    hit = refunded_item_ids(items, refund)
    if hit:
        await OrderItem.update({OrderItem.returned_at: refund.at}).where(
            OrderItem.id.is_in(hit) & OrderItem.returned_at.is_null()
        )
    left = {item["id"] for item in items if item["returned_at"] is None} - set(hit)
    if items and not left:
        await Order.update({Order.not_asked: "refunded"}).where((Order.id == order_id) & (Order.not_asked == ""))
        await record_first_report(external_id, EventIn(type="returned", at=refund.at), source)


async def withdraw_cancellation(external_id: str, source: str) -> None:
    """Forget that the order is cancelled (its history keeps the report, and a "restored" event says why): the
    shop restored it from its bin, and what the restored order says counts again. The event is also how the
    dashboard's sweep learns that the order counts again."""
    order = await Order.select(Order.id).where(Order.external_id == external_id).first()
    if order is None:
        return
    async with Order._meta.db.transaction():
        await Order.update({Order.cancelled_at: None}).where(Order.id == order["id"])
        await OrderEvent.insert(OrderEvent(order=order["id"], type="restored", at=datetime.now(UTC), source=source))
