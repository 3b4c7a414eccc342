"""When do we ask? Pure rules over plain values: no database, no clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class SendWindow:
    """Local hours in which we email people: [start, end)."""

    start: int = 9
    end: int = 18


#: A moment so far ahead that it never comes. Later moments are moved back to it, which leaves room below
#: `datetime.max` for local offsets and the send window, so date arithmetic near the year 9999 cannot overflow.
NEVER = datetime(9999, 1, 1, tzinfo=UTC)


def later(moment: datetime, delay: timedelta) -> datetime:
    """`moment + delay`, but never past NEVER."""
    try:
        return min(moment + delay, NEVER)
    except OverflowError:
        return NEVER


def delay_for(categories: Iterable[str], delays: Mapping[str, int], default_days: int) -> timedelta:
    """The longest delay among the order's categories: the slowest item decides when to ask."""
    days = [delays.get(c.strip().lower(), default_days) for c in categories] or [default_days]
    return timedelta(days=max(days))


def local_zone(customer_timezone: str, shop_timezone: str) -> ZoneInfo:
    return ZoneInfo(customer_timezone or shop_timezone or "UTC")


def into_window(moment: datetime, zone: ZoneInfo, window: SendWindow) -> datetime:
    """The first moment at or after `moment` that falls inside the local send window (NEVER stays NEVER)."""
    if moment >= NEVER:
        return NEVER
    local = moment.astimezone(zone)
    opens = datetime.combine(local.date(), time(window.start), tzinfo=zone)
    closes = datetime.combine(local.date(), time(window.end), tzinfo=zone)
    if local < opens:
        return opens
    if local >= closes:
        return datetime.combine(local.date() + timedelta(days=1), time(window.start), tzinfo=zone)
    return local


def first_ask_at(
    delivered_at: datetime,
    categories: Iterable[str],
    delays: Mapping[str, int],
    default_days: int,
    zone: ZoneInfo,
    window: SendWindow,
) -> datetime:
    """When the post-delivery invitation is due."""
    return into_window(later(delivered_at, delay_for(categories, delays, default_days)), zone, window)


@dataclass(frozen=True)
class Situation:
    """Everything the send decision looks at, as plain values."""

    now: datetime
    kind: str
    expires_at: datetime
    unsubscribed: bool
    returned: bool
    cancelled: bool
    complaint_open: bool
    recently_asked: bool
    zone: ZoneInfo
    window: SendWindow


@dataclass(frozen=True)
class Send:
    pass


@dataclass(frozen=True)
class Skip:
    reason: str


@dataclass(frozen=True)
class Wait:
    until: datetime
    reason: str


SendDecision = Send | Skip | Wait

#: How often an invitation held by an open complaint is looked at again.
HOLD_RECHECK = timedelta(hours=1)


def decide(s: Situation) -> SendDecision:
    """Send now, skip for good (with the reason), or wait until a later moment."""
    if s.unsubscribed:
        return Skip("unsubscribed")
    if s.cancelled:
        return Skip("cancelled")
    if s.returned:
        return Skip("returned")
    if s.now >= s.expires_at:
        return Skip("complaint_open" if s.complaint_open else "expired")
    if s.complaint_open:
        return Wait(into_window(later(s.now, HOLD_RECHECK), s.zone, s.window), "complaint_open")
    if s.kind == "order" and s.recently_asked:
        return Skip("fatigue")
    opens = into_window(s.now, s.zone, s.window)
    if opens > s.now:
        return Wait(opens, "outside_send_window")
    return Send()
