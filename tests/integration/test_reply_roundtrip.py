"""The reply round trip on the real services: a staff member replies through the HTTP route, a Celery worker emails
it over SMTP, the customer answers by email through the inbound webhook, and the answer lands in the same thread
(reopening the item the team had resolved) and on the customer's conversation page. PostgreSQL, Redis, aiosmtpd."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from litestar.testing import AsyncTestClient

from accounts.services import create_staff, create_team
from afterglow.settings import Settings
from app import create_app
from feedback.policy import Rule
from feedback.services.intake import ingest
from feedback.services.rules import create_rule
from feedback.tables import FeedbackItem, InboxItem, ThreadEntry
from tests.integration.conftest import Mailbox, Workers, wait_for, wait_for_async
from tests.unit.reply_fixtures import answer_to, text_part
from tests.unit.review_fixtures import add_review

pytestmark = pytest.mark.integration

SECRET = "round-trip-secret"
WRITTEN = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


@pytest.fixture
async def shop(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    """The web app with the inbound webhook's secret (the worker needs none: it only sends)."""
    app = create_app(dataclasses.replace(settings, db_pool_size=0, inbound_secret=SECRET))
    async with AsyncTestClient(app=app) as client:
        yield client


async def sign_in(client: AsyncTestClient, username: str, password: str) -> None:
    form = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    data = {"username": username, "password": password, "_csrf_token": token.group(1)}
    assert (await client.post("/login", data=data, follow_redirects=False)).status_code == 303


async def test_reply_is_emailed_by_a_worker_and_the_customers_emailed_answer_joins_the_thread(
    shop: AsyncTestClient, mailbox: Mailbox, workers: Workers
) -> None:
    support = await create_team("Support")
    await create_staff("sue", "support-pass-1", "member", email="sue@shop.example", teams=["support"])
    await create_rule(Rule(0, "Reviews → Support", kind="review", teams=(support,)), None, WRITTEN)
    review = await add_review(
        rating=1, title="Leaks", text="The kettle leaks after a week.", email="anna@example.com", author_name="Anna"
    )
    feedback_id = (await ingest("review", review, WRITTEN)).feedback_id
    item = await InboxItem.select(InboxItem.id).where(InboxItem.feedback == feedback_id).first()
    assert item is not None

    await sign_in(shop, "sue", "support-pass-1")
    replied = await shop.post(
        f"/app/inbox/{item['id']}/reply",
        data={"body": "Sorry, Anna! A new kettle is on its way.", "_csrf_token": shop.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert replied.status_code == 303, replied.text

    wait_for(lambda: mailbox.count() == 1, what="the reply email, sent by a worker")
    email = mailbox.messages[0]
    assert email["To"] == "anna@example.com" and email["Subject"] == "Re: your review of Item 1"
    assert "Sorry, Anna! A new kettle is on its way." in text_part(email)
    assert "> The kettle leaks after a week." in text_part(email)

    async def marked_sent() -> bool:
        row = await ThreadEntry.select(ThreadEntry.delivery).where(ThreadEntry.kind == "reply").first()
        return row is not None and row["delivery"] == "sent"

    await wait_for_async(marked_sent, what="the worker to mark the reply sent")
    closed = await FeedbackItem.select(FeedbackItem.first_reply_at).where(FeedbackItem.id == feedback_id).first()
    assert closed["first_reply_at"] is not None
    # The team considers it done; then the customer answers the email.
    await InboxItem.update({InboxItem.status: "resolved"}).where(InboxItem.id == item["id"])

    answered = await shop.post(
        "/webhooks/inbound-email",
        content=answer_to(email, "Thank you! The new one arrived and works."),
        headers={"Content-Type": "message/rfc822", "Authorization": f"Bearer {SECRET}"},
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["feedback"] == feedback_id

    thread = (
        await ThreadEntry.select(ThreadEntry.kind, ThreadEntry.body)
        .where(ThreadEntry.feedback == feedback_id)
        .order_by(ThreadEntry.id)
    )
    assert [(e["kind"], e["body"]) for e in thread] == [
        ("reply", "Sorry, Anna! A new kettle is on its way."),
        ("customer", "Thank you! The new one arrived and works."),
        ("event", "Reopened: the customer answered."),
    ]
    status = await InboxItem.select(InboxItem.status).where(InboxItem.id == item["id"]).first()
    assert status["status"] == "in_progress"

    link = re.search(r"http://afterglow\.test(/r/\S+)", text_part(email))
    assert link, text_part(email)
    page = await shop.get(link.group(1))
    assert page.status_code == 200
    assert "A new kettle is on its way." in page.text and "The new one arrived and works." in page.text
