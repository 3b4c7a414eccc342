"""Feedback in, in sets: many saved sources read, analysed, stored and routed at once.

A batch reads its sources in one query per kind, loads the learned model and the topics once, analyses in this
process (outside any transaction: no lock is held meanwhile), then writes in one transaction: the feedback items in
one upsert (copy and tags), their topics in one insert, and routing over the set (`routing.route_many`). Every step
is safe to repeat: the upsert is keyed on the source, tagging is skipped when nothing it depends on changed, and an
inbox item already placed is skipped. A row that fails (its analysis, or its write) is logged, recorded for admins
and left out; the others go on."""

from __future__ import annotations

import contextlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from afterglow.failures import PASS_STOPPERS, skip_bad_row
from feedback.analysis import Analysis
from feedback.services.bulk import insert_rows
from feedback.services.learning import active_model
from feedback.services.routing import route_many
from feedback.services.sources import SOURCES, Key, Snapshot, read_sources
from feedback.services.tagging import analyse_snapshot, analysed_hash, tag_values, topics_of
from feedback.services.topic_settings import current_topics
from feedback.tables import FeedbackItem, FeedbackTopic

logger = logging.getLogger(__name__)

#: Sources per batch: one read, one analysis loop and one write transaction.
BATCH = 500
#: Rows per insert statement (well under SQLite's and asyncpg's limits on parameters).
WRITE_CHUNK = 200


@dataclass
class Ingested:
    feedback_id: int | None  # None: the source is gone
    tagged: bool = False
    new_inbox_items: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Work:
    snapshot: Snapshot
    digest: str
    found: Analysis | None  # None: the tags stand (nothing they depend on changed)


def copied(snapshot: Snapshot) -> dict[str, Any]:
    """The columns a feedback item copies from its source, by column name."""
    return {
        "kind": snapshot.kind,
        "customer": snapshot.customer,
        "order": snapshot.order,
        "email": snapshot.email,
        "name": snapshot.name[:200],
        "csat": snapshot.csat,
        "nps": snapshot.nps,
        "rating": snapshot.rating,
        "title": snapshot.title[:150],
        "text": snapshot.text,
        "locale": snapshot.locale[:16],
        "channel": snapshot.channel[:64],
        "categories": list(snapshot.categories),
        "sku": snapshot.sku,
        "product_name": snapshot.product_name,
        "agent": snapshot.agent,
        "created_at": snapshot.created_at,
        "updated_at": snapshot.updated_at,
    }


COPIED = list(copied(Snapshot("survey", 0, "order", datetime.min, datetime.min)))
#: The analyser's columns (`tagging.tag_values`).
TAGS = ["language", "polarity", "subjectivity", "auto_label", "label_source", "flagged", "sentences", "aspects",
        "auto_topics", "analysed_hash", "analysed_at"]  # fmt: skip


def one_connection(read_only: bool = False) -> contextlib.AbstractAsyncContextManager[Any]:
    """A transaction, so that a step's queries share one connection: on SQLite every query outside one opens a
    connection and a thread of its own. SQLite's write transaction takes the write lock up front (IMMEDIATE), so a
    twin worker waits for it (busy timeout) instead of failing to upgrade a read lock."""
    db = FeedbackItem._meta.db
    if isinstance(db, SQLiteEngine) and not read_only:
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


async def ingest_batch(
    keys: list[Key], now: datetime, *, retag: bool = False, task_name: str | None = None
) -> dict[Key, Ingested]:
    """Copy, tag (when the text, score or analyser changed, or `retag`) and route these sources. Returns what became
    of each: a source that is gone gives `Ingested(None)`. With `task_name`, a row that fails is recorded under
    that task and left out; without, the first failure is raised (the caller records it)."""
    async with one_connection(read_only=True):
        read = await read_sources(keys)
        model = await active_model()
        await current_topics()  # the topics as saved now: a change applies from the next batch on
        stored = await _stored_hashes([s.key for s in read.snapshots.values()])
    for key, exc in read.bad.items():
        if task_name is None:
            raise exc
        async with skip_bad_row(task_name, _name(key), now):
            raise exc
    version = model.version if model else 0
    work: list[_Work] = []
    for key, snapshot in read.snapshots.items():
        async with _row(task_name, key, now):
            digest = analysed_hash(snapshot, version)
            tagged = retag or digest != stored.get(snapshot.key)
            work.append(_Work(snapshot, digest, analyse_snapshot(snapshot, model) if tagged else None))
    results = {key: Ingested(None) for key in read.gone}
    try:
        async with one_connection():
            results.update(await _write(work, now))
    except PASS_STOPPERS:
        raise
    except Exception:
        if task_name is None or len(work) == 1:
            raise
        # One row the database refuses fails the whole set: write each alone, so only that one is left out.
        logger.warning("%s: a batch of %d failed to write; writing them one by one", task_name, len(work))
        for each in work:
            key = (each.snapshot.source, each.snapshot.source_id)
            async with _row(task_name, key, now), one_connection():
                results.update(await _write([each], now))
    return results


def _name(key: Key) -> str:
    return f"{key[0]} {key[1]}"


def _row(task_name: str | None, key: Key, now: datetime) -> contextlib.AbstractAsyncContextManager[Any]:
    if task_name is None:
        return _errors_raised()
    return skip_bad_row(task_name, _name(key), now)


@contextlib.asynccontextmanager
async def _errors_raised() -> Any:
    """No task to record a row under: its error goes up to the caller."""
    yield


async def _stored_hashes(source_keys: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(source_keys), BATCH):
        rows = await FeedbackItem.select(FeedbackItem.source_key, FeedbackItem.analysed_hash).where(
            FeedbackItem.source_key.is_in(source_keys[start : start + BATCH])
        )
        found.update({row["source_key"]: row["analysed_hash"] for row in rows})
    return found


async def _write(work: list[_Work], now: datetime) -> dict[Key, Ingested]:
    """Store the copies and tags of a set, then route it. Runs inside one transaction."""
    # One order for every writer (no deadlock between twins), which is also the order sources were saved in.
    work = sorted(work, key=lambda w: (SOURCES.index(w.snapshot.source), w.snapshot.source_id))
    tagged = [w for w in work if w.found is not None]
    untouched = [w for w in work if w.found is None]
    ids: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(tagged):
        ids.update(await _upsert(chunk, now, tagged=True))
    for chunk in _chunks(untouched):
        ids.update(await _upsert(chunk, now, tagged=False))
    await _replace_auto_topics(
        [(ids[w.snapshot.key], w) for w in tagged if ids[w.snapshot.key]["topics_corrected_at"] is None]
    )
    imported = [ids[w.snapshot.key]["id"] for w in work if w.snapshot.imported]
    if imported:
        # An imported review is history, answered (if at all) in the tool it came from: it reaches no inbox and
        # notifies nobody. The stamp still tells the dashboard that its day changed.
        await FeedbackItem.update({FeedbackItem.routed_at: now}).where(FeedbackItem.id.is_in(imported))
    routed = await route_many([ids[w.snapshot.key]["id"] for w in work if not w.snapshot.imported], now)
    results: dict[Key, Ingested] = {}
    for w in work:
        feedback_id = ids[w.snapshot.key]["id"]
        done = routed.get(feedback_id)
        results[(w.snapshot.source, w.snapshot.source_id)] = Ingested(
            feedback_id, w.found is not None, done.created if done else []
        )
    return results


def _chunks(work: list[_Work]) -> list[list[_Work]]:
    return [work[start : start + WRITE_CHUNK] for start in range(0, len(work), WRITE_CHUNK)]


def _row_of(w: _Work, now: datetime, names: list[str]) -> dict[str, Any]:
    """The feedback item as it is inserted when new (by column name: a Piccolo column hashes slowly)."""
    values = copied(w.snapshot)
    values.update(source=w.snapshot.source, source_id=w.snapshot.source_id, source_key=w.snapshot.key)
    values["thread_token"] = secrets.token_urlsafe(16)[:22]
    if w.found is not None:
        values.update(tag_values(w.found, w.digest, now))
        values["label"] = w.found.label
    return {name: values[name] for name in names}


async def _upsert(work: list[_Work], now: datetime, tagged: bool) -> dict[str, dict[str, Any]]:
    """One statement for new and existing items, so a twin run cannot race it: an existing item keeps its id,
    thread token and corrections, and gets the copied columns (and, `tagged`, the tags) of the new row.
    Returns {source key: {id, topics_corrected_at}}."""
    updated = [*COPIED, *(TAGS if tagged else ())]
    names = ["source", "source_id", "source_key", "thread_token", *updated, *(["label"] if tagged else [])]
    sets = [f'"{name}" = EXCLUDED."{name}"' for name in updated]
    if tagged:  # a person's label wins over the analyser's (correct_label); the analyser's is kept beside it
        sets.append(
            '"label" = CASE WHEN "feedback_item"."label_corrected_at" IS NULL THEN EXCLUDED."label" '
            'ELSE "feedback_item"."label" END'
        )
    upserted = await insert_rows(
        FeedbackItem,
        [_row_of(w, now, names) for w in work],
        on_conflict=f'ON CONFLICT ("source_key") DO UPDATE SET {", ".join(sets)}',
        returning=("id", "source_key", "topics_corrected_at"),
    )
    return {row["source_key"]: row for row in upserted}


async def _replace_auto_topics(items: list[tuple[dict[str, Any], _Work]]) -> None:
    """The analyser's topics of these items (none of them corrected by a person), replacing the earlier ones."""
    if not items:
        return
    for start in range(0, len(items), WRITE_CHUNK):
        await FeedbackTopic.delete().where(
            FeedbackTopic.feedback.is_in([item["id"] for item, _ in items[start : start + WRITE_CHUNK]])
        )
    rows = [
        {
            "feedback": item["id"],
            "topic": t.topic,
            "phrase": t.phrase,
            "polarity": t.polarity,
            "origin": "auto",
            "created_at": w.snapshot.created_at,
        }
        for item, w in items
        if w.found is not None
        for t in topics_of(w.found)
    ]
    for start in range(0, len(rows), WRITE_CHUNK):
        await insert_rows(FeedbackTopic, rows[start : start + WRITE_CHUNK])
