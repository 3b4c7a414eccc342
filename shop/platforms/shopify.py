"""Shopify's webhooks read into our terms. Pure: no database, no clock (`now` is passed in).

Shopify sends the REST shape of its objects, whichever API version the webhook uses. External ids are the numeric
Shopify ids as text (`"450789469"`): too large to clash with ids sent to the ingest API or imported from CSV.

- `orders/*` bodies (`create`, `updated`, `fulfilled`, `partially_fulfilled`, `paid`, `cancelled`) carry the
  whole order: it is stored (once), and what it says is recorded: `cancelled_at`, a fulfillment whose
  `shipment_status` is `delivered` (its `updated_at`), and its refunds. An order without an email (draft, POS
  and phone orders send `""` or null) is stored without a customer and never asked about.
- `fulfillments/create|update` with `shipment_status` `delivered`, and `fulfillment_events/create` with status
  `delivered`, record the delivery. `fulfilled` alone means shipped, not delivered.
- `refunds/create` and an order's `refunds[]` mark the refunded lines returned once their whole quantity is
  refunded; `financial_status: refunded` refunds every line.
- `orders/delete` (Shopify deletes only cancelled or archived orders) records a cancellation when it arrives.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from shop.platforms.orders import (
    Change,
    Refund,
    as_object,
    clean_name,
    fallback_sku,
    line_items,
    line_key,
    locale,
    merge_items,
    missing,
    money,
    objects,
    order_in,
    quantity,
    ref,
    refunded_lines,
    required,
    time,
    usable_email,
)
from shop.schemas import EventIn, OrderIn

ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/fulfilled",
        "orders/partially_fulfilled",
        "orders/paid",
        "orders/cancelled",
    }
)
FULFILLMENT_TOPICS = frozenset({"fulfillments/create", "fulfillments/update"})
#: Fulfillments that never reached anyone, whatever their shipment status says.
_FAILED = frozenset({"cancelled", "error", "failure"})


def shopify_change(topic: str, payload: Mapping[str, Any], now: datetime | None = None) -> Change | None:
    """What a Shopify webhook asks of us; None for topics and states we do not act on. Dates more than a day
    after `now` (default: the clock) or before 2000 are a PayloadError."""
    if topic in ORDER_TOPICS:
        return order_change(payload, now)
    if topic in FULFILLMENT_TOPICS:
        order_id = str(required(payload, "order_id"))
        at = _delivered_at(payload, "", now)
        return Change(order_id, events=(EventIn(type="delivered", at=at),)) if at else None
    if topic == "fulfillment_events/create":
        order_id = str(required(payload, "order_id"))
        if payload.get("status") != "delivered":
            return None
        key = "happened_at" if payload.get("happened_at") else "created_at"
        return Change(order_id, events=(EventIn(type="delivered", at=time(required(payload, key), key, now)),))
    if topic == "refunds/create":
        order_id = str(required(payload, "order_id"))
        refund = _refunds([payload], {}, now)
        return Change(order_id, refund=refund) if refund else None
    if topic == "orders/delete":
        at = now or datetime.now(UTC)
        return Change(str(required(payload, "id")), events=(EventIn(type="cancelled", at=at),))
    return None


def order_change(payload: Mapping[str, Any], now: datetime | None = None) -> Change:
    """An `orders/*` body: the order, and what it says happened to it."""
    order = shopify_order(payload, now)
    events = []
    if payload.get("cancelled_at"):
        events.append(EventIn(type="cancelled", at=time(payload["cancelled_at"], "cancelled_at", now)))
    delivered = [
        at
        for i, fulfillment in enumerate(objects(payload.get("fulfillments")))
        if (at := _delivered_at(fulfillment, f"fulfillments[{i}].", now))
    ]
    if delivered:
        # The first parcel to arrive counts, as the first report of a delivery does.
        events.append(EventIn(type="delivered", at=min(delivered)))
    lines = {str(item.get("id")): item for item in line_items(payload)}
    refund = _refunds(objects(payload.get("refunds")), lines, now)
    if payload.get("financial_status") == "refunded":
        at = refund.at if refund else time(required(payload, "updated_at"), "updated_at", now)
        refund = Refund(at=at, everything=True)
    return Change(order.external_id, order=order, events=tuple(events), refund=refund)


def shopify_order(payload: Mapping[str, Any], now: datetime | None = None) -> OrderIn:
    """A Shopify Order object as our OrderIn (without a customer when it has no usable email)."""
    customer = as_object(payload.get("customer"))
    address = as_object(payload.get("billing_address") or customer.get("default_address"))
    email = usable_email(payload.get("email"), payload.get("contact_email"), customer.get("email"))
    first = customer.get("first_name") or address.get("first_name") or ""
    last = customer.get("last_name") or address.get("last_name") or ""
    items = [_item(item, f"line_items[{i}]") for i, item in enumerate(line_items(payload))]
    return order_in(
        {
            "external_id": str(required(payload, "id")),
            "channel": "shopify",
            "placed_at": time(required(payload, "created_at"), "created_at", now),
            "currency": required(payload, "currency"),
            "total": money(required(payload, "total_price"), "total_price"),
            "customer": {
                "email": email,
                "name": clean_name(f"{first} {last}")[:200],
                "locale": locale(payload.get("customer_locale")),
            }
            if email
            else None,
            "items": merge_items(items),
        }
    )


def _item(item: Mapping[str, Any], path: str) -> dict[str, Any]:
    sku = item.get("sku") or fallback_sku(item, "variant_id", "product_id", "id")
    return {
        "sku": sku or missing(f"{path}.sku"),
        "name": clean_name(item.get("name") or item.get("title"))[:300] or missing(f"{path}.name"),
        "category": item.get("product_type") or "",
        "quantity": quantity(required(item, "quantity", path), f"{path}.quantity"),
        "price": money(required(item, "price", path), f"{path}.price"),
        "product_ref": ref(item.get("product_id")),
        "variant_ref": ref(item.get("variant_id")),
    }


def _key(item: Mapping[str, Any]) -> tuple[str, str, str]:
    sku = item.get("sku") or fallback_sku(item, "variant_id", "product_id", "id")
    return line_key(sku, ref(item.get("product_id")), ref(item.get("variant_id")))


def _delivered_at(fulfillment: Mapping[str, Any], path: str, now: datetime | None) -> datetime | None:
    if fulfillment.get("shipment_status") != "delivered" or fulfillment.get("status") in _FAILED:
        return None
    key = "updated_at" if fulfillment.get("updated_at") else "created_at"
    return time(required(fulfillment, key, path.rstrip(".")), f"{path}{key}", now)


def _refunds(
    refunds: list[Mapping[str, Any]], lines: Mapping[str, Mapping[str, Any]], now: datetime | None
) -> Refund | None:
    """The lines these refunds give back, their quantities summed; a refund line without its `line_item` is
    found among the order's `lines` by `line_item_id`. None when no line was refunded (shipping only)."""
    quantities: dict[tuple[str, str, str], int] = {}
    dates = []
    for i, refund in enumerate(refunds):
        for j, entry in enumerate(objects(refund.get("refund_line_items"))):
            item = as_object(entry.get("line_item")) or lines.get(str(entry.get("line_item_id")), {})
            if not item:
                continue
            key = _key(item)
            quantities[key] = quantities.get(key, 0) + quantity(entry.get("quantity", 0), f"refund_line_items[{j}]")
            stamp = "created_at" if refund.get("created_at") else "processed_at"
            dates.append(time(required(refund, stamp, f"refunds[{i}]"), stamp, now))
    if not dates:
        return None
    return Refund(at=max(dates), lines=refunded_lines(quantities))
