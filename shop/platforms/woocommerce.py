"""WooCommerce's order webhooks read into our terms. Pure: no database, no clock (`now` is passed in).

WooCommerce sends an order as its REST API (v3) shows it. External ids are `"wc-"` + the order's id (`"wc-727"`):
WooCommerce ids are small numbers that would clash with ids sent to the ingest API or imported from CSV. The
display `number` is not used: plugins rewrite it. `_gmt` dates are naive UTC.

- `order.created`, `order.updated`, `order.restored` store the order (once) and record what its status says:
  `completed` is a delivery (`date_completed_gmt`), so is the status a shipment-tracking plugin adds
  (`AFTERGLOW_WOOCOMMERCE_DELIVERED_STATUS`, `delivered` by default; dated by `date_modified_gmt`);
  `cancelled`, `failed` and `trash` are a cancellation; `refunded` refunds every line.
- `order.deleted` (moved to the bin, or deleted for good; the body is only `{"id": ...}`) records a cancellation
  when it arrives; `order.restored` withdraws it, and the restored order's status decides again.
- Refunds: an order's `refunds[]` lists each refund's amount only, so a partial refund names no line, unless its
  entry carries the refund's `line_items` (negative quantities, as the refunds API shows them): those lines are
  marked. Refunds adding up to the order's total refund every line, whatever the status says.
- Item names lose their HTML entities (`Ship Your Idea &ndash; Color: Black` → `Ship Your Idea – Color: Black`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
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

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
CANCELLED_STATUSES = frozenset({"cancelled", "failed", "trash"})
_CENT = Decimal("0.01")


def normal_status(value: Any) -> str:
    """A status as WooCommerce's REST API names it: `wc-delivered` and `Delivered` are `delivered`."""
    return str(value or "").strip().lower().removeprefix("wc-")


def woocommerce_change(
    topic: str, payload: Mapping[str, Any], now: datetime | None = None, delivered_status: str = "delivered"
) -> Change | None:
    """What a WooCommerce order webhook asks of us; None for topics we do not act on. `delivered_status` is the
    extra status that means delivered ("" for none). Dates more than a day after `now` (default: the clock) or
    before 2000 are a PayloadError."""
    if topic == "order.deleted":
        at = now or datetime.now(UTC)
        return Change(f"wc-{required(payload, 'id')}", events=(EventIn(type="cancelled", at=at),))
    if topic not in ORDER_TOPICS:
        return None
    order = woocommerce_order(payload, now)
    status = normal_status(payload.get("status"))
    events = []
    if status == "completed" or (status and status == normal_status(delivered_status)):
        # Only completion has its own date; a plugin's status is dated by the last modification.
        key = (
            "date_completed_gmt" if status == "completed" and payload.get("date_completed_gmt") else "date_modified_gmt"
        )
        events.append(EventIn(type="delivered", at=time(required(payload, key), key, now)))
    elif status in CANCELLED_STATUSES:
        events.append(EventIn(type="cancelled", at=_modified(payload, now)))
    refund = _refunds(payload, order.total, now)
    if status == "refunded" and not (refund and refund.everything):
        refund = Refund(at=refund.at if refund else _modified(payload, now), everything=True)
    return Change(
        order.external_id,
        order=order,
        events=tuple(events),
        refund=refund,
        withdraw_cancellation=topic == "order.restored",
    )


def woocommerce_order(payload: Mapping[str, Any], now: datetime | None = None) -> OrderIn:
    """A WooCommerce (REST v3) order as our OrderIn (without a customer when it has no usable email)."""
    billing = as_object(payload.get("billing"))
    items = [_item(item, f"line_items[{i}]") for i, item in enumerate(line_items(payload))]
    email = usable_email(billing.get("email"))
    name = clean_name(f"{billing.get('first_name') or ''} {billing.get('last_name') or ''}", entities=True)
    return order_in(
        {
            "external_id": f"wc-{required(payload, 'id')}",
            "channel": "woocommerce",
            "placed_at": time(required(payload, "date_created_gmt"), "date_created_gmt", now),
            "currency": required(payload, "currency"),
            "total": money(required(payload, "total"), "total"),
            "customer": {"email": email, "name": name[:200], "locale": locale(_meta(payload, "wpml_language"))}
            if email
            else None,
            "items": merge_items(items),
        }
    )


def _item(item: Mapping[str, Any], path: str) -> dict[str, Any]:
    # WooCommerce sends `price` as total / quantity, a float such as 3.3333333333333335.
    price = money(required(item, "price", path), f"{path}.price").quantize(_CENT, ROUND_HALF_UP)
    return {
        "sku": _sku(item) or missing(f"{path}.sku"),
        "name": clean_name(required(item, "name", path), entities=True)[:300] or missing(f"{path}.name"),
        "quantity": quantity(required(item, "quantity", path), f"{path}.quantity"),
        "price": price,
        "product_ref": ref(item.get("product_id")),
        "variant_ref": ref(item.get("variation_id")),
    }


def _sku(item: Mapping[str, Any]) -> str:
    return str(item.get("sku") or "").strip() or fallback_sku(item, "variation_id", "product_id")


def _refunds(payload: Mapping[str, Any], total: Decimal, now: datetime | None) -> Refund | None:
    """What the order's `refunds[]` say: the lines of entries that carry them, and every line once the refunds
    add up to the order's total. None without refunds."""
    refunds = objects(payload.get("refunds"))
    if not refunds:
        return None
    quantities: dict[tuple[str, str, str], int] = {}
    refunded = Decimal(0)
    dates = []
    for i, refund in enumerate(refunds):
        path = f"refunds[{i}]"
        refunded += abs(money(refund.get("total") or refund.get("amount") or 0, f"{path}.total"))
        if refund.get("date_created_gmt"):
            dates.append(time(refund["date_created_gmt"], f"{path}.date_created_gmt", now))
        for j, item in enumerate(objects(refund.get("line_items"))):
            key = line_key(_sku(item), ref(item.get("product_id")), ref(item.get("variation_id")))
            quantities[key] = quantities.get(key, 0) + quantity(item.get("quantity", 0), f"{path}.line_items[{j}]")
    everything = Decimal(0) < total <= refunded
    if not quantities and not everything:
        return None  # a partial refund by amount alone: no line to mark
    at = max(dates) if dates else _modified(payload, now)
    return Refund(at=at, lines=refunded_lines(quantities), everything=everything)


def _modified(payload: Mapping[str, Any], now: datetime | None) -> datetime:
    return time(required(payload, "date_modified_gmt"), "date_modified_gmt", now)


def _meta(payload: Mapping[str, Any], key: str) -> Any:
    for entry in objects(payload.get("meta_data")):
        if entry.get("key") == key:
            return entry.get("value")
    return None
