"""The admin's topics page: the topic list in effect with its keywords per language, saving a changed list
(checked by afterglow.topic_list, stored as one override, audited), a reset to the file's or the default list, what
the change leaves behind, and re-tagging all feedback in the background."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accounts.services import Staff, audit
from afterglow import editable, overrides
from afterglow.celery_app import publish
from afterglow.i18n import LANGUAGES
from afterglow.settings import Settings
from afterglow.topic_list import Keywords, TopicsInvalid, from_rows, plain
from feedback.analysis.topics import configured_keywords
from feedback.services import topic_settings
from feedback.tasks import retag_all

#: A queued or running job that has not written its progress for this long has stopped: it may be started again.
STALLED = timedelta(minutes=10)
#: Always shown, in this order; a language the list has besides them gets a column too.
SHOWN_LANGUAGES = ("en", "de")


@dataclass(frozen=True)
class TopicsView:
    rows: list[tuple[str, dict[str, str]]]  # topic, language → keywords as typed ("a, b")
    languages: tuple[str, ...]
    from_database: bool
    missing: list[tuple[str, str]]  # (routing rule, topic it names that is gone)
    stale: int  # feedback items tagged before the last change
    job: dict[str, Any] | None


def as_rows(keywords: Keywords) -> list[tuple[str, dict[str, str]]]:
    return [(topic, {lang: ", ".join(words) for lang, words in langs.items()}) for topic, langs in keywords.items()]


def languages_of(rows: list[tuple[str, dict[str, str]]]) -> tuple[str, ...]:
    found = [lang for _, langs in rows for lang in langs]
    return tuple(dict.fromkeys([*SHOWN_LANGUAGES, *LANGUAGES, *found]))


async def view(rows: list[tuple[str, dict[str, str]]] | None = None) -> TopicsView:
    """The page: `rows` as the admin sent them (after an error) or the list in effect."""
    keywords = await topic_settings.current_topics()
    shown = rows if rows is not None else as_rows(keywords)
    moment = await topic_settings.changed_at()
    return TopicsView(
        rows=shown,
        languages=languages_of(shown),
        from_database=editable.TOPICS in await overrides.stored(),
        missing=await topic_settings.rules_naming_missing(keywords),
        stale=await topic_settings.tagged_before(moment) if moment else 0,
        job=await topic_settings.job(),
    )


async def save(actor: Staff, rows: list[tuple[str, dict[str, str]]], now: datetime) -> str:
    """Store the list; returns what is wrong ("" when saved or unchanged)."""
    try:
        keywords = from_rows(rows)
    except TopicsInvalid as exc:
        return f"Nothing was saved: {exc}."
    before = await topic_settings.current_topics()
    if plain(keywords) == plain(before):
        return ""
    await overrides.store({editable.TOPICS: plain(keywords)}, actor.username, now)
    added = [t for t in keywords if t not in before]
    removed = [t for t in before if t not in keywords]
    await topic_settings.note_change(actor.username, now)
    await audit(actor, "topics.changed", "settings", now, topics=len(keywords), added=added, removed=removed)
    await topic_settings.current_topics()
    return ""


async def reset(actor: Staff, base: Settings, now: datetime) -> bool:
    """Back to the topics file's list or the defaults; False when the list was not changed here."""
    if await overrides.forget(editable.TOPICS) is None:
        return False
    await topic_settings.note_change(actor.username, now)
    await audit(actor, "topics.reset", "settings", now, topics=len(configured_keywords(base)))
    await topic_settings.current_topics()
    return True


async def start_retag(actor: Staff, now: datetime) -> str:
    """Queue re-tagging all feedback; returns what stands in the way ("" when queued): a run under way (one that
    wrote its progress within STALLED), or the broker being out of reach."""
    running = await topic_settings.job()
    if running and running.get("state") in ("queued", "running"):
        at = datetime.fromisoformat(running.get("at") or now.isoformat())
        if now - at < STALLED:
            return "Re-tagging is under way already."
    progress = {"state": "queued", "done": 0, "total": 0, "summary": {}, "at": now.isoformat()}
    await topic_settings.record_job(progress, actor.username, now)
    await audit(actor, "topics.retag_started", "settings", now)
    if not await asyncio.to_thread(publish, retag_all, now.isoformat()):
        await topic_settings.record_job({**progress, "state": "failed"}, actor.username, now)
        return "The background worker cannot be reached: try again later, or run `afterglow reanalyse`."
    return ""
