"""What an erased customer leaves outside their own rows: team emails that named them, webhook payloads quoting
them, task errors with their address, reasons staff gave about their reviews, and old copies of erased rows in
the SQLite file. Called by operations.services.privacy inside the erasure's transaction (compacting: after it)."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sqlite3
from datetime import datetime
from typing import Any

from piccolo.columns import Column
from piccolo.columns.combination import Combinable, Where
from piccolo.engine.base import Engine

from accounts.tables import AuditEvent
from afterglow.db import is_postgres
from afterglow.settings import Settings
from afterglow.tables import TaskFailure
from feedback.services.notifications import item_summaries
from feedback.services.webhooks import item_payload
from feedback.tables import InboxItem, WebhookDelivery
from surveys.tables import SentEmail

logger = logging.getLogger(__name__)
ERASED_MAIL = "This email named a customer whose personal data was erased."


def _contains(column: Column, word: str) -> Where:
    """Case-insensitive on both engines (SQLite's LIKE ignores ASCII case; Piccolo warns on its ILIKE there)."""
    pattern = f"%{word}%"
    return column.ilike(pattern) if is_postgres(column._meta.table._meta.db) else column.like(pattern)


def _mentions(text: str, words: list[str]) -> bool:
    lowered = text.lower()
    return any(word.lower() in lowered for word in words)


async def clear_team_emails(email: str, inbox_items: list[int]) -> int:
    """Team emails (urgent notices, digests) that named the customer keep their Message-ID, addressee and time,
    so nothing is sent twice, but lose their content (a digest's lines about other customers go with it)."""
    words = list({email, html.escape(email)})
    named: Combinable = _contains(SentEmail.subject, email) | _contains(SentEmail.text, email)
    for word in words:
        named |= _contains(SentEmail.html, word)
    for item_id in inbox_items:
        named |= SentEmail.message_id.like(f"<notify.{item_id}.%")
    columns = (SentEmail.id, SentEmail.subject, SentEmail.text, SentEmail.html, SentEmail.message_id)
    found = [
        row["id"]
        for row in await SentEmail.select(*columns).where(named & (SentEmail.text != ERASED_MAIL))
        if _mentions(f"{row['subject']}\n{row['text']}\n{row['html']}", words)
        or any(row["message_id"].startswith(f"<notify.{item_id}.") for item_id in inbox_items)
    ]
    if found:
        await SentEmail.update({SentEmail.subject: "", SentEmail.text: ERASED_MAIL, SentEmail.html: ""}).where(
            SentEmail.id.is_in(found)
        )
    return len(found)


async def clear_webhook_payloads(inbox_items: list[int], now: datetime, settings: Settings) -> int:
    """Webhook events about the customer's items, made again from the erased feedback: scores, label and topics
    stay; the excerpt of their words goes. A delivery still pending sends the new payload."""
    if not inbox_items:
        return 0
    changed = 0
    for item in await item_summaries(InboxItem.id.is_in(inbox_items), now, settings):
        rows = (
            await WebhookDelivery.update({WebhookDelivery.payload: item_payload(item)})
            .where(WebhookDelivery.inbox_item == item.id)
            .returning(WebhookDelivery.id)
        )
        changed += len(rows)
    return changed


async def clear_task_errors(email: str, placeholder: str) -> int:
    """Errors of failed tasks (an SMTP refusal names the recipient) get the placeholder instead of the address."""
    pattern = re.compile(re.escape(email), re.IGNORECASE)
    changed = 0
    for row in await TaskFailure.select(TaskFailure.id, TaskFailure.error).where(_contains(TaskFailure.error, email)):
        cleared = pattern.sub(placeholder, row["error"])
        if cleared != row["error"]:
            await TaskFailure.update({TaskFailure.error: cleared}).where(TaskFailure.id == row["id"])
            changed += 1
    return changed


async def clear_review_reasons(review_ids: list[int]) -> None:
    """The audit log keeps that a review was rejected, not the reason written about it (it may quote it)."""
    if not review_ids:
        return
    targets = [f"review:{review_id}" for review_id in review_ids]
    query = AuditEvent.select(AuditEvent.id, AuditEvent.detail).where(
        AuditEvent.target.is_in(targets) & (AuditEvent.action == "review_rejected")
    )
    for row in await query.output(load_json=True):
        detail: dict[str, Any] = row["detail"] if isinstance(row["detail"], dict) else {}
        if detail.get("reason"):
            await AuditEvent.update({AuditEvent.detail: {**detail, "reason": ""}}).where(AuditEvent.id == row["id"])


def _compact(path: str) -> None:
    with sqlite3.connect(path, timeout=30, isolation_level=None) as conn:
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


async def compact_database(engine: Engine) -> None:
    """SQLite keeps deleted and overwritten text in free pages and the write-ahead log until they are reused:
    rebuild the file and empty the log. PostgreSQL's old row versions go with its vacuum (docs/limits.md)."""
    if engine.engine_type != "sqlite":
        return
    try:
        await asyncio.to_thread(_compact, engine.path)  # type: ignore[attr-defined]
    except sqlite3.Error:
        # The erasure is committed; old copies stay in free pages until the next erasure or `VACUUM`.
        logger.exception("erased, but the SQLite file could not be compacted")
