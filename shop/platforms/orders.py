"""What a platform's order webhook asks of us, in our terms, and the reading rules both platforms share.
Pure: no database, no clock (`now` is passed in)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn

import msgspec

from afterglow.bodies import UnreadableBody, read_json
from shop.policy import ImplausibleDate, check_date
from shop.schemas import EMAIL_RE, LOCALE_RE, EventIn, OrderIn

#: The mandatory privacy topics of Shopify apps: answered by the operations layer, which holds export and erasure.
SHOPIFY_PRIVACY_TOPICS = frozenset({"customers/data_request", "customers/redact", "shop/redact"})


class PayloadError(ValueError):
    """The webhook body is not what its topic promises; the message names the field."""


@dataclass(frozen=True)
class RefundedLine:
    """Part of a refund: this many of the line known by `key` (see `line_key`)."""

    key: tuple[str, str, str]
    quantity: int


@dataclass(frozen=True)
class Refund:
    """Lines the shop refunded (all of them when `everything`), dated by the (latest) refund."""

    at: datetime
    lines: tuple[RefundedLine, ...] = ()
    everything: bool = False


@dataclass(frozen=True)
class Change:
    """What one webhook asks of us: store an order, record events and a refund on it. `withdraw_cancellation`
    undoes a cancellation that a deletion recorded (WooCommerce restores orders from its bin)."""

    external_id: str
    order: OrderIn | None = None
    events: tuple[EventIn, ...] = ()
    refund: Refund | None = None
    withdraw_cancellation: bool = False

    def summary(self) -> dict[str, Any]:
        """What the receipt of this delivery keeps: ids and kinds, nothing about the customer."""
        kinds = [event.type for event in self.events] + (["refund"] if self.refund else [])
        return {"order": self.external_id, "event": ",".join(kinds)}


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


def clean_name(value: Any, entities: bool = False) -> str:
    """A name as people read it: trimmed, inner runs of white space made one space; HTML entities decoded when
    the platform escapes them (WooCommerce's `&ndash;`)."""
    text = value if isinstance(value, str) else ""
    return " ".join((html.unescape(text) if entities else text).split())


def usable_email(*candidates: Any) -> str:
    """The first candidate that is an email address, lower case; "" when none is (no email means never asked)."""
    for candidate in candidates:
        email = candidate.strip().lower() if isinstance(candidate, str) else ""
        if email and len(email) <= 320 and EMAIL_RE.match(email):
            return email
    return ""


def ref(value: Any) -> str:
    """A platform id as text; "" for none (null, 0, "")."""
    return str(value) if value not in (None, "", 0, "0") else ""


def line_key(sku: str, product_ref: str, variant_ref: str) -> tuple[str, str, str]:
    """How a refund finds the stored line it refunds: its SKU and the platform's product and variant ids."""
    return (sku, product_ref, variant_ref)


def merge_items(items: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Identical lines (same SKU, product, variant and price) as one line with the quantities summed."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for item in items:
        key = (item["sku"], item["product_ref"], item["variant_ref"], item["price"])
        if key in merged:
            merged[key]["quantity"] += item["quantity"]
        else:
            merged[key] = dict(item)
    return list(merged.values())


def refunded_lines(quantities: Mapping[tuple[str, str, str], int]) -> tuple[RefundedLine, ...]:
    return tuple(RefundedLine(key, quantity) for key, quantity in quantities.items() if quantity > 0)


def refunded_item_ids(items: Iterable[Mapping[str, Any]], refund: Refund) -> list[int]:
    """The stored lines (`id`, `sku`, `product_ref`, `variant_ref`, `quantity`) this refund gives back: all of
    them for a refund of everything, else those whose whole quantity is refunded (a customer who sent back one
    of two cups still has one to review)."""
    rows = list(items)
    if refund.everything:
        return [row["id"] for row in rows]
    refunded: dict[tuple[str, str, str], int] = {}
    for line in refund.lines:
        refunded[line.key] = refunded.get(line.key, 0) + line.quantity
    ordered: dict[tuple[str, str, str], int] = {}
    for row in rows:
        key = line_key(row["sku"], row["product_ref"], row["variant_ref"])
        ordered[key] = ordered.get(key, 0) + row["quantity"]
    return [
        row["id"]
        for row in rows
        if refunded.get(key := line_key(row["sku"], row["product_ref"], row["variant_ref"]), 0) >= ordered[key]
    ]


def order_in(data: dict[str, Any]) -> OrderIn:
    try:
        return msgspec.convert(data, OrderIn)
    except msgspec.ValidationError as exc:
        raise PayloadError(f"invalid order: {exc}") from exc


def required(obj: Mapping[str, Any], key: str, parent: str = "") -> Any:
    value = obj.get(key)
    if value is None or value == "":
        missing(f"{parent}.{key}" if parent else key)
    return value


def missing(path: str) -> NoReturn:
    raise PayloadError(f"`{path}` is missing")


def as_object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def objects(value: Any) -> list[Mapping[str, Any]]:
    """The objects of a list (anything else in it, or a value that is no list, is left out)."""
    return [entry for entry in value if isinstance(entry, dict)] if isinstance(value, list) else []


def line_items(obj: Mapping[str, Any], key: str = "line_items") -> list[Mapping[str, Any]]:
    value = obj.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        raise PayloadError(f"`{key}` must be a non-empty list of objects")
    return value


def money(value: Any, path: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise PayloadError(f"`{path}` is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise PayloadError(f"`{path}` is not an amount: {value!r}")
    return amount


def quantity(value: Any, path: str) -> int:
    """A line's quantity as a whole number (WooCommerce refunds count negative: the size is what counts)."""
    try:
        return abs(int(value))
    except (TypeError, ValueError):
        raise PayloadError(f"`{path}` is not a quantity: {value!r}") from None


def time(value: Any, path: str, now: datetime | None) -> datetime:
    """A plausible ISO-8601 time; a naive one (WooCommerce's `_gmt` fields) is UTC."""
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise PayloadError(f"`{path}` is not an ISO-8601 time: {value!r}") from None
    try:
        return check_date(path, at if at.tzinfo else at.replace(tzinfo=UTC), now or datetime.now(UTC))
    except ImplausibleDate as exc:
        raise PayloadError(exc.message) from None


def locale(value: Any) -> str:
    return value if isinstance(value, str) and LOCALE_RE.match(value) and len(value) <= 16 else "en"


def fallback_sku(item: Mapping[str, Any], *keys: str) -> str:
    """A stand-in SKU from the first id the line has (`variant-<id>`, `product-<id>`, `line-<id>` for a custom
    line): products without a SKU are common, and the id still names what was bought."""
    for key in keys:
        if ref(item.get(key)):
            return f"{'line' if key == 'id' else key.removesuffix('_id')}-{item[key]}"
    return ""
