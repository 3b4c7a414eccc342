"""Headline figures over all answers, computed in SQL."""

from __future__ import annotations

from dataclasses import dataclass

from surveys.tables import Invitation, Response


@dataclass(frozen=True)
class Headline:
    responses: int
    nps: float | None
    nps_answers: int
    csat: float | None
    csat_answers: int
    sent: int

    @property
    def response_rate(self) -> float | None:
        return self.responses / self.sent if self.sent else None


async def headline() -> Headline:
    """NPS = % of 9–10 minus % of 0–6; CSAT = % of 4–5 answers; response rate = answered / sent."""
    promoters = await Response.count().where(Response.nps >= 9)
    detractors = await Response.count().where(Response.nps <= 6)
    nps_answers = await Response.count().where(Response.nps.is_not_null())
    satisfied = await Response.count().where(Response.csat >= 4)
    csat_answers = await Response.count().where(Response.csat.is_not_null())
    sent = await Invitation.count().where(Invitation.sent_at.is_not_null())
    responses = await Response.count()
    return Headline(
        responses=responses,
        nps=round(100 * (promoters - detractors) / nps_answers, 1) if nps_answers else None,
        nps_answers=nps_answers,
        csat=round(100 * satisfied / csat_answers, 1) if csat_answers else None,
        csat_answers=csat_answers,
        sent=sent,
    )
