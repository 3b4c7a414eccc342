"""Everything the dashboard's main page shows for one selection and period: headline figures against the period
before, the trend charts, topics on the move, and how the teams handle routed feedback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from afterglow.kinds import CSAT_SCALE, SATISFIED, STARS_SCALE
from feedback.dashboard.charts import Chart, Line, line_chart
from feedback.dashboard.figures import MEASURES, Change, Totals, nps_change, plain_change, share_change
from feedback.dashboard.handling import Handling, handling, median_hours_to_close
from feedback.dashboard.periods import Bucket, Period, buckets
from feedback.dashboard.segments import Segment
from feedback.dashboard.topics import TopicMoves, topic_mentions, topic_moves
from feedback.dashboard.totals import totals_by_bucket, totals_of_periods

#: Builds the drill-down URL of a bucket and measure (the controller knows the routes).
DrillLink = Callable[[Bucket, str], str]
CHARTS = ("nps", "csat", "support", "rating", "sentiment", "funnel")


@dataclass(frozen=True)
class Headline:
    now: Totals
    before: Totals
    nps: Change
    csat: Change
    support_csat: Change
    rating: Change
    response_rate: Change
    negative: Change
    close_hours: Change
    closed: int


@dataclass(frozen=True)
class Overview:
    segment: Segment
    period: Period
    grain: str
    headline: Headline
    charts: list[Chart]
    topics: TopicMoves
    handling: Handling


async def headline(segment: Segment, period: Period, timezone: str) -> Headline:
    """The period's figures and their change against the period of the same length before it."""
    periods = [period.previous(), period]
    (before, now), ((close_before, closed_before), (close_now, closed)) = await asyncio.gather(
        totals_of_periods(segment, periods, timezone), median_hours_to_close(segment, periods, timezone)
    )
    return Headline(
        now=now,
        before=before,
        nps=nps_change(now, before),
        csat=share_change(now, before, "csat", "csat_n"),
        support_csat=share_change(now, before, "support_csat", "support_csat_n"),
        rating=plain_change(now.rating, before.rating, enough=min(now.rating_n, before.rating_n) >= 30),
        response_rate=share_change(now, before, "response_rate", "sent"),
        negative=share_change(now, before, "negative_share", "labelled"),
        close_hours=plain_change(close_now, close_before, enough=min(closed, closed_before) >= 30),
        closed=closed,
    )


def _pct(value: float) -> str:
    return f"{value:.0f}%"


def _signed(value: float) -> str:
    return f"{value:+.0f}"


def _stars(value: float) -> str:
    return f"{value:.2f}"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _label_share(label: str) -> Callable[[Totals], float | None]:
    return lambda t: t.label_share(label)


@dataclass(frozen=True)
class ChartSpec:
    title: str
    lines: tuple[Line, ...]
    fmt: Callable[[float], str]
    n_label: str
    y_range: tuple[float, float] | None = None
    measures: tuple[str, ...] = MEASURES  # what its lines read


SPECS = {
    "nps": ChartSpec(
        "NPS", (Line("NPS", lambda t: t.nps, lambda t: t.nps_n, "nps", interval=lambda t: t.nps_interval),),
        _signed, "answers", (-100.0, 100.0), ("nps_n", "promoters", "detractors"),
    ),
    "csat": ChartSpec(
        f"CSAT, order surveys ({SATISFIED.text} of {CSAT_SCALE.high})",
        (Line("CSAT", lambda t: t.csat, lambda t: t.csat_n, "csat"),),
        _pct, "answers", (0.0, 100.0), ("csat_n", "csat_ok"),
    ),
    "support": ChartSpec(
        f"Support CSAT ({SATISFIED.text} of {CSAT_SCALE.high})",
        (Line("Support CSAT", lambda t: t.support_csat, lambda t: t.support_csat_n, "support"),),
        _pct, "answers", (0.0, 100.0), ("support_csat_n", "support_csat_ok"),
    ),
    "rating": ChartSpec(
        "Review rating (published reviews)", (Line("Rating", lambda t: t.rating, lambda t: t.rating_n, "reviews"),),
        _stars, "reviews", (float(STARS_SCALE.low), float(STARS_SCALE.high)), ("rating_n", "rating_sum"),
    ),
    "sentiment": ChartSpec(
        "Sentiment (% of feedback)",
        tuple(Line(label.capitalize(), _label_share(label), lambda t: t.labelled, label)
              for label in ("positive", "negative", "mixed", "neutral")),
        _pct, "feedback", (0.0, 100.0),
    ),
    "negative": ChartSpec("Negative feedback (%)", (Line("Negative", _label_share("negative"), lambda t: t.labelled,
                          "negative"),), _pct, "feedback", (0.0, 100.0)),
    "funnel": ChartSpec(
        "Survey funnel (each step on the day it happened)",
        (
            Line("Planned", lambda t: float(t.scheduled), lambda t: t.scheduled, "answered"),
            Line("Sent", lambda t: float(t.sent), lambda t: t.sent, "answered"),
            Line("Opened", lambda t: float(t.opened), lambda t: t.opened, "answered"),
            Line("Answered", lambda t: float(t.answered), lambda t: t.answered, "answered"),
        ),
        _count, "invitations",
    ),
}  # fmt: skip


def applies(key: str, segment: Segment) -> bool:
    """Whether the selection can have anything on this chart (no funnel for a team, no Support CSAT for a
    category)."""
    if key == "funnel":
        return segment.funnel_applies
    return segment.support_applies if key == "support" else True


@dataclass(frozen=True)
class ChartSet:
    """One selection's totals per bucket, named (in a comparison) and with the drill-down behind its points."""

    label: str
    totals: list[Totals]
    drill: DrillLink


def chart(key: str, periods: list[Bucket], sets: list[ChartSet], grain: str) -> Chart:
    """One chart of SPECS over the buckets, with a line per (selection, line of the chart)."""
    spec = SPECS[key]
    lines = [
        (replace(line, name=f"{s.label}: {line.name}" if s.label else line.name), s.totals)
        for s in sets
        for line in spec.lines
    ]
    per_set = len(spec.lines)

    def drill(bucket: Bucket, measure: str, number: int) -> str:
        return sets[number // per_set].drill(bucket, measure)

    return line_chart(
        key, spec.title, periods, lines, grain, fmt=spec.fmt, n_label=spec.n_label, drill=drill, y_range=spec.y_range
    )


async def trend(
    segment: Segment, period: Period, grain: str, timezone: str, measures: tuple[str, ...] = MEASURES
) -> list[tuple[Bucket, Totals]]:
    """Every bucket of the period with its totals (empty ones included, as zero totals)."""
    found = await totals_by_bucket(segment, period, grain, timezone, measures)
    return [(bucket, found.get(bucket.start, Totals())) for bucket in buckets(period, grain)]


async def overview(
    segment: Segment, period: Period, grain: str, timezone: str, now: datetime, drill: DrillLink
) -> Overview:
    """The main page's figures: six queries at once, each over the rollup when it holds the selection."""
    top, data, mentions, inbox = await asyncio.gather(
        headline(segment, period, timezone),
        trend(segment, period, grain, timezone),
        topic_mentions(segment, period, timezone),
        handling(segment, now),
    )  # independent queries, each on a connection of its own
    periods, totals = [b for b, _ in data], [t for _, t in data]
    keys = [k for k in CHARTS if applies(k, segment)]
    return Overview(
        segment=segment,
        period=period,
        grain=grain,
        headline=top,
        charts=[chart(key, periods, [ChartSet("", totals, drill)], grain) for key in keys],
        topics=topic_moves(mentions, top.now, top.before),
        handling=inbox,
    )
