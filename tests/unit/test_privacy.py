"""A customer's data: a full export on request, and erasure that keeps only anonymous numbers."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from accounts.tables import AuditEvent
from afterglow.settings import Settings, get_settings
from feedback.services.intake import ingest_pending
from feedback.tables import FeedbackItem, InboxItem
from operations.services.privacy import UnknownCustomer, erase_customer, export_customer, placeholder_email
from reviews.services.photos import check_photo, store_photo
from reviews.tables import Review, ReviewPhoto
from shop.tables import Customer, Order, OrderItem
from surveys.services.answers import Answers, UnknownInvitation, invitation_for_link, save_answers
from surveys.services.dispatch import dispatch_due, send_claimed
from surveys.tables import Invitation, Response, SentEmail
from tests.factories import event_payload, order_payload, photo_bytes
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.survey_fixtures import DELIVERED_AT, OPEN_AT, SEND_AT, Invited, invite, run_dispatch

ERASED_AT = SEND_AT + timedelta(days=1)
ANNA_SAYS = "Lovely lamp, thanks from Anna in Hamburg"
BOB_SAYS = "Bob here: the parcel came late"


async def answered(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, external_id: str, email: str, says: str
) -> Invited:
    """An invited customer who answered with a comment (analysed, in an inbox) and reviewed the item."""
    invited = await invite(client, api_headers, settings, external_id=external_id, email=email)
    await save_answers(invited.invitation_id, Answers(csat=5, nps=9, comment=says), "en", OPEN_AT)
    inv = (
        await Invitation.select(Invitation.customer, Invitation.order)
        .where(Invitation.id == invited.invitation_id)
        .first()
    )
    item = await OrderItem.select(OrderItem.id, OrderItem.sku).where(OrderItem.order == inv["order"]).first()
    review = await Review.insert(
        Review(
            order_item=item["id"],
            customer=inv["customer"],
            invitation=invited.invitation_id,
            sku=item["sku"],
            rating=4,
            title=f"Title by {email}",
            text=says,
            author_name=email.split("@")[0].title(),
            verified=True,
        )
    ).returning(Review.id)
    photo = check_photo(photo_bytes(), settings)
    await ReviewPhoto.insert(
        ReviewPhoto(
            review=review[0]["id"],
            file_name=store_photo(photo, settings),
            content_type=photo.content_type,
            width=photo.width,
            height=photo.height,
            size=len(photo.data),
        )
    )
    return invited


@pytest.fixture
async def anna_and_bob(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings) -> None:
    await answered(client, api_headers, settings, "A-1", "anna@example.com", ANNA_SAYS)
    await answered(client, api_headers, settings, "B-1", "bob@example.com", BOB_SAYS)
    assert len(await ingest_pending(OPEN_AT)) == 4  # two responses and two reviews


async def snapshot() -> dict[str, list[dict[str, Any]]]:
    tables = (Customer, Order, Invitation, Response, SentEmail, FeedbackItem, InboxItem, Review)
    return {table._meta.tablename: await table.select().order_by(table.id) for table in tables}


@pytest.mark.usefixtures("anna_and_bob")
async def test_export_holds_the_customers_data_and_nothing_of_another() -> None:
    data = await export_customer(" Anna@Example.com ")
    assert data["customer"]["email"] == "anna@example.com"
    assert data["customer"]["name"] == "Anna Schmidt"
    [order] = data["orders"]
    assert order["external_id"] == "A-1" and order["total"] == "59.90"
    assert [i["sku"] for i in order["items"]] == ["SKU-1"]
    assert [e["type"] for e in order["events"]] == ["delivered"]
    [invitation] = data["invitations"]
    assert invitation["status"] == "sent" and invitation["skip_reason"] == "" and invitation["sent_at"]
    assert "token" not in invitation
    assert [(r["csat"], r["nps"], r["comment"]) for r in data["responses"]] == [(5, 9, ANNA_SAYS)]
    [mail] = data["sent_emails"]
    assert mail["to"] == "anna@example.com" and mail["subject"] and mail["text"] and mail["html"]
    assert sorted(f["source"] for f in data["feedback"]) == ["review", "survey"] and len(data["inbox_items"]) == 2
    assert "thread_token" not in data["feedback"][0]
    assert [(r["rating"], r["text"]) for r in data["reviews"]] == [(4, ANNA_SAYS)]

    dumped = json.dumps(data)  # plain JSON values throughout
    # Bob's order number as a whole JSON value: a random signed token may hold "B-1" inside it.
    for other in ("bob@example.com", '"B-1"', BOB_SAYS):
        assert other not in dumped


async def test_unknown_email_is_a_domain_error() -> None:
    with pytest.raises(UnknownCustomer):
        await export_customer("nobody@example.com")
    with pytest.raises(UnknownCustomer):
        await erase_customer("nobody@example.com", ERASED_AT)


@pytest.mark.usefixtures("anna_and_bob")
async def test_erasure_removes_personal_data_and_keeps_the_numbers() -> None:
    anna = await Customer.select(Customer.id).where(Customer.email == "anna@example.com").first()
    anna_photos = [p["file_name"] for p in (await export_customer("anna@example.com"))["review_photos"]]
    bob_photos = [p["file_name"] for p in (await export_customer("bob@example.com"))["review_photos"]]
    assert len(anna_photos) == len(bob_photos) == 1
    counts = await erase_customer("anna@example.com", ERASED_AT)
    assert counts == {
        "customer": 1,
        "comments_cleared": 1,
        "sent_emails_deleted": 1,
        "feedback_cleared": 2,
        "suggestions_cleared": 0,
        "reviews_cleared": 1,
        "review_photos_deleted": 1,
        "invitations_stopped": 0,  # answered: no reminder was pending
    }
    customer = await Customer.select().where(Customer.id == anna["id"]).first()
    assert customer["email"] == placeholder_email(anna["id"]) == f"erased-{anna['id']}@erased.invalid"
    assert customer["name"] == "" and customer["timezone"] == "" and customer["locale"] == "en"
    assert customer["unsubscribed_at"] is not None

    theirs = Response.invitation.customer == anna["id"]
    assert await Response.select(Response.csat, Response.nps, Response.comment).where(theirs) == [
        {"csat": 5, "nps": 9, "comment": ""}
    ]
    assert not await SentEmail.exists().where(SentEmail.to == "anna@example.com")
    assert await FeedbackItem.select(
        FeedbackItem.text, FeedbackItem.email, FeedbackItem.csat, FeedbackItem.rating
    ).where(FeedbackItem.customer == anna["id"]).order_by(FeedbackItem.id) == [
        {"text": "", "email": "", "csat": 5, "rating": None},
        {"text": "", "email": "", "csat": None, "rating": 4},
    ]
    review = (
        await Review.select(Review.id, Review.rating, Review.title, Review.text, Review.author_name)
        .where(Review.customer == anna["id"])
        .first()
    )
    assert review == {"id": review["id"], "rating": 4, "title": "", "text": "", "author_name": ""}
    assert not await ReviewPhoto.exists().where(ReviewPhoto.review == review["id"])
    assert {p.name for p in get_settings().photo_folder.iterdir()} >= set(bob_photos)
    assert not any(name in {p.name for p in get_settings().photo_folder.iterdir()} for name in anna_photos)
    assert await Order.count() == 2 and await InboxItem.count() == 4
    assert (await Order.select(Order.total).where(Order.customer == anna["id"]).first())["total"] is not None

    with pytest.raises(UnknownCustomer):
        await export_customer("anna@example.com")
    bob = await export_customer("bob@example.com")
    assert bob["responses"][0]["comment"] == BOB_SAYS and len(bob["sent_emails"]) == 1
    assert len(bob["feedback"]) == 2 and bob["reviews"][0]["text"] == BOB_SAYS


@pytest.mark.usefixtures("anna_and_bob")
async def test_second_erasure_changes_nothing() -> None:
    await erase_customer("anna@example.com", ERASED_AT)
    before = await snapshot()
    with pytest.raises(UnknownCustomer):  # the old address is gone
        await erase_customer("anna@example.com", ERASED_AT + timedelta(days=1))
    anna_id = (await Customer.select(Customer.id).where(Customer.name == "").first())["id"]
    again = await erase_customer(placeholder_email(anna_id), ERASED_AT + timedelta(days=1))
    assert set(again.values()) == {0}
    assert await snapshot() == before


async def test_after_erasure_a_dispatch_pass_sends_nothing(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    # Anna was asked and has a reminder pending; Carl's order was delivered, his invitation not planned yet.
    anna = await invite(client, api_headers, settings, external_id="A-1", email="anna@example.com")
    await client.post("/api/v1/orders", json=order_payload("C-1", email="carl@example.com"), headers=api_headers)
    await client.post("/api/v1/orders/C-1/events", json=event_payload("delivered", SEND_AT), headers=api_headers)
    await erase_customer("anna@example.com", ERASED_AT)
    await erase_customer("carl@example.com", ERASED_AT)

    later = SEND_AT + timedelta(days=settings.reminder_days + 4)
    _, queued = await run_dispatch(later, settings)
    assert queued == []
    assert await SentEmail.count() == 0
    statuses = await Invitation.select(Invitation.status, Invitation.skip_reason).order_by(Invitation.id)
    assert statuses == [{"status": "sent", "skip_reason": ""}, {"status": "skipped", "skip_reason": "unsubscribed"}]
    with pytest.raises(UnknownInvitation):  # the links in the old email no longer open anything
        await invitation_for_link(anna.signed, OPEN_AT, settings)


async def test_erasure_releases_a_send_a_worker_has_claimed(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await client.post("/api/v1/orders", json=order_payload("A-1"), headers=api_headers)
    await client.post("/api/v1/orders/A-1/events", json=event_payload("delivered", DELIVERED_AT), headers=api_headers)
    queued: list[tuple[int, str]] = []
    await dispatch_due(SEND_AT, settings, lambda invitation_id, purpose: queued.append((invitation_id, purpose)))
    [(invitation_id, purpose)] = queued  # claimed ("sending"), not sent yet

    counts = await erase_customer("anna@example.com", SEND_AT)
    assert counts["invitations_stopped"] == 1
    assert await send_claimed(invitation_id, purpose, SEND_AT, settings) == "not-claimed"
    assert await SentEmail.count() == 0


@pytest.mark.usefixtures("anna_and_bob")
async def test_export_page_downloads_a_json_attachment(client: AsyncTestClient) -> None:
    await make_staff()
    await sign_in(client, "ada")
    token = client.cookies.get("csrftoken")
    response = await client.post("/app/admin/privacy/export", data={"email": "anna@example.com", "_csrf_token": token})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    customer_id = response.json()["customer"]["id"]
    assert response.headers["content-disposition"] == f'attachment; filename="afterglow-customer-{customer_id}.json"'
    assert response.json()["responses"][0]["comment"] == ANNA_SAYS
    event = await AuditEvent.select(AuditEvent.target).where(AuditEvent.action == "customer_exported").first()
    assert event == {"target": f"customer:{customer_id}"}

    unknown = await client.post("/app/admin/privacy/export", data={"email": "nobody@example.com", "_csrf_token": token})
    assert unknown.status_code == 404 and "Nothing is held under this email address" in unknown.text


@pytest.mark.usefixtures("anna_and_bob")
async def test_erasure_page_asks_first_then_erases(client: AsyncTestClient) -> None:
    await make_staff()
    await sign_in(client, "ada")
    token = client.cookies.get("csrftoken")
    before = await snapshot()
    confirm = await client.post("/app/admin/privacy/erase", data={"email": "anna@example.com", "_csrf_token": token})
    assert confirm.status_code == 200
    assert "anna@example.com" in confirm.text and "Erase for good" in confirm.text
    assert await snapshot() == before  # asking changes nothing

    done = await client.post(
        "/app/admin/privacy/erase/confirm",
        data={"email": "anna@example.com", "confirm": "yes", "_csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = await client.get(done.headers["location"])
    assert "erased" in page.text and "sent emails deleted: 1" in page.text
    assert not await Customer.exists().where(Customer.email == "anna@example.com")

    events = await AuditEvent.select(AuditEvent.action, AuditEvent.target, AuditEvent.detail).output(load_json=True)
    erased = [e for e in events if e["action"] == "customer_erased"]
    assert len(erased) == 1 and erased[0]["target"].startswith("customer:")
    assert erased[0]["detail"]["comments_cleared"] == 1
    assert "anna@example.com" not in json.dumps(events)  # the log does not keep what was erased

    again = await client.post(
        "/app/admin/privacy/erase/confirm",
        data={"email": "anna@example.com", "confirm": "yes", "_csrf_token": token},
        follow_redirects=False,
    )
    assert again.status_code == 404
