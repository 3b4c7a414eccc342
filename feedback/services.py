"""What a free-text comment says: language, sentiment and label (feedback.analysis, no downloaded corpora)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedback.analysis import analyse
from feedback.inbox import place_in_inbox
from feedback.tables import CommentAnalysis
from surveys.tables import Response


async def analyse_response(response_id: int) -> str:
    """Store the comment's language, polarity and label (text and score together); returns the label.

    The customer's CSAT is the score when given (1–5), else their NPS (0–10). A language without a lexicon
    gets its label from the score alone."""
    row = (
        await Response.select(Response.comment, Response.locale, Response.csat, Response.nps)
        .where(Response.id == response_id)
        .first()
    )
    if row is None:
        return "missing"
    text = row["comment"].strip()
    if row["csat"] is not None:
        score, scale = row["csat"], (1, 5)
    elif row["nps"] is not None:
        score, scale = row["nps"], (0, 10)
    else:
        score, scale = None, None
    found = analyse(text, score=score, scale=scale, language=row["locale"]) if text else None
    values = {
        CommentAnalysis.analysed_at: datetime.now(UTC),
        CommentAnalysis.language: (found.language if found else row["locale"])[:8],
        CommentAnalysis.polarity: found.polarity if found else None,
        CommentAnalysis.subjectivity: found.subjectivity if found else None,
        CommentAnalysis.label: found.label if found else "",
    }
    updated = (
        await CommentAnalysis.update(values)
        .where(CommentAnalysis.response == response_id)
        .returning(CommentAnalysis.id)
    )
    if not updated:
        await CommentAnalysis.insert(
            CommentAnalysis(response=response_id, **{c._meta.name: v for c, v in values.items()})
        )
    await place_in_inbox(response_id)
    return found.label if found else ""


async def analyse_pending(now: datetime | None = None, limit: int = 1000) -> int:
    """Analyse comments never analysed, or edited (in the last day) after their analysis. Returns the count."""
    now = now or datetime.now(UTC)
    analysed = CommentAnalysis.select(CommentAnalysis.response)
    fresh = (
        await Response.select(Response.id).where((Response.comment != "") & Response.id.not_in(analysed)).limit(limit)
    )
    recent = await CommentAnalysis.select(
        CommentAnalysis.response, CommentAnalysis.analysed_at, CommentAnalysis.response.updated_at
    ).where(CommentAnalysis.response.updated_at >= now - timedelta(days=1))
    ids = [r["id"] for r in fresh] + [r["response"] for r in recent if r["analysed_at"] < r["response.updated_at"]]
    for response_id in ids:
        await analyse_response(response_id)
    return len(ids)
