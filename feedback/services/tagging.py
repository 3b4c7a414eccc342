"""Tags on a feedback item: language, sentiment per sentence, the label, and topics with their sentiment.

Tagging the same text with the same score again changes nothing (the analysed hash says so). A person's correction
of the label or the topics is kept apart from the analyser's and always wins; re-analysing never overwrites it."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.services import Staff
from feedback.analysis import ANALYSER_VERSION, Analysis, analyse
from feedback.analysis.learned import LearnedModel
from feedback.analysis.topics import active_digest, active_keywords
from feedback.policy import LABELS
from feedback.services.sources import Snapshot
from feedback.tables import FeedbackItem, FeedbackTopic


class InvalidCorrection(ValueError):
    """A label or topic staff cannot set: the message says which."""


def analysed_hash(snapshot: Snapshot, model_version: int = 0) -> str:
    """Everything the tags depend on: the analyser's version, the active topics, the text, the score, the language
    hint, and the learned model's version when one is in use."""
    score, scale = snapshot.score
    basis: list[Any] = [ANALYSER_VERSION, active_digest(), snapshot.analysed_text, score, scale, snapshot.locale]
    if model_version:
        basis.append(model_version)
    return hashlib.sha256(json.dumps(basis).encode()).hexdigest()


def analyse_snapshot(snapshot: Snapshot, model: LearnedModel | None = None) -> Analysis:
    score, scale = snapshot.score
    hint = language_hint(snapshot)
    return analyse(snapshot.analysed_text, score=score, scale=scale, language=hint, model=model)


def language_hint(snapshot: Snapshot) -> str | None:
    """The customer's locale (a suggestion's: the browser's language): the analyser reads a text in the language
    it is written in where the text makes that clear, and in this one only where it is too short to tell."""
    return snapshot.locale or None


@dataclass(frozen=True)
class TopicFound:
    topic: str
    phrase: str
    polarity: float | None


def topics_of(found: Analysis) -> list[TopicFound]:
    """One entry per topic: the first phrase that named it and the mean sentiment where it was named."""
    by_topic: dict[str, list[Any]] = {}
    for aspect in found.aspects:
        if aspect.topic:
            by_topic.setdefault(aspect.topic, []).append(aspect)
    return [
        TopicFound(topic, aspects[0].phrase[:200], round(sum(a.polarity for a in aspects) / len(aspects), 4))
        for topic, aspects in by_topic.items()
    ]


def tag_values(found: Analysis, digest: str, now: datetime) -> dict[str, Any]:
    """The analyser's columns of a feedback item, by column name (not the label staff see: see `intake_batch`)."""
    return {
        "language": found.language[:8],
        "polarity": found.polarity,
        "subjectivity": found.subjectivity,
        "auto_label": found.label,
        "label_source": found.label_source,
        "flagged": found.flagged,
        "sentences": [
            {"text": s.text, "polarity": s.polarity, "subjectivity": s.subjectivity} for s in found.sentences
        ],
        "aspects": [{"phrase": a.phrase, "topic": a.topic, "polarity": a.polarity} for a in found.aspects],
        "auto_topics": list(found.topics),
        "analysed_hash": digest,
        "analysed_at": now,
    }


async def _replace_topics(feedback_id: int, topics: list[TopicFound], origin: str, created_at: datetime) -> None:
    await FeedbackTopic.delete().where(FeedbackTopic.feedback == feedback_id)
    if topics:
        await FeedbackTopic.insert(
            *[
                FeedbackTopic(
                    feedback=feedback_id,
                    topic=t.topic,
                    phrase=t.phrase,
                    polarity=t.polarity,
                    origin=origin,
                    created_at=created_at,
                )
                for t in topics
            ]
        )


async def correct_label(feedback_id: int, label: str, by: Staff, now: datetime) -> None:
    """A person sets the label; "" gives it back to the analyser."""
    if label and label not in LABELS:
        raise InvalidCorrection(f"unknown sentiment {label!r}")
    if not label:
        item = await FeedbackItem.select(FeedbackItem.auto_label).where(FeedbackItem.id == feedback_id).first()
        values = {
            FeedbackItem.label: item["auto_label"] if item else "",
            FeedbackItem.label_corrected_by: "",
            FeedbackItem.label_corrected_at: None,
        }
    else:
        values = {
            FeedbackItem.label: label,
            FeedbackItem.label_corrected_by: by.username,
            FeedbackItem.label_corrected_at: now,
        }
    await FeedbackItem.update(values).where(FeedbackItem.id == feedback_id)


async def correct_topics(feedback_id: int, topics: list[str], by: Staff, now: datetime) -> None:
    """A person sets the topics (from the configured list); their sentiment is kept where the analyser saw them."""
    unknown = [t for t in topics if t not in active_keywords()]
    if unknown:
        raise InvalidCorrection(f"unknown topic {unknown[0]!r}")
    item = (
        await FeedbackItem.select(FeedbackItem.aspects, FeedbackItem.created_at)
        .where(FeedbackItem.id == feedback_id)
        .output(load_json=True)
        .first()
    )
    if item is None:
        return
    seen = {a["topic"]: a for a in item["aspects"] if a.get("topic")}
    chosen = [
        TopicFound(t, seen[t]["phrase"] if t in seen else "", seen[t]["polarity"] if t in seen else None)
        for t in dict.fromkeys(topics)
    ]
    async with FeedbackItem._meta.db.transaction():
        await _replace_topics(feedback_id, chosen, "staff", item["created_at"])
        await FeedbackItem.update(
            {FeedbackItem.topics_corrected_by: by.username, FeedbackItem.topics_corrected_at: now}
        ).where(FeedbackItem.id == feedback_id)


async def topics_by_item(feedback_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each item's topics (topic, phrase, polarity, origin), in the order they were found."""
    if not feedback_ids:
        return {}
    rows = (
        await FeedbackTopic.select(
            FeedbackTopic.feedback,
            FeedbackTopic.topic,
            FeedbackTopic.phrase,
            FeedbackTopic.polarity,
            FeedbackTopic.origin,
        )
        .where(FeedbackTopic.feedback.is_in(feedback_ids))
        .order_by(FeedbackTopic.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["feedback"], []).append(row)
    return found
