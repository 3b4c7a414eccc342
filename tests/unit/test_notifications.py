"""Urgent inbox items are emailed to their team at once, through the worker, exactly once: a repeated task finds
the mail log; a lost task is caught up by the beat pass; triage and non-urgent items wait for no email."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from accounts.services import create_staff, set_active, team_id
from afterglow.celery_app import celery_app
from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from bench.harness import free_port
from bench.mailserver import html_of, smtp_server, text_of
from feedback.services.intake import ingest
from feedback.services.notifications import GRACE, notify_unnotified, send_urgent_notification, unnotified_urgent
from feedback.services.notify_settings import store_notify_settings
from feedback.tables import InboxItem, Suggestion, TeamChannel, WebhookDelivery
from feedback.tasks import ingest_source
from surveys.tables import SentEmail
from tests.unit.notify_fixtures import (
    routed_review,
    routing_rules,
    webhook_receiver,
)
from tests.unit.review_fixtures import add_review
from tests.unit.staff_fixtures import PASSWORD, make_staff

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)  # 10:30 in Berlin
COMPLAINT = "The kettle leaks and the lid broke on the first day. Terrible quality!"


@pytest.fixture
async def teams() -> dict[str, int]:
    ids = await make_staff()
    await routing_rules()
    return ids


async def notified_at(item_id: int) -> datetime | None:
    row = await InboxItem.select(InboxItem.notified_at).where(InboxItem.id == item_id).first()
    return row["notified_at"]


async def test_an_urgent_item_is_emailed_to_the_team_once_even_when_sent_twice(
    teams: dict[str, int], settings: Settings
) -> None:
    (item,) = await routed_review(1, COMPLAINT, NOW, author_name="Anna Berg", email="anna@example.com")
    with smtp_server() as (mailbox, port):
        smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        assert await send_urgent_notification(item, NOW, smtp) == "sent"
        assert await send_urgent_notification(item, NOW + timedelta(minutes=1), smtp) == "sent-before"
    assert mailbox.to() == ["sue@shop.example"]  # Support's only member; Logistics hears nothing
    mail = mailbox.messages[0]
    assert mail["Subject"].startswith("[Urgent] Support: Product review Stars 1/5")
    assert mail["Message-ID"].startswith(f"<notify.{item}.")
    body = text_of(mail)
    assert "Urgent feedback for Support" in body
    assert "Stars 1/5" in body and "urgent" in body
    assert "Reply due: 2026-03-10 14:30 CET" in body  # four hours' SLA, in the shop's time zone
    assert "Customer: Anna Berg <anna@example.com>" in body
    assert "The kettle leaks and the lid broke" in body
    assert f"{settings.base_url}/app/inbox/{item}" in body
    label = (await InboxItem.select(InboxItem.feedback.label).where(InboxItem.id == item).first())["feedback.label"]
    assert label and label in body
    assert await notified_at(item) == NOW
    assert await SentEmail.count().where(SentEmail.purpose == "team-urgent") == 1


async def test_every_active_member_gets_the_email_unless_the_team_has_its_own_address(
    teams: dict[str, int], settings: Settings
) -> None:
    await create_staff("uma", PASSWORD, "member", email="uma@shop.example", teams=["support"])
    gone = await create_staff("old", PASSWORD, "member", email="old@shop.example", teams=["support"])
    await set_active(gone, False)
    first, second = (await routed_review(2, COMPLAINT, NOW))[0], (await routed_review(1, "Broken.", NOW))[0]
    with smtp_server() as (mailbox, port):
        smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        await send_urgent_notification(first, NOW, smtp)
        assert sorted(mailbox.to()) == ["sue@shop.example", "uma@shop.example"]
        await store_notify_settings(await team_id("support"), {TeamChannel.email: "support@shop.example"}, NOW)
        await send_urgent_notification(second, NOW, smtp)
    assert mailbox.to()[2:] == ["support@shop.example"]


async def test_the_customers_words_are_escaped_in_the_html_email(teams: dict[str, int], settings: Settings) -> None:
    (item,) = await routed_review(1, 'Awful <script>alert("x")</script> & <b>broken</b>', NOW)
    with smtp_server() as (mailbox, port):
        await send_urgent_notification(item, NOW, dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port))
    html = html_of(mailbox.messages[0])
    assert "<script>" not in html and "<b>broken</b>" not in html
    assert "&lt;script&gt;" in html and "&amp; &lt;b&gt;broken&lt;/b&gt;" in html


async def test_an_smtp_failure_leaves_the_item_unnotified_for_the_retry_and_the_catch_up(
    teams: dict[str, int], settings: Settings
) -> None:
    (item,) = await routed_review(1, COMPLAINT, NOW)
    down = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=free_port())  # nobody listens there
    with pytest.raises(MailNotSent):
        await send_urgent_notification(item, NOW, down)
    assert await notified_at(item) is None
    assert await SentEmail.count() == 0
    assert await notify_unnotified(NOW + GRACE, down) == {"smtp-failed": 1}

    with smtp_server() as (mailbox, port):
        up = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        assert await notify_unnotified(NOW + GRACE + timedelta(minutes=5), up) == {"sent": 1}
    assert len(mailbox.messages) == 1
    assert await notified_at(item) == NOW + GRACE + timedelta(minutes=5)


async def test_the_catch_up_pass_sends_a_lost_urgent_email_once_and_only_from_the_last_day(
    teams: dict[str, int], settings: Settings
) -> None:
    (lost,) = await routed_review(1, COMPLAINT, NOW)  # its task never ran (broker down)
    (old,) = await routed_review(2, "Still broken.", NOW - timedelta(days=2))
    (normal,) = await routed_review(3, "It is fine, a bit loud.", NOW)
    # The task queued at intake normally sends within seconds; the pass leaves fresh items to it.
    assert await unnotified_urgent(NOW + timedelta(minutes=1)) == []
    assert await unnotified_urgent(NOW + GRACE) == [lost]
    with smtp_server() as (mailbox, port):
        smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        assert await notify_unnotified(NOW + GRACE, smtp) == {"sent": 1}
        assert await notify_unnotified(NOW + GRACE + timedelta(minutes=5), smtp) == {}
    assert len(mailbox.messages) == 1
    assert mailbox.messages[0]["Message-ID"].startswith(f"<notify.{lost}.")
    assert await notified_at(old) is None and await notified_at(normal) is None


async def test_normal_and_triage_items_email_no_one_at_once(teams: dict[str, int], settings: Settings) -> None:
    (normal,) = await routed_review(4, "Nice, but the box was dented.", NOW)
    rows = await Suggestion.insert(Suggestion(text="Sell spare lids!", created_at=NOW)).returning(Suggestion.id)
    suggestion = rows[0]["id"]
    (triage,) = (await ingest("suggestion", suggestion, NOW)).new_inbox_items
    await InboxItem.update({InboxItem.priority: "urgent"}).where(InboxItem.id == triage)  # even if it were urgent
    assert await send_urgent_notification(normal, NOW, settings) == "not-urgent"
    assert await send_urgent_notification(triage, NOW, settings) == "triage"
    assert await unnotified_urgent(NOW + GRACE) == []
    assert await SentEmail.count() == 0


async def test_the_ingest_task_emails_the_team_and_posts_the_webhook_once_even_when_run_twice(
    teams: dict[str, int], settings: Settings
) -> None:
    review = await add_review(rating=1, text=COMPLAINT, created_at=NOW)
    with webhook_receiver(clock=lambda: NOW) as receiver:
        receiver.secret = "whsec_test"
        await store_notify_settings(
            await team_id("support"),
            {TeamChannel.webhook_url: receiver.url, TeamChannel.webhook_secret: receiver.secret},
            NOW - timedelta(days=1),
        )
        # Celery runs eagerly here; the task opens its own event loop, so it runs on a thread of its own.
        for _ in range(2):
            await asyncio.to_thread(ingest_source.apply, args=("review", review, NOW.isoformat()))
    (item,) = [row["id"] for row in await InboxItem.select(InboxItem.id)]
    # The embedded default keeps the email in the dev outbox (the log), sent once.
    emails = await SentEmail.select(SentEmail.to, SentEmail.purpose)
    assert emails == [{"to": "sue@shop.example", "purpose": "team-urgent"}]
    assert await notified_at(item) == NOW
    assert len(receiver.received) == 1 and receiver.received[0].signed
    assert receiver.received[0].json["item"]["id"] == item
    assert (await WebhookDelivery.select(WebhookDelivery.status).first())["status"] == "delivered"


def test_beat_runs_the_notification_passes_by_names_the_worker_knows() -> None:
    schedule = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}
    passes = ("feedback.notify_pending", "feedback.team_digests", "feedback.deliver_webhooks")
    assert {name: schedule.get(name) for name in passes} == dict(zip(passes, (300.0, 300.0, 60.0), strict=True))
    assert all(name in celery_app.tasks for name in passes)
