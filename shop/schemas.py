"""Input and output shapes of the ingest API (validated by msgspec; errors name the field)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import msgspec
from msgspec import Meta

EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")

AwareDatetime = Annotated[datetime, Meta(tz=True)]
ShortText = Annotated[str, Meta(max_length=300)]
Money = Decimal
MONEY_MAX = Decimal("9999999999.99")


def _money_problem(name: str, value: Decimal) -> str | None:
    if not value.is_finite() or not Decimal(0) <= value <= MONEY_MAX:
        return f"`{name}` must be an amount between 0 and {MONEY_MAX}"
    return None


def _email_problem(value: str) -> str | None:
    return None if EMAIL_RE.match(value.strip().lower()) else "`email` is not an email address"


def _locale_problem(value: str) -> str | None:
    return None if LOCALE_RE.match(value) else "`locale` must look like `en` or `de-AT`"


def _timezone_problem(value: str) -> str | None:
    return None if not value or valid_timezone(value) else "`timezone` must be an IANA name such as `Europe/Berlin`"


EventType = Literal[
    "delivered",
    "returned",
    "cancelled",
    "complaint_opened",
    "complaint_closed",
    "support_resolved",
]


def valid_timezone(name: str) -> bool:
    if name not in _TIMEZONES:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_TIMEZONES = available_timezones()


def _check(struct: Any) -> None:
    """Raise the first of the struct's CHECKS that fails (msgspec reports it as a validation error)."""
    for name, check in struct.CHECKS.items():
        if problem := check(getattr(struct, name)):
            raise ValueError(problem)


class CustomerIn(msgspec.Struct, forbid_unknown_fields=False):
    email: Annotated[str, Meta(min_length=3, max_length=320)]
    name: Annotated[str, Meta(max_length=200)] = ""
    locale: Annotated[str, Meta(max_length=16)] = "en"
    timezone: Annotated[str, Meta(max_length=64)] = ""

    #: Checks past the field's type, per field (also run one by one to name every invalid field: shop.validation).
    CHECKS: ClassVar[dict[str, Callable[[Any], str | None]]] = {
        "email": _email_problem,
        "locale": _locale_problem,
        "timezone": _timezone_problem,
    }

    def __post_init__(self) -> None:
        self.email = self.email.strip().lower()
        _check(self)


class ItemIn(msgspec.Struct):
    sku: Annotated[str, Meta(min_length=1, max_length=128)]
    name: Annotated[str, Meta(min_length=1, max_length=300)]
    price: Money
    category: Annotated[str, Meta(max_length=100)] = ""
    quantity: Annotated[int, Meta(ge=1, le=100_000)] = 1
    #: The platform's product and variant ids, when the order came from one.
    product_ref: Annotated[str, Meta(max_length=64)] = ""
    variant_ref: Annotated[str, Meta(max_length=64)] = ""

    CHECKS: ClassVar[dict[str, Callable[[Any], str | None]]] = {"price": lambda v: _money_problem("price", v)}

    def __post_init__(self) -> None:
        _check(self)


class OrderIn(msgspec.Struct):
    external_id: Annotated[str, Meta(min_length=1, max_length=128)]
    placed_at: AwareDatetime
    total: Money
    #: null when the shop has no email for the order: it is stored and never asked about (`not_asked: no_email`).
    customer: CustomerIn | None
    items: Annotated[list[ItemIn], Meta(min_length=1, max_length=500)]
    channel: Annotated[str, Meta(min_length=1, max_length=64)] = "web"
    currency: Annotated[str, Meta(pattern="^[A-Z]{3}$")] = "EUR"

    CHECKS: ClassVar[dict[str, Callable[[Any], str | None]]] = {"total": lambda v: _money_problem("total", v)}

    def __post_init__(self) -> None:
        _check(self)


class EventIn(msgspec.Struct):
    type: EventType
    at: AwareDatetime
    agent: Annotated[str, Meta(max_length=200)] = ""


class ItemOut(msgspec.Struct):
    sku: str
    name: str
    category: str
    quantity: int
    price: Decimal
    product_ref: str = ""
    variant_ref: str = ""
    #: When the shop refunded this line; a refunded line is not offered for review.
    returned_at: datetime | None = None


class CustomerOut(msgspec.Struct):
    email: str
    name: str
    locale: str
    timezone: str


class OrderOut(msgspec.Struct):
    id: int
    external_id: str
    channel: str
    placed_at: datetime
    currency: str
    total: Decimal
    customer: CustomerOut | None
    items: list[ItemOut]
    delivered_at: datetime | None
    returned_at: datetime | None
    cancelled_at: datetime | None
    complaint_open: bool
    #: Why the order is never asked about: "no_email" (the shop sent none), "refunded" (every line refunded);
    #: "" when it may be.
    not_asked: str = ""


class EventAccepted(msgspec.Struct):
    order: str
    type: str
    at: datetime
    status: str = "accepted"
