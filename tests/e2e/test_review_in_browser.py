"""A customer reviews what they received on a phone, with a photo, and the review shows in the shop's widget."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from bench.harness import run_python
from tests.e2e.conftest import LAPTOP, STAFF_PASSWORD, LiveApp
from tests.e2e.test_survey_in_browser import PHONE, TIMEOUT_MS, invite, watch
from tests.factories import photo_bytes

pytestmark = pytest.mark.browser


def is_review_post(response: Any) -> bool:
    return response.request.method == "POST" and re.search(r"/items/\d+$", response.url) is not None


def stored_reviews(app: LiveApp, sku: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{app.database}?mode=ro", uri=True) as db:
        return db.execute(
            "SELECT r.rating, r.title, r.status, r.verified, count(p.id) FROM review r"
            " LEFT JOIN review_photo p ON p.review = r.id WHERE r.sku = ? GROUP BY r.id",
            (sku,),
        ).fetchall()


def assert_image_loaded(page: Any, image: Any) -> None:
    """The image decodes in the browser (lazy images load once scrolled into view; this waits until they have)."""
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


def test_phone_writes_a_review_with_a_photo_and_sees_it_in_the_widget(
    live_app: LiveApp, browser: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    text = invite(live_app, "E2E-REVIEW-1", "rita.e2e@example.com")
    survey_url = re.search(r"Answer the short survey: (\S+)", text).group(1)  # type: ignore[union-attr]
    title = "Kettle that boils in a minute"

    context = browser.new_context(**PHONE)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        problems = watch(page)
        page.goto(survey_url)
        card = page.locator("section.review-item").first
        expect(card.get_by_role("heading", name="Item 1")).to_be_visible()

        card.locator("label[for^='rating-'][for$='-4']").tap()  # the fourth star
        card.get_by_label("Title (optional)").fill(title)
        card.get_by_label("Your review (optional)").fill("Quiet, quick, and the lid shuts properly.")
        card.locator("input[type=file]").set_input_files(
            [{"name": "IMG_2041.JPG", "mimeType": "image/jpeg", "buffer": photo_bytes(size=(800, 600), gps=True)}]
        )
        with page.expect_response(is_review_post) as saved:
            card.get_by_role("button", name="Publish review").tap()
        assert saved.value.status == 200
        card = page.locator("section.review-item").first
        expect(card.get_by_role("status")).to_contain_text("Your review is published")
        expect(card.locator(".photos img")).to_have_count(1)
        assert_image_loaded(page, card.locator(".photos img"))
        page.screenshot(path=artifacts / "review-390x844.png", full_page=True)

        page.goto(f"{live_app.base_url}/widget/products/SKU-1")
        expect(page.get_by_text(title)).to_be_visible()
        expect(page.get_by_text("Verified buyer").first).to_be_visible()
        photo = page.locator("img[src^='/media/reviews/']").first
        expect(photo).to_be_visible()
        assert_image_loaded(page, photo)
        page.screenshot(path=artifacts / "widget-390x844.png", full_page=True)
        assert problems == []
    finally:
        context.close()

    assert stored_reviews(live_app, "SKU-1") == [(4, title, "published", 1, 1)]


def test_a_manager_rejects_a_held_review_and_the_customer_is_emailed(
    live_app: LiveApp, browser: Any, artifacts: Path, staff_users: None
) -> None:
    from playwright.sync_api import expect

    text = invite(live_app, "E2E-REVIEW-2", "otto.e2e@example.com")
    item_link = re.search(r"Write a review: (\S+)", text).group(1)  # type: ignore[union-attr]
    phone = browser.new_context(**PHONE)
    laptop = browser.new_context(**LAPTOP)
    for context in (phone, laptop):
        context.set_default_timeout(TIMEOUT_MS)
    try:
        customer = phone.new_page()
        customer.goto(item_link)
        customer.locator("label[for^='rating-'][for$='-1']").tap()
        customer.get_by_label("Your review (optional)").fill("Rubbish. Write to me at otto@example.com")
        with customer.expect_response(is_review_post):
            customer.get_by_role("button", name="Publish review").tap()
        expect(customer.get_by_role("status")).to_contain_text("once we have checked it")

        staff = laptop.new_page()
        problems = watch(staff)
        staff.goto(f"{live_app.base_url}/login")
        staff.fill("#username", "e2e-manager")
        staff.fill("#password", STAFF_PASSWORD)
        staff.click("button[type=submit]")
        staff.wait_for_url(f"{live_app.base_url}/app/inbox")
        staff.goto(f"{live_app.base_url}/app/reviews")
        card = staff.locator("article.review-card", has_text="otto@example.com")
        expect(card).to_contain_text("Held:")
        staff.screenshot(path=str(artifacts / "moderation-held-1280.png"), full_page=True)
        card.get_by_text("Reject…").click()
        card.get_by_label("Your words (added after a common reason)").fill("Please leave out your email address.")
        card.get_by_role("button", name="Reject and email the customer").click()
        expect(staff.locator("article.review-card.decided")).to_contain_text("Rejected")
        staff.screenshot(path=str(artifacts / "moderation-rejected-1280.png"), full_page=True)
        assert problems == []
    finally:
        phone.close()
        laptop.close()

    # This app runs without a worker, so the queued email waits; the beat pass sends what is still unsent.
    run_python("-c", "from reviews.tasks import send_pending_rejections as p; print(p())", env=live_app.env)
    [mail] = [m for m in live_app.outbox() if m["purpose"] == "review-rejected" and m["to"] == "otto.e2e@example.com"]
    assert "Please leave out your email address." in mail["text"]
