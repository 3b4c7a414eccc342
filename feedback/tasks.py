"""Celery entry points for understanding feedback."""

from __future__ import annotations

import asyncio

from afterglow.celery_app import celery_app
from feedback.services import analyse_pending, analyse_response


@celery_app.task(name="feedback.analyse_response")
def analyse(response_id: int) -> str:
    """Tag one response's comment; re-running it gives the same result."""
    return asyncio.run(analyse_response(response_id))


@celery_app.task(name="feedback.analyse_pending")
def pending() -> int:
    """Analyse every comment that has no analysis yet or changed since (beat, every five minutes)."""
    return asyncio.run(analyse_pending())
