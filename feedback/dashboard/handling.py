"""How the teams handle routed feedback: open and overdue inbox items right now (live from the inbox), and the
median time from feedback to the first reply to the customer (closing the loop), from the rollup's histogram of
waiting times or, for a selection it does not hold, exactly from the feedback."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from piccolo.query.functions.aggregate import Sum
from piccolo.querystring import QueryString

from feedback.dashboard.periods import Period, utc_bounds
from feedback.dashboard.rollup import CLOSE_EDGES, hours_to_reply
from feedback.dashboard.segments import Segment, feedback_conditions, joined
from feedback.dashboard.totals import edges_bucket, engine
from feedback.tables import DashboardCloseDay, FeedbackItem

OPEN = ("new", "in_progress")


@dataclass(frozen=True)
class Handling:
    open: int
    overdue: int


async def handling(segment: Segment, now: datetime) -> Handling:
    """Inbox items still open, and those of them past their due time with no reply yet (a team: its own items).
    The feedback is joined only when the selection asks about it; the partial index `inbox_item_open` (open items'
    team, due time and reply) answers the rest on its own."""
    about_feedback = feedback_conditions(segment.with_value("team", None), engine())
    conditions = [QueryString("ii.status IN ({}, {})", *OPEN), *about_feedback]
    if segment.team is not None:
        conditions.append(QueryString("ii.team = {}", segment.team))
    joined_feedback = " JOIN feedback_item AS f ON f.id = ii.feedback" if about_feedback else ""
    rows = await FeedbackItem.raw(
        "SELECT COUNT(*) AS open, "
        "COALESCE(SUM(CASE WHEN ii.due_at < {} AND ii.responded_at IS NULL THEN 1 ELSE 0 END), 0) AS overdue "
        f"FROM inbox_item AS ii{joined_feedback} WHERE {{}}",
        now,
        joined(conditions),
    )
    return Handling(open=int(rows[0]["open"]), overdue=int(rows[0]["overdue"]))


def _value_at(rank: float, counts: dict[int, int]) -> float:
    """The waiting time at a rank (1 = shortest) of a histogram of CLOSE_EDGES buckets: geometric interpolation
    inside the bucket (linear in the first), the open last bucket at its lower edge."""
    below = 0
    for bucket in sorted(counts):
        count = counts[bucket]
        if rank <= below + count:
            fraction = (rank - below - 0.5) / count
            if bucket == 0:
                return CLOSE_EDGES[0] * fraction
            low = CLOSE_EDGES[bucket - 1]
            if bucket == len(CLOSE_EDGES):
                return low
            return float(low * (CLOSE_EDGES[bucket] / low) ** fraction)
        below += count
    raise ValueError("rank beyond the histogram")


def median_of(counts: dict[int, int]) -> tuple[float | None, int]:
    """The median waiting time of a histogram (the mean of the two middle ranks for an even count), and its size."""
    total = sum(counts.values())
    if not total:
        return None, 0
    middle = [(total + 1) / 2] if total % 2 else [total / 2, total / 2 + 1]
    return sum(_value_at(rank, counts) for rank in middle) / len(middle), total


async def median_hours_to_close(
    segment: Segment, periods: list[Period], timezone: str
) -> list[tuple[float | None, int]]:
    """For each of these consecutive periods: the median hours from feedback to its first reply, over loops closed
    (first reply sent) in that period, and how many were closed. From the rollup's histogram when it holds the
    selection (within 10%); exact from the feedback otherwise."""
    if segment.rollup is None or segment.channel or segment.language:
        return await _exact_medians(segment, periods, timezone)
    key = segment.rollup
    table = DashboardCloseDay
    where = (table.segment == key[0]) & (table.value == key[1])
    where &= (table.day >= periods[0].start) & (table.day <= periods[-1].end)
    if segment.kind:
        where &= table.kind == segment.kind
    period = edges_bucket("day", [p.start for p in periods[1:]], alias="period")
    rows = (
        await table.select(period, table.bucket, Sum(table.loops, alias="loops"))
        .where(where)
        .group_by(QueryString("period"), table.bucket)
    )
    histograms: dict[int, dict[int, int]] = {}
    for row in rows:
        histograms.setdefault(int(row["period"]), {})[int(row["bucket"])] = int(row["loops"])
    return [median_of(histograms.get(n, {})) for n in range(len(periods))]


async def _exact_medians(segment: Segment, periods: list[Period], timezone: str) -> list[tuple[float | None, int]]:
    """The exact medians, sorted in the database with window functions over the feedback itself."""
    lo, _ = utc_bounds(periods[0], timezone)
    _, hi = utc_bounds(periods[-1], timezone)
    closed_in = QueryString("f.first_reply_at >= {} AND f.first_reply_at < {}", lo, hi)
    where = joined([closed_in, *feedback_conditions(segment, engine())])
    edges = [utc_bounds(p, timezone)[0] for p in periods[1:]]
    rows = await FeedbackItem.raw(
        "SELECT period, hours, n FROM ("
        "SELECT period, hours, ROW_NUMBER() OVER (PARTITION BY period ORDER BY hours) AS rn, "
        "COUNT(*) OVER (PARTITION BY period) AS n FROM ("
        f"SELECT {{}} AS period, {hours_to_reply(engine())} AS hours FROM feedback_item AS f WHERE {{}}) AS closed"
        ") AS ranked WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2",
        edges_bucket("f.first_reply_at", edges),
        where,
    )
    middles: dict[int, list[float]] = {}
    counts: dict[int, int] = {}
    for row in rows:
        middles.setdefault(int(row["period"]), []).append(float(row["hours"]))
        counts[int(row["period"])] = int(row["n"])
    return [(sum(middles[n]) / len(middles[n]), counts[n]) if n in middles else (None, 0) for n in range(len(periods))]
