"""Topics rising and falling: how often each topic is mentioned now against the period before, as a share of the
feedback received, with the sentiment where it was mentioned."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from piccolo.query.functions.aggregate import Sum
from piccolo.querystring import QueryString

from feedback.dashboard.figures import Totals
from feedback.dashboard.periods import Period, utc_bounds
from feedback.dashboard.rollup import TOPIC_SUMS
from feedback.dashboard.segments import Segment, feedback_conditions, joined
from feedback.dashboard.totals import edges_bucket, engine
from feedback.tables import DashboardTopicDay, FeedbackItem

SHOWN = 5


@dataclass(frozen=True)
class TopicMove:
    topic: str
    mentions: int
    before: int
    share: float | None  # % of this period's feedback that mentions it
    share_before: float | None
    positive: int
    negative: int
    polarity: float | None  # mean sentiment where mentioned with an opinion, −1…1

    @property
    def change(self) -> float:
        return (self.share or 0.0) - (self.share_before or 0.0)

    @property
    def sentiment(self) -> str:
        if self.polarity is None:
            return "no opinion"
        return "positive" if self.polarity > 0.1 else "negative" if self.polarity < -0.1 else "mixed"


@dataclass(frozen=True)
class TopicMoves:
    rising: list[TopicMove]
    falling: list[TopicMove]
    all: list[TopicMove]


def _topic_rollup_where(segment: Segment, first: Any, last: Any) -> Any:
    key = segment.rollup
    assert key is not None
    table = DashboardTopicDay
    where = (table.segment == key[0]) & (table.value == key[1]) & (table.day >= first) & (table.day <= last)
    return where & (table.kind == segment.kind) if segment.kind else where


async def topic_mentions(segment: Segment, period: Period, timezone: str) -> list[dict[str, Any]]:
    """Per topic and period (bucket 0: the one before, 1: this one): mentions and their sentiment."""
    before = period.previous()
    sums = list(TOPIC_SUMS)
    if segment.rollup is not None and not (segment.channel or segment.language):
        bucket = edges_bucket("day", [period.start])
        return (
            await DashboardTopicDay.select(
                DashboardTopicDay.topic, bucket, *[Sum(getattr(DashboardTopicDay, s), alias=s) for s in sums]
            )
            .where(_topic_rollup_where(segment, before.start, period.end))
            .group_by(DashboardTopicDay.topic, QueryString("bucket"))
        )
    lo, _ = utc_bounds(before, timezone)
    start, hi = utc_bounds(period, timezone)
    where = joined(
        [QueryString("ft.created_at >= {} AND ft.created_at < {}", lo, hi), *feedback_conditions(segment, engine())]
    )
    select = ", ".join(f"{expr} AS {name}" for name, expr in TOPIC_SUMS.items())
    return await FeedbackItem.raw(
        f"SELECT ft.topic AS topic, {{}} AS bucket, {select} FROM feedback_topic AS ft "
        "JOIN feedback_item AS f ON f.id = ft.feedback WHERE {} GROUP BY ft.topic, 2",
        edges_bucket("ft.created_at", [start]),
        where,
    )


def topic_moves(mentions: list[dict[str, Any]], now: Totals, before: Totals) -> TopicMoves:
    """Topics of a period (`topic_mentions`) against the one before; shares are of all feedback (`items`) in each."""
    found: dict[str, dict[int, dict[str, Any]]] = {}
    for row in mentions:
        found.setdefault(row["topic"], {})[int(row["bucket"])] = row
    moves = []
    for topic, periods in found.items():
        cur, old = periods.get(1, {}), periods.get(0, {})
        mentions, earlier = int(cur.get("mentions") or 0), int(old.get("mentions") or 0)
        polarity_n = int(cur.get("polarity_n") or 0)
        moves.append(
            TopicMove(
                topic=topic,
                mentions=mentions,
                before=earlier,
                share=now.share(mentions, now.items),
                share_before=before.share(earlier, before.items),
                positive=int(cur.get("positive") or 0),
                negative=int(cur.get("negative") or 0),
                polarity=float(cur["polarity_sum"]) / polarity_n if polarity_n else None,
            )
        )
    moves.sort(key=lambda m: (-m.mentions, m.topic))
    rising = sorted((m for m in moves if m.change > 0), key=lambda m: (-m.change, m.topic))[:SHOWN]
    falling = sorted((m for m in moves if m.change < 0), key=lambda m: (m.change, m.topic))[:SHOWN]
    return TopicMoves(rising, falling, moves)
