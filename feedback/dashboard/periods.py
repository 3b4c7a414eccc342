"""Periods and their buckets (day, week, month) in the shop's time zone: pure functions of dates.

A period is a run of whole local days, both ends included. Weeks start on Monday. A bucket at either end of a
period may be cut short by it (`partial`); its figures then count only the days inside the period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

GRAINS = ("day", "week", "month")
#: The periods offered on the page, in days ending today.
PRESETS = {"7d": 7, "28d": 28, "90d": 90, "365d": 365}
DEFAULT_PRESET = "90d"
#: More points than this make a chart unreadable (and a request slow): choose a coarser grain.
MAX_BUCKETS = 400
MAX_DAYS = 3 * 366
#: Dates a period may use: its previous period and the UTC bounds of its days stay within what `date` can hold.
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)


class InvalidPeriod(ValueError):
    """A period or grain the dashboard cannot show; the message says why."""


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True)
class Bucket:
    start: date  # where the day, week or month begins (may be before the period)
    first: date  # its first day inside the period
    last: date  # its last day inside the period
    partial: bool

    @property
    def period(self) -> Period:
        return Period(self.first, self.last)


def shop_day(moment: datetime, timezone: str) -> date:
    """The shop's calendar date at this moment."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def day_start(day: date, timezone: str) -> datetime:
    """Midnight at the start of a local day, in UTC (DST-aware)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def utc_bounds(period: Period, timezone: str) -> tuple[datetime, datetime]:
    """The period as a half-open UTC interval [from, to) for comparing timestamps."""
    return day_start(period.start, timezone), day_start(period.end + timedelta(days=1), timezone)


def last_days(today: date, days: int) -> Period:
    return Period(today - timedelta(days=days - 1), today)


def bucket_start(day: date, grain: str) -> date:
    if grain == "week":
        return day - timedelta(days=day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day


def _next_start(start: date, grain: str) -> date:
    if grain == "week":
        return start + timedelta(days=7)
    if grain == "month":
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def buckets(period: Period, grain: str) -> list[Bucket]:
    """The days, weeks or months that cover the period, in order, cut to it."""
    found = []
    start = bucket_start(period.start, grain)
    while start <= period.end:
        following = _next_start(start, grain)
        first, last = max(start, period.start), min(following - timedelta(days=1), period.end)
        found.append(Bucket(start, first, last, partial=(first, last) != (start, following - timedelta(days=1))))
        start = following
    return found


def choose_period(today: date, preset: str = "", start: str = "", end: str = "") -> tuple[str, Period]:
    """The period a request asks for: a preset (days up to today) or from–to dates (from alone: up to today).
    InvalidPeriod if neither makes sense. Returns the preset name ("custom" for dates) with the period."""
    if start or end:
        if not start:
            raise InvalidPeriod("Give the first day of the period (from).")
        try:
            first, last = date.fromisoformat(start), date.fromisoformat(end) if end else today
        except ValueError:
            raise InvalidPeriod("Dates must look like 2026-03-31.") from None
        if not FIRST_DAY <= first <= LAST_DAY or not FIRST_DAY <= last <= LAST_DAY:
            raise InvalidPeriod(f"Dates must lie between {FIRST_DAY} and {LAST_DAY}.")
        if last < first:
            raise InvalidPeriod("The period ends before it starts.")
        if (last - first).days + 1 > MAX_DAYS:
            raise InvalidPeriod(f"A period can span at most {MAX_DAYS} days.")
        return "custom", Period(first, last)
    preset = preset or DEFAULT_PRESET
    if preset not in PRESETS:
        raise InvalidPeriod(f"Unknown period {preset!r}; choose one of {', '.join(PRESETS)}.")
    return preset, last_days(today, PRESETS[preset])


def check_grain(period: Period, grain: str) -> str:
    """The grain, if the period has few enough of its buckets to draw."""
    if grain not in GRAINS:
        raise InvalidPeriod(f"Unknown grain {grain!r}; choose day, week or month.")
    if len(buckets(period, grain)) > MAX_BUCKETS:
        raise InvalidPeriod(f"That is more than {MAX_BUCKETS} {grain}s: choose a longer grain or a shorter period.")
    return grain
