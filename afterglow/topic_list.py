"""The rules a topic list keeps, wherever it comes from (the topics file, the admin's topics page, the stored
override): `{"topic": {"language": ["keyword", ...]}, ...}`. Pure: no database, no files."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Keywords = Mapping[str, Mapping[str, tuple[str, ...]]]
TOPIC_MAX_CHARS = 64


class TopicsInvalid(ValueError):
    """Not a topic list; the message says where."""


def parse_topics(raw: Any) -> dict[str, dict[str, tuple[str, ...]]]:
    """Topics and their keywords per language, keywords trimmed and lower-cased; TopicsInvalid if wrong."""
    if not isinstance(raw, dict) or not raw:
        raise TopicsInvalid("expected an object of topics")
    topics: dict[str, dict[str, tuple[str, ...]]] = {}
    for topic, languages in raw.items():
        if not isinstance(topic, str) or not topic.strip() or len(topic) > TOPIC_MAX_CHARS:
            raise TopicsInvalid(f"topic names are 1 to {TOPIC_MAX_CHARS} characters ({topic!r})")
        if not isinstance(languages, dict) or not languages:
            raise TopicsInvalid(f"{topic!r} needs an object of languages with keyword lists")
        topics[topic] = {}
        for language, words in languages.items():
            if not isinstance(words, list | tuple) or not all(isinstance(w, str) and w.strip() for w in words):
                raise TopicsInvalid(f"{topic!r} / {language!r} needs a list of keywords")
            topics[topic][language] = tuple(w.strip().lower() for w in words)
    return topics


def plain(keywords: Keywords) -> dict[str, dict[str, list[str]]]:
    """As JSON stores it."""
    return {topic: {lang: list(words) for lang, words in langs.items()} for topic, langs in keywords.items()}


def from_rows(rows: list[tuple[str, dict[str, str]]]) -> dict[str, dict[str, tuple[str, ...]]]:
    """The topics page's rows (name, language → comma-separated keywords) as a topic list: a row without a name
    is dropped, a language without keywords left out. TopicsInvalid if the result breaks a rule."""
    raw: dict[str, dict[str, list[str]]] = {}
    for name, by_language in rows:
        name = name.strip()
        if not name:
            continue
        if name in raw:
            raise TopicsInvalid(f"{name!r} is listed twice")
        words = {lang: [w for w in (p.strip() for p in text.split(",")) if w] for lang, text in by_language.items()}
        raw[name] = {lang: found for lang, found in words.items() if found}
        if not raw[name]:
            raise TopicsInvalid(f"{name!r} needs at least one keyword")
    return parse_topics(raw)
