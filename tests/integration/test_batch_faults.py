"""The batch send path on the real services: a worker killed (SIGKILL) in the middle of a batch leaves every
invitation sent exactly once, after the pass hands its lapsed claims out again. A Redis server and an SMTP server
of the test's own, so the session's workers never take its work."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from celery import Celery

from afterglow.settings import Settings
from bench.dispatch import DUE, plan
from bench.dispatch import seed as deliver_orders
from bench.harness import free_port
from bench.mailserver import Mailbox, smtp_server
from surveys.services.dispatch import dispatch_due
from surveys.tables import Invitation, SentEmail
from tests.integration.conftest import wait_for, wait_for_async
from tests.integration.test_faults import AFTER_LEASE, RedisServer, pool, queue_on, worker_env

pytestmark = pytest.mark.integration


async def queue_due_batches(queue: Celery, settings: Settings, now: datetime) -> int:
    """One scheduler pass as of `now`, handing its claims to `queue` a batch per task; how many it handed out."""

    def enqueue_batch(ids: list[int], purpose: str) -> None:
        queue.send_task("surveys.send_batch", args=[ids, purpose, now.isoformat()])

    report = await dispatch_due(now, settings, enqueue_batch=enqueue_batch)
    return report.queued + report.requeued


async def _all_sent(count: int) -> bool:
    return await Invitation.count().where(Invitation.status == "sent") == count


@pytest.mark.long
async def test_a_worker_killed_mid_batch_leaves_every_invitation_sent_exactly_once(settings: Settings) -> None:
    broker = RedisServer(free_port())
    broker.start()
    try:
        await _kill_mid_batch(broker.url, settings)
    finally:
        broker.stop()


async def _kill_mid_batch(broker: str, settings: Settings) -> None:
    box = Mailbox()
    box.hold, box.hold_at = threading.Event(), 120  # the 120th email waits inside the server, unanswered
    with smtp_server(box) as (_, smtp_port):
        env = worker_env(broker, smtp_port)
        await deliver_orders(300, "BK")
        await plan()
        assert await queue_due_batches(queue_on(broker, settings), settings, DUE) == 300

        with pool(env, "doomed-batch") as doomed:
            wait_for(lambda: box.count() >= 120, timeout=180, what="120 emails")
            doomed.kill()  # SIGKILL while its SMTP handover of email 120 waits for the server's "250"
        box.hold.set()
        with pool(env, "survivor-batch"):
            # The dead worker's batch is claimed still; once its lease has passed a beat pass hands it out again.
            assert await queue_due_batches(queue_on(broker, settings), settings, AFTER_LEASE) >= 1
            await wait_for_async(lambda: _all_sent(300), timeout=180, what="every invitation marked sent")

    ids = box.message_ids()
    assert len(ids) == len(set(ids)) == 300, "every invitation once, none twice"
    assert await SentEmail.count() == 300
    assert await SentEmail.count().where(SentEmail.status == "handing_over") == 1, "the one the worker died in"
