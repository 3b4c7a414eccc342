"""An admin edits the German invitation in Chromium, on a phone and on a laptop: the preview follows the draft
(subject and text by htmx, the HTML in its sandboxed frame), a test email lands in the dev outbox, and saving
and resetting work. Each size edits its own subject, so the runs do not depend on each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import STAFF_PASSWORD, LiveApp

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}


@pytest.mark.parametrize("size", SIZES)
def test_admin_edits_the_german_invitation_previews_it_and_sends_a_test(
    live_app: LiveApp, browser: Any, artifacts: Path, staff_users: None, size: str
) -> None:
    subject = f"Hallo vom {size}: Bestellung {{{{ order_number }}}}"
    shown = f"Hallo vom {size}: Bestellung PREVIEW-1001"
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    try:
        page.goto(f"{live_app.base_url}/login")
        page.fill("#username", "e2e-admin")
        page.fill("#password", STAFF_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_app.base_url}/app/inbox")

        page.goto(f"{live_app.base_url}/app/admin/templates")
        page.get_by_role("link", name="Templates").wait_for()
        page.locator("table.template-choice tr", has_text="Invitation email").locator("a").nth(1).click()
        page.wait_for_url("**lang=de**")
        assert "Invitation email · Deutsch" in page.locator("#editing").inner_text()

        page.fill("#part-subject", subject)
        page.locator("#preview-subject", has_text=shown).wait_for()
        html = page.locator("#part-html")
        html.fill(html.input_value() + "\n<p id='extra'>Frisch aus dem Editor</p>")
        frame = page.frame_locator("#template-frame")
        frame.locator("#extra", has_text="Frisch aus dem Editor").wait_for()
        page.screenshot(path=str(artifacts / f"templates-preview-{size}.png"), full_page=True)

        page.fill("#part-text", "Nur Text ohne Links")
        page.locator("#template-preview", has_text="must contain {{ survey_link }}").wait_for()
        page.fill("#part-text", "Umfrage: {{ survey_link }}\nAbmelden: {{ unsubscribe_link }}")
        page.locator("#preview-text", has_text="Umfrage: ").wait_for()

        page.get_by_role("button", name="Send me a test").click()
        page.locator(".notice", has_text="Test email sent to e2e-admin@shop.example").wait_for()
        tests = [m for m in live_app.outbox() if m["purpose"] == "template-test"]
        assert tests and tests[0]["subject"] == shown and tests[0]["to"] == "e2e-admin@shop.example"

        page.goto(f"{live_app.base_url}/dev/outbox")
        assert shown in page.content()
        page.screenshot(path=str(artifacts / f"templates-outbox-{size}.png"), full_page=True)
    finally:
        context.close()
