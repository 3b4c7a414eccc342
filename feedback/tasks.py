"""Celery entry points for feedback: intake (tag and route), and the beat pass that catches up on lost work."""

from __future__ import annotations

from afterglow.celery_app import celery_app, run_async, task_now
from feedback.services.intake import Ingested, ingest, ingest_pending


def _report(result: Ingested) -> dict[str, object]:
    return {"feedback": result.feedback_id, "tagged": result.tagged, "new_inbox_items": result.new_inbox_items}


@celery_app.task(name="feedback.ingest")
def ingest_source(source: str, source_id: int, now_iso: str | None = None) -> dict[str, object]:
    """Copy, tag and route one piece of feedback after its source was saved. Safe to run twice."""
    return _report(run_async(ingest(source, source_id, task_now(now_iso))))


@celery_app.task(name="feedback.ingest_pending")
def pending(now_iso: str | None = None) -> int:
    """Beat pass (every five minutes): everything saved whose announcement never arrived, or changed since."""
    return len(run_async(ingest_pending(task_now(now_iso))))
