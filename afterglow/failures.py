"""Task failures as admins see them: what is retrying, what gave up (dead letters), and sending one again.

Celery signals (afterglow.celery_app) record every retry and every final failure of any task; all our tasks are
safe to run twice, so a dead letter can be requeued as it was. A scheduler pass that trips over one bad row records
that row here too (`skip_bad_row`) and goes on with the others; sending it again runs the pass again."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kombu.exceptions import OperationalError as BrokerUnavailable

from afterglow.db import DATABASE_UNAVAILABLE, UNIQUE_VIOLATIONS
from afterglow.mail import MailNotSent
from afterglow.tables import TaskFailure

logger = logging.getLogger(__name__)

#: Trouble that is no row's fault: it stops the whole pass, and the next pass (or Celery's retry) goes on.
PASS_STOPPERS: tuple[type[BaseException], ...] = (*DATABASE_UNAVAILABLE, MailNotSent, BrokerUnavailable)

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


def row_task_id(task_name: str, row: str) -> str:
    """The record of a row's failures in a pass (`record_row_failure`)."""
    return f"{task_name}:{row}"[:64]


async def record_row_failure(
    task_name: str, row: str, error: BaseException | str, now: datetime, *, retry_at: datetime | None = None
) -> None:
    """Note a row that a scheduler pass skipped, as a dead letter naming the task and the row. The same row failing
    again updates its record; sending it again runs the pass (no arguments) again. Given `retry_at`, the pass
    itself tries again then: the record says retrying until `record_success(row_task_id(...))`."""
    task_id = row_task_id(task_name, row)
    values = {
        TaskFailure.state: "retrying" if retry_at else "dead",
        TaskFailure.error: _error(f"{row}: {_error(error)}"),
        TaskFailure.next_retry_at: retry_at,
        TaskFailure.last_failed_at: now,
    }
    if not await TaskFailure.exists().where(TaskFailure.task_id == task_id):
        try:
            await TaskFailure.insert(
                TaskFailure(
                    task_id=task_id,
                    task_name=task_name,
                    args=[],
                    kwargs={},
                    first_failed_at=now,
                    **{column._meta.name: value for column, value in values.items()},
                )
            )
            return
        except UNIQUE_VIOLATIONS:
            pass
    await TaskFailure.update({**values, TaskFailure.attempts: TaskFailure.attempts + 1}).where(
        TaskFailure.task_id == task_id
    )


@dataclass
class RowRun:
    """What became of one row's work in a pass: `failed` when it was skipped."""

    failed: bool = False


@asynccontextmanager
async def skip_bad_row(task_name: str, row: str, now: datetime) -> AsyncIterator[RowRun]:
    """Wrap one row's work in a scheduler pass: an error of its own (not in PASS_STOPPERS) is logged with its
    traceback and recorded for admins, and the pass goes on with the next row. `row` names it: "invitation 42"."""
    run = RowRun()
    try:
        yield run
    except PASS_STOPPERS:
        raise
    except Exception as exc:
        run.failed = True
        logger.exception("%s skipped %s", task_name, row)
        try:
            await record_row_failure(task_name, row, exc, now)
        except PASS_STOPPERS:
            raise
        except Exception:
            logger.exception("could not record that %s skipped %s", task_name, row)


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
