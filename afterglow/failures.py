"""Task failures as admins see them: what is retrying, what gave up (dead letters), and sending one again.

Celery signals (afterglow.celery_app) record every retry and every final failure of any task; all our tasks are
safe to run twice, so a dead letter can be requeued as it was."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.tables import TaskFailure

ERROR_MAX = 1000


class UnknownFailure(LookupError):
    """No dead letter with this id (or it was requeued already)."""


def _error(exc: BaseException | str) -> str:
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return text[:ERROR_MAX]


async def record_failure(
    task_id: str,
    task_name: str,
    args: list[Any],
    kwargs: dict[str, Any],
    error: BaseException | str,
    now: datetime,
    *,
    next_retry_at: datetime | None,
) -> None:
    """Note a failed run: `next_retry_at` set means Celery retries it then; None means it gave up (a dead letter)."""
    state = "retrying" if next_retry_at is not None else "dead"
    values = {
        TaskFailure.state: state,
        TaskFailure.error: _error(error),
        TaskFailure.next_retry_at: next_retry_at,
        TaskFailure.last_failed_at: now,
    }
    where = TaskFailure.task_id == task_id
    # A dead letter stays dead: the retry signal and the final failure may arrive in either order.
    existing = await TaskFailure.select(TaskFailure.id, TaskFailure.state).where(where).first()
    if existing is None:
        try:
            await TaskFailure.insert(
                TaskFailure(
                    task_id=task_id,
                    task_name=task_name,
                    args=list(args),
                    kwargs=dict(kwargs),
                    first_failed_at=now,
                    **{column._meta.name: value for column, value in values.items()},
                )
            )
            return
        except UNIQUE_VIOLATIONS:
            pass
    await TaskFailure.update({**values, TaskFailure.attempts: TaskFailure.attempts + 1}).where(
        where & (TaskFailure.state == "retrying")
    )


async def record_success(task_id: str) -> None:
    """A task that had failed before has now run through."""
    await TaskFailure.update({TaskFailure.state: "recovered", TaskFailure.next_retry_at: None}).where(
        (TaskFailure.task_id == task_id) & (TaskFailure.state == "retrying")
    )


async def failures(states: tuple[str, ...] = ("dead", "retrying"), limit: int = 200) -> list[dict[str, Any]]:
    """Dead letters and tasks now retrying, most recent first."""
    return (
        await TaskFailure.select()
        .where(TaskFailure.state.is_in(list(states)))
        .order_by(TaskFailure.last_failed_at, ascending=False)
        .limit(limit)
        .output(load_json=True)
    )


async def requeue(
    failure_id: int, send: Callable[[str, list[Any], dict[str, Any]], None], by: str, now: datetime
) -> str:
    """Send a dead letter's task again with its arguments (`send` publishes it); returns the task name."""
    claimed = (
        await TaskFailure.update(
            {TaskFailure.state: "requeued", TaskFailure.requeued_at: now, TaskFailure.requeued_by: by}
        )
        .where((TaskFailure.id == failure_id) & (TaskFailure.state == "dead"))
        .returning(TaskFailure.task_name, TaskFailure.args, TaskFailure.kwargs)
    )
    if not claimed:
        raise UnknownFailure(failure_id)
    row = claimed[0]
    # `returning` hands JSON back as text.
    args, kwargs = (json.loads(v) if isinstance(v, str) else v for v in (row["args"], row["kwargs"]))
    try:
        send(row["task_name"], args, kwargs)
    except Exception:
        await TaskFailure.update({TaskFailure.state: "dead", TaskFailure.requeued_at: None}).where(
            TaskFailure.id == failure_id
        )
        raise
    return str(row["task_name"])
