"""Celery entry points for the survey loop: thin wrappers over the services."""

from __future__ import annotations

from afterglow.celery_app import celery_app, run_async, task_now
from afterglow.overrides import with_settings
from surveys.services import sending
from surveys.services.dispatch import dispatch_due


@celery_app.task(name="surveys.dispatch")
def dispatch(now_iso: str | None = None) -> dict[str, object]:
    """One scheduler pass (beat runs it every minute). `now_iso` lets operators and tests pick the moment. The
    claimed sends go out as batch tasks, a batch each."""

    def enqueue_batch(invitation_ids: list[int], purpose: str) -> None:
        send_batch.delay(invitation_ids, purpose, now_iso)

    report = run_async(with_settings(lambda s: dispatch_due(task_now(now_iso), s, enqueue_batch=enqueue_batch)))
    return report.as_dict()


@celery_app.task(name="surveys.send_batch")
def send_batch(invitation_ids: list[int], purpose: str, now_iso: str | None = None) -> dict[str, int]:
    """Send a batch of claimed invitations or reminders over a few SMTP connections. Safe to run twice (a redelivery):
    what the mail log has is not sent again. Not retried by Celery: what could not be handed over is due again,
    and the next pass claims it."""
    report = run_async(with_settings(lambda s: sending.send_batch(invitation_ids, purpose, task_now(now_iso), s)))
    return report.as_dict()
