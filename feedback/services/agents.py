"""Support coaching: how customers rated each support agent (support CSAT, 1–5) over a period, computed in SQL
over the feedback a person may see (members: what was routed to their teams; managers and admins: all)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from piccolo.query.functions.aggregate import Avg, Count, Sum
from piccolo.query.functions.conditional import Case, When

from accounts.services import Staff
from afterglow.kinds import SATISFIED_FROM
from afterglow.numbers import whole_number
from feedback.tables import FeedbackItem, InboxItem

#: The periods offered, in days.
PERIODS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 365 days"}
DEFAULT_PERIOD = 30


class UnofferedPeriod(ValueError):
    """A period the agents page does not offer (the dashboard's periods are `dashboard.periods.InvalidPeriod`)."""


@dataclass(frozen=True)
class AgentScore:
    agent: str
    answers: int  # support feedback about this agent
    rated: int  # of which with a CSAT
    average: float | None  # mean CSAT of those rated
    satisfied: int  # rated 4 or 5
    negative: int  # labelled negative (by the analyser or a person)

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


def parse_period(raw: str | None) -> int:
    """The period in days from the query string ("" is the default); UnofferedPeriod otherwise."""
    if not raw:
        return DEFAULT_PERIOD
    days = whole_number(raw)
    if days is None or days not in PERIODS:
        raise UnofferedPeriod(f"Choose one of: {', '.join(PERIODS.values())}.")
    return days


async def agent_scores(user: Staff, days: int, now: datetime) -> list[AgentScore]:
    """Each agent's support CSAT over the last `days` days, by name, over the feedback this person may see."""
    condition = (
        (FeedbackItem.kind == "support")
        & (FeedbackItem.agent != "")
        & (FeedbackItem.created_at >= now - timedelta(days=days))
    )
    if not user.sees_everything:
        routed = InboxItem.select(InboxItem.feedback).where(InboxItem.team.is_in(sorted(user.team_ids) or [-1]))
        condition = condition & FeedbackItem.id.is_in(routed)
    rows = (
        await FeedbackItem.select(
            FeedbackItem.agent,
            Count(alias="answers"),
            Count(FeedbackItem.csat, alias="rated"),
            Avg(FeedbackItem.csat, alias="average"),
            Sum(Case(When(FeedbackItem.csat >= SATISFIED_FROM, then=1), default=0), alias="satisfied"),
            Sum(Case(When(FeedbackItem.label == "negative", then=1), default=0), alias="negative"),
        )
        .where(condition)
        .group_by(FeedbackItem.agent)
        .order_by(FeedbackItem.agent)
    )
    return [
        AgentScore(
            agent=row["agent"],
            answers=int(row["answers"]),
            rated=int(row["rated"]),
            # AVG is a float on SQLite and a Decimal on PostgreSQL.
            average=None if row["average"] is None else round(float(row["average"]), 2),
            satisfied=int(row["satisfied"] or 0),
            negative=int(row["negative"] or 0),
        )
        for row in rows
    ]
