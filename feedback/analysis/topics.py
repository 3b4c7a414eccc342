"""Which shop topic a phrase is about, from keywords per topic and language; the first topic listed wins a tie.

The defaults below fit most shops. A shop replaces them with a JSON file named by AFTERGLOW_TOPICS_FILE or on the
admin's topics page (docs/topics.md); feedback tagged with other keywords is stale (`active_digest`) and
`afterglow reanalyse` re-tags it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from afterglow.topic_list import Keywords, TopicsInvalid, parse_topics, plain

if TYPE_CHECKING:
    from afterglow.settings import Settings

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


class TopicsFileInvalid(TopicsInvalid):
    """The topics file is not `{"topic": {"language": ["keyword", ...]}, ...}`; the message says where."""


def read_topics_file(path: Path) -> Keywords:
    """Topics and their keywords from a JSON file: `{"delivery": {"en": ["deliver", "courier"], "de": [...]}}`."""
    try:
        raw: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TopicsFileInvalid(f"{path}: cannot be read as JSON ({exc})") from exc
    try:
        return parse_topics(raw)
    except TopicsInvalid as exc:
        raise TopicsFileInvalid(f"{path}: {exc}") from exc


@lru_cache(maxsize=4)
def _file_keywords(named: str) -> Keywords:
    return read_topics_file(Path(named))


def configured_keywords(settings: Settings | None = None) -> Keywords:
    """The topics saved in the browser, else the topics file named by AFTERGLOW_TOPICS_FILE, else the defaults."""
    from afterglow.settings import get_settings

    settings = settings or get_settings()
    if settings.topic_keywords:
        return settings.topic_keywords
    return _file_keywords(settings.topics_file) if settings.topics_file else DEFAULT_TOPIC_KEYWORDS


def digest(keywords: Keywords) -> str:
    """Changes whenever a topic or keyword does: part of every analysed hash."""
    return hashlib.sha256(json.dumps(plain(keywords), sort_keys=True).encode()).hexdigest()[:16]


#: The environment's topics (the file's or the defaults), as the process started.
TOPIC_KEYWORDS: Keywords = configured_keywords()
TOPICS_DIGEST = digest(TOPIC_KEYWORDS)
#: The topics this process tags with now, as (digest, keywords): each pass sets them with `use_keywords`.
_active: tuple[str, Keywords] = (TOPICS_DIGEST, TOPIC_KEYWORDS)


def use_keywords(keywords: Keywords) -> str:
    """Tag with these topics from now on in this process; returns their digest."""
    global _active
    if keywords is not _active[1]:
        found = digest(keywords)
        if found != _active[0]:
            _active = (found, keywords)
    return _active[0]


def active_keywords() -> Keywords:
    """The topics this process tags with now."""
    return _active[1]


def active_digest() -> str:
    return _active[0]


def _english_match(word: str, keyword: str) -> bool:
    return word in (keyword, keyword + "s", keyword + "es") or (len(keyword) >= 5 and word.startswith(keyword))


def topic_for(phrase: str, language: str, keywords: Keywords | None = None) -> str | None:
    """The first topic with a keyword in the phrase (by default among the active topics), or None."""
    if keywords is None:
        return _active_topic(phrase.lower(), language, _active[0])
    return _first_topic(phrase.lower(), language, keywords)


@lru_cache(maxsize=16384)
def _active_topic(text: str, language: str, active_digest: str) -> str | None:
    # The analyser asks about every word of every comment: the same words, over and over. Keyed by the digest,
    # so new topics are never answered from the old ones.
    return _first_topic(text, language, _active[1])


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
