"""Feedback against retention: what customers did in the 12 months after they answered, by NPS group and by CSAT
score (order surveys, as CSAT is everywhere on the dashboard), and the shop's customer retention rate per month.

- After an answer: the orders the same customer placed later (not cancelled) within 365 days, up to now. Each
  answer in the period is one observation; answers younger than a year are followed up to today, and the page
  says how many had their full year.
- Retention rate of a month = (customers at its end − new customers in it) / customers at its start, where a
  customer "is a customer" at a moment when they ordered in the 365 days before it, and is new in the month of
  their first order ever. Months follow the shop's time zone."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from piccolo.querystring import QueryString

from afterglow.kinds import NPS_GROUPS
from feedback.dashboard.definitions import ORDER_CSAT
from feedback.dashboard.periods import Period, buckets, day_start, utc_bounds
from feedback.dashboard.segments import Segment, feedback_conditions, joined
from feedback.dashboard.totals import engine
from feedback.tables import FeedbackItem

YEAR = timedelta(days=365)
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


def _within_year() -> str:
    """An order placed after the answer and within 365 days of it."""
    if engine() == "sqlite":
        return (
            "julianday(o.placed_at) > julianday(f.created_at) "
            "AND julianday(o.placed_at) <= julianday(f.created_at) + 365"
        )
    return "o.placed_at > f.created_at AND o.placed_at <= f.created_at + INTERVAL '365 days'"


#: One group of answers: how many, how many ordered again, their orders, revenue and full years.
_GROUP_SUMS = (
    "COUNT(*) AS answers, SUM(CASE WHEN orders > 0 THEN 1 ELSE 0 END) AS returned, SUM(orders) AS orders, "
    "SUM(revenue) AS revenue, SUM(full_year) AS full_year"
)


async def _groups(segment: Segment, period: Period, now: datetime, timezone: str) -> dict[tuple[str, str], Group]:
    """Answers of the period by NPS class and by CSAT score, with the orders that followed each, in one pass
    over the answers and their customers' later orders."""
    lo, hi = utc_bounds(period, timezone)
    where = joined(
        [
            QueryString(f"(f.nps IS NOT NULL OR ({ORDER_CSAT})) AND f.customer IS NOT NULL"),
            QueryString("f.created_at >= {} AND f.created_at < {}", lo, hi),
            *feedback_conditions(segment, engine()),
        ]
    )
    # The NPS groups' names and lower ends come from afterglow.kinds (names and ints, safe to write into the SQL).
    promoters, passives = NPS_GROUPS["promoters"].low, NPS_GROUPS["passives"].low
    nps_class = (
        f"CASE WHEN nps >= {promoters:d} THEN 'promoters' WHEN nps >= {passives:d} THEN 'passives' "
        "ELSE 'detractors' END"
    )
    rows = await FeedbackItem.raw(
        "WITH answered AS ("
        # CSAT as everywhere on the dashboard: order surveys' (feedback.dashboard.definitions)
        f"SELECT f.id, f.nps, CASE WHEN {ORDER_CSAT} THEN f.csat END AS csat, COUNT(o.id) AS orders, "
        "COALESCE(SUM(o.total), 0) AS revenue, "
        "CASE WHEN f.created_at <= {} THEN 1 ELSE 0 END AS full_year "
        'FROM feedback_item AS f LEFT JOIN "order" AS o ON o.customer = f.customer '
        f"AND {_within_year()} AND o.placed_at <= {{}} AND o.cancelled_at IS NULL "
        "WHERE {} GROUP BY f.id, f.nps, f.kind, f.csat, 6) "
        f"SELECT 'nps' AS score, {nps_class} AS grp, {_GROUP_SUMS} FROM answered WHERE nps IS NOT NULL GROUP BY 2 "
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


async def months(period: Period, now: datetime, timezone: str) -> list[Month]:
    """The retention rate of each month the period touches (at most the last MAX_MONTHS), in one pass over the
    orders: per customer, their first order and whether they ordered in the year before each month boundary."""
    cut = buckets(period, "month")[-MAX_MONTHS:]
    if not cut:
        return []
    starts = [b.start for b in cut]
    following = (cut[-1].start.replace(day=28) + timedelta(days=4)).replace(day=1)
    bounds = [day_start(day, timezone) for day in [*starts, following]]
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
        'FROM "order" AS o WHERE o.cancelled_at IS NULL AND o.placed_at < {} GROUP BY o.customer) AS customers',
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


async def retention(segment: Segment, period: Period, now: datetime, timezone: str) -> Retention:
    """Repeat purchases after answers of the period (by NPS group and CSAT score) and the monthly retention rate."""
    groups, by_month = await asyncio.gather(_groups(segment, period, now, timezone), months(period, now, timezone))
    return Retention(
        by_nps=[groups.get(("nps", name), _empty(name)) for name in NPS_GROUPS],
        by_csat=[groups.get(("csat", str(score)), _empty(str(score))) for score in range(5, 0, -1)],
        months=by_month,
    )
