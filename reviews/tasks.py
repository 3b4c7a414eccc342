"""Celery entry points for reviews: thin wrappers over the services."""

from __future__ import annotations

import asyncio
from datetime import datetime

from afterglow.celery_app import MAIL_RETRY, celery_app, publish, run_async, task_now
from afterglow.failures import skip_bad_row
from afterglow.overrides import current_settings, with_settings
from reviews.services.rejection_email import send_rejection_email, unsent_rejections


@celery_app.task(
    name="reviews.send_rejection",
    **MAIL_RETRY,
)
def send_rejection(review_id: int, now_iso: str | None = None) -> str:
    """Email the customer why their review was not published. Safe to run twice: the second finds it sent."""
    return run_async(with_settings(lambda s: send_rejection_email(review_id, task_now(now_iso), s)))


@celery_app.task(name="reviews.send_pending_rejections")
def send_pending_rejections(now_iso: str | None = None) -> dict[str, int]:
    """Beat pass: send the rejection emails that were never queued or got lost. Safe to run twice."""
    now = task_now(now_iso)

    async def catch_up() -> dict[str, int]:
        settings = await current_settings()
        outcomes: dict[str, int] = {}
        for review_id in await unsent_rejections(now, settings):
            outcome = "failed"  # a bad review: recorded as a task failure, and the pass goes on
            async with skip_bad_row("reviews.send_pending_rejections", f"review {review_id}", now):
                outcome = await send_rejection_email(review_id, now, settings)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return outcomes

    return run_async(catch_up())


async def queue_rejection_email(review_id: int, now: datetime) -> bool:
    """Hand the rejection email to the worker; False when the broker cannot be reached (the rejection stands,
    and the `reviews.send_pending_rejections` beat pass sends the email once the broker is back)."""
    return await asyncio.to_thread(publish, send_rejection, review_id, now.isoformat())
