"""Every dashboard figure of a period and a selection, counted straight from the source rows (responses and their
invitations and orders, reviews, suggestions, feedback items for labels, inbox items, replies) with SQL written
here from the definitions the page states, on SQLite and PostgreSQL alike; none of the dashboard's code is used.

A selection is a dict of channel, category, product (a SKU) and team (an id). A survey's categories and products
are those of its order's items, and only order surveys have them; a review's are its own."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.querystring import QueryString

from feedback.tables import FeedbackItem

Selection = dict[str, Any]
BERLIN = ZoneInfo("Europe/Berlin")
STEPS = {"planned": "created_at", "sent": "sent_at", "opened": "opened_at", "answered": "answered_at"}


def bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Midnight in Berlin before `first` and after `last`, as UTC instants."""
    after = last + timedelta(days=1)
    return (
        datetime(first.year, first.month, first.day, tzinfo=BERLIN).astimezone(UTC),
        datetime(after.year, after.month, after.day, tzinfo=BERLIN).astimezone(UTC),
    )


def _all(parts: list[QueryString]) -> QueryString:
    return QueryString(" AND ".join("({})" for _ in parts), *parts) if parts else QueryString("1 = 1")


def _has_item(column: str, value: str) -> QueryString:
    found = f'SELECT 1 FROM order_item AS oi WHERE oi."order" = o.id AND oi.{column} = {{}}'
    return QueryString(f"i.kind = 'order' AND EXISTS ({found})", value)


def _routed(source: str, source_id: str, team: int) -> QueryString:
    return QueryString(
        "EXISTS (SELECT 1 FROM feedback_item AS f2 JOIN inbox_item AS t2 ON t2.feedback = f2.id "
        f"WHERE f2.source = '{source}' AND f2.source_id = {source_id} AND t2.team = {{}})",
        team,
    )


def invitation_where(sel: Selection) -> QueryString:
    """On `invitation AS i JOIN "order" AS o`."""
    parts = [QueryString("o.channel = {}", sel["channel"])] if "channel" in sel else []
    parts += [_has_item("category", sel["category"])] if "category" in sel else []
    parts += [_has_item("sku", sel["product"])] if "product" in sel else []
    return _all(parts)


def response_where(sel: Selection) -> QueryString:
    """On `response AS r` with its invitation `i` and order `o`."""
    parts = [invitation_where(sel)]
    return _all(parts + [_routed("survey", "r.id", sel["team"])] if "team" in sel else parts)


def review_where(sel: Selection) -> QueryString:
    """On `review AS rv` with its order `o` (none for an imported review)."""
    parts = [QueryString("o.channel = {}", sel["channel"])] if "channel" in sel else []
    parts += [QueryString("rv.category = {}", sel["category"])] if "category" in sel else []
    parts += [QueryString("rv.sku = {}", sel["product"])] if "product" in sel else []
    parts += [_routed("review", "rv.id", sel["team"])] if "team" in sel else []
    return _all(parts)


def suggestion_where(sel: Selection) -> QueryString:
    """On `suggestion AS s`: the suggestion box is its channel; it has no category or product."""
    parts = [QueryString("'suggestion box' = {}", sel["channel"])] if "channel" in sel else []
    parts += [QueryString("1 = 0")] if "category" in sel or "product" in sel else []
    parts += [_routed("suggestion", "s.id", sel["team"])] if "team" in sel else []
    return _all(parts)


RESPONSES = 'response AS r JOIN invitation AS i ON i.id = r.invitation JOIN "order" AS o ON o.id = i."order"'
REVIEWS = (
    'review AS rv LEFT JOIN order_item AS roi ON roi.id = rv.order_item LEFT JOIN "order" AS o ON o.id = roi."order"'
)


def item_where(sel: Selection) -> QueryString:
    """On `feedback_item AS f`: the item's source row is in the selection."""
    return QueryString(
        f"(f.source = 'survey' AND EXISTS (SELECT 1 FROM {RESPONSES} WHERE r.id = f.source_id AND {{}})) "
        f"OR (f.source = 'review' AND EXISTS (SELECT 1 FROM {REVIEWS} WHERE rv.id = f.source_id AND {{}})) "
        "OR (f.source = 'suggestion' AND EXISTS (SELECT 1 FROM suggestion AS s WHERE s.id = f.source_id AND {}))",
        response_where(sel),
        review_where(sel),
        suggestion_where(sel),
    )


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A query on a connection of its own: the app under test may hold a pool on another event loop."""
    return await FeedbackItem.raw(sql, *args).run(in_pool=False)


async def _one(sql: str, *args: Any) -> dict[str, int]:
    row = (await raw(sql, *args))[0]
    return {name: int(value or 0) for name, value in row.items()}


@dataclass(frozen=True)
class Truth:
    counts: dict[str, int]
    close_hours: list[float]

    def __getattr__(self, name: str) -> int:
        try:
            return self.counts[name]
        except KeyError:
            raise AttributeError(name) from None

    @staticmethod
    def pct(part: int, whole: int) -> float | None:
        return 100 * part / whole if whole else None

    @property
    def nps(self) -> float | None:
        return 100 * (self.promoters - self.detractors) / self.nps_n if self.nps_n else None

    @property
    def nps_band(self) -> tuple[float, float] | None:
        """Adjusted Wald (Rocks 2016): one more promoter, passive and detractor; 95%; within −100…100."""
        if not self.nps_n:
            return None
        n = self.nps_n + 3
        p, d = (self.promoters + 1) / n, (self.detractors + 1) / n
        half = 1.96 * math.sqrt((p + d - (p - d) ** 2) / n)
        return max(-100.0, 100 * (p - d - half)), min(100.0, 100 * (p - d + half))

    @property
    def labelled(self) -> int:
        return self.positive + self.neutral + self.negative + self.mixed

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.rating_n if self.rating_n else None

    @property
    def median_close(self) -> float | None:
        return statistics.median(self.close_hours) if self.close_hours else None


async def truth(sel: Selection, first: date, last: date, now: datetime) -> Truth:
    lo, hi = bounds(first, last)
    counts = await _one(
        "SELECT SUM(CASE WHEN i.kind = 'order' AND r.nps IS NOT NULL THEN 1 ELSE 0 END) AS nps_n, "
        "SUM(CASE WHEN i.kind = 'order' AND r.nps >= 9 THEN 1 ELSE 0 END) AS promoters, "
        "SUM(CASE WHEN i.kind = 'order' AND r.nps <= 6 THEN 1 ELSE 0 END) AS detractors, "
        "SUM(CASE WHEN i.kind = 'order' AND r.csat IS NOT NULL THEN 1 ELSE 0 END) AS csat_n, "
        "SUM(CASE WHEN i.kind = 'order' AND r.csat >= 4 THEN 1 ELSE 0 END) AS csat_ok, "
        "SUM(CASE WHEN i.kind = 'support' AND r.csat IS NOT NULL THEN 1 ELSE 0 END) AS support_n, "
        "SUM(CASE WHEN i.kind = 'support' AND r.csat >= 4 THEN 1 ELSE 0 END) AS support_ok "
        f"FROM {RESPONSES} WHERE r.created_at >= {{}} AND r.created_at < {{}} AND {{}}",
        lo,
        hi,
        response_where(sel),
    )
    counts |= await _one(
        f"SELECT COUNT(*) AS rating_n, SUM(rv.rating) AS rating_sum FROM {REVIEWS} "
        "WHERE rv.status = 'published' AND rv.created_at >= {} AND rv.created_at < {} AND {}",
        lo,
        hi,
        review_where(sel),
    )
    names = ("positive", "neutral", "negative", "mixed")
    labels = ", ".join(f"SUM(CASE WHEN f.label = '{x}' THEN 1 ELSE 0 END) AS {x}" for x in names)
    counts |= await _one(
        f"SELECT COUNT(*) AS items, {labels} FROM feedback_item AS f "
        "WHERE f.created_at >= {} AND f.created_at < {} AND ({})",
        lo,
        hi,
        item_where(sel),
    )
    counts |= await _one(
        "SELECT COUNT(*) AS sent, COUNT(i.opened_at) AS sent_opened, COUNT(i.answered_at) AS sent_answered "
        'FROM invitation AS i JOIN "order" AS o ON o.id = i."order" '
        "WHERE i.sent_at >= {} AND i.sent_at < {} AND {}",
        lo,
        hi,
        invitation_where(sel),
    )
    team = QueryString("t.team = {}", sel["team"]) if "team" in sel else QueryString("1 = 1")
    counts |= await _one(
        "SELECT COUNT(*) AS open, SUM(CASE WHEN t.due_at < {} AND t.responded_at IS NULL THEN 1 ELSE 0 END) AS overdue "
        "FROM inbox_item AS t JOIN feedback_item AS f ON f.id = t.feedback "
        "WHERE t.status IN ('new', 'in_progress') AND ({}) AND {}",
        now,
        item_where(sel),
        team,
    )
    replies = await raw(
        "SELECT f.created_at AS given, f.first_reply_at AS replied FROM feedback_item AS f "
        "WHERE f.first_reply_at >= {} AND f.first_reply_at < {} AND ({})",
        lo,
        hi,
        item_where(sel),
    )
    hours = [(_moment(r["replied"]) - _moment(r["given"])).total_seconds() / 3600 for r in replies]
    return Truth(counts, hours)


async def funnel_by_day(sel: Selection, first: date, last: date) -> dict[date, dict[str, int]]:
    """Each day's invitations planned, sent, opened and answered (each step on its own day)."""
    found = {}
    day = first
    while day <= last:
        lo, hi = bounds(day, day)
        steps = ", ".join(
            f"SUM(CASE WHEN i.{column} >= {{}} AND i.{column} < {{}} THEN 1 ELSE 0 END) AS {name}"
            for name, column in STEPS.items()
        )
        found[day] = await _one(
            f'SELECT {steps} FROM invitation AS i JOIN "order" AS o ON o.id = i."order" WHERE {{}}',
            *[lo, hi] * len(STEPS),
            invitation_where(sel),
        )
        day += timedelta(days=1)
    return found


def _moment(value: Any) -> datetime:
    """A timestamp as a driver returns it (text on SQLite when it cannot tell the type)."""
    if isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
