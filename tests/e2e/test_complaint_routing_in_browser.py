"""A complaint without opinion words, in English from a customer whose locale is German, reaches Logistics in
Chromium: the customer answers on a phone, the worker reads the text's own language, finds the dented box
(packaging) and routes it by the demo's rule; a Logistics member sees it in the inbox."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bench.harness import run_python
from tests.e2e.conftest import LAPTOP, STAFF_PASSWORD, LiveApp
from tests.e2e.test_feedback_loop_in_browser import wait_until
from tests.e2e.test_survey_in_browser import PHONE, TIMEOUT_MS, invite, nps_link, watch

pytestmark = pytest.mark.browser

CUSTOMER = "jonas.e2e@example.com"
COMPLAINT = "The lamp arrived quickly but the box was dented."
MEMBER = "e2e-logistics"
#: The demo's packaging rule, alone, so the other browser tests' answers are routed as they expect; removed after.
RULE = """
import asyncio, sys
from datetime import UTC, datetime
from accounts.services import team_id
from feedback.policy import Rule
from feedback.services.rules import create_rule, delete_rule

async def main() -> None:
    if sys.argv[1] == "create":
        rule = Rule(
            0,
            "Unhappy about delivery or packaging → Logistics",
            labels=frozenset({"negative", "mixed"}),
            topics=frozenset({"delivery", "packaging"}),
            teams=(await team_id("logistics"),),
        )
        print(await create_rule(rule, None, datetime.now(UTC)))
    else:
        await delete_rule(int(sys.argv[2]), None, datetime.now(UTC))

asyncio.run(main())
"""


def routed(app: LiveApp) -> tuple[Any, ...] | None:
    """The customer's inbox item, once its feedback holds the complaint."""
    with sqlite3.connect(f"file:{app.database}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT i.id, t.name, f.language, f.label FROM inbox_item i JOIN feedback_item f ON f.id = i.feedback"
            " LEFT JOIN team t ON t.id = i.team WHERE f.email = ? AND instr(f.text, ?) > 0",
            (CUSTOMER, COMPLAINT),
        ).fetchone()


def test_an_english_complaint_from_a_german_locale_reaches_logistics(
    live_app: LiveApp, live_worker: None, browser: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    user = ["createuser", "--username", MEMBER, "--email", f"{MEMBER}@shop.example", "--role", "member"]
    run_python("-m", "operations.cli", *user, "--team", "Logistics", "--password", STAFF_PASSWORD, env=live_app.env)
    rule_id = run_python("-c", RULE, "create", env=live_app.env).stdout.strip().splitlines()[-1]
    try:
        text = invite(live_app, "E2E-LAMP-1", CUSTOMER, locale="de")
        phone = browser.new_context(**PHONE)
        phone.set_default_timeout(TIMEOUT_MS)
        try:
            page = phone.new_page()
            problems = watch(page)
            page.goto(nps_link(text, 8))
            expect(page.locator("html")).to_have_attribute("lang", "de")
            expect(page.locator("#save-status")).not_to_be_empty()  # the score from the email is saved
            page.locator("label[for=csat-4]").tap()
            page.fill("#comment", COMPLAINT)
            page.locator("button.primary[type=submit]").first.tap()
            page.wait_for_url("**/thanks")
            assert problems == []
        finally:
            phone.close()

        # The score from the email is routed on its own; the comment sent after it reaches the item a moment later.
        _, team, language, label = wait_until(lambda: routed(live_app), "the worker to route the complaint")
        assert (team, language) == ("Logistics", "en")
        assert label in ("negative", "mixed")

        laptop = browser.new_context(**LAPTOP)
        laptop.set_default_timeout(TIMEOUT_MS)
        try:
            page = laptop.new_page()
            page.goto(f"{live_app.base_url}/login")
            page.fill("#username", MEMBER)
            page.fill("#password", STAFF_PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{live_app.base_url}/app/inbox")
            row = page.locator("#inbox-list tr", has_text="box was dented")
            expect(row).to_contain_text("Logistics")
            page.screenshot(path=str(artifacts / "complaint-logistics-1280.png"), full_page=True)
        finally:
            laptop.close()
    finally:
        run_python("-c", RULE, "delete", rule_id, env=live_app.env)
