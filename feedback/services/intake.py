"""Feedback in: copy a source row into its feedback item, tag it, route it. Runs in a worker, never in a request.

Every step is safe to repeat: the copy is an upsert on the source key, tagging is skipped when nothing it depends
on changed, and routing only adds what is missing."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from afterglow.failures import skip_bad_row
from feedback.services.learning import active_model
from feedback.services.routing import route
from feedback.services.sources import SOURCES, Snapshot, UnknownSource, read_source, source_key
from feedback.services.tagging import analyse_snapshot, analysed_hash, store_tags
from feedback.services.topic_settings import current_topics
from feedback.tables import FeedbackItem, Suggestion
from reviews.tables import Review
from surveys.tables import Response


@dataclass
class Ingested:
    feedback_id: int | None  # None: the source is gone
    tagged: bool = False
    new_inbox_items: list[int] = field(default_factory=list)


def _copied(snapshot: Snapshot) -> dict[Any, Any]:
    return {
        FeedbackItem.kind: snapshot.kind,
        FeedbackItem.customer: snapshot.customer,
        FeedbackItem.order: snapshot.order,
        FeedbackItem.email: snapshot.email,
        FeedbackItem.name: snapshot.name[:200],
        FeedbackItem.csat: snapshot.csat,
        FeedbackItem.nps: snapshot.nps,
        FeedbackItem.rating: snapshot.rating,
        FeedbackItem.title: snapshot.title[:150],
        FeedbackItem.text: snapshot.text,
        FeedbackItem.locale: snapshot.locale[:16],
        FeedbackItem.channel: snapshot.channel[:64],
        FeedbackItem.categories: list(snapshot.categories),
        FeedbackItem.sku: snapshot.sku,
        FeedbackItem.product_name: snapshot.product_name,
        FeedbackItem.agent: snapshot.agent,
        FeedbackItem.created_at: snapshot.created_at,
        FeedbackItem.updated_at: snapshot.updated_at,
    }


async def upsert_item(snapshot: Snapshot) -> tuple[int, str]:
    """The feedback item for this source, created or brought up to date; returns its id and its analysed hash."""
    values = _copied(snapshot)
    row = FeedbackItem(
        source=snapshot.source,
        source_id=snapshot.source_id,
        source_key=snapshot.key,
        thread_token=secrets.token_urlsafe(16)[:22],
    )
    for column, value in values.items():
        setattr(row, column._meta.name, value)
    # One statement for both cases, so a twin run cannot race it: an existing item keeps its id, thread token and
    # tags, and returns the hash its tags were made from ("" for a new item).
    upserted = (
        await FeedbackItem.insert(row)
        .on_conflict(target=FeedbackItem.source_key, action="DO UPDATE", values=list(values))
        .returning(FeedbackItem.id, FeedbackItem.analysed_hash)
    )
    return int(upserted[0]["id"]), upserted[0]["analysed_hash"]


def _one_connection() -> contextlib.AbstractAsyncContextManager[Any]:
    """A transaction, so that a step's queries share one connection: on SQLite every query outside one opens a
    connection and a thread of its own. SQLite's takes the write lock up front (IMMEDIATE), so a twin worker waits
    for it (busy timeout) instead of failing to upgrade a read lock."""
    db = FeedbackItem._meta.db
    if isinstance(db, SQLiteEngine):
        return db.transaction(transaction_type=TransactionType.immediate)
    return db.transaction()


def _routing_step() -> contextlib.AbstractAsyncContextManager[Any]:
    """Storing tags and routing share one SQLite transaction. Not on PostgreSQL: there, the insert that loses a
    race for an inbox item (which routing expects and skips) would abort the whole transaction."""
    return _one_connection() if isinstance(FeedbackItem._meta.db, SQLiteEngine) else contextlib.nullcontext()


async def ingest(source: str, source_id: int, now: datetime, *, retag: bool = False) -> Ingested:
    """Copy, tag (when the text, score or analyser changed, or `retag`) and route one piece of feedback."""
    try:
        async with _one_connection():
            snapshot = await read_source(source, source_id)
            feedback_id, stored_hash = await upsert_item(snapshot)
    except UnknownSource:
        return Ingested(None)
    model = await active_model()
    await current_topics()  # the topics as saved now: a change applies from the next item on
    digest = analysed_hash(snapshot, model.version if model else 0)
    tagged = retag or digest != stored_hash
    found = analyse_snapshot(snapshot, model) if tagged else None  # outside any transaction: no lock held meanwhile
    async with _routing_step():
        if found is not None:
            await store_tags(feedback_id, found, digest, now)
        if snapshot.imported:
            # An imported review is history, answered (if at all) in the tool it came from: it reaches no inbox
            # and notifies nobody. The stamp still tells the dashboard that its day changed.
            await FeedbackItem.update({FeedbackItem.routed_at: now}).where(FeedbackItem.id == feedback_id)
            return Ingested(feedback_id, tagged)
        routed = await route(feedback_id, now)
    return Ingested(feedback_id, tagged, routed.created)


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


async def ingest_pending(now: datetime | None = None, limit: int = 1000) -> list[Ingested]:
    """Catch up on every source whose announcement was lost (broker down, worker killed). A source that fails
    is recorded as a task failure and skipped; the others are ingested."""
    now = now or datetime.now(UTC)
    results = []
    for source, source_id in await pending_sources(now, limit):
        async with skip_bad_row("feedback.ingest_pending", f"{source} {source_id}", now):
            results.append(await ingest(source, source_id, now))
    return results


async def reanalyse(
    now: datetime,
    *,
    on_progress: Callable[[int, int], None] | None = None,
    batch: int = 500,
    after_batch: Callable[[], Awaitable[None]] | None = None,
) -> dict[str, int]:
    """Re-tag every feedback item (after a change to the analyser or the topic keywords) and route it again;
    corrections made by people stay. Returns how many were re-tagged, how many labels changed, and how many
    items were left as they were because their source is gone."""
    total = await FeedbackItem.count()
    done = reanalysed = changed = gone = 0
    last_id = 0
    while True:
        rows = (
            await FeedbackItem.select(FeedbackItem.id, FeedbackItem.source, FeedbackItem.source_id, FeedbackItem.label)
            .where(FeedbackItem.id > last_id)
            .order_by(FeedbackItem.id)
            .limit(batch)
        )
        if not rows:
            break
        for row in rows:
            result = await ingest(row["source"], row["source_id"], now, retag=True)
            reanalysed += result.feedback_id is not None
            gone += result.feedback_id is None
            done += 1
            if on_progress:
                on_progress(done, total)
        labels = await FeedbackItem.select(FeedbackItem.id, FeedbackItem.label).where(
            FeedbackItem.id.is_in([row["id"] for row in rows])
        )
        after = {item["id"]: item["label"] for item in labels}
        changed += sum(1 for row in rows if row["id"] in after and after[row["id"]] != row["label"])
        last_id = rows[-1]["id"]
        if after_batch:
            await after_batch()
    return {"reanalysed": reanalysed, "labels_changed": changed, "sources_gone": gone}


__all__ = ["SOURCES", "Ingested", "ingest", "ingest_pending", "pending_sources", "reanalyse", "upsert_item"]
