"""Reviews on the real services: written with a photo through the emailed item link, stored in PostgreSQL,
published through the public API, and a rejection emailed by a Celery worker over SMTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from accounts.services import create_staff
from afterglow.settings import Settings
from reviews.tables import Review, ReviewPhoto
from surveys.services.dispatch import dispatch_due
from surveys.tasks import send_batch
from tests.factories import event_payload, order_payload, photo_bytes
from tests.integration.conftest import Mailbox, Workers, wait_for

pytestmark = pytest.mark.integration

DELIVERED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SEND_AT = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)  # 11:00 in Berlin, three days after delivery


def text_of(message: object) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[attr-defined]


async def test_a_review_with_a_photo_is_published_and_a_rejection_is_emailed_by_a_worker(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, mailbox: Mailbox, workers: Workers
) -> None:
    assert (await client.post("/api/v1/orders", json=order_payload("R-1"), headers=api_headers)).status_code == 201
    event = event_payload("delivered", DELIVERED)
    assert (await client.post("/api/v1/orders/R-1/events", json=event, headers=api_headers)).status_code == 202
    await dispatch_due(
        SEND_AT, settings, enqueue_batch=lambda ids, purpose: send_batch.delay(ids, purpose, SEND_AT.isoformat())
    )
    wait_for(lambda: mailbox.count() == 1, what="the invitation email")
    item_link = re.search(r"Write a review: http://afterglow\.test(/s/\S+/items/\d+)", text_of(mailbox.messages[0]))
    assert item_link, text_of(mailbox.messages[0])

    with time_machine.travel(SEND_AT + timedelta(hours=2), tick=True):
        path = item_link.group(1)
        assert (await client.get(path)).status_code == 200
        saved = await client.post(
            path,
            data={"rating": "2", "title": "Leaks", "text": "Call me on +49 30 1234 5678, it leaks."},
            files=[("photos", ("leak.jpg", photo_bytes(gps=True), "image/jpeg"))],
            headers={"HX-Request": "true"},
        )
        assert saved.status_code == 200, saved.text
    review = await Review.select().first()
    assert (review["status"], review["held_rule"], review["verified"]) == ("held", "phone", True)
    assert await ReviewPhoto.count() == 1
    rating = await client.get("/api/v1/products/SKU-1/rating")
    assert rating.status_code == 404 or rating.json()["review_count"] == 0  # held: not public

    await create_staff("mia", "moderator-pass-1", "manager", email="mia@shop.example")
    form = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    signed_in = await client.post(
        "/login",
        data={"username": "mia", "password": "moderator-pass-1", "_csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    rejected = await client.post(
        f"/app/reviews/{review['id']}/reject",
        data={"reason": "Please leave out phone numbers.", "_csrf_token": client.cookies.get("csrftoken")},
        follow_redirects=False,
    )
    assert rejected.status_code == 303

    wait_for(lambda: mailbox.count() == 2, what="the rejection email")
    rejection = mailbox.messages[1]
    assert rejection["To"] == "anna@example.com"
    assert "Please leave out phone numbers." in text_of(rejection)

    # The customer edits the review; it publishes and the public API counts it.
    edit_link = re.search(r"http://afterglow\.test(/s/\S+/items/\d+)", text_of(rejection))
    assert edit_link
    with time_machine.travel(SEND_AT + timedelta(hours=3), tick=True):
        edited = await client.post(
            edit_link.group(1),
            data={"rating": "2", "title": "Leaks", "text": "It leaks at the seam."},
            files=[("photos", ("", b"", "application/octet-stream"))],  # the form's empty file input
        )
        assert edited.status_code == 200  # the redirect to the item page, followed
    rating = await client.get("/api/v1/products/SKU-1/rating")
    assert rating.json()["review_count"] == 1 and rating.json()["distribution"]["2"] == 1
    listed = (await client.get("/api/v1/products/SKU-1/reviews")).json()["items"]
    assert [(r["text"], r["verified"], len(r["photos"])) for r in listed] == [("It leaks at the seam.", True, 1)]
    assert mailbox.count() == 2
