"""Moderating reviews: the held queue, approving, rejecting with a reason (and the email it sends), the shop's reply."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient
from markupsafe import escape
from piccolo.apps.user.tables import BaseUser

from accounts.services import Staff, staff
from accounts.tables import AuditEvent
from afterglow.settings import Settings
from reviews.services import moderation
from reviews.services.moderation import InvalidModeration, NotModeratable, UnknownReview
from reviews.services.rejection_email import send_rejection_email
from reviews.tables import Review
from reviews.tasks import send_rejection
from shop.tables import OrderItem
from surveys.tables import Invitation, SentEmail
from tests.factories import photo_bytes
from tests.unit.review_fixtures import add_review
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.survey_fixtures import OPEN_AT, Invited, invite

HTMX = {"HX-Request": "true"}
SCRIPT = "<script>alert(1)</script>"
ITEM_LINK = re.compile(r"https?://[^\s/\"]+(/s/[A-Za-z0-9_.\-]+/items/\d+)")
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)
SIGN_IN_EVENTS = {"signed_in", "signed_out", "sign_in_failed"}


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


@pytest.fixture
async def moderator() -> Staff:
    """The admin, as the service functions get them from a signed-in request."""
    found = await staff((await make_staff())["admin"])
    assert found is not None
    return found


async def as_manager(client: AsyncTestClient) -> None:
    """Sign in as the manager (creating the staff unless a `moderator` fixture did)."""
    if not await BaseUser.exists().where(BaseUser.username == "max"):
        await make_staff()
    assert await sign_in(client, "max") == 303


async def post(
    client: AsyncTestClient, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False
) -> httpx.Response:
    """A form post carrying the CSRF token in the form, as the page's forms do."""
    form = {**(data or {}), "_csrf_token": client.cookies.get("csrftoken")}
    return await client.post(path, data=form, headers=HTMX if htmx else {}, follow_redirects=False)


async def review(review_id: int) -> dict[str, Any]:
    row = await Review.select().where(Review.id == review_id).first()
    assert row is not None
    return row


async def audit_actions() -> list[tuple[str, str]]:
    rows = await AuditEvent.select(AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id)
    return [(row["action"], row["target"]) for row in rows if row["action"] not in SIGN_IN_EVENTS]


async def rejection_emails() -> list[dict[str, Any]]:
    query = SentEmail.select().where(SentEmail.purpose == "review-rejected").order_by(SentEmail.id)
    return await query.output(load_json=True)


async def invited_review(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, **values: Any
) -> tuple[Invited, int, int]:
    """A review written through a real invitation (so the rejection email can link back to it): the invitation,
    the review id and the order item it is about."""
    invited = await invite(client, api_headers, settings)
    inv = await Invitation.select(Invitation.order, Invitation.customer).where(Invitation.id == invited.invitation_id)
    item = await OrderItem.select(OrderItem.id, OrderItem.sku, OrderItem.name).where(OrderItem.order == inv[0]["order"])
    row = Review(
        order_item=item[0]["id"],
        customer=inv[0]["customer"],
        invitation=invited.invitation_id,
        sku=item[0]["sku"],
        product_name=item[0]["name"],
        rating=2,
        title="Kettle",
        text="Write me at anna@example.com",
        author_name="Anna S.",
        verified=True,
        status="held",
        held_rule="email",
        created_at=OPEN_AT,
        updated_at=OPEN_AT,
    )
    for name, value in values.items():
        setattr(row, name, value)
    review_id = (await Review.insert(row).returning(Review.id))[0]["id"]
    return invited, int(review_id), int(item[0]["id"])


# The queue --------------------------------------------------------------------------------------------------------


async def test_the_held_queue_lists_held_reviews_with_the_rule_that_held_them(client: AsyncTestClient) -> None:
    await as_manager(client)
    await add_review(title="Mail me", text="at x@example.com", status="held", held_rule="email", product_name="Kettle")
    await add_review(title="See", text="www.example.com", status="held", held_rule="link", sku="SKU-7")
    await add_review(title="Lovely mug", status="published")
    await add_review(title="Gone", status="rejected")

    page = await client.get("/app/reviews")
    assert page.status_code == 200
    assert "Held: contains an email address" in page.text and "Held: contains a link" in page.text
    assert "Kettle" in page.text and "SKU-7" in page.text and "Verified buyer" in page.text
    assert "Lovely mug" not in page.text and "Gone" not in page.text
    assert re.search(r'aria-current="page">Held <span class="count">2</span>', page.text)
    assert '<span class="count">1</span>' in page.text  # published and rejected
    assert page.text.count('class="approve"') == 2


async def test_published_and_rejected_tabs_list_their_own_reviews(client: AsyncTestClient) -> None:
    await as_manager(client)
    await add_review(title="Held one", status="held", held_rule="phone")
    await add_review(title="Lovely mug", status="published", rating=1)
    await add_review(title="Gone", status="rejected")

    published = (await client.get("/app/reviews?status=published")).text
    assert "Lovely mug" in published and "Held one" not in published and "Gone" not in published
    assert "Reject and email the customer" in published and 'class="approve"' not in published
    rejected = (await client.get("/app/reviews?status=rejected")).text
    assert "Gone" in rejected and "Publish after all" in rejected and "Reject and email" not in rejected
    assert "Held one" in (await client.get("/app/reviews?status=nonsense")).text  # unknown tab: the queue


async def test_the_queue_is_paginated_oldest_first() -> None:
    for n in range(moderation.PAGE_SIZE + 5):
        await add_review(title=f"held {n}", status="held", held_rule="all_caps")
    first = await moderation.held_queue("held", 1)
    second = await moderation.held_queue("held", 2)
    assert (first.total, first.pages, len(first.reviews), len(second.reviews)) == (25, 2, 20, 5)
    assert first.reviews[0]["title"] == "held 0" and second.reviews[-1]["title"] == "held 24"
    assert (await moderation.held_queue("held", 99)).page == 2
    assert (await moderation.held_queue("published", 1)).pages == 1


async def test_the_page_links_to_the_next_page_and_keeps_the_tab(client: AsyncTestClient) -> None:
    await as_manager(client)
    for n in range(moderation.PAGE_SIZE + 1):
        await add_review(title=f"nice {n}", status="published")
    page = (await client.get("/app/reviews?status=published")).text
    assert "Page 1 of 2" in page and "?status=published&amp;page=2" in page
    assert "Page 2 of 2" in (await client.get("/app/reviews?status=published&page=2")).text


# Approving --------------------------------------------------------------------------------------------------------


async def test_approving_publishes_the_review_and_is_audited(client: AsyncTestClient) -> None:
    await as_manager(client)
    review_id = await add_review(title="Call me", text="0151 2345 6789", status="held", held_rule="phone", rating=1)

    response = await post(client, f"/app/reviews/{review_id}/approve", {"tab": "held", "page": "1"})
    assert response.status_code == 303
    assert response.headers["location"] == "/app/reviews?status=held&page=1&done=approved"
    row = await review(review_id)
    assert row["status"] == "published" and row["moderated_at"] is not None
    assert abs(row["moderated_at"] - OPEN_AT) < timedelta(minutes=1)
    assert await audit_actions() == [("review_approved", f"review:{review_id}")]
    assert "Approved: the review is published." in (await client.get(response.headers["location"])).text


async def test_approving_with_htmx_leaves_a_note_in_place_of_the_card_and_updates_the_counts(
    client: AsyncTestClient,
) -> None:
    await as_manager(client)
    review_id = await add_review(title="Call me", status="held", held_rule="phone")
    await add_review(title="Other", status="held", held_rule="link")

    response = await post(client, f"/app/reviews/{review_id}/approve", {"tab": "held"}, htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<article class="card review-card decided" id="review-{review_id}">')
    assert "Approved" in response.text and "<html" not in response.text
    assert 'id="review-tabs"' in response.text and 'hx-swap-oob="true"' in response.text
    assert re.search(r'aria-current="page">Held <span class="count">1</span>', response.text)


async def test_a_rejected_review_can_be_published_after_all(moderator: Staff) -> None:
    review_id = await add_review(title="Fine", status="rejected")
    await Review.update({Review.reject_reason: "too short"}).where(Review.id == review_id)
    row = await moderation.approve(review_id, moderator, OPEN_AT)
    assert (row["status"], row["reject_reason"], row["moderated_at"]) == ("published", "", OPEN_AT)


async def test_a_published_review_cannot_be_approved_again(moderator: Staff, client: AsyncTestClient) -> None:
    await as_manager(client)
    review_id = await add_review(title="Fine", status="published")
    with pytest.raises(NotModeratable):
        await moderation.approve(review_id, moderator, OPEN_AT)
    response = await post(client, f"/app/reviews/{review_id}/approve", htmx=True)
    assert response.status_code == 400
    assert "published already" in response.text and f'id="review-{review_id}"' in response.text
    assert await audit_actions() == []


async def test_an_unknown_review_is_404(moderator: Staff, client: AsyncTestClient) -> None:
    await as_manager(client)
    for action in ("approve", "reject", "reply"):
        response = await post(client, f"/app/reviews/999999/{action}", {"reason": "not allowed", "reply": "hi"})
        assert response.status_code == 404, action
    with pytest.raises(UnknownReview):
        await moderation.approve(999999, moderator, OPEN_AT)


# Rejecting --------------------------------------------------------------------------------------------------------


async def test_rejecting_needs_a_reason_and_changes_nothing_without_one(
    moderator: Staff, client: AsyncTestClient
) -> None:
    await as_manager(client)
    review_id = await add_review(title="Mail me", status="held", held_rule="email")

    for reason in ("", "  ", "ok"):
        response = await post(client, f"/app/reviews/{review_id}/reject", {"reason": reason, "tab": "held"})
        assert response.status_code == 400, reason
        assert "Please give the customer a reason" in response.text
        assert "<html" in response.text and f'id="review-{review_id}"' in response.text  # a page with the card
    too_long = "x" * (moderation.REASON_MAX + 1)
    response = await post(client, f"/app/reviews/{review_id}/reject", {"reason": too_long}, htmx=True)
    assert response.status_code == 400 and "under 1000 characters" in response.text
    assert too_long in response.text and "<html" not in response.text  # the card, with the text kept
    assert '<details class="review-form" open>' in response.text
    row = await review(review_id)
    assert (row["status"], row["reject_reason"], row["moderated_at"]) == ("held", "", None)
    assert await audit_actions() == [] and await SentEmail.count() == 0
    with pytest.raises(InvalidModeration):
        await moderation.reject(review_id, "no", moderator, OPEN_AT)


async def test_rejecting_emails_the_customer_once_with_the_reason_and_a_link_to_change_the_review(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    invited, review_id, item_id = await invited_review(client, api_headers, settings)
    await as_manager(client)
    reason = 'Please remove your address. <b>Tom & "Jerry"</b>'

    response = await post(client, f"/app/reviews/{review_id}/reject", {"reason": reason, "tab": "held"})
    assert response.status_code == 303
    assert response.headers["location"].endswith("done=rejected")
    row = await review(review_id)
    assert (row["status"], row["reject_reason"]) == ("rejected", reason) and row["moderated_at"] is not None
    assert await audit_actions() == [("review_rejected", f"review:{review_id}")]

    mails = await rejection_emails()
    assert len(mails) == 1
    mail = mails[0]
    assert mail["to"] == "anna@example.com" and mail["invitation"] == invited.invitation_id
    assert mail["subject"] == "Your review of Item 1 was not published"
    assert reason in mail["text"] and "Item 1" in mail["text"]
    assert str(escape(reason)) in mail["html"] and reason not in mail["html"]
    assert mail["headers"]["Message-ID"] == mail["message_id"]
    assert mail["message_id"].startswith(f"<review-rejected.{review_id}.")
    links = ITEM_LINK.findall(mail["text"])
    assert links and links[0].endswith(f"/items/{item_id}") and links[0].startswith(f"/s/{invited.token}.")
    assert f'href="{settings.base_url}{links[0]}"' in mail["html"]

    client.cookies.clear()  # the customer, not signed in
    page = await client.get(links[0])
    assert page.status_code == 200
    assert "Please remove your address." in page.text  # the item page tells them why, and offers the form

    for _ in range(2):  # a redelivered task finds the email sent
        result = await asyncio.to_thread(send_rejection.apply, args=[review_id])
        assert result.get() == "sent-before"
    assert len(await rejection_emails()) == 1


async def test_rejecting_again_after_the_customer_changed_the_review_sends_a_new_email(
    client: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    invited, review_id, item_id = await invited_review(client, api_headers, settings)
    await as_manager(client)
    assert (await post(client, f"/app/reviews/{review_id}/reject", {"reason": "Contact details"})).status_code == 303
    first = (await review(review_id))["moderated_at"]

    time_machine.move_to(OPEN_AT + timedelta(hours=1), tick=True)  # within the staff session
    edited = await client.post(
        f"{invited.survey_path}/items/{item_id}",
        data={"rating": "2", "title": "Kettle", "text": "Boils slowly, and the lid rattles."},
        files=[("photos", ("", b"", "application/octet-stream"))],
        follow_redirects=False,
    )
    assert edited.status_code == 303, edited.text
    assert (await review(review_id))["status"] == "published"  # a one-star or two-star review publishes

    reason = "Second look: off-topic"
    assert (await post(client, f"/app/reviews/{review_id}/reject", {"reason": reason})).status_code == 303
    assert (await review(review_id))["moderated_at"] > first
    mails = await rejection_emails()
    assert len(mails) == 2 and mails[0]["message_id"] != mails[1]["message_id"]
    assert reason in mails[1]["text"] and reason not in mails[0]["text"]


async def test_the_email_task_does_nothing_once_the_review_is_no_longer_rejected(
    moderator: Staff, settings: Settings
) -> None:
    review_id = await add_review(title="Mail me", status="held", held_rule="email")
    await moderation.reject(review_id, "Contact details", moderator, OPEN_AT)
    await moderation.approve(review_id, moderator, OPEN_AT + timedelta(minutes=5))
    assert await send_rejection_email(review_id, OPEN_AT, settings) == "not-rejected"
    assert await SentEmail.count() == 0


async def test_a_review_without_an_invitation_gets_the_email_without_a_link(
    moderator: Staff, settings: Settings
) -> None:
    review_id = await add_review(title="Mail me", status="held", held_rule="email", email="ben@example.com")
    await moderation.reject(review_id, "Contact details", moderator, OPEN_AT)
    assert await send_rejection_email(review_id, OPEN_AT, settings) == "sent"
    assert await send_rejection_email(review_id, OPEN_AT, settings) == "sent-before"
    mail = (await rejection_emails())[0]
    assert mail["to"] == "ben@example.com" and mail["invitation"] is None
    assert "/s/" not in mail["text"] and "/s/" not in mail["html"]


async def test_the_email_is_in_the_customers_language(moderator: Staff, settings: Settings) -> None:
    review_id = await add_review(product_name="Wasserkocher", status="held", held_rule="link", locale="de-AT")
    await moderation.reject(review_id, "Bitte ohne Links.", moderator, OPEN_AT)
    await send_rejection_email(review_id, OPEN_AT, settings)
    mail = (await rejection_emails())[0]
    assert mail["headers"]["Content-Language"] == "de"
    assert "Bitte ohne Links." in mail["text"] and "Wasserkocher" in mail["subject"]


async def test_a_published_review_can_be_rejected_with_htmx(moderator: Staff, client: AsyncTestClient) -> None:
    await as_manager(client)
    review_id = await add_review(title="Fine", status="published")
    preset = moderation.PRESET_REASONS[1]
    response = await post(
        client,
        f"/app/reviews/{review_id}/reject",
        {"preset": preset, "reason": "The link to example.com.", "tab": "published"},
        htmx=True,
    )
    assert response.status_code == 200
    assert "Rejected: the customer gets an email" in response.text
    assert re.search(r'aria-current="page">Published <span class="count">0</span>', response.text)
    assert (await review(review_id))["reject_reason"] == f"{preset}\n\nThe link to example.com."
    assert len(await rejection_emails()) == 1
    with pytest.raises(NotModeratable):  # rejected already
        await moderation.reject(review_id, "again", moderator, OPEN_AT)


# Replying ---------------------------------------------------------------------------------------------------------


async def test_the_shop_replies_edits_the_reply_and_removes_it(client: AsyncTestClient) -> None:
    await as_manager(client)
    review_id = await add_review(title="Slow delivery", status="published", rating=2)
    path = f"/app/reviews/{review_id}/reply"

    added = await post(client, path, {"reply": "Sorry, we changed carriers.", "tab": "published"}, htmx=True)
    assert added.status_code == 200 and "Reply saved." in added.text
    assert "Sorry, we changed carriers." in added.text and "Edit the reply" in added.text
    row = await review(review_id)
    assert row["reply_text"] == "Sorry, we changed carriers." and row["reply_at"] is not None

    edited = await post(client, path, {"reply": "Sorry! We changed carriers.", "tab": "published"})
    assert edited.status_code == 303 and edited.headers["location"].endswith("done=reply-saved")
    page = (await client.get("/app/reviews?status=published")).text
    assert "Sorry! We changed carriers." in page and "Sorry, we changed" not in page

    removed = await post(client, path, {"reply": "  ", "tab": "published"}, htmx=True)
    assert removed.status_code == 200 and "Reply removed." in removed.text and "Reply publicly" in removed.text
    row = await review(review_id)
    assert (row["reply_text"], row["reply_at"]) == ("", None)
    assert [action for action, _ in await audit_actions()] == [
        "review_reply_added",
        "review_reply_edited",
        "review_reply_removed",
    ]


async def test_a_reply_over_the_limit_is_refused_and_kept_for_editing(client: AsyncTestClient) -> None:
    await as_manager(client)
    review_id = await add_review(title="Fine", status="held", held_rule="link")
    long_reply = "y" * (moderation.REPLY_MAX + 1)
    response = await post(client, f"/app/reviews/{review_id}/reply", {"reply": long_reply}, htmx=True)
    assert response.status_code == 400 and "under 2000 characters" in response.text
    assert long_reply in response.text
    assert (await review(review_id))["reply_text"] == ""


# Who may ----------------------------------------------------------------------------------------------------------


async def test_members_get_403_and_anonymous_visitors_are_sent_to_sign_in(client: AsyncTestClient) -> None:
    await make_staff()
    review_id = await add_review(
        title="Mail me", status="held", held_rule="email", photos=(("a" * 32 + ".jpg", "image/jpeg"),)
    )
    routes = [
        ("GET", "/app/reviews"),
        ("GET", f"/app/reviews/photos/{'a' * 32}.jpg"),
        ("POST", f"/app/reviews/{review_id}/approve"),
        ("POST", f"/app/reviews/{review_id}/reject"),
        ("POST", f"/app/reviews/{review_id}/reply"),
    ]
    await client.get("/login")  # a CSRF cookie, so the anonymous posts reach the guard
    for method, path in routes:
        response = await (client.get(path, follow_redirects=False) if method == "GET" else post(client, path))
        assert response.status_code == 303, (method, path)
        assert response.headers["location"] == f"/login?next={path}"
    assert await sign_in(client, "sue") == 303
    for method, path in routes:
        data = {"reason": "Contact details", "reply": "hello"}
        response = await (client.get(path, follow_redirects=False) if method == "GET" else post(client, path, data))
        assert response.status_code == 403, (method, path)
    row = await review(review_id)
    assert (row["status"], row["reply_text"]) == ("held", "")
    assert await audit_actions() == []


async def test_a_post_without_the_csrf_token_is_refused(client: AsyncTestClient) -> None:
    await as_manager(client)
    review_id = await add_review(title="Mail me", status="held", held_rule="email")
    for action in ("approve", "reject", "reply"):
        response = await client.post(
            f"/app/reviews/{review_id}/{action}",
            data={"reason": "Contact details", "reply": "hi"},
            headers=HTMX,
            follow_redirects=False,
        )
        assert response.status_code == 403, action
    assert (await review(review_id))["status"] == "held"


async def test_htmx_posts_may_carry_the_token_as_a_header(client: AsyncTestClient) -> None:
    await as_manager(client)
    review_id = await add_review(title="Mail me", status="held", held_rule="email")
    response = await client.post(
        f"/app/reviews/{review_id}/approve",
        headers={**HTMX, "X-CSRFToken": client.cookies.get("csrftoken") or ""},
        follow_redirects=False,
    )
    assert response.status_code == 200
    assert (await review(review_id))["status"] == "published"


# Photos and safety ------------------------------------------------------------------------------------------------


async def test_staff_see_the_photos_of_held_reviews_which_the_public_cannot(
    client: AsyncTestClient, settings: Settings
) -> None:
    await as_manager(client)
    name = "b" * 32 + ".jpg"
    settings.photo_folder.mkdir(parents=True, exist_ok=True)
    (settings.photo_folder / name).write_bytes(photo_bytes())
    await add_review(title="Look", status="held", held_rule="link", photos=((name, "image/jpeg"),))

    page = (await client.get("/app/reviews")).text
    assert f'src="/app/reviews/photos/{name}?size=thumb"' in page
    photo = await client.get(f"/app/reviews/photos/{name}")
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"
    assert photo.headers["cache-control"] == "private, max-age=3600"
    assert (await client.get(f"/media/reviews/{name}")).status_code == 404
    assert (await client.get("/app/reviews/photos/" + "c" * 32 + ".jpg")).status_code == 404


async def test_what_customers_and_staff_wrote_is_escaped(client: AsyncTestClient) -> None:
    await as_manager(client)
    held = await add_review(title=SCRIPT, text=SCRIPT, author_name=SCRIPT, status="held", held_rule="link")
    await add_review(title=SCRIPT, status="held", held_rule="link")  # stays in the queue
    await add_review(title="Fine", text=SCRIPT, product_name=SCRIPT, status="published")
    await post(client, f"/app/reviews/{held}/reply", {"reply": SCRIPT})
    await post(client, f"/app/reviews/{held}/reject", {"reason": SCRIPT})

    pages = [await client.get(f"/app/reviews?status={status}") for status in moderation.STATUSES]
    pages.append(await post(client, f"/app/reviews/{held}/reply", {"reply": SCRIPT + "x" * 2001}, htmx=True))
    for page in pages:
        assert SCRIPT not in page.text and "&lt;script&gt;" in page.text, page.url
    assert (await review(held))["reject_reason"] == SCRIPT


async def test_the_pages_need_no_inline_script_or_style(moderator: Staff, client: AsyncTestClient) -> None:
    await as_manager(client)
    await add_review(title="Held", status="held", held_rule="email", photos=(("d" * 32 + ".png", "image/png"),))
    rejected = await add_review(title="Rejected", status="published")
    await moderation.reject(rejected, "Contact details", moderator, OPEN_AT)
    for status in moderation.STATUSES:
        page = await client.get(f"/app/reviews?status={status}")
        assert page.headers["content-type"].startswith("text/html")
        assert not INLINE.search(page.text), (status, INLINE.search(page.text))


async def test_ratings_never_matter_to_moderation(moderator: Staff) -> None:
    """Only the content rules hold a review: a one-star review is approved exactly like a five-star one."""
    low = await add_review(rating=1, status="held", held_rule="link")
    high = await add_review(rating=5, status="held", held_rule="link")
    for review_id in (low, high):
        assert (await moderation.approve(review_id, moderator, OPEN_AT))["status"] == "published"


def test_every_rule_has_plain_words() -> None:
    from reviews.policy import RULES

    assert set(moderation.RULE_LABELS) == {*RULES, "undecided"}  # undecided: imported before its tool decided


async def test_a_rejection_made_while_the_broker_is_down_is_emailed_by_the_catch_up_pass(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kombu.exceptions import OperationalError

    from reviews.tasks import send_pending_rejections

    _, review_id, _ = await invited_review(client, api_headers, settings)
    await as_manager(client)

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(send_rejection, "delay", broker_down)
    refused = await post(client, f"/app/reviews/{review_id}/reject", {"reason": "Please leave out contact details."})
    assert refused.status_code == 303
    assert (await review(review_id))["status"] == "rejected"
    assert await rejection_emails() == []

    assert await asyncio.to_thread(send_pending_rejections, OPEN_AT.isoformat()) == {"sent": 1}
    assert [mail["to"] for mail in await rejection_emails()] == ["anna@example.com"]
    assert await asyncio.to_thread(send_pending_rejections, OPEN_AT.isoformat()) == {}
    assert len(await rejection_emails()) == 1
