"""Summed counts per bucket (day, week, month, or whole periods) for one selection of feedback: from the rollup
when it holds the selection, otherwise from the feedback and invitations themselves, with the same sums."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from piccolo.query.functions.aggregate import Sum
from piccolo.querystring import QueryString

from feedback.dashboard.figures import MEASURES, Totals
from feedback.dashboard.periods import Period, buckets, day_start, utc_bounds
from feedback.dashboard.rollup import (
    FEEDBACK_FROM,
    INVITATION_FROM,
    INVITATION_STEPS,
    feedback_select,
    invitation_select,
)
from feedback.dashboard.segments import Segment, feedback_conditions, invitation_conditions, joined
from feedback.tables import DashboardDay, DashboardValue, FeedbackItem

BUCKET = QueryString("bucket")


def engine() -> str:
    return str(DashboardDay._meta.db.engine_type)


def grain_bucket(grain: str) -> QueryString:
    """The start of the day's week or month, as the rollup's `day` column gives it (weeks start on Monday)."""
    if grain == "day":
        return QueryString("day", alias="bucket")
    if engine() == "sqlite":
        expr = "date(day, 'weekday 0', '-6 days')" if grain == "week" else "strftime('%Y-%m-01', day)"
    else:
        expr = f"CAST(date_trunc('{grain}', day) AS date)"
    return QueryString(expr, alias="bucket")


def edges_bucket(column: str, edges: list[Any], alias: str = "bucket") -> QueryString:
    """The index of the bucket a value falls in, given where buckets 1, 2, … begin."""
    if not edges:
        return QueryString("0", alias=alias)
    whens = " ".join(f"WHEN {column} < {{}} THEN {n}" for n in range(len(edges)))
    return QueryString(f"CASE {whens} ELSE {len(edges)} END", *edges, alias=alias)


def rollup_where(segment: Segment, first: date, last: date) -> Any:
    key = segment.rollup
    assert key is not None
    where = (DashboardDay.segment == key[0]) & (DashboardDay.value == key[1])
    where &= (DashboardDay.day >= first) & (DashboardDay.day <= last)
    for name in ("kind", "channel", "language"):
        if getattr(segment, name):
            where &= getattr(DashboardDay, name) == getattr(segment, name)
    return where


async def _from_rollup(
    segment: Segment, first: date, last: date, bucket: QueryString, measures: tuple[str, ...] = MEASURES
) -> dict[Any, Totals]:
    sums = [Sum(getattr(DashboardDay, name), alias=name) for name in measures]
    rows = await DashboardDay.select(bucket, *sums).where(rollup_where(segment, first, last)).group_by(BUCKET)
    return {row["bucket"]: Totals.from_row(row) for row in rows}


async def _from_facts(segment: Segment, lo: datetime, hi: datetime, edges: list[datetime]) -> dict[int, Totals]:
    """The same sums straight from the feedback (and invitations), bucketed by the UTC instants in `edges`: the
    feedback by when it was given, each step of the funnel by when it happened."""
    found: dict[int, Totals] = {}
    queries = [(FEEDBACK_FROM, "f.created_at", feedback_select(), feedback_conditions(segment, engine()))]
    if segment.funnel_applies:
        for step in INVITATION_STEPS:
            queries.append((INVITATION_FROM, f"i.{step}", invitation_select(step), invitation_conditions(segment)))
    for source, moment, select, conditions in queries:
        where = joined([QueryString(f"{moment} >= {{}} AND {moment} < {{}}", lo, hi), *conditions])
        rows = await FeedbackItem.raw(
            f"SELECT {{}} AS bucket, {select} FROM {source} WHERE {{}} GROUP BY 1",
            edges_bucket(moment, edges),
            where,
        )
        for row in rows:
            index = int(row["bucket"])
            found[index] = found.get(index, Totals()) + Totals.from_row(row)
    return found


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def totals_by_bucket(
    segment: Segment, period: Period, grain: str, timezone: str, measures: tuple[str, ...] = MEASURES
) -> dict[date, Totals]:
    """Totals per day, week or month of the period, keyed by the bucket's start; empty buckets are absent. From
    the rollup, only `measures` are summed (the others stay 0)."""
    cut = buckets(period, grain)
    if segment.rollup is not None:
        rows = await _from_rollup(segment, period.start, period.end, grain_bucket(grain), measures)
        return {_as_date(key): totals for key, totals in rows.items()}
    lo, hi = utc_bounds(period, timezone)
    edges = [day_start(b.first, timezone) for b in cut[1:]]
    facts = await _from_facts(segment, lo, hi, edges)
    return {cut[index].start: totals for index, totals in facts.items()}


async def totals_of_periods(segment: Segment, periods: list[Period], timezone: str) -> list[Totals]:
    """Totals of each of these consecutive periods (oldest first), in one query per source."""
    first, last = periods[0].start, periods[-1].end
    if segment.rollup is not None:
        edges: list[Any] = [p.start for p in periods[1:]]
        found: dict[Any, Totals] = await _from_rollup(segment, first, last, edges_bucket("day", edges))
    else:
        lo, hi = utc_bounds(Period(first, last), timezone)
        found = await _from_facts(segment, lo, hi, [day_start(p.start, timezone) for p in periods[1:]])
    return [found.get(n, Totals()) for n in range(len(periods))]


async def choices() -> dict[str, list[str]]:
    """The channels, languages and categories the rollup has seen, for the filter menus."""
    found: dict[str, list[str]] = {"channel": [], "language": [], "category": []}
    for row in await DashboardValue.select(DashboardValue.field, DashboardValue.value).order_by(DashboardValue.value):
        found.setdefault(row["field"], []).append(row["value"])
    return found
