"""Feedback in: copy a source row into its feedback item, tag it, route it. Runs in a worker, never in a request.

The work is done in sets (`intake_batch.ingest_batch`): an announced source brings what else is pending with it,
the catch-up pass and `reanalyse` go through batches. Every step is safe to repeat: the copy is an upsert on the
source key, tagging is skipped when nothing it depends on changed, and routing only adds what is missing."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from afterglow import hotsql
from feedback.services.intake_batch import BATCH, Ingested, ingest_batch
from feedback.services.sources import SOURCES, Key, UnknownSource, source_key
from feedback.tables import FeedbackItem, Suggestion
from reviews.tables import Review
from surveys.tables import Response


async def ingest(source: str, source_id: int, now: datetime, *, retag: bool = False) -> Ingested:
    """Copy, tag (when the text, score or analyser changed, or `retag`) and route one piece of feedback."""
    if source not in SOURCES:
        raise ValueError(f"unknown feedback source {source!r}; one of {', '.join(SOURCES)}")
    return (await ingest_batch([(source, source_id)], now, retag=retag))[(source, source_id)]


#: What an announcement can change, per source: (the source's column, the feedback item's column it is copied to).
_OWN_COLUMNS = {
    "survey": (
        Response,
        [("csat", "csat"), ("nps", "nps"), ("comment", "text"), ("locale", "locale"), ("updated_at", "updated_at")],
    ),
    "review": (
        Review,
        [
            ("rating", "rating"),
            ("title", "title"),
            ("text", "text"),
            ("language", "locale"),
            ("sku", "sku"),
            ("product_name", "product_name"),
            ("category", "categories"),
            ("updated_at", "updated_at"),
        ],
    ),
    "suggestion": (Suggestion, [("text", "text"), ("locale", "locale"), ("email", "email"), ("name", "name")]),
}


def _check_sql(source: str) -> str:
    table, pairs = _OWN_COLUMNS[source]
    columns = ", ".join(f's."{mine}" AS s_{mine}, f."{theirs}" AS f_{theirs}' for mine, theirs in pairs)
    return (
        f'SELECT {columns}, f."kind" AS f_kind, f."analysed_hash" AS f_analysed_hash, f."routed_at" AS f_routed_at '
        f'FROM "{table._meta.tablename}" AS s LEFT JOIN "feedback_item" AS f ON f."source_key" = $1 '
        'WHERE s."id" = $2'
    )


async def is_current(source: str, source_id: int) -> bool:
    """Whether this source's feedback item holds what the source row says now, tagged and routed: an announcement
    of it (a twin, or one a batch already took along) has nothing left to do. One query over the source's own
    columns (a save changes only those); compares values, not only the clock: two saves in one instant differ.
    Any doubt (a value stored in another form) answers False, and the batch path copies it again."""
    table, pairs = _OWN_COLUMNS[source]
    # A hand-written read (afterglow.hotsql): on SQLite the ORM opens a connection and a thread for every query
    # outside a transaction, which cost more than all else an announcement that finds nothing to do does.
    rows = await hotsql.fetch(_check_sql(source), source_key(source, source_id), source_id)
    if not rows:
        return True  # the source is gone: nothing to copy
    row = rows[0]
    if not row["f_analysed_hash"] or row["f_routed_at"] is None:
        return False
    for mine, theirs in pairs:
        value, copy = row[f"s_{mine}"], row[f"f_{theirs}"]
        if theirs == "categories":
            value, copy = ([value] if value else []), (json.loads(copy) if isinstance(copy, str) else copy)
        elif theirs == "nps" and row["f_kind"] == "support":
            continue  # a support survey's feedback keeps no NPS
        if value != copy:
            return False
    return True


async def ingest_announced(
    source: str, source_id: int, now: datetime, limit: int = BATCH, more: Sequence[Key] = ()
) -> list[Ingested]:
    """Announced sources (this one and `more`, announced together), and what else is pending with them (up to
    `limit` in all), as one batch; nothing when they are current already (a batch took them along, or this is a
    second delivery of the announcement)."""
    announced = list(dict.fromkeys([(source, source_id), *((str(s), int(i)) for s, i in more)]))
    for name, _ in announced:
        if name not in SOURCES:
            raise ValueError(f"unknown feedback source {name!r}; one of {', '.join(SOURCES)}")
    keys = [key for key in announced if not await is_current(*key)][:limit]
    if not keys:
        return []
    taken = set(keys)
    keys += [key for key in await pending_sources(now, limit) if key not in taken][: limit - len(keys)]
    # A source that fails is recorded for admins (as "feedback.ingest:<source> <id>") and stays pending: the
    # catch-up pass tries it again.
    return list((await ingest_batch(keys, now, task_name="feedback.ingest")).values())


#: How far back the catch-up pass looks for sources edited after their feedback item was copied.
CATCH_UP = timedelta(days=1)


async def pending_sources(now: datetime, limit: int = 1000) -> list[tuple[str, int]]:
    """Sources never copied into a feedback item, or changed since (in the last day): lost announcements."""
    found: list[tuple[str, int]] = []
    for source, table in (("survey", Response), ("review", Review), ("suggestion", Suggestion)):
        copied = FeedbackItem.select(FeedbackItem.source_id).where(FeedbackItem.source == source)
        fresh = await table.select(table.id).where(table.id.not_in(copied)).order_by(table.id).limit(limit)
        found += [(source, row["id"]) for row in fresh]
        if table is Suggestion:
            continue  # suggestions are never edited
        recent = await table.select(table.id, table.updated_at).where(table.updated_at >= now - CATCH_UP)
        if recent:
            keys = {source_key(source, row["id"]): row for row in recent}
            items = await FeedbackItem.select(FeedbackItem.source_key, FeedbackItem.updated_at).where(
                FeedbackItem.source_key.is_in(list(keys))
            )
            stale = {i["source_key"] for i in items if i["updated_at"] < keys[i["source_key"]]["updated_at"]}
            found += [(source, keys[k]["id"]) for k in sorted(stale)]
    return found[:limit]


async def ingest_pending(now: datetime | None = None, limit: int = 5 * BATCH) -> list[Ingested]:
    """Catch up on every source whose announcement was lost (broker down, worker killed), in batches. A source that
    fails is recorded as a task failure and skipped; the others are ingested."""
    now = now or datetime.now(UTC)
    results: list[Ingested] = []
    while len(results) < limit:
        keys = await pending_sources(now, min(BATCH, limit - len(results)))
        done = await ingest_batch(keys, now, task_name="feedback.ingest_pending") if keys else {}
        results += done.values()
        if len(keys) < BATCH or len(done) < len(keys):  # all there was, or some failed (they would come again)
            break
    return results


async def reanalyse(
    now: datetime,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    batch: int = BATCH,
    after_batch: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, int]:
    """Re-tag every feedback item (after a change to the analyser or the topic keywords) and route it again;
    corrections made by people stay. Returns how many were re-tagged, how many labels changed, and how many
    items were left as they were because their source is gone."""
    total = await FeedbackItem.count()
    summary = {"reanalysed": 0, "labels_changed": 0, "sources_gone": 0}
    done = last_id = 0
    while True:
        rows = await _items_after(last_id, batch)
        if not rows:
            break
        for key, value in (await reanalyse_items(rows, now)).items():
            summary[key] += value
        for _ in rows:
            done += 1
            if on_progress:
                on_progress(done, total)
        last_id = rows[-1]["id"]
        if after_batch:
            await after_batch()
    return summary


async def id_ranges(size: int) -> list[tuple[int, int, int]]:
    """The feedback items' ids in consecutive parts (first id, last id, items) of up to `size` items: what a
    re-analysis over several processes hands out."""
    ids = [row["id"] for row in await FeedbackItem.select(FeedbackItem.id).order_by(FeedbackItem.id)]
    parts = [ids[start : start + size] for start in range(0, len(ids), size)]
    return [(part[0], part[-1], len(part)) for part in parts]


async def reanalyse_range(first: int, last: int, now: datetime, batch: int = BATCH) -> dict[str, int]:
    """`reanalyse` of the items with ids from `first` to `last`, in batches; what one worker process does."""
    summary = {"reanalysed": 0, "labels_changed": 0, "sources_gone": 0, "items": 0}
    last_id = first - 1
    while rows := [row for row in await _items_after(last_id, batch) if row["id"] <= last]:
        for key, value in (await reanalyse_items(rows, now)).items():
            summary[key] += value
        summary["items"] += len(rows)
        last_id = rows[-1]["id"]
    return summary


async def _items_after(last_id: int, batch: int) -> list[dict[str, Any]]:
    return (
        await FeedbackItem.select(FeedbackItem.id, FeedbackItem.source, FeedbackItem.source_id, FeedbackItem.label)
        .where(FeedbackItem.id > last_id)
        .order_by(FeedbackItem.id)
        .limit(batch)
    )


async def reanalyse_items(rows: list[dict[str, Any]], now: datetime) -> dict[str, int]:
    """Re-tag and route these items (rows of id, source, source_id, label) as one batch."""
    keys: list[Key] = [(row["source"], row["source_id"]) for row in rows]
    results = await ingest_batch(keys, now, retag=True, task_name="feedback.reanalyse")
    labels = await FeedbackItem.select(FeedbackItem.id, FeedbackItem.label).where(
        FeedbackItem.id.is_in([row["id"] for row in rows])
    )
    after = {item["id"]: item["label"] for item in labels}
    done = [r for r in results.values() if r.feedback_id is not None]
    return {
        "reanalysed": len(done),
        "labels_changed": sum(1 for row in rows if row["id"] in after and after[row["id"]] != row["label"]),
        "sources_gone": sum(1 for r in results.values() if r.feedback_id is None),
    }


__all__ = [
    "SOURCES",
    "Ingested",
    "UnknownSource",
    "id_ranges",
    "ingest",
    "ingest_announced",
    "ingest_pending",
    "pending_sources",
    "reanalyse",
    "reanalyse_range",
]
