"""The loop closed, in Chromium: a customer gives NPS 2 on a phone, the worker tags and routes it to Support by a
rule, a Support member replies from the inbox on a laptop, the worker emails the reply to the customer, and the
member resolves the item."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from bench.harness import run_python
from tests.e2e.conftest import LAPTOP, STAFF_PASSWORD, LiveApp
from tests.e2e.test_survey_in_browser import PHONE, TIMEOUT_MS, invite, nps_link, watch

pytestmark = pytest.mark.browser

CUSTOMER = "lena.e2e@example.com"
COMPLAINT = "The parcel arrived two weeks late and nobody answered my emails."
REPLY = "I am sorry, Lena. I have asked our courier what happened and a voucher is on its way to you."
RULE = """
import asyncio
from datetime import UTC, datetime
from accounts.services import team_id
from feedback.policy import Rule
from feedback.services.rules import create_rule

async def main() -> None:
    support = await team_id("support")
    rule = Rule(0, "Detractors → Support", kind="nps", score_max=6, teams=(support,), priority="urgent", sla_hours=24)
    await create_rule(rule, None, datetime.now(UTC))

asyncio.run(main())
"""


def wait_until(condition: Any, what: str, timeout: float = 30.0) -> Any:
    """Poll until `condition()` gives something; the worker runs in its own process."""
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return found


def inbox_row(app: LiveApp, text: str = "") -> tuple[Any, ...] | None:
    """The customer's inbox item, once its feedback holds `text`."""
    with sqlite3.connect(f"file:{app.database}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT i.id, t.name, i.status, i.priority, f.label, f.first_reply_at FROM inbox_item i"
            " JOIN feedback_item f ON f.id = i.feedback LEFT JOIN team t ON t.id = i.team"
            " WHERE f.email = ? AND instr(f.text, ?) > 0",
            (CUSTOMER, text),
        ).fetchone()


def test_a_detractor_reaches_support_gets_an_answer_and_the_item_is_resolved(
    live_app: LiveApp, live_worker: None, browser: Any, artifacts: Path, staff_users: None
) -> None:
    from playwright.sync_api import expect

    run_python("-c", RULE, env=live_app.env)
    text = invite(live_app, "E2E-LOOP-1", CUSTOMER)

    phone = browser.new_context(**PHONE)
    phone.set_default_timeout(TIMEOUT_MS)
    try:
        page = phone.new_page()
        problems = watch(page)
        page.goto(nps_link(text, 2))  # the customer taps "2" in the email
        expect(page.locator("#save-status")).to_contain_text("Saved")
        page.get_by_label("Anything you would like to tell us? (optional)").fill(COMPLAINT)
        page.get_by_role("button", name="Send").tap()
        page.wait_for_url("**/thanks")
        assert problems == []
    finally:
        phone.close()

    # The score tapped first is routed on its own; the comment sent after it reaches the item a moment later.
    item_id, team, status, priority, label, _ = wait_until(
        lambda: inbox_row(live_app, COMPLAINT), "the worker to route the comment"
    )
    assert (team, status, priority, label) == ("Support", "new", "urgent", "negative")

    laptop = browser.new_context(**LAPTOP)
    laptop.set_default_timeout(TIMEOUT_MS)
    try:
        page = laptop.new_page()
        problems = watch(page)
        page.goto(f"{live_app.base_url}/login")
        page.fill("#username", "e2e-member")
        page.fill("#password", STAFF_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_app.base_url}/app/inbox")
        row = page.locator("#inbox-list tr", has_text="two weeks late")
        expect(row).to_contain_text("Support")
        row.locator("a").first.click()
        page.wait_for_url(f"**/app/inbox/{item_id}")
        expect(page.locator("main")).to_contain_text(COMPLAINT)
        page.screenshot(path=str(artifacts / "loop-item-1280.png"), full_page=True)

        page.fill("#reply-body", REPLY)
        page.click("#reply-area button[type=submit]")
        expect(page.locator("#reply-area")).to_contain_text("1 reply so far")
        mail = wait_until(lambda: _reply_in_outbox(live_app), "the worker to email the reply")
        assert REPLY in mail["text"] and COMPLAINT in mail["text"]

        page.reload()
        page.click("#handling button[value=resolved]")
        expect(page.locator("#handling")).to_contain_text("Resolved")
        page.screenshot(path=str(artifacts / "loop-resolved-1280.png"), full_page=True)
        assert problems == []
    finally:
        laptop.close()

    _, _, status, _, _, first_reply_at = inbox_row(live_app)  # type: ignore[misc]
    assert status == "resolved" and first_reply_at is not None, "the loop is closed"


def _reply_in_outbox(app: LiveApp) -> dict[str, Any] | None:
    return next((m for m in app.outbox() if m["to"] == CUSTOMER and m["purpose"] == "feedback-reply"), None)
