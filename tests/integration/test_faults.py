"""Breaking things on the real services: a worker killed mid-batch, Redis restarted with work queued, SMTP down for
a minute, PostgreSQL connections dropped during survey submissions. Nothing is lost and no email goes out twice.

Each test uses its own broker (a Redis database, or a Redis server of its own) and its own SMTP server, so the
session's workers never take its work. Bounded in time; the long ones are marked `long` (run by .ci/run)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from litestar.testing import AsyncTestClient

from afterglow.celery_app import create_celery
from afterglow.settings import Settings
from afterglow.tables import TaskFailure
from bench.dispatch import DUE
from bench.dispatch import seed as deliver_orders
from bench.harness import free_port
from bench.mailserver import Mailbox, smtp_server
from feedback.tables import FeedbackItem, Suggestion
from surveys.services.dispatch import CLAIM_LEASE, dispatch_due
from surveys.services.links import survey_token
from surveys.services.sending import SEND_BATCH
from surveys.tables import Invitation, Response, SentEmail
from tests.conftest import _RUN_DIR
from tests.integration.conftest import PG_URL, Workers, wait_for, wait_for_async

pytestmark = pytest.mark.integration

AFTER_LEASE = DUE + CLAIM_LEASE + timedelta(minutes=1)
LOGS = _RUN_DIR / "integration-logs"


def queue_on(broker_url: str, settings: Settings) -> Celery:
    """A Celery client publishing to `broker_url` (the workers of one test listen there, nobody else)."""
    return create_celery(dataclasses.replace(settings, broker_url=broker_url))


async def queue_due_sends(queue: Celery, settings: Settings, now: datetime) -> int:
    """One scheduler pass as of `now`, handing its claims to `queue` a batch per task (`surveys.send_batch`);
    returns how many sends were handed over."""

    def enqueue_batch(invitation_ids: list[int], purpose: str) -> None:
        queue.send_task("surveys.send_batch", args=[invitation_ids, purpose, now.isoformat()])

    report = await dispatch_due(now, settings, enqueue_batch=enqueue_batch)
    return report.queued + report.requeued


async def sent_count() -> int:
    return await Invitation.count().where(Invitation.status == "sent")


def worker_env(broker_url: str, smtp_port: int, **settings: str) -> dict[str, str]:
    return {
        "AFTERGLOW_BROKER_URL": broker_url,
        "AFTERGLOW_SMTP_PORT": str(smtp_port),
        **{f"AFTERGLOW_{name.upper()}": value for name, value in settings.items()},
    }


@contextmanager
def pool(env: dict[str, str], name: str, count: int = 1) -> Iterator[Workers]:
    LOGS.mkdir(parents=True, exist_ok=True)
    workers = Workers(LOGS, env, name=name)
    try:
        workers.start(count)
        yield workers
    finally:
        workers.stop()


@pytest.mark.long
async def test_a_worker_killed_mid_batch_leaves_every_invitation_sent_exactly_once(
    settings: Settings, report_figure: Callable[[str, str], None]
) -> None:
    server = RedisServer(free_port())
    server.start()
    try:
        await _kill_mid_batches(server.url, settings, report_figure)
    finally:
        server.stop()


async def _kill_mid_batches(broker: str, settings: Settings, report_figure: Callable[[str, str], None]) -> None:
    box = Mailbox()
    box.hold, box.hold_at = threading.Event(), 300  # the 300th email waits inside the server, unanswered
    with smtp_server(box) as (_, smtp_port):
        env = worker_env(broker, smtp_port)
        await deliver_orders(1000, "K")
        assert await queue_due_sends(queue_on(broker, settings), settings, DUE) == 1000

        started = time.monotonic()
        with pool(env, "doomed") as doomed:
            wait_for(lambda: box.count() >= 300, timeout=180, what="300 emails")
            doomed.kill()  # SIGKILL while its SMTP handover of email 300 waits for the server's "250"
        box.hold.set()
        with pool(env, "survivor"):
            # Every batch but the one the worker died in (its invitations stay claimed until their lease passes).
            await wait_for_async(lambda: _at_least(1000 - SEND_BATCH), timeout=180, what="the other batches")
            # The dead worker's claim is handed out again once its lease has passed (a beat pass does this).
            assert await queue_due_sends(queue_on(broker, settings), settings, AFTER_LEASE) >= 1
            await wait_for_async(lambda: _at_least(1000), timeout=60, what="every invitation marked sent")
        seconds = time.monotonic() - started

    ids = box.message_ids()
    interrupted = await SentEmail.count().where(SentEmail.status == "handing_over")
    report_figure(
        "kill -9 mid-batch",
        f"{len(ids)} emails at SMTP for 1000 invitations in {seconds:.1f} s; {interrupted} handover left for a person",
    )
    assert len(ids) == len(set(ids)) == 1000, "every invitation once, none twice"
    assert await SentEmail.count() == 1000
    assert interrupted == 1, "the handover the worker died in is left to a person, never resent by itself"


async def _at_least(count: int) -> bool:
    return await sent_count() >= count


class RedisServer:
    """A Redis of this test's own, without persistence (as in production: the broker only carries work)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for this test"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=20, what="redis-server to start")

    def _answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_timeout=0.5).ping())
        except redis.ConnectionError:
            return False

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None

    def queued(self) -> int:
        return int(redis.Redis.from_url(self.url).llen("celery"))


async def test_a_redis_restart_loses_no_queued_invitation_or_analysis(settings: Settings) -> None:
    server = RedisServer(free_port())
    server.start()
    try:
        queue = queue_on(server.url, settings)
        await deliver_orders(30, "R")
        assert await queue_due_sends(queue, settings, DUE) == 30
        for n in range(20):
            rows = await Suggestion.insert(Suggestion(text=f"Idea {n}: a gift wrapping option")).returning(
                Suggestion.id
            )
            queue.send_task("feedback.ingest", args=["suggestion", rows[0]["id"]])
        assert server.queued() == 1 + 20  # the 30 sends in one batch task, and 20 analyses

        server.stop()  # everything queued in the broker is gone with it
        server.start()
        assert server.queued() == 0

        with smtp_server() as (box, smtp_port), pool(worker_env(server.url, smtp_port), "after-restart"):
            # What beat runs on its schedule: the scheduler pass (claims past their lease are handed out again)
            # and feedback intake's catch-up pass. The database knew what was due all along.
            queue.send_task("surveys.dispatch", args=[AFTER_LEASE.isoformat()])
            queue.send_task("feedback.ingest_pending")
            await wait_for_async(lambda: _at_least(30), timeout=60, what="every invitation sent after the restart")
            await wait_for_async(lambda: _suggestions_ingested(20), timeout=60, what="every suggestion analysed")
        ids = box.message_ids()
        assert len(ids) == len(set(ids)) == 30
    finally:
        server.stop()


async def _suggestions_ingested(count: int) -> bool:
    return await FeedbackItem.count().where(FeedbackItem.source == "suggestion") == count


OUTAGE_SECONDS = 60


@pytest.mark.long
async def test_smtp_down_for_a_minute_then_back_delivers_everything_once_with_retries_visible(
    settings: Settings, client: AsyncTestClient, report_figure: Callable[[str, str], None]
) -> None:
    server = RedisServer(free_port())
    server.start()
    try:
        await _smtp_down_then_back(server.url, settings, client, report_figure)
    finally:
        server.stop()


async def _smtp_down_then_back(
    broker: str, settings: Settings, client: AsyncTestClient, report_figure: Callable[[str, str], None]
) -> None:
    smtp_port = free_port()  # nothing listens there yet: SMTP is down
    queue = queue_on(broker, settings)
    await deliver_orders(20, "S")
    down_since = time.monotonic()
    assert await queue_due_sends(queue, settings, DUE) == 20
    with pool(worker_env(broker, smtp_port), "smtp-down"):
        # The batch finds SMTP down and gives its invitations back; the next pass (beat runs one a minute) claims
        # them again, and meets the outage again.
        for attempt in (1, 2):
            if attempt > 1:
                queue.send_task("surveys.dispatch", args=[DUE.isoformat()])
            await wait_for_async(lambda n=attempt: _given_back(20, n), timeout=60, what=f"SMTP attempt {attempt}")
        await _admin_sees_retries(client, smtp_port)
        # The outage lasts a minute; nothing here waits for a result, this is the scenario's clock.
        threading.Event().wait(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since)))
        with smtp_server(port=smtp_port) as (box, _):
            queue.send_task("surveys.dispatch", args=[DUE.isoformat()])
            await wait_for_async(lambda: _at_least(20), timeout=90, what="every invitation sent once SMTP is back")
            ids = box.message_ids()
    attempts = await _outage_attempts()
    report_figure("SMTP down", f"{OUTAGE_SECONDS} s: 20 invitations, {attempts} failed batch runs, each delivered once")
    assert len(ids) == len(set(ids)) == 20
    assert attempts >= 2, "each pass during the outage tried again"
    assert await _outage_states() == ["recovered"], "the admins' list no longer shows the outage"


async def _outage_states() -> list[str]:
    rows = await TaskFailure.select(TaskFailure.state).where(TaskFailure.task_id.like("surveys.dispatch:SMTP%"))
    return [row["state"] for row in rows]


async def _outage_attempts() -> int:
    row = (
        await TaskFailure.select(TaskFailure.attempts).where(TaskFailure.task_id.like("surveys.dispatch:SMTP%")).first()
    )
    return row["attempts"] if row else 0


async def _given_back(count: int, attempts: int) -> bool:
    """The outage recorded `attempts` times, and the `count` invitations due again."""
    scheduled = await Invitation.count().where(Invitation.status == "scheduled")
    return scheduled == count and await _outage_attempts() >= attempts


async def _admin_sees_retries(client: AsyncTestClient, smtp_port: int) -> None:
    from tests.unit.staff_fixtures import make_staff, sign_in

    await make_staff()
    assert await sign_in(client, "ada") == 303
    page = await client.get("/app/admin/tasks")
    assert page.status_code == 200 and "surveys.dispatch" in page.text and f"SMTP 127.0.0.1:{smtp_port}" in page.text
    assert "retrying" in page.text and "gave up" not in page.text, "the next pass tries again by itself"


#: The first response written drops its own connection, inside the transaction (sequences ignore rollbacks).
DROP_ONCE = (
    "CREATE SEQUENCE drop_once",
    """CREATE FUNCTION drop_connection_once() RETURNS trigger AS $$
    BEGIN
        IF nextval('drop_once') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
        RETURN NEW;
    END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER drop_connection_once AFTER INSERT ON response FOR EACH ROW EXECUTE FUNCTION drop_connection_once()",
)
UNDO_DROP_ONCE = (
    "DROP TRIGGER drop_connection_once ON response",
    "DROP FUNCTION drop_connection_once()",
    "DROP SEQUENCE drop_once",
)


async def test_a_connection_dropped_mid_submission_stores_nothing_and_the_retry_succeeds(
    client: AsyncTestClient, settings: Settings
) -> None:
    await deliver_orders(1, "P")
    assert await queue_due_sends(queue_on("redis://127.0.0.1:6379/12", settings), settings, DUE) == 1
    invitation = await Invitation.select(Invitation.id, Invitation.token).first()
    path = f"/s/{survey_token(settings, invitation['token'], DUE)}"
    # The first response written drops its own connection, inside the transaction (sequences ignore rollbacks).
    for statement in DROP_ONCE:
        await Response.raw(statement)
    try:
        form = {"csat": "2", "nps": "4", "comment": "The handle came off."}
        with _clock(DUE + timedelta(hours=2)):
            first = await client.post(path, data=form, follow_redirects=False)
            assert first.status_code == 503 and first.headers["retry-after"] == "5"
            assert "Please try again" in first.text
            assert await Response.count() == 0, "no half-written answer"
            assert (await Invitation.select(Invitation.answered_at).first())["answered_at"] is None

            again = await client.post(path, data=form, follow_redirects=False)
        assert again.status_code == 303
        stored = await Response.select(Response.csat, Response.nps, Response.comment).first()
        assert stored == {"csat": 2, "nps": 4, "comment": "The handle came off."} and await Response.count() == 1
        assert (await Invitation.select(Invitation.answered_at).first())["answered_at"] is not None
    finally:
        for statement in UNDO_DROP_ONCE:
            await Response.raw(statement)


@contextmanager
def _clock(moment: datetime) -> Iterator[None]:
    import time_machine

    with time_machine.travel(moment, tick=True):
        yield


POOL_SIZE = 4


async def test_a_web_process_recovers_by_itself_after_its_pooled_connections_are_killed(
    settings: Settings, tmp_path: Path, report_figure: Callable[[str, str], None]
) -> None:
    from bench.harness import afterglow_env, start_uvicorn

    await deliver_orders(3, "W")
    assert await queue_due_sends(queue_on("redis://127.0.0.1:6379/12", settings), settings, DUE) == 3
    tokens = [row["token"] for row in await Invitation.select(Invitation.token).order_by(Invitation.id)]
    port = free_port()
    env = afterglow_env(
        tmp_path,
        f"http://127.0.0.1:{port}",
        database_url=PG_URL,
        secret_key=settings.secret_key,
        db_pool_size=str(POOL_SIZE),
        link_max_age_days="100000",
    )
    server = start_uvicorn("app:create_app", factory=True, env=env, port=port, log_path=tmp_path / "web.log")
    try:
        import httpx

        with httpx.Client(base_url=server.base_url, timeout=10, trust_env=False) as http:
            page = f"/s/{survey_token(settings, tokens[0], DUE)}"
            assert http.get(page).status_code == 200  # opens a read connection (afterglow.readers)
            assert http.post(page, data={"csat": "5"}).status_code == 303
            await Response.raw(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            tries: list[list[int]] = []
            for token in tokens[1:]:
                # The customer sends again while told to; each killed pooled connection fails one query.
                tries.append([])
                for _ in range(POOL_SIZE + 1):
                    answer = http.post(f"/s/{survey_token(settings, token, DUE)}", data={"csat": "4"})
                    tries[-1].append(answer.status_code)
                    if answer.status_code != 503:
                        break
                    assert "Please try again" in answer.text
                assert tries[-1][-1] == 303, f"saved once the pool has replaced its dead connections: {tries}"
            views = []
            for _ in range(POOL_SIZE + 2):
                views.append(http.get(page).status_code)
                if views[-1] != 503:
                    break
            assert views[-1] == 200, f"the page reads again once its dead read connections are replaced: {views}"
    finally:
        server.stop()
    report_figure(
        "pooled connections killed",
        f"statuses of each next answer's tries: {tries}; of the page's next views: {views} (503: send again)",
    )
    assert await Response.count() == 3
