"""Each staff role signs in through the real sign-in page and sees what its role allows, in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LAPTOP, ROLES, LiveApp
from tests.e2e.conftest import STAFF_PASSWORD as PASSWORD

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("username", "role", "team", "nav", "refused"), ROLES, ids=[r[1] for r in ROLES])
def test_role_signs_in_and_sees_its_pages(
    live_app: LiveApp,
    browser: Any,
    artifacts: Path,
    staff_users: None,
    username: str,
    role: str,
    team: str | None,
    nav: set[str],
    refused: str | None,
) -> None:
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    try:
        page.goto(f"{live_app.base_url}/app/inbox")
        assert page.url.startswith(f"{live_app.base_url}/login"), "anonymous visitors are sent to sign in"
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_app.base_url}/app/inbox")
        assert page.locator("h1").inner_text() == "Inbox"
        links = {text.strip() for text in page.locator(".topbar nav a").all_inner_texts()}
        assert links == nav
        assert f"{username} · {role}" in page.locator(".who").inner_text()
        page.screenshot(path=str(artifacts / f"staff-{role}-inbox.png"), full_page=True)
        if refused:
            response = page.goto(f"{live_app.base_url}{refused}")
            assert response is not None and response.status == 403
            page.screenshot(path=str(artifacts / f"staff-{role}-refused.png"))
            page.goto(f"{live_app.base_url}/app/inbox")
        page.click(".signout button")
        page.wait_for_url(f"{live_app.base_url}/login")
    finally:
        context.close()
