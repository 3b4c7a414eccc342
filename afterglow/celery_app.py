"""The Celery app. Redis in production; kombu's filesystem transport (no server) in the embedded default."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, signals
from kombu.exceptions import OperationalError

from afterglow import failures, logs
from afterglow.mail import MailNotSent
from afterglow.settings import Settings, get_settings

logger = logging.getLogger(__name__)

#: Sending an email: SMTP failures retry with exponential backoff and jitter, for about half an hour in all.
MAIL_RETRY: dict[str, object] = {
    "autoretry_for": (MailNotSent,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}


def task_now(now_iso: str | None) -> datetime:
    """A task's moment: the one it was given (operators and tests pick it), else the clock."""
    return datetime.fromisoformat(now_iso) if now_iso else datetime.now(UTC)


def announce_feedback(source: str, source_id: int) -> None:
    """Tell feedback intake that a survey response, review or suggestion was saved. Sent by task name, so the
    sources never import feedback. A broker outage loses nothing: intake's beat pass picks up what it missed."""
    try:
        celery_app.send_task("feedback.ingest", args=[source, source_id], retry=False)
    except (OperationalError, OSError) as exc:
        logger.warning("could not announce %s %s to feedback intake (broker unreachable: %s)", source, source_id, exc)


def broker_options(settings: Settings) -> tuple[str, dict[str, object]]:
    if settings.broker_url:
        # Short visibility timeout is harmless: no task is ever scheduled ahead (the database holds due times).
        return settings.broker_url, {"visibility_timeout": 3600}
    folder = settings.broker_folder
    (folder / "queue").mkdir(parents=True, exist_ok=True)
    (folder / "processed").mkdir(parents=True, exist_ok=True)
    (folder / "control").mkdir(parents=True, exist_ok=True)
    return "filesystem://", {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "processed_folder": str(folder / "processed"),
        "control_folder": str(folder / "control"),
        "store_processed": False,
    }


def create_celery(settings: Settings | None = None) -> Celery:
    settings = settings or get_settings()
    url, options = broker_options(settings)
    app = Celery("afterglow", broker=url, include=["surveys.tasks", "reviews.tasks", "feedback.tasks"])
    app.conf.update(
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule={
            "dispatch-invitations": {"task": "surveys.dispatch", "schedule": 60.0},
            "ingest-pending-feedback": {"task": "feedback.ingest_pending", "schedule": 300.0},
            "send-pending-rejection-emails": {"task": "reviews.send_pending_rejections", "schedule": 300.0},
        },
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
    )
    return app


celery_app = create_celery()


@signals.setup_logging.connect
def _configure_logging(**_: object) -> None:
    """Workers and beat log like the web process (JSON lines in production) instead of Celery's own format."""
    logs.configure(get_settings())


@signals.before_task_publish.connect
def _carry_request_id(headers: dict[str, object] | None = None, **_: object) -> None:
    if headers is not None and (request_id := logs.REQUEST_ID.get()):
        headers[logs.REQUEST_HEADER] = request_id


@signals.task_prerun.connect
def _task_started(task_id: str | None = None, task: object = None, **_: object) -> None:
    logs.TASK_ID.set(task_id or "")
    logs.TASK_NAME.set(getattr(task, "name", ""))
    request = getattr(task, "request", None)
    logs.REQUEST_ID.set(str(request.get(logs.REQUEST_HEADER) or "") if request is not None else "")


@signals.task_postrun.connect
def _task_finished(**_: object) -> None:
    for var in (logs.TASK_ID, logs.TASK_NAME, logs.REQUEST_ID):
        var.set("")


def _note(record: Any) -> None:
    """Run a failure-log write from a signal; the log must never take a worker down."""
    try:
        asyncio.run(record)
    except Exception:
        logger.exception("could not record a task failure")


@signals.task_retry.connect
def _task_retrying(request: Any = None, reason: Any = None, **_: object) -> None:
    if request is None:
        return
    now = datetime.now(UTC)
    when = getattr(reason, "when", None)
    if isinstance(when, datetime):
        next_at = when if when.tzinfo else when.replace(tzinfo=UTC)
    else:
        next_at = now + timedelta(seconds=float(when or 0))
    error = getattr(reason, "exc", None) or reason or "retry"
    _note(
        failures.record_failure(
            request.id, request.task, request.args, request.kwargs, error, now, next_retry_at=next_at
        )
    )


@signals.task_failure.connect
def _task_gave_up(
    sender: Any = None, task_id: str | None = None, exception: BaseException | None = None, **extra: Any
) -> None:
    name = getattr(sender, "name", "unknown")
    args, kwargs = extra.get("args") or [], extra.get("kwargs") or {}
    _note(
        failures.record_failure(
            task_id or "", name, list(args), dict(kwargs), exception or "failed", datetime.now(UTC), next_retry_at=None
        )
    )


@signals.task_success.connect
def _task_succeeded(sender: Any = None, **_: object) -> None:
    request = getattr(sender, "request", None)
    if request is not None and request.retries:  # only a task that failed before can have a record
        _note(failures.record_success(request.id))
