"""The survey loop end to end on the real services: PostgreSQL, Redis, Celery workers and an SMTP server."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from feedback.tables import FeedbackItem
from surveys.services.dispatch import dispatch_due
from surveys.tables import Invitation, Response, SentEmail
from surveys.tasks import dispatch, send_batch
from tests.factories import event_payload, order_payload
from tests.integration.conftest import Mailbox, Workers, wait_for, wait_for_async

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
DELIVERED = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)  # 20:30 in Berlin
DUE = datetime(2026, 3, 6, 9, 0, tzinfo=BERLIN)  # + 3 days, moved to the next 09:00 local


def enqueue_to_workers(now: datetime):  # type: ignore[no-untyped-def]
    return lambda invitation_ids, purpose: send_batch.delay(invitation_ids, purpose, now.isoformat())


async def test_delivered_order_is_asked_at_the_right_local_hour_and_answered(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, mailbox: Mailbox, workers: Workers
) -> None:
    created = await client.post("/api/v1/orders", json=order_payload("A-1"), headers=api_headers)
    assert created.status_code == 201
    delivered = await client.post(
        "/api/v1/orders/A-1/events", json=event_payload("delivered", DELIVERED), headers=api_headers
    )
    assert delivered.status_code == 202

    # Before the delay has passed, a pass plans the invitation but hands nothing to the workers.
    early = await dispatch_due(DUE - timedelta(minutes=1), settings, enqueue_batch=enqueue_to_workers(DUE))
    assert (early.planned, early.queued) == (1, 0)
    assert mailbox.count() == 0

    # The beat task, run by a real worker as of the due moment, sends exactly one email over SMTP.
    dispatch.delay(DUE.isoformat())
    wait_for(lambda: mailbox.count() == 1, what="the invitation email")
    email = mailbox.messages[0]
    assert email["To"] == "anna@example.com"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    await wait_for_async(
        lambda: Invitation.exists().where(Invitation.status == "sent"), what="the invitation to be marked sent"
    )
    invitation = await Invitation.select().first()
    assert invitation["sent_at"].astimezone(BERLIN).hour == 9

    # The customer clicks "9" in the email an hour later, then finishes the survey on the page.
    with time_machine.travel(DUE + timedelta(hours=1), tick=True):
        text = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        link = re.search(r"(http://afterglow\.test/s/\S+)\?nps=9", text)
        assert link, text
        path = link.group(1).removeprefix("http://afterglow.test")
        page = await client.get(f"{path}?nps=9")
        assert page.status_code == 200
        assert await Response.count() == 0  # opening the link alone stores nothing
        saved = await client.post(f"{path}/answer", data={"nps": "9"}, headers={"HX-Request": "true"})
        assert saved.status_code == 200
        submitted = await client.post(
            path, data={"csat": "5", "nps": "9", "comment": "Lovely kettle, fast delivery."}, follow_redirects=False
        )
        assert submitted.status_code == 303
        answer = await Response.select().first()
        assert (answer["csat"], answer["nps"], answer["comment"]) == (5, 9, "Lovely kettle, fast delivery.")
        assert await Response.count() == 1

    # Feedback analysis ran in a worker after the answer was saved.
    await wait_for_async(
        lambda: FeedbackItem.exists().where(FeedbackItem.text != ""), what="the comment to reach feedback intake"
    )
    feedback = await FeedbackItem.select().first()
    assert (feedback["csat"], feedback["nps"], feedback["label"]) == (5, 9, "positive")

    # The reminder is not sent: the survey was answered.
    later = await dispatch_due(
        DUE + timedelta(days=5), settings, enqueue_batch=enqueue_to_workers(DUE + timedelta(days=5))
    )
    assert later.reminders_queued == 0
    assert mailbox.count() == 1
    assert await SentEmail.count() == 1


async def test_two_schedulers_and_two_workers_send_each_invitation_once(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, mailbox: Mailbox, workers: Workers
) -> None:
    count = 40
    for n in range(count):
        body = order_payload(f"B-{n}", email=f"buyer{n}@example.com")
        assert (await client.post("/api/v1/orders", json=body, headers=api_headers)).status_code == 201
        event = event_payload("delivered", DELIVERED)
        assert (await client.post(f"/api/v1/orders/B-{n}/events", json=event, headers=api_headers)).status_code == 202

    reports = await asyncio.gather(
        *(dispatch_due(DUE, settings, enqueue_batch=enqueue_to_workers(DUE)) for _ in range(2))
    )
    assert sum(r.queued for r in reports) == count

    wait_for(lambda: mailbox.count() >= count, timeout=60, what=f"{count} emails")
    await wait_for_async(lambda: _all_sent(count), timeout=30, what="every invitation to be marked sent")
    ids = [m["Message-ID"] for m in mailbox.messages]
    assert len(ids) == len(set(ids)) == count
    assert sorted(m["To"] for m in mailbox.messages) == sorted(f"buyer{n}@example.com" for n in range(count))


async def _all_sent(count: int) -> bool:
    return await Invitation.count().where(Invitation.status == "sent") == count
