"""Which shop topic a phrase is about, from keywords per topic and language; the first topic listed wins a tie.

The defaults below fit most shops. A shop replaces them with a JSON file named by AFTERGLOW_TOPICS_FILE (see
docs/topics.md), then runs `afterglow reanalyse`: feedback tagged with other keywords is stale (TOPICS_DIGEST)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

# topic → language → keywords. English keywords match a word, its plural, or (5+ letters) a word's start
# ("deliver" ↔ "delivered", but "app" ≠ "appreciate"); German ones match
# anywhere in a word, so compounds and participles find their stem ("liefer" ↔ "Lieferzeit", "geliefert").
# A keyword with a space matches that phrase.
DEFAULT_TOPIC_KEYWORDS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "delivery": {
        "en": (
            "deliver",
            "shipping",
            "shipment",
            "shipped",
            "courier",
            "parcel",
            "package arrived",
            "arriv",
            "dispatch",
        ),
        "de": ("liefer", "versand", "versendet", "zustell", "paket", "kurier", "angekommen"),
    },
    "packaging": {
        "en": ("packag", "packing", "box", "wrapping", "bubble wrap"),
        "de": ("verpack", "karton", "schachtel"),
    },
    "product quality": {
        "en": ("quality", "battery", "screen", "material", "fabric", "build", "stitching", "durab", "product"),
        "de": ("qualität", "akku", "bildschirm", "display", "material", "stoff", "verarbeitung", "produkt", "artikel"),
    },
    "size/fit": {
        "en": ("size", "fit", "sizing", "too small", "too big", "too large", "length", "width"),
        "de": ("größe", "passform", "passt", "zu klein", "zu groß", "länge"),
    },
    "price": {
        "en": ("price", "cost", "value for money", "expensive", "cheap", "overpriced"),
        "de": ("preis", "kosten", "teuer", "günstig", "billig"),
    },
    "support": {
        "en": ("support", "customer service", "service", "staff", "agent", "hotline", "response time"),
        "de": ("kundenservice", "kundendienst", "service", "support", "hotline", "mitarbeiter", "beratung"),
    },
    "website/checkout": {
        "en": ("website", "site", "checkout", "payment", "app", "login", "cart", "order form"),
        "de": ("webseite", "website", "shop", "bezahl", "zahlung", "kasse", "warenkorb", "bestellvorgang"),
    },
    "returns/refunds": {
        "en": ("return", "refund", "exchange", "money back"),
        "de": ("rückgabe", "rücksend", "retour", "erstatt", "umtausch", "geld zurück"),
    },
}


Keywords = Mapping[str, Mapping[str, tuple[str, ...]]]


class TopicsFileInvalid(ValueError):
    """The topics file is not `{"topic": {"language": ["keyword", ...]}, ...}`; the message says where."""


def read_topics_file(path: Path) -> Keywords:
    """Topics and their keywords from a JSON file: `{"delivery": {"en": ["deliver", "courier"], "de": [...]}}`."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TopicsFileInvalid(f"{path}: cannot be read as JSON ({exc})") from exc
    if not isinstance(raw, dict) or not raw:
        raise TopicsFileInvalid(f"{path}: expected an object of topics")
    topics: dict[str, dict[str, tuple[str, ...]]] = {}
    for topic, languages in raw.items():
        if not isinstance(topic, str) or not topic.strip() or len(topic) > 64:
            raise TopicsFileInvalid(f"{path}: topic names are 1 to 64 characters ({topic!r})")
        if not isinstance(languages, dict) or not languages:
            raise TopicsFileInvalid(f"{path}: {topic!r} needs an object of languages with keyword lists")
        topics[topic] = {}
        for language, words in languages.items():
            if not isinstance(words, list) or not all(isinstance(w, str) and w.strip() for w in words):
                raise TopicsFileInvalid(f"{path}: {topic!r} / {language!r} needs a list of keywords")
            topics[topic][language] = tuple(w.strip().lower() for w in words)
    return topics


def configured_keywords() -> Keywords:
    """The topics file named by AFTERGLOW_TOPICS_FILE, or the defaults."""
    from afterglow.settings import get_settings

    named = get_settings().topics_file
    return read_topics_file(Path(named)) if named else DEFAULT_TOPIC_KEYWORDS


def digest(keywords: Keywords) -> str:
    """Changes whenever a topic or keyword does: part of every analysed hash."""
    plain = {topic: {lang: list(words) for lang, words in langs.items()} for topic, langs in keywords.items()}
    return hashlib.sha256(json.dumps(plain, sort_keys=True).encode()).hexdigest()[:16]


TOPIC_KEYWORDS: Keywords = configured_keywords()
TOPICS_DIGEST = digest(TOPIC_KEYWORDS)


def _english_match(word: str, keyword: str) -> bool:
    return word in (keyword, keyword + "s", keyword + "es") or (len(keyword) >= 5 and word.startswith(keyword))


def topic_for(
    phrase: str, language: str, keywords: Mapping[str, Mapping[str, tuple[str, ...]]] = TOPIC_KEYWORDS
) -> str | None:
    """The first topic with a keyword in the phrase, or None."""
    if keywords is TOPIC_KEYWORDS:
        return _configured_topic(phrase.lower(), language)
    return _first_topic(phrase.lower(), language, keywords)


@lru_cache(maxsize=16384)
def _configured_topic(text: str, language: str) -> str | None:
    # The analyser asks about every word of every comment: the same words, over and over.
    return _first_topic(text, language, TOPIC_KEYWORDS)


def _first_topic(text: str, language: str, keywords: Mapping[str, Mapping[str, tuple[str, ...]]]) -> str | None:
    words = text.split()
    for topic, by_language in keywords.items():
        for keyword in by_language.get(language, ()):
            if " " in keyword:
                if keyword in text:
                    return topic
            elif language == "en":
                if any(_english_match(w, keyword) for w in words):
                    return topic
            elif keyword in text:
                return topic
    return None
