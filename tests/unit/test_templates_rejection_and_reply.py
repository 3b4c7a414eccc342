"""The rejection email and the staff reply in the owner's wording (Admin → Templates): used by the real sends in the
customer's language, required placeholders refused with the reason, preview and test email through the real
rendering path, admins only, and a wording that fails at send time falling back to the default (logged)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient

from accounts.services import Staff, staff
from accounts.tables import AuditEvent
from afterglow.settings import Settings
from feedback.services.replies import reply_area, send_reply, write_reply
from reviews.services import moderation
from reviews.services.rejection_email import send_rejection_email
from shop.tables import Customer
from surveys.tables import SentEmail, TemplateOverride
from surveys.wording_defaults import starter
from tests.unit.reply_fixtures import support_feedback
from tests.unit.staff_fixtures import make_staff, sign_in, support_rule
from tests.unit.survey_fixtures import OPEN_AT
from tests.unit.test_review_moderation import invited_review

PAGE = "/app/admin/templates"
GERMAN_SUBJECT = "Leider nicht veröffentlicht: {{ product_name }}"
REPLY_SUBJECT = "A word from {{ shop_name }}, {{ customer_name }}"


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


@pytest.fixture
async def ids() -> dict[str, int]:
    found = await make_staff()
    await support_rule()
    return found


@pytest.fixture
async def admin(client: AsyncTestClient, ids: dict[str, int]) -> AsyncTestClient:
    assert await sign_in(client, "ada") == 303
    await client.get(PAGE)  # sets the CSRF cookie
    return client


async def post(client: AsyncTestClient, path: str, data: dict[str, Any]) -> httpx.Response:
    return await client.post(
        path, data={**data, "_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False
    )


def draft(key: str, lang: str, **parts: str) -> dict[str, str]:
    return {"key": key, "lang": lang, **starter(key, lang), **parts}


async def person(user_id: int) -> Staff:
    found = await staff(user_id)
    assert found is not None
    return found


async def sent(purpose: str) -> list[dict[str, Any]]:
    query = SentEmail.select().where(SentEmail.purpose == purpose).order_by(SentEmail.id)
    return await query.output(load_json=True)


async def rejected_german_review(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, ids: dict[str, int]
) -> tuple[int, int]:
    """A German customer's review, written through an invitation and rejected for a link: (review, order item)."""
    invited, review_id, item_id = await invited_review(client, api_headers, settings)
    await Customer.update({Customer.locale: "de-DE"}).where(Customer.email == "anna@example.com")
    await moderation.reject(review_id, "Bitte ohne Links.", await person(ids["admin"]), OPEN_AT)
    return review_id, item_id


async def replied(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, ids: dict[str, int], body: str
) -> int:
    """A reply by the Support member to a support survey's comment; returns the thread entry."""
    routed = await support_feedback(client, api_headers, settings)
    member = await person(ids["support"])
    area = await reply_area(member, routed.item_id)
    assert area is not None
    return await write_reply(member, area, body, OPEN_AT, settings)


# The owner's wording on the real path ------------------------------------------------------------------------------


async def test_a_rejected_german_review_gets_the_owners_german_wording(
    admin: AsyncTestClient, api_headers: dict[str, str], settings: Settings, ids: dict[str, int]
) -> None:
    saved = await post(admin, f"{PAGE}/save", draft("review_rejected", "de", subject=GERMAN_SUBJECT))
    assert saved.status_code == 303 and "done=saved" in saved.headers["location"]
    review_id, item_id = await rejected_german_review(admin, api_headers, settings, ids)

    assert await send_rejection_email(review_id, OPEN_AT, settings) == "sent"
    [mail] = await sent("review-rejected")
    assert mail["subject"] == "Leider nicht veröffentlicht: Item 1"
    assert mail["headers"]["Content-Language"] == "de"
    for body in (mail["text"], mail["html"]):
        assert "Bitte ohne Links." in body and f"/items/{item_id}" in body and "Der Grund:" in body
    audit = await AuditEvent.select(AuditEvent.action, AuditEvent.target).where(AuditEvent.action == "templates.save")
    assert audit == [{"action": "templates.save", "target": "review_rejected:de"}]


async def test_english_customers_keep_the_default_rejection_email(
    admin: AsyncTestClient, api_headers: dict[str, str], settings: Settings, ids: dict[str, int]
) -> None:
    await post(admin, f"{PAGE}/save", draft("review_rejected", "de", subject=GERMAN_SUBJECT))
    _, review_id, _ = await invited_review(admin, api_headers, settings)
    await moderation.reject(review_id, "No links, please.", await person(ids["admin"]), OPEN_AT)
    await send_rejection_email(review_id, OPEN_AT, settings)
    assert (await sent("review-rejected"))[0]["subject"] == "Your review of Item 1 was not published"


async def test_a_staff_reply_goes_out_in_the_owners_wording(
    admin: AsyncTestClient, api_headers: dict[str, str], settings: Settings, ids: dict[str, int]
) -> None:
    html = starter("reply", "en")["html"] + "<p>Warm regards from the whole crew</p>"
    assert (
        await post(admin, f"{PAGE}/save", draft("reply", "en", subject=REPLY_SUBJECT, html=html))
    ).status_code == 303
    entry = await replied(admin, api_headers, settings, ids, "Sorry <b>Anna</b>!\n\nA new kettle is on its way.")

    assert await send_reply(entry, OPEN_AT, settings) == "sent"
    [mail] = await sent("feedback-reply")
    assert mail["subject"] == f"A word from {settings.shop_name}, Anna"
    assert "Sorry <b>Anna</b>!\n\nA new kettle is on its way." in mail["text"]
    assert f"{settings.base_url}/r/" in mail["text"] and f'href="{settings.base_url}/r/' in mail["html"]
    assert "Sorry &lt;b&gt;Anna&lt;/b&gt;!</p>" in mail["html"] and "<b>Anna</b>" not in mail["html"]
    assert "Warm regards from the whole crew" in mail["html"]
    assert "> Kim never called me back" in mail["text"]  # the customer's words, quoted


# Refused edits ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "name", "part"),
    [
        ("review_rejected", "reason", "text"),
        ("review_rejected", "edit_link", "html"),
        ("reply", "reply_text", "html"),
        ("reply", "conversation_link", "text"),
    ],
)
async def test_an_edit_without_a_required_placeholder_is_refused_with_the_reason(
    admin: AsyncTestClient, key: str, name: str, part: str
) -> None:
    fields = draft(key, "en")
    response = await post(admin, f"{PAGE}/save", {**fields, part: fields[part].replace(f"{{{{ {name} }}}}", "")})
    assert response.status_code == 400
    label = {"text": "Text body", "html": "HTML body"}[part]
    assert f"{label}: must contain {{{{ {name} }}}}" in response.text
    assert await TemplateOverride.count() == 0


# Preview and test email --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "shown"),
    [("review_rejected", "Bewertungen dürfen keine Links"), ("reply", "Ein neuer Deckel ist unterwegs.")],
)
async def test_preview_frame_and_test_email_go_through_the_real_rendering(
    admin: AsyncTestClient, key: str, shown: str
) -> None:
    preview = await post(admin, f"{PAGE}/preview", draft(key, "de", subject="Vorschau für {{ customer_name }}"))
    assert preview.status_code == 200 and "Vorschau für Anna" in preview.text and shown in preview.text
    frame = await post(admin, f"{PAGE}/frame", draft(key, "de"))
    assert frame.status_code == 200 and shown in frame.text and "sandbox" in frame.headers["content-security-policy"]
    assert shown in (await admin.get(f"{PAGE}/frame?key={key}&lang=de")).text  # the default, nothing saved

    test = await post(admin, f"{PAGE}/test", draft(key, "de", subject="Test {{ shop_name }}"))
    assert test.status_code == 303 and "sent=ada%40shop.example" in test.headers["location"]
    [mail] = await sent("template-test")
    assert mail["to"] == "ada@shop.example" and mail["subject"].startswith("Test ") and shown in mail["text"]
    rows = await AuditEvent.select(AuditEvent.action, AuditEvent.target).where(AuditEvent.action.like("templates.%"))
    assert rows == [{"action": "templates.test_email", "target": f"{key}:de"}]
    assert await TemplateOverride.count() == 0


async def test_reset_brings_back_the_default_reply(
    admin: AsyncTestClient, api_headers: dict[str, str], settings: Settings, ids: dict[str, int]
) -> None:
    await post(admin, f"{PAGE}/save", draft("reply", "en", subject=REPLY_SUBJECT))
    reset = await post(admin, f"{PAGE}/reset", {"key": "reply", "lang": "en"})
    assert "done=reset" in reset.headers["location"]
    await send_reply(await replied(admin, api_headers, settings, ids, "Sorry!"), OPEN_AT, settings)
    assert (await sent("feedback-reply"))[0]["subject"] == f"Re: your feedback to {settings.shop_name}"


# Access -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["max", "sue"])
@pytest.mark.parametrize("key", ["review_rejected", "reply"])
async def test_only_admins_edit_preview_or_test_these_emails(
    client: AsyncTestClient, ids: dict[str, int], username: str, key: str
) -> None:
    assert await sign_in(client, username) == 303
    assert (await client.get(f"{PAGE}?key={key}&lang=de", follow_redirects=False)).status_code == 403
    assert (await client.get(f"{PAGE}/frame?key={key}&lang=de", follow_redirects=False)).status_code == 403
    for action in ("preview", "frame", "save", "reset", "test"):
        assert (await post(client, f"{PAGE}/{action}", draft(key, "de"))).status_code == 403, action
    assert await TemplateOverride.count() == 0 and await SentEmail.count() == 0


async def test_the_editor_lists_the_new_emails(admin: AsyncTestClient) -> None:
    page = await admin.get(f"{PAGE}?key=reply&lang=hu")
    assert page.status_code == 200
    assert "Review rejection email" in page.text and "Reply to a customer · Magyar (default)" in page.text
    assert "{{ conversation_link }}" in page.text


# A wording that fails at send time ---------------------------------------------------------------------------------


async def broken(key: str, language: str) -> None:
    """Stored wording that cannot render (saved before a check existed, or edited in the database)."""
    fields = {**starter(key, language), "subject": "{{ nothing_like_this }}", "text": "{% if %}"}
    await TemplateOverride.insert(TemplateOverride(slot=f"{key}:{language}", fields=fields, updated_at=OPEN_AT))


async def test_a_rejection_wording_that_fails_at_send_time_falls_back_to_the_default(
    admin: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    ids: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await broken("review_rejected", "de")
    review_id, _ = await rejected_german_review(admin, api_headers, settings, ids)
    with caplog.at_level(logging.WARNING, logger="surveys.services.wording"):
        assert await send_rejection_email(review_id, OPEN_AT, settings) == "sent"
    assert (await sent("review-rejected"))[0]["subject"] == "Ihre Bewertung von Item 1 wurde nicht veröffentlicht"
    assert "owner's review_rejected wording in de not used" in caplog.text


async def test_a_reply_wording_that_fails_at_send_time_falls_back_to_the_default(
    admin: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    ids: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    await broken("reply", "en")
    entry = await replied(admin, api_headers, settings, ids, "Sorry!")
    with caplog.at_level(logging.WARNING, logger="surveys.services.wording"):
        assert await send_reply(entry, OPEN_AT, settings) == "sent"
    [mail] = await sent("feedback-reply")
    assert mail["subject"] == f"Re: your feedback to {settings.shop_name}" and "Sorry!" in mail["text"]
    assert "owner's reply wording in en not used" in caplog.text


async def test_a_reply_wording_that_would_leave_out_the_reply_text_sends_the_default(
    admin: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    ids: dict[str, int],
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = "{% if not greeted %}{{ reply_text }}{% endif %}\n{{ conversation_link }}"
    assert (await post(admin, f"{PAGE}/save", draft("reply", "en", text=text))).status_code == 303  # samples pass
    entry = await replied(admin, api_headers, settings, ids, "Hi Anna, so sorry about Kim.")
    with caplog.at_level(logging.WARNING, logger="surveys.services.wording"):
        assert await send_reply(entry, OPEN_AT, settings) == "sent"
    [mail] = await sent("feedback-reply")
    assert "Hi Anna, so sorry about Kim." in mail["text"]
    assert "left out text: {{ reply_text }}" in caplog.text
