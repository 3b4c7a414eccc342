"""Tasks that fail are retried and recorded; those that give up wait for an admin as dead letters."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asyncpg.exceptions import ConnectionDoesNotExistError
from litestar.testing import AsyncTestClient

from accounts.tables import AuditEvent
from afterglow import failures
from afterglow.celery_app import celery_app
from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from afterglow.tables import TaskFailure
from tests.unit.staff_fixtures import csrf_token, make_staff, sign_in

NOW = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
_runs = itertools.count()


@celery_app.task(name="tests.always_failing", autoretry_for=(MailNotSent,), max_retries=2, retry_backoff=1)
def always_failing(invitation_id: int) -> None:
    raise MailNotSent("SMTP 127.0.0.1:2525: connection refused")


@celery_app.task(name="tests.fails_once", bind=True, autoretry_for=(MailNotSent,), max_retries=3)
def fails_once(self: Any, invitation_id: int) -> str:
    if self.request.retries == 0:
        raise MailNotSent("SMTP busy")
    return "sent"


@celery_app.task(name="tests.loses_its_database_once", bind=True)
def loses_its_database_once(self: Any, response_id: int) -> str:
    if self.request.retries == 0:
        raise ConnectionDoesNotExistError("connection was closed in the middle of operation")
    return "tagged"


async def test_every_task_tries_again_when_the_database_dropped_its_connection() -> None:
    result = await asyncio.to_thread(loses_its_database_once.apply, args=[3])
    assert result.get() == "tagged"
    [row] = await TaskFailure.select(TaskFailure.task_name, TaskFailure.state)
    assert row == {"task_name": "tests.loses_its_database_once", "state": "recovered"}


async def test_a_task_that_keeps_failing_becomes_a_dead_letter_with_its_arguments_and_error() -> None:
    await asyncio.to_thread(always_failing.apply, args=[41])
    [row] = await TaskFailure.select().output(load_json=True)
    assert (row["task_name"], row["args"], row["state"]) == ("tests.always_failing", [41], "dead")
    assert row["attempts"] == 3  # the first run and two retries
    assert row["error"] == "MailNotSent: SMTP 127.0.0.1:2525: connection refused"
    assert row["next_retry_at"] is None


async def test_a_task_that_succeeds_on_retry_is_marked_recovered() -> None:
    result = await asyncio.to_thread(fails_once.apply, args=[7])
    assert result.get() == "sent"
    [row] = await TaskFailure.select(TaskFailure.state, TaskFailure.attempts)
    assert row == {"state": "recovered", "attempts": 1}


async def test_requeue_sends_the_task_again_once() -> None:
    await failures.record_failure("t-1", "surveys.send", [5, "invitation"], {}, "boom", NOW, next_retry_at=None)
    [row] = await TaskFailure.select(TaskFailure.id)
    sent: list[tuple[str, list[Any], dict[str, Any]]] = []
    assert await failures.requeue(row["id"], lambda *task: sent.append(task), "ada", NOW) == "surveys.send"
    assert sent == [("surveys.send", [5, "invitation"], {})]
    with pytest.raises(failures.UnknownFailure):
        await failures.requeue(row["id"], lambda *task: sent.append(task), "ada", NOW)
    assert len(sent) == 1


async def test_a_requeue_the_broker_refuses_leaves_the_dead_letter_in_place() -> None:
    await failures.record_failure("t-2", "surveys.send", [6, "invitation"], {}, "boom", NOW, next_retry_at=None)
    [row] = await TaskFailure.select(TaskFailure.id)

    def broker_down(*_: object) -> None:
        raise OSError("connection refused")

    with pytest.raises(OSError):
        await failures.requeue(row["id"], broker_down, "ada", NOW)
    assert (await TaskFailure.select(TaskFailure.state).first())["state"] == "dead"


async def test_admins_see_dead_letters_and_send_them_again(client: AsyncTestClient) -> None:
    await make_staff()
    await failures.record_failure(
        "t-3", "feedback.ingest", ["survey", 12], {}, "OperationalError: <b>db gone</b>", NOW, next_retry_at=None
    )
    await sign_in(client, "ada")
    page = await client.get("/app/admin/tasks")
    assert page.status_code == 200
    assert "feedback.ingest" in page.text and "gave up" in page.text
    assert "&lt;b&gt;db gone&lt;/b&gt;" in page.text and "<b>db gone</b>" not in page.text
    [row] = await TaskFailure.select(TaskFailure.id)
    token = await csrf_token(client)
    sent = await client.post(f"/app/admin/tasks/{row['id']}/retry", data={"_csrf_token": token}, follow_redirects=False)
    assert sent.status_code == 303 and "done=" in sent.headers["location"]
    assert (await TaskFailure.select(TaskFailure.state, TaskFailure.requeued_by).first()) == {
        "state": "requeued",
        "requeued_by": "ada",
    }
    assert await AuditEvent.exists().where(AuditEvent.action == "task.requeued")
    again = await client.post(
        f"/app/admin/tasks/{row['id']}/retry", data={"_csrf_token": token}, follow_redirects=False
    )
    assert "error=" in again.headers["location"]


@pytest.mark.parametrize("username", ["max", "sue"])
async def test_only_admins_open_the_task_page(client: AsyncTestClient, username: str) -> None:
    await make_staff()
    await sign_in(client, username)
    assert (await client.get("/app/admin/tasks")).status_code == 403


async def test_admins_settle_an_interrupted_email_handover(client: AsyncTestClient, settings: Settings) -> None:
    from surveys.tables import SentEmail

    await make_staff()
    await SentEmail.insert(
        SentEmail(
            message_id="<invitation.9.x@test>",
            purpose="invitation",
            to="bea@example.com",
            subject="How was <your> order?",
            text="t",
            html="h",
            status="handing_over",
            sent_at=datetime.now(UTC) - timedelta(hours=1),
        )
    )
    await sign_in(client, "ada")
    page = await client.get("/app/admin/tasks")
    assert "bea@example.com" in page.text and "How was &lt;your&gt; order?" in page.text
    [row] = await SentEmail.select(SentEmail.id)
    token = await csrf_token(client)
    marked = await client.post(
        f"/app/admin/tasks/emails/{row['id']}", data={"decision": "sent", "_csrf_token": token}, follow_redirects=False
    )
    assert marked.status_code == 303 and "done=" in marked.headers["location"]
    assert (await SentEmail.select(SentEmail.status).first())["status"] == "sent"
    assert "bea@example.com" not in (await client.get("/app/admin/tasks")).text
    assert await AuditEvent.exists().where(AuditEvent.action == "email.handover_settled")
