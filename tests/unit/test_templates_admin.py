"""The template editor: admins only, CSRF, refused edits kept with their reasons, the owner's wording used by the
real invitation send (per language), the survey page's wording, preview, a test email to oneself, reset, audit."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient

from accounts.tables import AuditEvent
from afterglow.settings import Settings
from surveys.services.emails import render_invitation
from surveys.tables import SentEmail, TemplateOverride
from surveys.wording_defaults import starter
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.survey_fixtures import OPEN_AT, SEND_AT, invite

PAGE = "/app/admin/templates"
GERMAN_SUBJECT = "Frisch geröstet: Wie war Bestellung {{ order_number }}, {{ customer_name }}?"


async def post(client: AsyncTestClient, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
    form = {**(data or {}), "_csrf_token": client.cookies.get("csrftoken")}
    return await client.post(path, data=form, follow_redirects=False)


def german_invitation(**parts: str) -> dict[str, str]:
    return {"key": "invitation", "lang": "de", **starter("invitation", "de"), "subject": GERMAN_SUBJECT, **parts}


@pytest.fixture
async def admin(client: AsyncTestClient) -> AsyncTestClient:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    await client.get(PAGE)  # sets the CSRF cookie
    return client


async def actions() -> list[tuple[str, str]]:
    rows = await AuditEvent.select(AuditEvent.action, AuditEvent.target).order_by(AuditEvent.id)
    return [(row["action"], row["target"]) for row in rows if row["action"].startswith("templates.")]


@pytest.mark.parametrize("username", ["max", "sue"])
async def test_managers_and_members_get_403_on_every_route(client: AsyncTestClient, username: str) -> None:
    await make_staff()
    assert await sign_in(client, username) == 303
    assert (await client.get(PAGE, follow_redirects=False)).status_code == 403
    assert (await client.get(f"{PAGE}/frame?key=invitation&lang=de", follow_redirects=False)).status_code == 403
    for action in ("preview", "frame", "save", "reset", "test"):
        assert (await post(client, f"{PAGE}/{action}", german_invitation())).status_code == 403, action
    assert await TemplateOverride.count() == 0 and await actions() == []


async def test_posts_without_the_csrf_token_are_refused(admin: AsyncTestClient) -> None:
    response = await admin.post(f"{PAGE}/save", data=german_invitation(), follow_redirects=False)
    assert response.status_code == 403
    assert await TemplateOverride.count() == 0


async def test_the_page_offers_every_template_and_language_and_starts_from_the_translated_default(
    admin: AsyncTestClient,
) -> None:
    page = await admin.get(f"{PAGE}?key=invitation&lang=de")
    assert page.status_code == 200
    assert 'aria-current="page">Templates</a>' in page.text
    assert "Invitation email · Deutsch (default)" in page.text
    assert "Wie zufrieden sind Sie mit Ihrer Bestellung {{ order_number }}?" in page.text
    assert (await admin.get(f"{PAGE}?key=nothing&lang=de")).status_code == 404


async def test_the_edited_german_subject_reaches_german_customers_only(
    admin: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    saved = await post(admin, f"{PAGE}/save", german_invitation())
    assert saved.status_code == 303 and "done=saved" in saved.headers["location"]
    assert await actions() == [("templates.save", "invitation:de")]

    german = await invite(admin, api_headers, settings, external_id="2001", email="jonas@example.de", locale="de-DE")
    assert german.email["subject"].startswith("Frisch geröstet: Wie war Bestellung 2001")
    assert german.email["headers"]["Content-Language"] == "de"
    assert "Zur kurzen Umfrage" in german.email["html"] and german.survey_path in german.email["html"]
    english = await invite(admin, api_headers, settings, external_id="2002", email="amy@example.com", locale="en")
    assert english.email["subject"] == "How was your order 2002?"


async def test_a_refused_edit_is_not_saved_and_says_why(admin: AsyncTestClient) -> None:
    text = starter("invitation", "de")["text"].replace("{{ unsubscribe_link }}", "")
    response = await post(admin, f"{PAGE}/save", german_invitation(text=text))
    assert response.status_code == 400
    assert "Text body: must contain {{ unsubscribe_link }}" in response.text
    assert "Frisch geröstet" in response.text  # the draft is kept
    assert await TemplateOverride.count() == 0 and await actions() == []


async def test_the_preview_shows_the_draft_and_its_problems_without_a_500(admin: AsyncTestClient) -> None:
    shown = await post(admin, f"{PAGE}/preview", german_invitation())
    assert shown.status_code == 200
    assert "Frisch geröstet: Wie war Bestellung PREVIEW-1001, Anna Schmidt?" in shown.text
    broken = await post(admin, f"{PAGE}/preview", german_invitation(html="{{ ''.__class__ }} {% if %}"))
    assert broken.status_code == 200 and "This cannot be saved yet" in broken.text
    frame = await post(admin, f"{PAGE}/frame", german_invitation(html=german_invitation()["html"] + "<p>Neu!</p>"))
    assert "<p>Neu!</p>" in frame.text
    assert "sandbox" in frame.headers["content-security-policy"]
    assert frame.headers["x-frame-options"] == "SAMEORIGIN"


async def test_send_me_a_test_goes_to_the_admin_through_the_mail_path(admin: AsyncTestClient) -> None:
    sent = await post(admin, f"{PAGE}/test", german_invitation())
    assert sent.status_code == 303 and "sent=ada%40shop.example" in sent.headers["location"]
    mail = await SentEmail.select().where(SentEmail.purpose == "template-test").first()
    assert mail is not None and mail["to"] == "ada@shop.example"
    assert mail["subject"].startswith("Frisch geröstet")
    assert await TemplateOverride.count() == 0  # a test does not save
    assert await actions() == [("templates.test_email", "invitation:de")]


async def test_reset_brings_back_the_default(
    admin: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await post(admin, f"{PAGE}/save", german_invitation())
    reset = await post(admin, f"{PAGE}/reset", {"key": "invitation", "lang": "de"})
    assert reset.status_code == 303 and "done=reset" in reset.headers["location"]
    again = await post(admin, f"{PAGE}/reset", {"key": "invitation", "lang": "de"})
    assert "done=default" in again.headers["location"]
    assert await actions() == [("templates.save", "invitation:de"), ("templates.reset", "invitation:de")]
    german = await invite(admin, api_headers, settings, external_id="2003", email="jonas@example.de", locale="de")
    assert german.email["subject"] == "Wie zufrieden sind Sie mit Ihrer Bestellung 2003?"


async def test_the_survey_page_wording_is_shown_to_customers_in_its_language(
    admin: AsyncTestClient, api_headers: dict[str, str], settings: Settings, time_machine: Any
) -> None:
    fields = {**starter("survey_page", "de"), "intro": "Schön, dass Sie da sind, {{ customer_name }}!"}
    saved = await post(admin, f"{PAGE}/save", {"key": "survey_page", "lang": "de", **fields, "thanks": "Danke!"})
    assert saved.status_code == 303
    german = await invite(admin, api_headers, settings, external_id="2004", email="jonas@example.de", locale="de")
    time_machine.move_to(OPEN_AT, tick=True)  # the customer opens the link soon after the send
    page = await admin.get(german.survey_path)
    assert "Schön, dass Sie da sind, " in page.text
    english = await invite(admin, api_headers, settings, external_id="2005", email="amy@example.com", locale="en")
    assert "Thank you for your order 2005. How did we do?" in (await admin.get(english.survey_path)).text


async def test_reminders_use_the_reminder_wording(
    admin: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    fields = {**starter("reminder", "de"), "subject": "Nochmal: Bestellung {{ order_number }}"}
    assert (await post(admin, f"{PAGE}/save", {"key": "reminder", "lang": "de", **fields})).status_code == 303
    german = await invite(admin, api_headers, settings, external_id="2006", email="jonas@example.de", locale="de")
    assert german.email["subject"] == "Wie zufrieden sind Sie mit Ihrer Bestellung 2006?"  # the invitation: default
    reminder = await render_invitation(german.invitation_id, "reminder", SEND_AT, settings)
    assert reminder.subject == "Nochmal: Bestellung 2006"
    assert "Vor ein paar Tagen" in reminder.text


@pytest.mark.parametrize("key", ["invitation", "survey_page"])
async def test_the_preview_frame_shows_the_saved_or_default_wording_sandboxed(admin: AsyncTestClient, key: str) -> None:
    frame = await admin.get(f"{PAGE}/frame?key={key}&lang=hu")
    assert frame.status_code == 200 and "Kovács Anna" in frame.text
    assert "sandbox" in frame.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in frame.headers["content-security-policy"]
