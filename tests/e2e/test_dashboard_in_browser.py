"""A manager opens the dashboard in Chromium, changes the period and a segment, drills into a chart point and
exports the list as CSV; screenshots at laptop and phone widths are kept in test-artifacts/e2e/."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from bench.harness import run_python
from tests.e2e.conftest import LAPTOP, STAFF_PASSWORD, LiveApp
from tests.e2e.test_survey_in_browser import PHONE, TIMEOUT_MS, watch

pytestmark = pytest.mark.browser

#: The hand-made shop of the unit tests (tests/unit/test_dashboard_dataset.py), written into the app's database.
SEED = "import asyncio; from tests.unit.test_dashboard_dataset import build_dataset; asyncio.run(build_dataset())"
WEEK = "from=2026-03-09&to=2026-03-15"


@pytest.fixture(scope="module")
def shop(live_app: LiveApp, staff_users: None) -> None:
    run_python("-c", SEED, env=live_app.env)


def sign_in(page: Any, app: LiveApp) -> None:
    page.goto(f"{app.base_url}/login?next=/app/dashboard")
    page.fill("#username", "e2e-manager")
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{app.base_url}/app/dashboard")


def nps_tile(page: Any) -> str:
    return str(page.locator("#tile-nps .value").inner_text()).strip()


def test_manager_changes_period_and_segment_drills_into_a_point_and_exports_csv(
    live_app: LiveApp, browser: Any, artifacts: Path, shop: None
) -> None:
    context = browser.new_context(accept_downloads=True, **LAPTOP)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems = watch(page)
    try:
        sign_in(page, live_app)
        assert page.locator("h1").inner_text() == "Dashboard"

        # The period: the week of 9 March 2026 (the form swaps the figures with htmx and keeps the URL in step).
        page.fill("#f-from", "2026-03-09")
        page.fill("#f-to", "2026-03-15")
        page.wait_for_url("**/app/dashboard?*to=2026-03-15*")
        expect(page.locator(".dash-about strong")).to_have_text("9 Mar 2026 – 15 Mar 2026")
        expect(page.locator("#tile-nps .value")).to_have_text("+25")
        # CSAT counts order surveys (O1–O8: 5 of 8 satisfied); support CSAT is its own tile (S1 5, S2 2: 1 of 2).
        assert "62%" in page.locator("#tile-csat .value").inner_text()
        assert "50%" in page.locator("#tile-support .value").inner_text()
        page.screenshot(path=str(artifacts / "dashboard-1280.png"), full_page=True)

        # A segment: the app channel (O3 9, O4 8, O7 3 → NPS +0).
        page.select_option("#f-channel", "app")
        expect(page.locator("#tile-nps .value")).to_have_text("+0")
        assert "channel=app" in page.url
        assert "channel app" in page.locator(".dash-about").inner_text()
        page.screenshot(path=str(artifacts / "dashboard-app-channel-1280.png"), full_page=True)

        # Drill into the NPS point of that week (by week: one point): the three answers behind it.
        page.select_option("#f-grain", "week")
        page.wait_for_url("**grain=week**")
        expect(page.locator("#chart-nps a.point-link")).to_have_count(1)
        page.locator("#chart-nps a.point-link").click()
        page.wait_for_url("**/app/dashboard/responses?**")
        assert "NPS answers: 3" in page.locator(".responses-head h2").inner_text()
        assert page.locator("table.responses tbody tr").count() == 3
        page.screenshot(path=str(artifacts / "dashboard-drill-1280.png"), full_page=True)

        # Export the list.
        with page.expect_download() as download:
            page.click("text=Download CSV")
        rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
        assert sorted(int(row["nps"]) for row in rows) == [3, 8, 9]
        assert {row["channel"] for row in rows} == {"app"}
        assert problems == [], problems
    finally:
        context.close()


def test_dashboard_on_a_phone(live_app: LiveApp, browser: Any, artifacts: Path, shop: None) -> None:
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    problems = watch(page)
    try:
        sign_in(page, live_app)
        page.goto(f"{live_app.base_url}/app/dashboard?{WEEK}&grain=day")
        assert nps_tile(page) == "+25"
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"nothing sticks out sideways on a phone ({width} px)"
        chart = page.locator("#chart-nps svg").bounding_box()
        assert chart is not None and chart["width"] <= 390
        page.screenshot(path=str(artifacts / "dashboard-390x844.png"), full_page=True)
        page.locator("#chart-nps details summary").click()
        assert page.locator("#chart-nps details table tbody tr").count() == 7
        page.goto(f"{live_app.base_url}/app/dashboard/compare?{WEEK}&by=channel&a=web&b=app")
        page.screenshot(path=str(artifacts / "dashboard-compare-390x844.png"), full_page=True)
        assert problems == [], problems
    finally:
        context.close()
