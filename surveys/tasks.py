"""Celery entry points for the survey loop: thin wrappers over the services."""

from __future__ import annotations

import asyncio
import logging

from kombu.exceptions import OperationalError

from afterglow.celery_app import MAIL_RETRY, celery_app, task_now
from afterglow.settings import get_settings
from surveys.services.dispatch import dispatch_due, send_claimed

logger = logging.getLogger(__name__)


@celery_app.task(name="surveys.dispatch")
def dispatch(now_iso: str | None = None) -> dict[str, object]:
    """One scheduler pass (beat runs it every minute). `now_iso` lets operators and tests pick the moment."""

    def enqueue(invitation_id: int, purpose: str) -> None:
        send.delay(invitation_id, purpose, now_iso)

    report = asyncio.run(dispatch_due(task_now(now_iso), get_settings(), enqueue))
    return report.as_dict()


@celery_app.task(
    name="surveys.send",
    **MAIL_RETRY,
)
def send(invitation_id: int, purpose: str, now_iso: str | None = None) -> str:
    """Send one claimed invitation or reminder. Safe to run twice: the second finds it sent."""
    return asyncio.run(send_claimed(invitation_id, purpose, task_now(now_iso), get_settings()))


def announce_response(response_id: int) -> None:
    """Tell whoever listens (feedback analysis) that a response with text was saved. Sent by name:
    surveys does not import feedback. A broker outage loses nothing: feedback's periodic pass picks up
    every response it has not analysed yet."""
    try:
        celery_app.send_task("feedback.analyse_response", args=[response_id], retry=False)
    except (OperationalError, OSError) as exc:
        logger.warning("could not announce response %s (broker unreachable: %s)", response_id, exc)
