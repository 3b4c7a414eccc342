"""The topic list in use: read per pass from the settings (the browser's topics, else the file's, else the
defaults), what a change leaves behind (feedback tagged with other keywords, routing rules naming a topic that is
gone), and the re-tagging job started from the topics page, its progress stored in the database."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from afterglow.overrides import effective_settings
from afterglow.settings import get_settings
from afterglow.tables import SettingOverride
from afterglow.topic_list import Keywords
from feedback.analysis.topics import configured_keywords, use_keywords
from feedback.tables import FeedbackItem, RoutingRule

#: Rows beside the settings (not editable settings: `overrides.stored` skips them): the re-tagging job's
#: progress, and when the topic list last changed.
RETAG_JOB = "job:retag"
CHANGED = "topics:changed"


async def current_topics(max_age: float = 0.0) -> Keywords:
    """The topics in effect, read at most `max_age` seconds ago; this process tags with them from now on."""
    keywords = configured_keywords(await effective_settings(get_settings(), max_age))
    use_keywords(keywords)
    return keywords


async def rules_naming_missing(keywords: Keywords) -> list[tuple[str, str]]:
    """(rule name, topic) for each routing rule condition on a topic that is not in `keywords`."""
    rows = (
        await RoutingRule.select(RoutingRule.name, RoutingRule.topics).order_by(RoutingRule.id).output(load_json=True)
    )
    return [(row["name"], topic) for row in rows for topic in row["topics"] or [] if topic not in keywords]


async def tagged_before(moment: datetime) -> int:
    """How many feedback items were last tagged before `moment` (with the topics of then)."""
    return await FeedbackItem.count().where(FeedbackItem.analysed_at < moment)


async def job() -> dict[str, Any] | None:
    """The last re-tagging job: state (queued, running, done, failed), done, total, summary; None if never run."""
    found = await _noted(RETAG_JOB)
    return found if isinstance(found, dict) else None


async def record_job(progress: dict[str, Any], by: str, now: datetime) -> None:
    await _note(RETAG_JOB, progress, by, now)


async def note_change(by: str, now: datetime) -> None:
    """Remember that the topic list changed now (saved or reset): what was tagged before is stale."""
    await _note(CHANGED, now.isoformat(), by, now)


async def changed_at() -> datetime | None:
    found = await _noted(CHANGED)
    return datetime.fromisoformat(found) if isinstance(found, str) else None


async def _noted(key: str) -> Any:
    row = await SettingOverride.select(SettingOverride.value).where(SettingOverride.key == key).first()
    if row is None:
        return None
    value = json.loads(row["value"]) if isinstance(row["value"], str) else row["value"]
    return value.get("value") if isinstance(value, dict) else None


async def _note(key: str, plain: Any, by: str, now: datetime) -> None:
    value = json.dumps({"value": plain})
    updated = (
        await SettingOverride.update({SettingOverride.value: value, SettingOverride.updated_at: now})
        .where(SettingOverride.key == key)
        .returning(SettingOverride.id)
    )
    if not updated:
        await SettingOverride.insert(SettingOverride(key=key, value=value, updated_at=now, updated_by=by))
