"""Celery entry points for the survey loop: thin wrappers over the services."""

from __future__ import annotations

from afterglow.celery_app import MAIL_RETRY, celery_app, run_async, task_now
from afterglow.overrides import with_settings
from surveys.services.dispatch import dispatch_due, send_claimed


@celery_app.task(name="surveys.dispatch")
def dispatch(now_iso: str | None = None) -> dict[str, object]:
    """One scheduler pass (beat runs it every minute). `now_iso` lets operators and tests pick the moment."""

    def enqueue(invitation_id: int, purpose: str) -> None:
        send.delay(invitation_id, purpose, now_iso)

    report = run_async(with_settings(lambda s: dispatch_due(task_now(now_iso), s, enqueue)))
    return report.as_dict()


@celery_app.task(
    name="surveys.send",
    **MAIL_RETRY,
)
def send(invitation_id: int, purpose: str, now_iso: str | None = None) -> str:
    """Send one claimed invitation or reminder. Safe to run twice: the second finds it sent."""
    return run_async(with_settings(lambda s: send_claimed(invitation_id, purpose, task_now(now_iso), s)))
