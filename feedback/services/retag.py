"""Re-tagging all feedback from the topics page: `intake.reanalyse` as a background job, its progress stored in
the database (`topic_settings.job`) for the page's progress bar."""

from __future__ import annotations

from datetime import UTC, datetime

from feedback.services.intake import reanalyse
from feedback.services.topic_settings import current_topics, record_job
from feedback.tables import FeedbackItem

#: The job re-tags in batches of this many items and writes its progress after each (and at the end).
PROGRESS_EVERY = 200


async def run_retag(now: datetime) -> dict[str, int]:
    """Re-tag all feedback (`intake.reanalyse`), storing the progress as it goes."""
    latest: list[tuple[int, int]] = []

    def note(done: int, total: int) -> None:
        latest[:] = [(done, total)]

    async def flush(state: str, summary: dict[str, int] | None = None) -> None:
        done, total = latest[0] if latest else (0, await FeedbackItem.count())
        at = datetime.now(UTC).isoformat()  # when the job last wrote: a silent one has stopped
        await record_job({"state": state, "done": done, "total": total, "summary": summary or {}, "at": at}, "", now)

    await current_topics()
    await flush("running")
    try:
        summary = await reanalyse(now, on_progress=note, batch=PROGRESS_EVERY, after_batch=lambda: flush("running"))
    except Exception:
        await flush("failed")
        raise
    await flush("done", summary)
    return summary
