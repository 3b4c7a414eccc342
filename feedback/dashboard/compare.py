"""Two segments side by side: the same period, filters and charts, with one value of one dimension each
(web against app, Support against Logistics …)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from feedback.dashboard.charts import Chart
from feedback.dashboard.overview import ChartSet, DrillLink, Headline, chart, headline, trend
from feedback.dashboard.periods import Period
from feedback.dashboard.segments import COMPARABLE, InvalidSegment, Segment

CHARTS = ("nps", "csat", "rating", "negative")


@dataclass(frozen=True)
class Side:
    label: str
    segment: Segment
    headline: Headline


@dataclass(frozen=True)
class Comparison:
    by: str
    sides: tuple[Side, Side]
    charts: list[Chart]


def compared(base: Segment, by: str, a: str | int | None, b: str | int | None) -> tuple[Segment, Segment]:
    """The two segments: `base` with `by` set to each value. InvalidSegment unless they are two different values."""
    if by not in COMPARABLE:
        raise InvalidSegment(f"Compare by one of {', '.join(COMPARABLE)}.")
    if a in ("", None) or b in ("", None):
        raise InvalidSegment("Choose two values to compare.")
    if a == b:
        raise InvalidSegment("Choose two different values to compare.")
    return base.with_value(by, a), base.with_value(by, b)


async def comparison(
    by: str,
    sides: tuple[tuple[str, Segment], tuple[str, Segment]],
    period: Period,
    grain: str,
    timezone: str,
    drill_for: Callable[[Segment], DrillLink],
) -> Comparison:
    """Headline figures for both sides and the charts with a line for each."""
    made = []
    sets = []
    periods = []
    for label, segment in sides:
        data = await trend(segment, period, grain, timezone)
        periods = [bucket for bucket, _ in data]
        sets.append(ChartSet(label, [totals for _, totals in data], drill_for(segment)))
        made.append(Side(label, segment, await headline(segment, period, timezone)))
    return Comparison(by, (made[0], made[1]), [chart(key, periods, sets, grain) for key in CHARTS])
