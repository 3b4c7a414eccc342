"""Celery entry points for feedback: intake (tag and route), team notifications (urgent emails, daily digests,
outgoing webhooks), and the beat passes that catch up on lost work."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from celery import Task

from afterglow.celery_app import MAIL_RETRY, celery_app, publish, run_async, task_now
from afterglow.mail import MailNotSent
from afterglow.overrides import with_settings
from afterglow.settings import get_settings
from feedback.dashboard.digest import claim_due_digests, send_manager_digest
from feedback.dashboard.rollup import sweep as sweep_rollup
from feedback.services.digests import send_team_digests
from feedback.services.intake import Ingested, ingest_announced, ingest_pending
from feedback.services.learning import learn_when_due
from feedback.services.notifications import notify_unnotified, send_urgent_notification, urgent_team_items
from feedback.services.replies import mark_failed, send_reply, send_unsent_replies
from feedback.services.retag import run_retag
from feedback.services.webhooks import deliver_due, deliver_now, queue_item_webhooks


def _report(results: list[Ingested]) -> dict[str, object]:
    return {
        "feedback": len([r for r in results if r.feedback_id is not None]),
        "tagged": sum(r.tagged for r in results),
        "new_inbox_items": sum(len(r.new_inbox_items) for r in results),
    }


@celery_app.task(name="feedback.ingest")
def ingest_source(
    source: str, source_id: int, now_iso: str | None = None, more: list[list[Any]] | None = None
) -> dict[str, object]:
    """Copy, tag and route a piece of feedback after its source was saved (with `more`: [source, id] pairs a web
    process announced together), with whatever else is pending (one batch), and tell the teams it reached. Does
    nothing when they are current already (a batch took them along). Safe to run twice: the second run creates no
    inbox items, so it notifies nobody again."""
    now = task_now(now_iso)
    results = run_async(ingest_announced(source, source_id, now, more=[(s, i) for s, i in more or []]))
    queue_notifications([item for result in results for item in result.new_inbox_items], now)
    return _report(results)


@celery_app.task(name="feedback.ingest_pending")
def pending(now_iso: str | None = None) -> int:
    """Beat pass (every five minutes): everything saved whose announcement never arrived, or changed since."""
    now = task_now(now_iso)
    results = run_async(ingest_pending(now))
    queue_notifications([item for result in results for item in result.new_inbox_items], now)
    return len(results)


# Team notifications -----------------------------------------------------------------------------------------------


def queue_notifications(inbox_item_ids: list[int], now: datetime) -> None:
    """Hand new inbox items to the notifiers: an email task per urgent team item; a webhook delivery row per
    item of a team with a webhook, and its first attempt. A broker outage loses nothing: the beat passes find
    urgent items nobody was told about and due deliveries in the database."""
    if not inbox_item_ids:
        return

    async def hand_over() -> tuple[list[int], list[int]]:
        urgent = await urgent_team_items(inbox_item_ids)
        return urgent, await queue_item_webhooks(inbox_item_ids, now, get_settings())

    urgent, deliveries = run_async(hand_over())
    for item_id in urgent:
        publish(notify_urgent, item_id, now.isoformat())
    for delivery_id in deliveries:
        publish(deliver_webhook, delivery_id, now.isoformat())


@celery_app.task(name="feedback.notify_urgent", **MAIL_RETRY)
def notify_urgent(inbox_item_id: int, now_iso: str | None = None) -> str:
    """Email the team about an urgent inbox item. Safe to run twice: the mail log and notified_at say it went."""
    return run_async(with_settings(lambda s: send_urgent_notification(inbox_item_id, task_now(now_iso), s)))


@celery_app.task(name="feedback.notify_pending")
def notify_pending(now_iso: str | None = None) -> dict[str, int]:
    """Beat pass (every five minutes): urgent items of the last day that nobody was told about."""
    return run_async(with_settings(lambda s: notify_unnotified(task_now(now_iso), s)))


@celery_app.task(name="feedback.team_digests")
def team_digests(now_iso: str | None = None) -> dict[str, int]:
    """Beat pass (every five minutes): each team's daily digest once its local hour has come. Safe to run twice."""
    return run_async(with_settings(lambda s: send_team_digests(task_now(now_iso), s)))


@celery_app.task(name="feedback.deliver_webhook")
def deliver_webhook(delivery_id: int, now_iso: str | None = None) -> str:
    """The first attempt at a webhook delivery, right after routing; claimed like the pass's, so never doubled."""
    return run_async(with_settings(lambda s: deliver_now(delivery_id, task_now(now_iso), s)))


@celery_app.task(name="feedback.deliver_webhooks")
def deliver_webhooks(now_iso: str | None = None) -> dict[str, int]:
    """Beat pass (every minute): claim and attempt every due webhook delivery; retries live in the database."""
    return run_async(with_settings(lambda s: deliver_due(task_now(now_iso), s)))


# Replies to customers ---------------------------------------------------------------------------------------------


class _ReplyTask(Task):  # type: ignore[misc]
    def on_failure(self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any) -> None:
        """SMTP refused every retry: the thread shows the reply as failed (a requeued run may still send it)."""
        if isinstance(exc, MailNotSent) and args:
            run_async(mark_failed(int(args[0])))


@celery_app.task(name="feedback.send_reply", base=_ReplyTask, **MAIL_RETRY)
def send_reply_task(entry_id: int, now_iso: str | None = None) -> str:
    """Email a staff reply to the customer. Safe to run twice: the mail log says it went."""
    return run_async(with_settings(lambda s: send_reply(entry_id, task_now(now_iso), s)))


@celery_app.task(name="feedback.send_pending_replies")
def send_pending_replies(now_iso: str | None = None) -> dict[str, int]:
    """Beat pass (every minute): replies still queued whose task was lost. Safe to run twice."""
    return run_async(with_settings(lambda s: send_unsent_replies(task_now(now_iso), s)))


async def queue_reply(entry_id: int, now: datetime) -> bool:
    """Hand a reply to the worker; False when the broker cannot be reached (the reply stays queued and the
    `feedback.send_pending_replies` pass sends it)."""
    return await asyncio.to_thread(publish, send_reply_task, entry_id, now.isoformat())


# Dashboard --------------------------------------------------------------------------------------------------------


@celery_app.task(name="feedback.dashboard_sweep")
def dashboard_sweep(now_iso: str | None = None) -> dict[str, int | str]:
    """Beat pass (every minute): recompute the dashboard rollup for the days whose feedback or invitations changed.
    Safe to run twice: a pass that finds another running does nothing, and a day is recomputed whole."""
    return run_async(with_settings(lambda s: sweep_rollup(task_now(now_iso), s.shop_timezone)))


@celery_app.task(name="feedback.weekly_digests")
def weekly_digests(now_iso: str | None = None) -> int:
    """Beat pass (every 15 minutes): claim the weekly digests that are due and queue one email task for each."""
    now = task_now(now_iso)
    claimed = run_async(with_settings(lambda s: claim_due_digests(now, s.shop_timezone)))
    for digest_id in claimed:
        publish(send_weekly_digest, digest_id, now.isoformat())
    return len(claimed)


@celery_app.task(name="feedback.send_weekly_digest", **MAIL_RETRY)
def send_weekly_digest(digest_id: int, now_iso: str | None = None) -> str:
    """Email one manager's weekly digest. Safe to run twice: the mail log says it went."""
    return run_async(with_settings(lambda s: send_manager_digest(digest_id, task_now(now_iso), s)))


# The learned sentiment model ---------------------------------------------------------------------------------------


@celery_app.task(name="feedback.learn")
def learn_sentiment(now_iso: str | None = None) -> dict[str, Any] | None:
    """Beat pass (every 15 minutes): learn a new version of the shop's sentiment model once enough new scored texts
    arrived since the last one (the database counts them); None when not yet. Safe to run twice: the second run
    finds nothing new."""
    learned = run_async(learn_when_due(task_now(now_iso)))
    return learned.as_dict() if learned else None


# Re-tagging after a change to the topics -------------------------------------------------------------------------


@celery_app.task(name="feedback.retag")
def retag_all(now_iso: str | None = None) -> dict[str, int]:
    """Re-tag all feedback with the topics in effect now (started from the admin's topics page), storing the
    progress for its progress bar. Safe to run twice: re-tagging gives the same tags."""
    return run_async(run_retag(task_now(now_iso)))
