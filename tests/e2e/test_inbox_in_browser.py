"""The team inbox in Chromium on a phone: an admin filters the list (htmx swaps only the list and pushes the URL),
starts on a triage item and moves it to Support (htmx swaps the handling section and the timeline); the Support
member then finds it in their inbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.harness import run_python
from tests.e2e.conftest import STAFF_PASSWORD, LiveApp

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TEXT = "The checkout page crashed twice when I tried to pay. Terrible."
#: A suggestion-box note, ingested as the worker would (no rule matches a suggestion: it lands in triage).
SEED = """
import asyncio, sys
from datetime import UTC, datetime
from feedback.services.intake import ingest
from feedback.tables import Suggestion

async def main() -> None:
    row = Suggestion(text=sys.argv[1], email="iris.e2e@example.com", name="Iris")
    inserted = await Suggestion.insert(row).returning(Suggestion.id)
    await ingest("suggestion", inserted[0]["id"], datetime.now(UTC))

asyncio.run(main())
"""


def sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/app/inbox")


def test_admin_filters_the_inbox_and_moves_triage_feedback_to_a_team_on_a_phone(
    live_app: LiveApp, browser: Any, artifacts: Path, staff_users: None
) -> None:
    run_python("-c", SEED, TEXT, env=live_app.env)
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        sign_in(page, live_app.base_url, "e2e-admin")
        page.evaluate("window.stillThisPage = true")  # gone if anything below reloads the page

        page.select_option("select[name=label]", "negative")
        page.wait_for_url("**/app/inbox?label=negative")
        row = page.locator("#inbox-list tr", has_text="checkout page crashed")
        row.wait_for()
        assert page.evaluate("window.stillThisPage === true"), "the filter swapped the list, not the page"
        page.screenshot(path=str(artifacts / "inbox-phone-filtered.png"), full_page=True)

        row.locator("a").first.click()
        page.wait_for_url("**/app/inbox/*")
        page.evaluate("window.stillThisPage = true")
        page.click("#handling button[value=in_progress]")
        page.locator("#handling .status-in_progress", has_text="In progress").wait_for()
        page.locator("#timeline", has_text="Status: New → In progress").wait_for()

        page.click("#handling .move-form summary")
        page.select_option("#move-team", "support")
        page.fill("#move-note", "Payment errors are yours")
        page.click("#handling .move-form button[type=submit]")
        page.locator("#handling", has_text="Moved: the other team has it now").wait_for()
        page.locator("#timeline", has_text="Moved from Triage to Support").wait_for()
        assert page.evaluate("window.stillThisPage === true"), "each change swapped its part, not the page"
        page.screenshot(path=str(artifacts / "inbox-phone-item.png"), full_page=True)
    finally:
        context.close()

    member = browser.new_context(**PHONE)
    page = member.new_page()
    try:
        sign_in(page, live_app.base_url, "e2e-member")
        page.locator("#inbox-list tr", has_text="checkout page crashed").wait_for()
        page.screenshot(path=str(artifacts / "inbox-phone-member.png"), full_page=True)
    finally:
        member.close()
