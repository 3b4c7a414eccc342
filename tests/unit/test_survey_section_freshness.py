"""The survey page's items with the customer's reviews are kept by the order's and the catalogue's versions
(`reviews.services.collect.SURVEY_SECTION`): every write to one of the order's reviews, whatever its status, to
their photos, or to the catalogue shows on the next view, as a process with cold caches shows it."""

from __future__ import annotations

import html
import re

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from reviews.services import versions
from reviews.tables import Review, ReviewPhoto
from shop.tables import OrderItem
from tests.unit.survey_fixtures import OPEN_AT, Invited, invite

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


@pytest.fixture
async def invited(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings) -> Invited:
    return await invite(client, api_headers, settings, categories=("kitchen", "garden"))


async def first_item() -> int:
    row = (
        await OrderItem.select(OrderItem.id).where(OrderItem.order.external_id == "1001").order_by(OrderItem.id).first()
    )
    assert row is not None
    return int(row["id"])


async def reviewed(client: AsyncTestClient, invited: Invited, text: str) -> int:
    """The customer reviews the first item on its page; the review's id."""
    item = await first_item()
    saved = await client.post(
        f"{invited.survey_path}/items/{item}",
        data={"rating": "4", "text": text},
        files=[("photos", ("", b"", "application/octet-stream"))],
        headers=HTMX,
    )
    assert saved.status_code == 200, saved.text
    row = await Review.select(Review.id).where(Review.order_item == item).first()
    assert row is not None
    return int(row["id"])


async def page(client: AsyncTestClient, invited: Invited) -> str:
    """The survey page on the next view, checked against what a process with cold caches shows."""
    response = await client.get(invited.survey_path)
    assert response.status_code == 200, response.text
    versions.forget_all()
    cold = await client.get(invited.survey_path)
    assert cold.text == response.text, "a process with a cold cache shows something else"
    return response.text


def card(page_html: str, item_id: int) -> str:
    match = re.search(rf'<section class="card review-item" id="item-{item_id}".*?</section>', page_html, re.S)
    assert match, page_html
    return html.unescape(match.group(0))


async def test_a_review_saved_on_its_item_page_shows_on_the_survey_page(
    client: AsyncTestClient, invited: Invited
) -> None:
    item = await first_item()
    assert "Update review" not in card(await page(client, invited), item)

    await reviewed(client, invited, "Boils in a minute.")

    shown = card(await page(client, invited), item)
    assert "Boils in a minute." in shown and "Update review" in shown


async def test_a_held_review_changed_elsewhere_shows_to_its_author(client: AsyncTestClient, invited: Invited) -> None:
    """Written straight into the table, as another process would; a held review is no product's public change."""
    review_id = await reviewed(client, invited, "First words")
    await Review.update({Review.status: "held", Review.held_rule: "link"}).where(Review.id == review_id)
    assert "will appear once we have checked it" in card(await page(client, invited), await first_item())

    await Review.update({Review.text: "Second words"}).where(Review.id == review_id)

    shown = card(await page(client, invited), await first_item())
    assert "Second words" in shown and "First words" not in shown


async def test_a_rejection_and_its_reason_show(client: AsyncTestClient, invited: Invited) -> None:
    review_id = await reviewed(client, invited, "Mine")
    await page(client, invited)

    await Review.update({Review.status: "rejected", Review.reject_reason: "No prices, please."}).where(
        Review.id == review_id
    )

    assert "Your review was not published: No prices, please." in card(await page(client, invited), await first_item())


async def test_a_photo_added_or_removed_elsewhere_shows(client: AsyncTestClient, invited: Invited) -> None:
    review_id = await reviewed(client, invited, "With a picture later")
    name = f"{'b' * 32}.jpg"
    assert name not in await page(client, invited)

    await ReviewPhoto.insert(
        ReviewPhoto(review=review_id, file_name=name, content_type="image/jpeg", width=8, height=6, size=9)
    )
    assert name in await page(client, invited)

    await ReviewPhoto.delete().where(ReviewPhoto.review == review_id)
    assert name not in await page(client, invited)


async def test_a_review_deleted_elsewhere_leaves_the_form_empty(client: AsyncTestClient, invited: Invited) -> None:
    review_id = await reviewed(client, invited, "Soon gone")
    assert "Soon gone" in await page(client, invited)

    await Review.delete().where(Review.id == review_id)

    shown = card(await page(client, invited), await first_item())
    assert "Soon gone" not in shown and "Publish review" in shown


async def test_a_catalogue_change_renames_the_item(
    client: AsyncTestClient, invited: Invited, api_headers: dict[str, str]
) -> None:
    item = await first_item()
    sku = (await OrderItem.select(OrderItem.sku).where(OrderItem.id == item).first() or {})["sku"]
    await page(client, invited)

    stored = await client.put(
        f"/api/v1/products/{sku}",
        json={"title": "Stone kettle 1.5 l", "image_url": "https://cdn.example/k.jpg"},
        headers=api_headers,
    )
    assert stored.status_code in (200, 201), stored.text

    shown = card(await page(client, invited), item)
    assert "Stone kettle 1.5 l" in shown and "https://cdn.example/k.jpg" in shown
