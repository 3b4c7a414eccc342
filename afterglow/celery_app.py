"""The Celery app. Redis in production; kombu's filesystem transport (no server) in the embedded default."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import celery
from celery import Celery, signals
from kombu.exceptions import OperationalError

from afterglow import failures, logs
from afterglow.db import DATABASE_UNAVAILABLE
from afterglow.mail import MailNotSent
from afterglow.settings import Settings, get_settings

logger = logging.getLogger(__name__)
T = TypeVar("T")


class Task(celery.Task):  # type: ignore[misc]
    """Every task: a database that dropped the connection (restarting, or connections killed) is tried again with
    a short backoff. Every task is safe to run twice, so trying again is always safe."""

    autoretry_for = DATABASE_UNAVAILABLE
    retry_backoff = 2
    retry_backoff_max = 60
    retry_jitter = True
    max_retries = 6


#: Sending an email: SMTP failures retry with exponential backoff (5 s, 10 s, 20 s … capped) and full jitter;
#: with the defaults, for about half an hour in all. Then the task is a dead letter (afterglow.failures).
MAIL_RETRY: dict[str, object] = {
    "autoretry_for": (MailNotSent, *DATABASE_UNAVAILABLE),
    "retry_backoff": 5,
    "retry_backoff_max": get_settings().mail_retry_backoff_max,
    "retry_jitter": True,
    "max_retries": get_settings().mail_retries,
}


_worker = threading.local()


def run_async(work: Coroutine[Any, Any, T]) -> T:
    """Run a task's coroutine on its thread's event loop, kept from task to task, so a worker process opens its
    PostgreSQL pool once instead of a connection per query (`asyncio.run` would throw loop and pool away)."""
    loop: asyncio.AbstractEventLoop | None = getattr(_worker, "loop", None)
    if loop is None or loop.is_closed():
        loop = _worker.loop = asyncio.new_event_loop()
        # One pool per process, on the main thread's loop: a pool cannot serve other loops.
        if threading.current_thread() is threading.main_thread():
            loop.run_until_complete(_open_pool())
    # Let the loop see what happened to its pooled connections since the last task (a database restart closes
    # them): the pool then replaces a closed connection instead of handing it out.
    loop.run_until_complete(asyncio.sleep(0))
    return loop.run_until_complete(work)


def forget_loop() -> None:
    """In a process forked from one that ran tasks: leave the parent's loop (and its pool's connections) alone;
    the next `run_async` starts this process's own."""
    global _worker
    _worker = threading.local()


async def _open_pool() -> None:
    from piccolo.engine import engine_finder

    from afterglow.db import is_postgres, start_pool

    engine = engine_finder()
    settings = get_settings()
    if engine is not None and is_postgres(engine) and settings.worker_db_pool_size > 0:
        await start_pool(engine, settings.worker_db_pool_size)


def task_now(now_iso: str | None) -> datetime:
    """A task's moment: the one it was given (operators and tests pick it), else the clock."""
    return datetime.fromisoformat(now_iso) if now_iso else datetime.now(UTC)


def publish(task: celery.Task, *args: Any) -> bool:
    """Queue `task`; False, logged, when the broker cannot be reached. The work stays due in the database, where a
    beat pass finds it. Publishing blocks: from async code, call it through `asyncio.to_thread` (where an eager
    Celery, in the unit tests, also runs the task with an event loop of its own)."""
    try:
        task.delay(*args)
    except (OperationalError, OSError) as exc:
        logger.warning("could not queue %s%s (broker unreachable: %s); a beat pass catches up", task.name, args, exc)
        return False
    return True


def announce_feedback(source: str, source_id: int, more: Sequence[tuple[str, int]] = ()) -> None:
    """Tell feedback intake that a survey response, review or suggestion was saved (and `more` with it). Sent by
    task name, so the sources never import feedback. A broker outage loses nothing: intake's beat pass picks up
    what it missed."""
    kwargs = {"more": [list(key) for key in more]} if more else None
    try:
        celery_app.send_task("feedback.ingest", args=[source, source_id], kwargs=kwargs, retry=False)
    except (OperationalError, OSError) as exc:
        logger.warning("could not announce %s %s to feedback intake (broker unreachable: %s)", source, source_id, exc)


@dataclass
class _Round:
    """Saves announced while the message before was on its way; one message carries them all."""

    sent: asyncio.Future[None]
    keys: list[tuple[str, int]] = field(default_factory=list)


#: Under load, how long the next announcement waits for more saves to join it after one went out.
GATHER_SECONDS = 0.01


async def _gather() -> None:
    await asyncio.sleep(GATHER_SECONDS)


class _Announcer:
    """One announcement on its way at a time per event loop: under load, one message per broker round trip and
    gathering pause instead of one per save (intake takes what is pending along anyway). Sending a message costs
    the web process more than saving an answer; a save announced while idle goes out at once."""

    def __init__(self) -> None:
        self.next: _Round | None = None
        self.sending: asyncio.Task[None] | None = None

    async def announce(self, source: str, source_id: int) -> None:
        loop = asyncio.get_running_loop()
        if self.next is None:
            self.next = _Round(loop.create_future())
        joined = self.next
        joined.keys.append((source, source_id))
        if self.sending is None or self.sending.done():
            self.sending = loop.create_task(self._send())
        await asyncio.shield(joined.sent)  # the caller returns once its save was announced

    async def _send(self) -> None:
        while self.next is not None:
            sending, self.next = self.next, None
            first, *more = sending.keys
            try:
                await asyncio.to_thread(announce_feedback, *first, more)
            except asyncio.CancelledError:
                sending.sent.cancel()
                raise
            except Exception as exc:  # each save's request answers as it would have alone
                sending.sent.set_exception(exc)
            else:
                sending.sent.set_result(None)
            if self.next is not None:
                await _gather()


_announcers: WeakKeyDictionary[asyncio.AbstractEventLoop, _Announcer] = WeakKeyDictionary()


async def announce_saved(source: str, source_id: int) -> None:
    """`announce_feedback` from async code, in a thread (sending to the broker blocks), together with the other
    saves of this process announced meanwhile."""
    loop = asyncio.get_running_loop()
    announcer = _announcers.get(loop)
    if announcer is None:
        announcer = _announcers[loop] = _Announcer()
    await announcer.announce(source, source_id)


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
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # beat keeps its schedule file there
    app = Celery("afterglow", broker=url, task_cls=Task, include=["surveys.tasks", "reviews.tasks", "feedback.tasks"])
    app.conf.update(
        broker_transport_options=options,
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        # Task events feed Flower's live view of workers, rates, runtimes and failures (docs/deploy.md).
        worker_send_task_events=True,
        task_send_sent_event=True,
        worker_hijack_root_logger=False,
        timezone="UTC",
        beat_schedule={
            "dispatch-invitations": {"task": "surveys.dispatch", "schedule": 60.0},
            "ingest-pending-feedback": {"task": "feedback.ingest_pending", "schedule": 300.0},
            "send-pending-rejection-emails": {"task": "reviews.send_pending_rejections", "schedule": 300.0},
            "notify-urgent-feedback": {"task": "feedback.notify_pending", "schedule": 300.0},
            "send-team-digests": {"task": "feedback.team_digests", "schedule": 300.0},
            "deliver-team-webhooks": {"task": "feedback.deliver_webhooks", "schedule": 60.0},
            "send-pending-replies": {"task": "feedback.send_pending_replies", "schedule": 60.0},
            "refresh-dashboard-rollup": {"task": "feedback.dashboard_sweep", "schedule": 60.0},
            "send-weekly-digests": {"task": "feedback.weekly_digests", "schedule": 900.0},
            "learn-sentiment-model": {"task": "feedback.learn", "schedule": 900.0},
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
        run_async(record)
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
