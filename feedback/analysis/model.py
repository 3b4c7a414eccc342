"""What an analysis returns, and its JSON shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Aspect:
    phrase: str
    topic: str | None
    polarity: float


@dataclass(frozen=True)
class SentenceSentiment:
    text: str
    polarity: float
    subjectivity: float


@dataclass(frozen=True)
class Analysis:
    language: str  # "en", "de", another ISO code, or "" when unknown
    polarity: float | None  # None when no lexicon for the language or no opinion words
    subjectivity: float | None
    label: str  # "positive" | "neutral" | "negative" | "mixed": never empty
    label_source: str  # "text+score" | "text" | "score" | "" (nothing to go on: "neutral" with confidence 0)
    flagged: bool  # score and text contradict each other strongly: a human should look
    sentences: tuple[SentenceSentiment, ...]
    aspects: tuple[Aspect, ...]
    topics: tuple[str, ...]  # distinct topic names, in order of first mention
    source: str = "score"  # what read the text: "lexicon", "model" (feedback.analysis.learned) or "score" (only it)
    confidence: float = 0.0  # 0..1: how sure the label is


@dataclass(frozen=True)
class Clauses:
    """Where the lexicon's reading came from, for a model to read again: every clause's text and weight, and
    for each aspect the clause it was found in."""

    texts: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    of_aspect: list[int] = field(default_factory=list)
    long_text: bool = False


def as_json(a: Analysis) -> dict[str, Any]:
    """The analysis as plain JSON-ready values."""
    return {
        "language": a.language,
        "polarity": a.polarity,
        "subjectivity": a.subjectivity,
        "label": a.label,
        "topics": list(a.topics),
        "label_source": a.label_source,
        "source": a.source,
        "confidence": a.confidence,
        "flagged": a.flagged,
        "aspects": [{"phrase": x.phrase, "topic": x.topic, "polarity": x.polarity} for x in a.aspects],
        "sentences": [{"text": s.text, "polarity": s.polarity, "subjectivity": s.subjectivity} for s in a.sentences],
    }
