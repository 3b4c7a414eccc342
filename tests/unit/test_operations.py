"""Liveness and readiness probes, request ids, and log lines an operator can search."""

from __future__ import annotations

import dataclasses
import io
import json
import logging

import pytest
from litestar.testing import AsyncTestClient

from afterglow import logs
from afterglow.settings import Settings
from app import create_app


async def test_liveness_answers_without_looking_at_dependencies(client: AsyncTestClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_ready_when_database_and_broker_answer(client: AsyncTestClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "broker": "ok"}


async def test_not_ready_names_the_broker_that_does_not_answer(settings: Settings) -> None:
    unreachable = dataclasses.replace(settings, broker_url="redis://127.0.0.1:1/0")
    async with AsyncTestClient(app=create_app(unreachable)) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["database"] == "ok"
    assert body["broker"].startswith("down: ")


async def test_each_response_carries_a_request_id(client: AsyncTestClient) -> None:
    first, second = await client.get("/healthz"), await client.get("/healthz")
    assert len(first.headers["x-request-id"]) == 32
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_a_callers_sane_request_id_is_kept_and_a_strange_one_replaced(client: AsyncTestClient) -> None:
    kept = await client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.19"})
    assert kept.headers["x-request-id"] == "lb-7f3a.19"
    replaced = await client.get("/healthz", headers={"X-Request-ID": "<script>" + "x" * 80})
    assert replaced.headers["x-request-id"] != "<script>" + "x" * 80
    assert len(replaced.headers["x-request-id"]) == 32


async def test_request_is_logged_as_one_json_line_with_its_id(settings: Settings) -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    request_log = logging.getLogger("afterglow.request")
    request_log.addHandler(handler)
    request_log.setLevel(logging.INFO)
    try:
        async with AsyncTestClient(app=create_app(settings)) as client:
            response = await client.get("/app/inbox", headers={"X-Request-ID": "req-42"}, follow_redirects=False)
    finally:
        request_log.removeHandler(handler)
    [line] = [json.loads(text) for text in out.getvalue().splitlines()]
    assert response.status_code == 303
    assert line["request_id"] == "req-42" and line["level"] == "info" and line["logger"] == "afterglow.request"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/app/inbox", 303)
    assert line["duration_ms"] >= 0
    assert line["message"] == "GET /app/inbox 303"


def test_json_lines_carry_the_task_and_extra_fields_and_exceptions() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    log = logging.getLogger("afterglow.test-task")
    log.addHandler(handler)
    log.propagate = False
    tokens = (logs.TASK_ID.set("t-1"), logs.TASK_NAME.set("surveys.send"))
    try:
        log.warning("sent %s", "once", extra={"invitation": 7})
        try:
            raise RuntimeError("smtp down")
        except RuntimeError:
            log.exception("failed")
    finally:
        logs.TASK_ID.reset(tokens[0])
        logs.TASK_NAME.reset(tokens[1])
        log.removeHandler(handler)
    first, second = (json.loads(text) for text in out.getvalue().splitlines())
    assert first["message"] == "sent once" and first["invitation"] == 7
    assert (first["task_id"], first["task"]) == ("t-1", "surveys.send") and "request_id" not in first
    assert second["level"] == "error" and "RuntimeError: smtp down" in second["exc"]


def test_text_and_json_formats_are_chosen_by_settings(settings: Settings) -> None:
    as_json = logs.dict_config(dataclasses.replace(settings, log_format="json"))
    as_text = logs.dict_config(dataclasses.replace(settings, log_format="text"))
    assert as_json["formatters"]["line"] == {"()": logs.JsonFormatter}
    assert "%(request_id)s" in as_text["formatters"]["line"]["format"]
    assert as_json["loggers"]["uvicorn.access"]["propagate"] is False


async def test_refusals_by_a_limit_or_csrf_are_logged_with_their_status_and_id(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="afterglow.request")
    async with AsyncTestClient(app=create_app(dataclasses.replace(settings, rate_public_per_address=1))) as client:
        assert (await client.get("/feedback")).status_code == 200
        limited = await client.get("/feedback", headers={"X-Request-ID": "req-429"})
        forged = await client.post("/logout", headers={"X-Request-ID": "req-403"})

    assert (limited.status_code, limited.headers["x-request-id"]) == (429, "req-429")
    assert (forged.status_code, forged.headers["x-request-id"]) == (403, "req-403")
    logged = [r.getMessage() for r in caplog.records if r.name == "afterglow.request"]
    assert logged[-2:] == ["GET /feedback 429", "POST /logout 403"]
