"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database and the broker answer too)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from litestar import Request, Response, get
from piccolo.engine import engine_finder

from afterglow.settings import Settings

#: A dependency that does not answer within this many seconds counts as down.
CHECK_TIMEOUT = 2.0


async def database_ready() -> str:
    engine = engine_finder()
    if engine is None:
        return "no database configured"
    await engine.run_ddl("SELECT 1")
    return "ok"


async def broker_ready(settings: Settings) -> str:
    if settings.broker_url.startswith(("redis://", "rediss://")):
        import redis.asyncio as redis

        client = redis.Redis.from_url(settings.broker_url, socket_connect_timeout=CHECK_TIMEOUT)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return "ok"
    folder = settings.broker_folder / "queue"
    if not os.access(folder, os.W_OK):
        raise OSError(f"broker folder {folder} is not writable")
    return "ok"


async def _check(probe: Any) -> str:
    try:
        return str(await asyncio.wait_for(probe, CHECK_TIMEOUT))
    except Exception as exc:  # any failure means "not ready"; the reason goes in the answer
        return f"down: {type(exc).__name__}: {exc}"[:300]


@get("/healthz", name="health", include_in_schema=False, sync_to_thread=False)
def health() -> dict[str, str]:
    """The process is alive (nothing else is checked: a restart would not fix a database outage)."""
    return {"status": "ok"}


@get("/readyz", name="ready", include_in_schema=False)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, str]]:
    """200 when the database and the broker answer, 503 (naming what is down) otherwise."""
    settings: Settings = request.app.state.settings
    checks = {"database": await _check(database_ready()), "broker": await _check(broker_ready(settings))}
    ok = all(value == "ok" for value in checks.values())
    return Response({"status": "ready" if ok else "not ready", **checks}, status_code=200 if ok else 503)
