"""Reading one invitation with what the customer sees of it: who they are, the order, its items."""

from __future__ import annotations

from typing import Any

from shop.tables import OrderItem
from surveys.tables import Invitation


async def invitation_with_items(invitation_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """The invitation (with customer and order columns) and the order's items, leaving out refunded lines; None
    when it does not exist."""
    inv = (
        await Invitation.select(
            Invitation.id,
            Invitation.kind,
            Invitation.token,
            Invitation.agent,
            Invitation.answered_at,
            Invitation.opened_at,
            Invitation.customer.email,
            Invitation.customer.name,
            Invitation.customer.locale,
            Invitation.order.id,
            Invitation.order.external_id,
        )
        .where(Invitation.id == invitation_id)
        .first()
    )
    if inv is None:
        return None
    items = (
        await OrderItem.select(OrderItem.id, OrderItem.sku, OrderItem.name, OrderItem.quantity)
        .where((OrderItem.order == inv["order.id"]) & OrderItem.returned_at.is_null())
        .order_by(OrderItem.id)
    )
    return inv, items
