"""A customer answers the survey on a phone: from the email's NPS link to the thank-you page, in Chromium."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from tests.e2e.conftest import LiveApp, send_moment
from tests.factories import event_payload, order_payload

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 10_000


def invite(app: LiveApp, external_id: str, email: str, locale: str = "en") -> str:
    """Order, delivery, one scheduler pass inside the send window; returns the invitation email's text."""
    moment = send_moment()
    delivered = moment - timedelta(days=3, hours=1)  # due 3 days after delivery: 09:00 Berlin on `moment`'s day
    order = order_payload(
        external_id,
        email=email,
        name="Anna Schmidt",
        locale=locale,
        timezone="Europe/Berlin",
        placed_at=(delivered - timedelta(days=2)).isoformat(),
    )
    with app.api() as api:
        created = api.post("/api/v1/orders", json=order)
        assert created.status_code == 201, created.text
        event = api.post(f"/api/v1/orders/{external_id}/events", json=event_payload("delivered", delivered))
        assert event.status_code == 202, event.text
    report = app.dispatch(moment + timedelta(minutes=5))
    assert report["sent_here"] >= 1, report
    mails = [m for m in app.outbox() if m["to"] == email and m["purpose"] == "invitation"]
    assert len(mails) == 1, [(m["to"], m["purpose"]) for m in app.outbox()]
    return mails[0]["text"]


def nps_link(text: str, score: int) -> str:
    match = re.search(rf"^\s*{score}: (\S+)$", text, re.MULTILINE)
    assert match, f"no NPS {score} link in:\n{text}"
    return match.group(1)


def watch(page: Any) -> list[str]:
    """Collect console errors (CSP violations land there) and uncaught page errors.

    The browser's own /favicon.ico probe is left out: the app has no favicon yet, and the page never asks for it.
    """
    problems: list[str] = []

    def on_console(msg: Any) -> None:
        source = msg.location.get("url", "")
        if msg.type == "error" and not source.endswith("/favicon.ico"):
            problems.append(f"console.{msg.type}: {msg.text} ({source})")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    return problems


def is_answer_post(response: Any) -> bool:
    return response.request.method == "POST" and response.url.endswith("/answer")


def stored_responses(app: LiveApp, survey_url: str) -> list[tuple[Any, ...]]:
    """The response rows of the invitation behind a survey link, read straight from the app's SQLite file."""
    token = survey_url.rsplit("/s/", 1)[1].split("?")[0].split(".")[0]
    with sqlite3.connect(f"file:{app.database}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT r.csat, r.nps, r.comment FROM response r JOIN invitation i ON r.invitation = i.id"
            " WHERE i.token = ?",
            (token,),
        ).fetchall()


def test_phone_answers_from_email_link(live_app: LiveApp, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    link = nps_link(invite(live_app, "E2E-1001", "anna.e2e@example.com"), 9)
    assert link.startswith(f"{live_app.base_url}/s/") and link.endswith("?nps=9")
    survey_url = link.split("?")[0]
    comment = "Quick delivery, and the kettle is lovely."

    context = browser.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        problems = watch(page)

        # Opening the email's "9" link preselects 9 and, once htmx runs, saves it.
        with page.expect_response(is_answer_post) as first_save:
            page.goto(link)
        assert first_save.value.status == 200
        sent = parse_qs(first_save.value.request.post_data or "")
        assert sent["nps"] == ["9"] and "csat" not in sent, sent
        expect(page.locator("#nps-9")).to_be_checked()
        expect(page.locator("#save-status")).to_contain_text("Saved")
        page.screenshot(path=artifacts / "survey-390x844.png", full_page=True)

        # Tapping a CSAT score saves it too.
        with page.expect_response(is_answer_post) as csat_save:
            page.locator("label[for='csat-4']").tap()
        assert csat_save.value.status == 200
        assert parse_qs(csat_save.value.request.post_data or "")["csat"] == ["4"]
        expect(page.locator("#csat-4")).to_be_checked()
        expect(page.locator("#save-status")).to_contain_text("Saved")

        page.locator("#comment").tap()
        page.locator("#comment").fill(comment)
        page.get_by_role("button", name="Send").tap()
        expect(page).to_have_url(f"{survey_url}/thanks")
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
        page.screenshot(path=artifacts / "thanks-390x844.png", full_page=True)

        # Coming back shows what was stored.
        page.goto(survey_url)
        expect(page.locator("#csat-4")).to_be_checked()
        expect(page.locator("#nps-9")).to_be_checked()
        expect(page.locator("#comment")).to_have_value(comment)
        expect(page.locator("input[type=radio]:checked")).to_have_count(2)
        assert problems == []
    finally:
        context.close()

    assert stored_responses(live_app, survey_url) == [(4, 9, comment)]


def test_without_javascript_only_the_form_saves(live_app: LiveApp, browser: Any, artifacts: Path) -> None:
    from playwright.sync_api import expect

    link = nps_link(invite(live_app, "E2E-1002", "ben.e2e@example.com"), 9)
    survey_url = link.split("?")[0]
    comment = "Box was dented."

    emailed = browser.new_context(java_script_enabled=False, **PHONE)
    fresh = browser.new_context(java_script_enabled=False, **PHONE)
    for context in (emailed, fresh):
        context.set_default_timeout(TIMEOUT_MS)
    try:
        page = emailed.new_page()
        posts: list[str] = []
        page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
        page.goto(link)
        expect(page.locator("#nps-9")).to_be_checked()
        page.screenshot(path=artifacts / "survey-nojs-390x844.png", full_page=True)
        assert posts == []

        # Opening the link stored nothing: a fresh visit without the score shows an empty survey.
        check = fresh.new_page()
        check.goto(survey_url)
        expect(check.locator("input[name=nps]:checked")).to_have_count(0)
        expect(check.locator("input[name=csat]:checked")).to_have_count(0)
        assert stored_responses(live_app, survey_url) == []

        # The plain form posts everything and lands on the thank-you page.
        page.locator("label[for='csat-2']").tap()
        page.locator("#comment").fill(comment)
        page.get_by_role("button", name="Send").tap()
        expect(page).to_have_url(f"{survey_url}/thanks")
        expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
        page.screenshot(path=artifacts / "thanks-nojs-390x844.png", full_page=True)
        assert posts == [survey_url]

        check.reload()
        expect(check.locator("#csat-2")).to_be_checked()
        expect(check.locator("#nps-9")).to_be_checked()
        expect(check.locator("#comment")).to_have_value(comment)
    finally:
        emailed.close()
        fresh.close()

    assert stored_responses(live_app, survey_url) == [(2, 9, comment)]
