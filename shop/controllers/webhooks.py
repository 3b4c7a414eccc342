"""Shop webhooks: Shopify and WooCommerce tell us about orders, deliveries, returns and cancellations.

Both shops sign the exact body with base64(HMAC-SHA256(secret, body)); an unsigned or wrongly signed request, or
one that arrives while no secret is configured, is refused with 401 before anything is read or stored.

External ids, used alike for the order and its events:
- Shopify: the numeric Shopify order id as text (`"450789469"`); Shopify ids are too large to clash with others.
- WooCommerce: `"wc-"` + the order's post id (`"wc-727"`), because WooCommerce ids are small numbers that would
  clash with ids sent to the ingest API or imported from CSV. The display `number` is not used: plugins rewrite it.

Topics: Shopify `orders/create|updated|fulfilled|cancelled` store the order (fulfilled means shipped, not
delivered; a cancelled order records `cancelled`), `fulfillments/update` with `shipment_status` "delivered" records
`delivered`. WooCommerce `order.created|updated` store the order; status `completed` records `delivered`,
`refunded` records `returned`, `cancelled` records `cancelled`. Other topics are acknowledged and ignored, since
shops disable webhooks that keep failing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NoReturn

import msgspec
from litestar import Controller, Request, post
from litestar.exceptions import ClientException, NotAuthorizedException

from afterglow.bodies import UnreadableBody, read_json
from afterglow.ratelimit import WEBHOOK_LIMITS
from afterglow.web import AppSettings, Now
from shop.policy import ImplausibleDate, check_date
from shop.schemas import LOCALE_RE, EventIn, EventType, OrderIn
from shop.services.orders import OrderNotFound, claim_webhook, ingest_order, record_first_report

SHOPIFY_ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/fulfilled", "orders/cancelled"})
WOOCOMMERCE_ORDER_TOPICS = frozenset({"order.created", "order.updated"})
WOOCOMMERCE_STATUS_EVENTS: dict[str, EventType] = {
    "completed": "delivered",
    "refunded": "returned",
    "cancelled": "cancelled",
}
_PING = re.compile(rb"^webhook_id=\d+$")
_CENT = Decimal("0.01")


class PayloadError(ValueError):
    """The webhook body is not what its topic promises; the message names the field."""


@dataclass(frozen=True)
class Change:
    """What one webhook asks of us: store an order, record an event on it, or both."""

    external_id: str
    order: OrderIn | None = None
    event: EventIn | None = None


Translator = Callable[[str, Mapping[str, Any], datetime | None], Change | None]


def signature_valid(secret: str, body: bytes, signature: str | None) -> bool:
    """True when `signature` is base64(HMAC-SHA256(secret, body)); never true without a secret."""
    if not secret or not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode())


def parse_json(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or a PayloadError."""
    try:
        payload = read_json(body)
    except UnreadableBody as exc:
        raise PayloadError(str(exc)) from exc
    if not isinstance(payload, dict):
        raise PayloadError("the body must be a JSON object")
    return payload


def is_woocommerce_ping(body: bytes) -> bool:
    """WooCommerce's test delivery when a webhook is created: `webhook_id=NN`, form-encoded, unsigned."""
    return bool(_PING.match(body.strip()))


def shopify_change(topic: str, payload: Mapping[str, Any], now: datetime | None = None) -> Change | None:
    """Translate a Shopify webhook into our terms; None when the topic or status is not one we act on.
    Dates more than a day after `now` (default: the clock) or before 2000 are a PayloadError."""
    if topic in SHOPIFY_ORDER_TOPICS:
        order = shopify_order(payload, now)
        cancelled_at = payload.get("cancelled_at")
        event = EventIn(type="cancelled", at=_time(cancelled_at, "cancelled_at", now)) if cancelled_at else None
        return Change(order.external_id, order=order, event=event)
    if topic == "fulfillments/update":
        order_id = str(_required(payload, "order_id"))
        if payload.get("shipment_status") != "delivered":
            return None
        at = _time(_required(payload, "updated_at"), "updated_at", now)
        return Change(order_id, event=EventIn(type="delivered", at=at))
    return None


def shopify_order(payload: Mapping[str, Any], now: datetime | None = None) -> OrderIn:
    """A Shopify Order object as our OrderIn."""
    customer = _object(payload.get("customer"))
    address = _object(payload.get("billing_address") or customer.get("default_address"))
    email = payload.get("email") or payload.get("contact_email") or customer.get("email")
    if not email:
        raise PayloadError("`email` is missing")
    first = customer.get("first_name") or address.get("first_name") or ""
    last = customer.get("last_name") or address.get("last_name") or ""
    items = []
    for i, item in enumerate(_list(payload, "line_items")):
        path = f"line_items[{i}]"
        # Products without a SKU are common on Shopify; the variant id still names what was bought.
        sku = item.get("sku") or _fallback_sku(item, "variant_id", "product_id", "id")
        items.append(
            {
                "sku": sku or _missing(f"{path}.sku"),
                "name": item.get("name") or item.get("title") or _missing(f"{path}.name"),
                "category": item.get("product_type") or "",
                "quantity": _required(item, "quantity", path),
                "price": _money(_required(item, "price", path), f"{path}.price"),
            }
        )
    return _order_in(
        {
            "external_id": str(_required(payload, "id")),
            "channel": "shopify",
            "placed_at": _time(_required(payload, "created_at"), "created_at", now),
            "currency": _required(payload, "currency"),
            "total": _money(_required(payload, "total_price"), "total_price"),
            "customer": {
                "email": email,
                "name": f"{first} {last}".strip(),
                "locale": _locale(payload.get("customer_locale")),
            },
            "items": items,
        }
    )


def woocommerce_change(topic: str, payload: Mapping[str, Any], now: datetime | None = None) -> Change | None:
    """Translate a WooCommerce order webhook into our terms; None for topics we do not act on.
    Dates more than a day after `now` (default: the clock) or before 2000 are a PayloadError."""
    if topic not in WOOCOMMERCE_ORDER_TOPICS:
        return None
    order = woocommerce_order(payload, now)
    event_type = WOOCOMMERCE_STATUS_EVENTS.get(str(payload.get("status", "")))
    if event_type is None:
        return Change(order.external_id, order=order)
    # Only completion has its own date; refunds and cancellations are dated by the last modification.
    completed = event_type == "delivered" and payload.get("date_completed_gmt")
    key = "date_completed_gmt" if completed else "date_modified_gmt"
    at = _time(_required(payload, key), key, now)
    return Change(order.external_id, order=order, event=EventIn(type=event_type, at=at))


def woocommerce_order(payload: Mapping[str, Any], now: datetime | None = None) -> OrderIn:
    """A WooCommerce (REST v3) order as our OrderIn; `_gmt` dates are naive UTC."""
    billing = _object(payload.get("billing"))
    items = []
    for i, item in enumerate(_list(payload, "line_items")):
        path = f"line_items[{i}]"
        sku = item.get("sku") or _fallback_sku(item, "variation_id", "product_id")
        # WooCommerce sends `price` as total / quantity, a float such as 3.3333333333333335.
        price = _money(_required(item, "price", path), f"{path}.price").quantize(_CENT, ROUND_HALF_UP)
        items.append(
            {
                "sku": sku or _missing(f"{path}.sku"),
                "name": _required(item, "name", path),
                "quantity": _required(item, "quantity", path),
                "price": price,
            }
        )
    name = f"{billing.get('first_name') or ''} {billing.get('last_name') or ''}".strip()
    return _order_in(
        {
            "external_id": f"wc-{_required(payload, 'id')}",
            "channel": "woocommerce",
            "placed_at": _time(_required(payload, "date_created_gmt"), "date_created_gmt", now),
            "currency": _required(payload, "currency"),
            "total": _money(_required(payload, "total"), "total"),
            "customer": {
                "email": billing.get("email") or _missing("billing.email"),
                "name": name,
                "locale": _locale(_meta(payload, "wpml_language")),
            },
            "items": items,
        }
    )


async def apply_change(change: Change, source: str) -> None:
    """Store the order and record the event; both are idempotent, so a redelivery changes nothing."""
    if change.order is not None:
        await ingest_order(change.order)
    if change.event is not None:
        await record_first_report(change.external_id, change.event, source)


class WebhooksController(Controller):
    path = "/webhooks"
    middleware = WEBHOOK_LIMITS
    tags = ["webhooks"]

    @post("/shopify", name="webhooks:shopify", operation_id="ShopifyWebhook", status_code=200)
    async def shopify(self, request: Request[Any, Any, Any], settings: AppSettings, now: Now) -> dict[str, str]:
        """Orders and deliveries from Shopify, signed with `X-Shopify-Hmac-Sha256`."""
        body = await request.body()
        if not signature_valid(settings.shopify_secret, body, request.headers.get("x-shopify-hmac-sha256")):
            raise NotAuthorizedException(detail="invalid or missing X-Shopify-Hmac-Sha256 signature")
        topic = request.headers.get("x-shopify-topic", "")
        change = _translate(shopify_change, topic, body, now)
        return await _handle("shopify", request.headers.get("x-shopify-webhook-id", ""), topic, change)

    @post("/woocommerce", name="webhooks:woocommerce", operation_id="WooCommerceWebhook", status_code=200)
    async def woocommerce(self, request: Request[Any, Any, Any], settings: AppSettings, now: Now) -> dict[str, str]:
        """Orders from WooCommerce, signed with `X-WC-Webhook-Signature`."""
        body = await request.body()
        if is_woocommerce_ping(body):
            return {"status": "pong"}
        if not signature_valid(settings.woocommerce_secret, body, request.headers.get("x-wc-webhook-signature")):
            raise NotAuthorizedException(detail="invalid or missing X-WC-Webhook-Signature signature")
        topic = request.headers.get("x-wc-webhook-topic", "")
        change = _translate(woocommerce_change, topic, body, now)
        return await _handle("woocommerce", request.headers.get("x-wc-webhook-delivery-id", ""), topic, change)


def _translate(translate: Translator, topic: str, body: bytes, now: datetime) -> Change | None:
    try:
        return translate(topic, parse_json(body), now)
    except PayloadError as exc:
        raise ClientException(detail=str(exc)) from exc


async def _handle(source: str, delivery_id: str, topic: str, change: Change | None) -> dict[str, str]:
    if change is None:
        return {"status": "ignored"}
    try:
        await apply_change(change, source)
    except OrderNotFound:
        # Answer 2xx (a 4xx would only make the shop retry for two days, then disable the webhook) but leave
        # the delivery unclaimed, so a redelivery after the order has arrived is still applied.
        return {"status": "unknown_order"}
    # Claim after applying: a failure in between leaves the delivery unclaimed and the shop's retry re-applies it
    # harmlessly, where claiming first could swallow a delivery that was never stored.
    summary = {"order": change.external_id, "event": change.event.type if change.event else ""}
    fresh = not delivery_id or await claim_webhook(source, delivery_id, topic, summary)
    return {"status": "accepted" if fresh else "duplicate"}


def _required(obj: Mapping[str, Any], key: str, parent: str = "") -> Any:
    value = obj.get(key)
    if value is None or value == "":
        _missing(f"{parent}.{key}" if parent else key)
    return value


def _missing(path: str) -> NoReturn:
    raise PayloadError(f"`{path}` is missing")


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(obj: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = obj.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise PayloadError(f"`{key}` must be a non-empty list of objects")
    return value


def _money(value: Any, path: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PayloadError(f"`{path}` is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise PayloadError(f"`{path}` is not an amount: {value!r}")
    return amount


def _time(value: Any, path: str, now: datetime | None) -> datetime:
    """A plausible ISO-8601 time; a naive one (WooCommerce's `_gmt` fields) is UTC."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise PayloadError(f"`{path}` is not an ISO-8601 time: {value!r}") from None
    try:
        return check_date(path, at if at.tzinfo else at.replace(tzinfo=UTC), now or datetime.now(UTC))
    except ImplausibleDate as exc:
        raise PayloadError(exc.message) from None


def _locale(value: Any) -> str:
    return value if isinstance(value, str) and LOCALE_RE.match(value) and len(value) <= 16 else "en"


def _meta(payload: Mapping[str, Any], key: str) -> Any:
    for entry in payload.get("meta_data") or []:
        if isinstance(entry, dict) and entry.get("key") == key:
            return entry.get("value")
    return None


def _fallback_sku(item: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        if item.get(key):
            return f"{key.removesuffix('_id')}-{item[key]}"
    return ""


def _order_in(data: dict[str, Any]) -> OrderIn:
    try:
        return msgspec.convert(data, OrderIn)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"invalid order: {exc}") from exc
