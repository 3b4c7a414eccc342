"""Feedback against retention: what customers did in the 12 months after they answered, by NPS group and by CSAT
score (order surveys, as CSAT is everywhere on the dashboard), and the shop's customer retention rate per month.

- After an answer: the orders the same customer placed later (not cancelled) within 365 days, up to now. Each
  answer in the period is one observation; answers younger than a year are followed up to today, and the page
  says how many had their full year.
- Retention rate of a month = (customers at its end − new customers in it) / customers at its start, where a
  customer "is a customer" at a moment when they ordered in the 365 days before it, and is new in the month of
  their first order ever. Months follow the shop's time zone.

Both are read from the rollup (feedback.dashboard.retention_rollup), which counts every order of the year after
an answer; the facts are read directly when the rollup cannot say: a filter it does not hold (a product, or a
category and a team), or an order placed at or after `now` (which today's figures must not count yet)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from piccolo.querystring import QueryString

from afterglow.kinds import NPS_GROUPS
from feedback.dashboard.definitions import ORDER_CSAT
from feedback.dashboard.periods import Period, buckets, day_start, shop_day, utc_bounds
from feedback.dashboard.retention_rollup import ANSWERED, YEAR, as_datetime, nps_group, within_year
from feedback.dashboard.segments import Segment, feedback_conditions, joined
from feedback.tables import DashboardCustomerDay, DashboardRetentionDay, DashboardSpell, FeedbackItem

MAX_MONTHS = 24


@dataclass(frozen=True)
class Group:
    name: str
    answers: int
    returned: int  # answers followed by at least one order
    orders: int
    revenue: Decimal
    full_year: int  # answers a whole year old

    @property
    def repeat_rate(self) -> float | None:
        return 100 * self.returned / self.answers if self.answers else None

    @property
    def orders_per_customer(self) -> float | None:
        return self.orders / self.answers if self.answers else None

    @property
    def revenue_per_customer(self) -> Decimal | None:
        return (self.revenue / self.answers).quantize(Decimal("0.01")) if self.answers else None


@dataclass(frozen=True)
class Month:
    start: date
    at_start: int
    at_end: int
    new: int

    @property
    def rate(self) -> float | None:
        """(customers at the end − new customers) / customers at the start, in %."""
        return 100 * (self.at_end - self.new) / self.at_start if self.at_start else None


@dataclass(frozen=True)
class Retention:
    by_nps: list[Group]
    by_csat: list[Group]
    months: list[Month]

    @property
    def promoter_multiple(self) -> float | None:
        """How many times as often promoters came back as detractors did."""
        groups = {g.name: g for g in self.by_nps}
        promoters, detractors = groups["promoters"].repeat_rate, groups["detractors"].repeat_rate
        return promoters / detractors if promoters is not None and detractors else None


#: One group of answers: how many, how many ordered again, their orders, revenue and full years.
_GROUP_SUMS = (
    "COUNT(*) AS answers, SUM(CASE WHEN orders > 0 THEN 1 ELSE 0 END) AS returned, SUM(orders) AS orders, "
    "SUM(revenue) AS revenue, SUM(full_year) AS full_year"
)


async def groups_from_facts(
    segment: Segment, period: Period, now: datetime, timezone: str
) -> dict[tuple[str, str], Group]:
    """Answers of the period by NPS class and by CSAT score, with the orders that followed each, in one pass
    over the answers and their customers' later orders."""
    lo, hi = utc_bounds(period, timezone)
    where = joined(
        [
            QueryString(ANSWERED),
            QueryString("f.created_at >= {} AND f.created_at < {}", lo, hi),
            *feedback_conditions(segment, _engine()),
        ]
    )
    rows = await FeedbackItem.raw(
        "WITH answered AS ("
        # CSAT as everywhere on the dashboard: order surveys' (feedback.dashboard.definitions)
        f"SELECT f.id, f.nps, CASE WHEN {ORDER_CSAT} THEN f.csat END AS csat, COUNT(o.id) AS orders, "
        "COALESCE(SUM(o.total), 0) AS revenue, "
        "CASE WHEN f.created_at <= {} THEN 1 ELSE 0 END AS full_year "
        'FROM feedback_item AS f LEFT JOIN "order" AS o ON o.customer = f.customer '
        f"AND {within_year()} AND o.placed_at <= {{}} AND o.cancelled_at IS NULL "
        "WHERE {} GROUP BY f.id, f.nps, f.kind, f.csat, 6) "
        f"SELECT 'nps' AS score, {nps_group('nps')} AS grp, {_GROUP_SUMS} FROM answered WHERE nps IS NOT NULL "
        "GROUP BY 2 "
        f"UNION ALL SELECT 'csat', CAST(csat AS TEXT), {_GROUP_SUMS} FROM answered WHERE csat IS NOT NULL GROUP BY 2",
        now - YEAR,
        now,
        where,
    )
    return {
        (str(row["score"]), str(row["grp"])): Group(
            name=str(row["grp"]),
            answers=int(row["answers"]),
            returned=int(row["returned"] or 0),
            orders=int(row["orders"] or 0),
            revenue=Decimal(str(row["revenue"] or 0)),
            full_year=int(row["full_year"] or 0),
        )
        for row in rows
    }


def _empty(name: str) -> Group:
    return Group(name, 0, 0, 0, Decimal(0), 0)


async def months_from_facts(period: Period, now: datetime, timezone: str) -> list[Month]:
    """The retention rate of each month the period touches (at most the last MAX_MONTHS), in one pass over the
    orders: per customer, their first order and whether they ordered in the year before each month boundary."""
    starts, days = _month_bounds(period)
    if not starts:
        return []
    bounds = [day_start(day, timezone) for day in days]
    # ordered in the year before each bound (a bound in the future counts up to now)
    ordered = "MAX(CASE WHEN o.placed_at >= {} AND o.placed_at < {} THEN 1 ELSE 0 END)"
    actives = ", ".join(f"{ordered} AS a{n}" for n in range(len(bounds)))
    active_args = [moment for bound in bounds for moment in (min(bound, now) - YEAR, min(bound, now))]
    # first order ever inside each month
    began = "SUM(CASE WHEN first_order >= {} AND first_order < {} THEN 1 ELSE 0 END)"
    firsts = ", ".join(f"{began} AS n{n}" for n in range(len(starts)))
    first_args = [moment for n in range(len(starts)) for moment in (bounds[n], bounds[n + 1])]
    sums = ", ".join(f"SUM(a{n}) AS s{n}" for n in range(len(bounds)))
    rows = await FeedbackItem.raw(
        f"SELECT {sums}, {firsts} FROM (SELECT o.customer, MIN(o.placed_at) AS first_order, {actives} "
        'FROM "order" AS o WHERE o.cancelled_at IS NULL AND o.customer IS NOT NULL AND o.placed_at < {} '
        "GROUP BY o.customer) AS customers",
        *first_args,
        *active_args,
        now,
    )
    row = rows[0]
    return [
        Month(start, int(row[f"s{n}"] or 0), int(row[f"s{n + 1}"] or 0), int(row[f"n{n}"] or 0))
        for n, start in enumerate(starts)
        if day_start(start, timezone) < now
    ]


def _engine() -> str:
    return str(DashboardRetentionDay._meta.db.engine_type)


async def _groups_from_rollup(
    segment: Segment, period: Period, now: datetime, timezone: str
) -> dict[tuple[str, str], Group]:
    """The same groups summed from the rollup. An answer has had its full year when given at or before a year
    ago: every day before that one's, and on that day those given by then (from the facts, a day's answers)."""
    key = segment.rollup
    assert key is not None
    boundary = shop_day(now - YEAR, timezone)
    conditions = [
        QueryString("segment = {} AND value = {}", *key),
        QueryString("day >= {} AND day <= {}", period.start, period.end),
        *(QueryString(f"{name} = {{}}", getattr(segment, name)) for name in ("kind", "channel", "language")
          if getattr(segment, name)),
    ]  # fmt: skip
    rows, edge = await asyncio.gather(
        DashboardRetentionDay.raw(
            "SELECT score, grp, SUM(answers) AS answers, SUM(returned) AS returned, SUM(orders) AS orders, "
            "SUM(revenue_cents) AS cents, SUM(CASE WHEN day < {} THEN answers ELSE 0 END) AS full_year "
            "FROM dashboard_retention_day WHERE {} GROUP BY score, grp",
            boundary,
            joined(conditions),
        ),
        _full_year_on(segment, boundary, now, timezone) if boundary in period else _nothing(),
    )
    found = {}
    for row in rows:
        key = (str(row["score"]), str(row["grp"]))
        found[key] = Group(
            name=key[1],
            answers=int(row["answers"] or 0),
            returned=int(row["returned"] or 0),
            orders=int(row["orders"] or 0),
            revenue=Decimal(int(row["cents"] or 0)).scaleb(-2),
            full_year=int(row["full_year"] or 0) + edge.get(key, 0),
        )
    return found


async def _nothing() -> dict[tuple[str, str], int]:
    return {}


async def _full_year_on(segment: Segment, day: date, now: datetime, timezone: str) -> dict[tuple[str, str], int]:
    """The answers of this day given at or before a year ago, per group."""
    where = joined(
        [
            QueryString(ANSWERED),
            QueryString("f.created_at >= {} AND f.created_at <= {}", day_start(day, timezone), now - YEAR),
            *feedback_conditions(segment, _engine()),
        ]
    )
    rows = await FeedbackItem.raw(
        f"SELECT 'nps' AS score, {nps_group('f.nps')} AS grp, COUNT(*) AS n FROM feedback_item AS f "
        "WHERE f.nps IS NOT NULL AND {} GROUP BY 2 "
        "UNION ALL SELECT 'csat', CAST(f.csat AS TEXT), COUNT(*) FROM feedback_item AS f "
        f"WHERE {ORDER_CSAT} AND {{}} GROUP BY 2",
        where,
        where,
    )
    return {(str(row["score"]), str(row["grp"])): int(row["n"]) for row in rows}


def _month_bounds(period: Period) -> tuple[list[date], list[date]]:
    """The months the period touches (at most the last MAX_MONTHS) and the days they begin and end on."""
    starts = [b.start for b in buckets(period, "month")[-MAX_MONTHS:]]
    if not starts:
        return [], []
    return starts, [*starts, (starts[-1].replace(day=28) + timedelta(days=4)).replace(day=1)]


async def _months_from_rollup(period: Period, now: datetime, timezone: str) -> list[Month]:
    """The same months from running sums of the runs that began and ended each day (no order is placed at or
    after `now` here): a customer at a moment is one whose run began before it and ends at or after it."""
    starts, bounds = _month_bounds(period)
    if not starts:
        return []
    today = shop_day(now, timezone)
    rows = await DashboardCustomerDay.select().order_by(DashboardCustomerDay.day)
    # the runs ending today before now (the customers who stopped being one today)
    ended_today = await DashboardSpell.count().where((DashboardSpell.ends_day == today) & (DashboardSpell.ends < now))

    def before(day: date, column: str) -> int:
        return sum(row[column] for row in rows if _as_date(row["day"]) < day)

    def customers_at(day: date) -> int:
        if day_start(day, timezone) <= now:
            return before(day, "began") - before(day, "ended")
        return sum(row["began"] for row in rows) - before(today, "ended") - ended_today

    def new(first: date, following: date) -> int:
        return sum(row["new_customers"] for row in rows if first <= _as_date(row["day"]) < following)

    at = [customers_at(day) for day in bounds]
    return [
        Month(start, at[n], at[n + 1], new(start, bounds[n + 1]))
        for n, start in enumerate(starts)
        if day_start(start, timezone) < now
    ]


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def _placed_from(now: datetime) -> bool:
    """Whether an order (not cancelled) is placed at or after `now`: the rollup counts it, today's figures not.
    (No parameter: a prepared statement's generic plan for `placed_at >= $1 LIMIT 1` scanned the whole table.)"""
    rows = await FeedbackItem.raw(
        'SELECT placed_at FROM "order" WHERE cancelled_at IS NULL ORDER BY placed_at DESC LIMIT 1'
    )
    return bool(rows) and as_datetime(rows[0]["placed_at"]) >= now


async def retention(segment: Segment, period: Period, now: datetime, timezone: str) -> Retention:
    """Repeat purchases after answers of the period (by NPS group and CSAT score) and the monthly retention rate."""
    if await _placed_from(now):
        return await retention_from_facts(segment, period, now, timezone)
    if segment.rollup is None:  # the groups from the facts, the months (all customers) from the rollup
        groups, by_month = await asyncio.gather(
            groups_from_facts(segment, period, now, timezone), _months_from_rollup(period, now, timezone)
        )
        return _retention(groups, by_month)
    return await retention_from_rollup(segment, period, now, timezone)


async def retention_from_rollup(segment: Segment, period: Period, now: datetime, timezone: str) -> Retention:
    """The figures from the rollup: for a selection it holds, when no order is placed at or after `now`."""
    groups, by_month = await asyncio.gather(
        _groups_from_rollup(segment, period, now, timezone), _months_from_rollup(period, now, timezone)
    )
    return _retention(groups, by_month)


async def retention_from_facts(segment: Segment, period: Period, now: datetime, timezone: str) -> Retention:
    """The same figures straight from the answers and orders (what the rollup must equal)."""
    groups, by_month = await asyncio.gather(
        groups_from_facts(segment, period, now, timezone), months_from_facts(period, now, timezone)
    )
    return _retention(groups, by_month)


def _retention(groups: dict[tuple[str, str], Group], by_month: list[Month]) -> Retention:
    return Retention(
        by_nps=[groups.get(("nps", name), _empty(name)) for name in NPS_GROUPS],
        by_csat=[groups.get(("csat", str(score)), _empty(str(score))) for score in range(5, 0, -1)],
        months=by_month,
    )
