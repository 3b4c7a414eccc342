"""Logs as JSON lines (production) or text (dev), each carrying the request or task it belongs to.

A request gets an id (the caller's `X-Request-ID` when it is sane, else a new one), echoed in the response. A
task published while a request is handled carries that id in its message headers, so a worker's lines about a
survey answer name the request that saved it, next to the task's own id and name."""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from afterglow.settings import Settings

if TYPE_CHECKING:
    from litestar import Litestar

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
TASK_ID: ContextVar[str] = ContextVar("task_id", default="")
TASK_NAME: ContextVar[str] = ContextVar("task_name", default="")
#: The message header that carries the request id into a task.
REQUEST_HEADER = "afterglow_request_id"
_SANE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

#: Attributes every LogRecord has; anything else on a record was passed as `extra=` and is logged as a field.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "task_id", "task"}


class ContextFilter(logging.Filter):
    """Stamps each record with the current request and task."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.task_id = TASK_ID.get()
        record.task = TASK_NAME.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request/task ids, and any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in ("request_id", "task_id", "task"):
            if value := getattr(record, name, ""):
                line[name] = value
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s%(task_id)s] %(message)s"


def dict_config(settings: Settings) -> dict[str, Any]:
    """`logging.config.dictConfig` settings: every logger (ours, Litestar's, uvicorn's, Celery's) through one
    handler in the chosen format. uvicorn applies it in each of its worker processes (`log_config=`)."""
    formatter = {"()": JsonFormatter} if settings.log_format == "json" else {"format": TEXT_FORMAT}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"line": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "line",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["stderr"], "level": settings.log_level.upper()},
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error", "celery")},
            # Requests are logged once, by RequestLogMiddleware, with their id and duration.
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def configure(settings: Settings) -> None:
    logging.config.dictConfig(dict_config(settings))


class RequestLogMiddleware:
    """Gives each HTTP request an id (echoed as `X-Request-ID`) and logs one line when it is answered.

    It wraps the app's whole ASGI handler (`around(app)`), outside the framework's exception handling, so every
    answer passes through it as a response: a route's refusal (CSRF, a rate limit), an unknown path, a 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = logging.getLogger("afterglow.request")

    @classmethod
    def around(cls, app: Litestar) -> Litestar:
        app.asgi_handler = cls(app.asgi_handler)
        return app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == b"x-request-id"), b"").decode("latin-1")
        request_id = given if _SANE_ID.match(given) else os.urandom(16).hex()
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if self.log.isEnabledFor(logging.INFO):
                self.log.info(
                    "%s %s %s",
                    scope["method"],
                    scope["path"],
                    status,
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    },
                )
            REQUEST_ID.reset(token)
