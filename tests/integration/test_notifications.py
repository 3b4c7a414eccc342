"""Team notifications on the real services: an NPS detractor's answer is routed by an urgent rule in a Celery
worker, which emails the team over SMTP and posts the signed webhook to the shop's receiver."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from accounts.services import create_staff, create_team, team_id
from afterglow.settings import Settings
from bench.mailserver import text_of
from feedback.policy import Rule
from feedback.services.notify_settings import store_notify_settings
from feedback.services.rules import create_rule
from feedback.tables import InboxItem, TeamChannel, WebhookDelivery
from surveys.services.dispatch import dispatch_due
from surveys.tasks import send_batch
from tests.factories import event_payload, order_payload
from tests.integration.conftest import Mailbox, Workers, wait_for, wait_for_async
from tests.unit.notify_fixtures import webhook_receiver

pytestmark = pytest.mark.integration

DELIVERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEND_AT = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, three days after delivery
SECRET = "whsec_integration-secret"


async def test_a_detractor_routed_as_urgent_is_emailed_to_the_team_and_posted_to_its_webhook_by_a_worker(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, mailbox: Mailbox, workers: Workers
) -> None:
    await create_team("Support")
    await create_staff("sue", "support-pass-1", "member", email="sue@shop.example", teams=["support"])
    support = await team_id("support")
    await create_rule(
        Rule(0, "Detractors", kind="nps", score_max=6, teams=(support,), priority="urgent", sla_hours=4),
        None,
        SEND_AT,
    )
    with webhook_receiver(clock=lambda: datetime.now(UTC)) as receiver:  # the worker signs with its own clock
        receiver.secret = SECRET
        hook = {TeamChannel.webhook_url: receiver.url, TeamChannel.webhook_secret: SECRET}
        await store_notify_settings(support, hook, SEND_AT - timedelta(days=1))

        assert (await client.post("/api/v1/orders", json=order_payload("N-1"), headers=api_headers)).status_code == 201
        event = event_payload("delivered", DELIVERED)
        assert (await client.post("/api/v1/orders/N-1/events", json=event, headers=api_headers)).status_code == 202
        await dispatch_due(
            SEND_AT, settings, enqueue_batch=lambda ids, purpose: send_batch.delay(ids, purpose, SEND_AT.isoformat())
        )
        wait_for(lambda: mailbox.count() == 1, what="the invitation email")
        link = re.search(r"http://afterglow\.test(/s/\S+)\?nps=2", text_of(mailbox.messages[0]))
        assert link, text_of(mailbox.messages[0])

        with time_machine.travel(SEND_AT + timedelta(hours=1), tick=True):
            answered = await client.post(
                link.group(1),
                data={"csat": "1", "nps": "2", "comment": "The parcel came broken and nobody answers my emails."},
                follow_redirects=False,
            )
            assert answered.status_code == 303

        wait_for(lambda: mailbox.count() == 2, what="the urgent email to the team")
        wait_for(lambda: len(receiver.received) == 1, what="the webhook post")

    urgent = mailbox.messages[1]
    assert urgent["To"] == "sue@shop.example"
    assert urgent["Subject"].startswith("[Urgent] Support: Order survey NPS 2/10 · CSAT 1/5")
    item = await InboxItem.select(InboxItem.id, InboxItem.priority).first()
    assert item["priority"] == "urgent"
    body = text_of(urgent)
    assert "The parcel came broken" in body and f"http://afterglow.test/app/inbox/{item['id']}" in body
    await wait_for_async(
        lambda: InboxItem.exists().where(InboxItem.notified_at.is_not_null()), what="the item to be marked notified"
    )

    posted = receiver.received[0]
    assert posted.signed, posted.headers
    assert posted.headers["X-Afterglow-Event"] == "inbox.item_created"
    assert posted.json["item"]["id"] == item["id"]
    assert posted.json["item"]["scores"] == {"csat": 1, "nps": 2, "rating": None}
    await wait_for_async(
        lambda: WebhookDelivery.exists().where(WebhookDelivery.status == "delivered"), what="the delivery recorded"
    )
    assert mailbox.count() == 2  # nothing sent twice
