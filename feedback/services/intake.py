"""Feedback in: copy a source row into its feedback item, tag it, route it. Runs in a worker, never in a request.

Every step is safe to repeat: the copy is an upsert on the source key, tagging is skipped when nothing it depends
on changed, and routing only adds what is missing."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from afterglow.db import UNIQUE_VIOLATIONS
from feedback.services.routing import route
from feedback.services.sources import SOURCES, Snapshot, UnknownSource, read_source, source_key
from feedback.services.tagging import analyse_snapshot, analysed_hash, store_tags
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
    where = FeedbackItem.source_key == snapshot.key
    found = await FeedbackItem.select(FeedbackItem.id, FeedbackItem.analysed_hash).where(where).first()
    if found is None:
        row = FeedbackItem(
            source=snapshot.source,
            source_id=snapshot.source_id,
            source_key=snapshot.key,
            thread_token=secrets.token_urlsafe(16)[:22],
        )
        for column, value in values.items():
            setattr(row, column._meta.name, value)
        try:
            inserted = await FeedbackItem.insert(row).returning(FeedbackItem.id)
            return int(inserted[0]["id"]), ""
        except UNIQUE_VIOLATIONS:  # a twin run inserted it first
            found = await FeedbackItem.select(FeedbackItem.id, FeedbackItem.analysed_hash).where(where).first()
            assert found is not None
    await FeedbackItem.update(values).where(FeedbackItem.id == found["id"])
    return int(found["id"]), found["analysed_hash"]


async def ingest(source: str, source_id: int, now: datetime, *, retag: bool = False) -> Ingested:
    """Copy, tag (when the text, score or analyser changed, or `retag`) and route one piece of feedback."""
    try:
        snapshot = await read_source(source, source_id)
    except UnknownSource:
        return Ingested(None)
    feedback_id, stored_hash = await upsert_item(snapshot)
    digest = analysed_hash(snapshot)
    tagged = retag or digest != stored_hash
    if tagged:
        await store_tags(feedback_id, analyse_snapshot(snapshot), digest, now)
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
    """Catch up on every source whose announcement was lost (broker down, worker killed)."""
    now = now or datetime.now(UTC)
    return [await ingest(source, source_id, now) for source, source_id in await pending_sources(now, limit)]


async def reanalyse(
    now: datetime, *, on_progress: Callable[[int, int], None] | None = None, batch: int = 500
) -> dict[str, int]:
    """Re-tag every feedback item (after a change to the analyser or the topic keywords) and route it again;
    corrections made by people stay. Returns how many were re-tagged and how many labels changed."""
    total = await FeedbackItem.count()
    done = changed = 0
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
            await ingest(row["source"], row["source_id"], now, retag=True)
            after = await FeedbackItem.select(FeedbackItem.label).where(FeedbackItem.id == row["id"]).first()
            changed += after is not None and after["label"] != row["label"]
            done += 1
            if on_progress:
                on_progress(done, total)
        last_id = rows[-1]["id"]
    return {"reanalysed": done, "labels_changed": changed}


__all__ = ["SOURCES", "Ingested", "ingest", "ingest_pending", "pending_sources", "reanalyse", "upsert_item"]
