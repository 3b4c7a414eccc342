"""An admin changes the send window, the brand colour and the logo in the browser, on a phone and a laptop, and
sees them applied: the next scheduler pass sends inside the new window, and the email (the dev outbox's HTML
view) and the survey page show the logo and the colour. Everything goes back to the defaults afterwards."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.e2e.conftest import LAPTOP, STAFF_PASSWORD, LiveApp, send_moment
from tests.factories import event_payload, order_payload

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
TIMEOUT_MS = 10_000
COLOUR = "#ffcc00"  # too light on white: links and buttons get a darker shade


def logo_file(folder: Path) -> Path:
    path = folder / "settings-logo.png"
    out = io.BytesIO()
    Image.new("RGB", (240, 80), (20, 120, 60)).save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def sign_in(page: Any, app: LiveApp) -> None:
    page.goto(f"{app.base_url}/login?next=/app/admin/settings")
    page.fill("#username", "e2e-admin")
    page.fill("#password", STAFF_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{app.base_url}/app/admin/settings")


def rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.mark.parametrize(("device", "suffix"), [(PHONE, "phone"), (LAPTOP, "laptop")])
def test_an_admin_changes_the_send_window_and_the_brand_and_sees_them_applied(
    live_app: LiveApp, browser: Any, staff_users: None, artifacts: Path, tmp_path: Path, device: dict, suffix: str
) -> None:
    context = browser.new_context(**device)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, live_app)
        page.fill("#field-send_window_start", "6")
        page.fill("#field-send_window_end", "20")
        page.fill("#field-brand_colour", COLOUR)
        page.click("#settings-form button.primary")
        page.wait_for_selector("text=Settings saved")
        assert page.input_value("#field-send_window_start") == "6"
        assert "Changed here" in page.inner_text("#setting-send_window_start")
        page.set_input_files("#logo-file", str(logo_file(tmp_path)))
        page.click("#logo button[type=submit]")
        page.wait_for_selector("text=The new logo is in use")
        accent = re.search(r"the darker shade (#[0-9a-f]{6})", page.inner_text("#logo"))
        assert accent, page.inner_text("#logo")
        page.screenshot(path=str(artifacts / f"settings-{suffix}.png"), full_page=True)

        # Due at 06:00 Berlin; the pass at 07:05 sends only because the window now opens at 06:00.
        moment = send_moment().replace(hour=7)
        delivered = moment - timedelta(days=3, hours=1, minutes=30)
        email = f"settings-{suffix}@example.com"
        with live_app.api() as api:
            placed = (delivered - timedelta(days=2)).isoformat()
            order = order_payload(f"S-{suffix}", email=email, timezone="Europe/Berlin", placed_at=placed)
            assert api.post("/api/v1/orders", json=order).status_code == 201
            event = event_payload("delivered", delivered)
            assert api.post(f"/api/v1/orders/S-{suffix}/events", json=event).status_code == 202
        report = live_app.dispatch(moment + timedelta(minutes=5))
        assert report["sent_here"] >= 1, report
        mail = next(m for m in live_app.outbox() if m["to"] == email)

        page.goto(f"{live_app.base_url}/dev/outbox")
        page.locator("article.mail", has_text=email).get_by_role("link", name="View the HTML email").click()
        page.wait_for_url(re.compile(r".*/dev/outbox/\d+/html$"))
        logo = page.locator("img").first
        assert "/brand/logo/" in (logo.get_attribute("src") or "")
        assert page.evaluate("img => img.complete && img.naturalWidth > 0", logo.element_handle())
        assert accent.group(1) in page.content()

        survey_url = re.search(r"https?://\S+/s/[A-Za-z0-9_.\-]+", mail["text"])
        assert survey_url
        page.goto(survey_url.group(0))
        brand_logo = page.locator("img.brand-logo")
        assert brand_logo.is_visible()
        assert page.evaluate("img => img.naturalWidth > 0", brand_logo.element_handle())
        button = page.locator("form.survey button[type=submit]").first
        assert button.evaluate("b => getComputedStyle(b).backgroundColor") == rgb(accent.group(1))
        page.screenshot(path=str(artifacts / f"settings-survey-{suffix}.png"), full_page=True)
    finally:
        page.goto(f"{live_app.base_url}/app/admin/settings")
        for key in ("send_window_start", "send_window_end", "brand_colour"):
            reset = page.locator(f"#setting-{key} button:has-text('Reset to default')")
            if reset.count():
                reset.click()
                page.wait_for_selector("text=Back to the default")
        remove = page.locator("button:has-text('Remove the logo')")
        if remove.count():
            remove.click()
            page.wait_for_selector("text=Back to the default")
        context.close()
