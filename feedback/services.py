"""Sentiment of a free-text comment (TextBlob's lexicon analyser, which needs no downloaded corpora)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textblob import TextBlob

from feedback.inbox import place_in_inbox
from feedback.tables import CommentAnalysis
from surveys.tables import Response


def sentiment_label(polarity: float | None) -> str:
    """TextBlob's exact 0.0 means "found no opinion words", which is not the same as neutral."""
    if polarity is None or polarity == 0.0:
        return "unknown"
    if polarity >= 0.1:
        return "positive"
    if polarity <= -0.1:
        return "negative"
    return "neutral"


async def analyse_response(response_id: int) -> str:
    """Store the comment's polarity and label; English only until per-language analysis lands."""
    row = await Response.select(Response.comment, Response.locale).where(Response.id == response_id).first()
    if row is None:
        return "missing"
    text = row["comment"].strip()
    english = row["locale"].startswith("en")
    polarity = subjectivity = None
    if text and english:
        sentiment = TextBlob(text).sentiment
        polarity, subjectivity = (
            float(sentiment.polarity),
            float(sentiment.subjectivity),
        )
    values = {
        CommentAnalysis.analysed_at: datetime.now(UTC),
        CommentAnalysis.language: row["locale"][:8],
        CommentAnalysis.polarity: polarity,
        CommentAnalysis.subjectivity: subjectivity,
        CommentAnalysis.label: sentiment_label(polarity) if text else "",
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
    return sentiment_label(polarity)


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
