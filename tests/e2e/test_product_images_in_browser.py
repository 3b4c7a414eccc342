"""A product from the catalogue shows with its picture and title in the invitation email (the dev outbox's HTML
view) and on the review form, in Chromium."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import LiveApp, send_moment
from tests.e2e.test_review_in_browser import assert_image_loaded
from tests.e2e.test_survey_in_browser import PHONE, TIMEOUT_MS, watch
from tests.factories import event_payload, order_payload

pytestmark = pytest.mark.browser

SKU = "E2E-KETTLE"
TITLE = "Stone kettle 1.5 l"
EMAIL = "kira.e2e@example.com"


def invite_for_the_kettle(app: LiveApp) -> str:
    """The kettle in the catalogue, an order of it delivered, one scheduler pass; the invitation email's text."""
    moment = send_moment()
    delivered = moment - timedelta(days=3, hours=1)
    order = order_payload("E2E-PRODUCT-1", email=EMAIL, placed_at=(delivered - timedelta(days=2)).isoformat())
    order["items"][0] |= {"sku": SKU, "name": "Kettle, grey", "category": ""}
    with app.api() as api:
        product = {"title": TITLE, "category": "Kettles", "image_url": "/static/demo/products/kettle.png"}
        stored = api.put(f"/api/v1/products/{SKU}", json=product)
        assert stored.status_code in (200, 201), stored.text
        assert api.post("/api/v1/orders", json=order).status_code == 201
        event = api.post("/api/v1/orders/E2E-PRODUCT-1/events", json=event_payload("delivered", delivered))
        assert event.status_code == 202, event.text
    app.dispatch(moment + timedelta(minutes=5))
    mails = [m for m in app.outbox() if m["to"] == EMAIL and m["purpose"] == "invitation"]
    assert len(mails) == 1
    return str(mails[0]["text"])


def test_the_email_and_the_review_form_show_the_product_picture(
    live_app: LiveApp, browser: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    text = invite_for_the_kettle(live_app)
    assert f"1 x {TITLE}" in text
    review_link = re.search(r"Write a review: (\S+)", text).group(1)  # type: ignore[union-attr]

    context = browser.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{live_app.base_url}/dev/outbox")
        mail = page.locator("article.mail", has_text=EMAIL).first
        mail.get_by_role("link", name="View the HTML email").click()
        picture = page.get_by_role("img", name=TITLE)
        expect(picture).to_be_visible()
        assert_image_loaded(page, picture)
        assert picture.get_attribute("src") == f"{live_app.base_url}/static/demo/products/kettle.png"
        page.screenshot(path=artifacts / "invitation-product-390x844.png", full_page=True)

        problems = watch(page)
        page.goto(review_link)
        card = page.locator("section.review-item").first
        expect(card.get_by_role("heading", name=TITLE)).to_be_visible()
        expect(card.locator(".ordered-as")).to_have_text("Kettle, grey")
        expect(card.get_by_label("Title (optional)")).to_have_value("")
        picture = card.get_by_role("img", name=TITLE)
        expect(picture).to_be_visible()
        assert_image_loaded(page, picture)
        box = picture.bounding_box()
        assert box is not None and round(box["width"]) == 96 and round(box["height"]) == 96
        page.screenshot(path=artifacts / "review-product-390x844.png", full_page=True)
        assert problems == []
    finally:
        context.close()
