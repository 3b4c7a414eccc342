"""Which dates from a shop can be true. Pure rules over plain values: no database, no clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from afterglow.errors import FieldError

#: Earlier dates are typos or placeholders (`0001-01-01`), not orders.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
#: How far ahead of our clock a shop's date may be: clocks drift and time zones get mixed up, a day covers both.
AHEAD = timedelta(days=1)


class ImplausibleDate(FieldError):
    """A shop sent a date that cannot be true; `message` names the field."""


def check_date(field: str, at: datetime, now: datetime) -> datetime:
    """`at` itself, or ImplausibleDate naming `field` when it is before 2000 or more than a day after `now`."""
    if at < EARLIEST:
        raise ImplausibleDate(field, f"`{field}` is before {EARLIEST.date().isoformat()}: {at.isoformat()}")
    if at > now + AHEAD:
        raise ImplausibleDate(field, f"`{field}` is more than a day in the future: {at.isoformat()}")
    return at
