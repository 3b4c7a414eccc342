"""The widget and the rating API are kept in each web process by the versions of what they show
(reviews.services.versions): every write that changes what the public sees shows on the next request, and a process
with a cold cache (a second web process, a restart) shows the same."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow import overrides
from afterglow.settings import Settings
from operations.services.privacy import erase_customer
from reviews.services import versions
from reviews.tables import Review, ReviewPhoto
from shop.tables import OrderItem
from tests.unit.review_fixtures import add_review
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.survey_fixtures import OPEN_AT, invite

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


async def post(client: AsyncTestClient, path: str, data: dict[str, str] | None = None) -> httpx.Response:
    """A staff form post with its CSRF token."""
    form = {**(data or {}), "_csrf_token": client.cookies.get("csrftoken")}
    return await client.post(path, data=form, follow_redirects=False)


@pytest.fixture
async def manager(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "max") == 303


async def shown(client: AsyncTestClient, sku: str = "SKU-1") -> dict[str, Any]:
    """What the public sees of the product: the widget page, its htmx list sorted, the shop's snippet, the
    rating, the reviews API; the statuses and bodies."""
    pages = {
        "widget": await client.get(f"/widget/products/{sku}"),
        "list": await client.get(f"/widget/products/{sku}?sort=helpful", headers=HTMX),
        "summary": await client.get(f"/widget/products/{sku}/summary"),
        "rating": await client.get(f"/api/v1/products/{sku}/rating"),
        "reviews": await client.get(f"/api/v1/products/{sku}/reviews"),
    }
    return {name: (page.status_code, page.text) for name, page in pages.items()}


async def seen_fresh(client: AsyncTestClient, sku: str = "SKU-1") -> dict[str, Any]:
    """What the next request shows, checked against what a process with empty caches shows."""
    now = await shown(client, sku)
    versions.forget_all()
    assert await shown(client, sku) == now, "a process with a cold cache shows something else"
    return now


def rating_of(seen: dict[str, Any]) -> dict[str, Any]:
    status, body = seen["rating"]
    assert status == 200, body
    return httpx.Response(200, text=body).json()


def widget(seen: dict[str, Any]) -> str:
    status, body = seen["widget"]
    assert status == 200, body
    return str(body)


async def test_a_repeated_view_is_the_same_page(client: AsyncTestClient) -> None:
    await add_review(rating=4, title="Boils fast")

    first = await shown(client)
    again = await shown(client)

    assert again == first
    assert "Boils fast" in widget(first) and rating_of(first)["review_count"] == 1


async def test_a_customers_published_review_shows_and_an_edit_that_is_held_leaves(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await add_review(rating=5, title="Older review")
    invited = await invite(client, api_headers, settings)
    item = await OrderItem.select(OrderItem.id).where(OrderItem.sku == "SKU-1").order_by(OrderItem.id, ascending=False)
    path = f"{invited.survey_path}/items/{item[0]['id']}"
    before = await shown(client)
    assert rating_of(before)["review_count"] == 1

    saved = await client.post(
        path, data={"rating": "2", "title": "Lid rattles"}, files=[("photos", ("", b"", "text/plain"))], headers=HTMX
    )
    assert saved.status_code == 200, saved.text
    published = await seen_fresh(client)
    assert "Lid rattles" in widget(published) and rating_of(published)["review_count"] == 2

    held = await client.post(
        path,
        data={"rating": "2", "title": "Lid rattles", "text": "See https://example.com/lid"},
        files=[("photos", ("", b"", "text/plain"))],
        headers=HTMX,
    )
    assert held.status_code == 200, held.text
    assert (await Review.select(Review.status).where(Review.title == "Lid rattles").first()) == {"status": "held"}
    after = await seen_fresh(client)
    assert "Lid rattles" not in widget(after) and rating_of(after)["review_count"] == 1


async def test_approving_and_rejecting_show_at_once(client: AsyncTestClient, manager: None) -> None:
    await add_review(rating=5, title="Shown all along")
    held = await add_review(rating=1, title="Waited for a person", status="held", held_rule="link")
    assert "Waited for a person" not in widget(await shown(client))

    assert (await post(client, f"/app/reviews/{held}/approve")).status_code == 303
    approved = await seen_fresh(client)
    assert "Waited for a person" in widget(approved) and rating_of(approved)["distribution"]["1"] == 1
    assert "2 reviews" in approved["summary"][1]

    rejected = await post(client, f"/app/reviews/{held}/reject", {"reason": "Please leave out links."})
    assert rejected.status_code == 303
    after = await seen_fresh(client)
    assert "Waited for a person" not in widget(after) and rating_of(after)["distribution"]["1"] == 0


async def test_a_helpful_vote_shows_on_the_next_view(client: AsyncTestClient) -> None:
    review_id = await add_review(rating=4, title="Useful", helpful_count=2)
    assert "Helpful (2)" in widget(await shown(client))

    voted = await client.post(f"/widget/reviews/{review_id}/helpful", headers=HTMX)
    assert voted.status_code == 200 and "Helpful (3)" in voted.text

    after = await seen_fresh(client)
    assert "Helpful (3)" in widget(after) and "Helpful (2)" not in widget(after)
    assert '"helpful_count":3' in after["reviews"][1]


async def test_the_shops_reply_shows_and_goes(client: AsyncTestClient, manager: None) -> None:
    review_id = await add_review(rating=2, title="Slow delivery")
    assert "Reply from" not in widget(await shown(client))

    replied = await post(client, f"/app/reviews/{review_id}/reply", {"reply": "Sorry, we changed carriers."})
    assert replied.status_code == 303
    after = await seen_fresh(client)
    assert "Sorry, we changed carriers." in widget(after) and "Reply from Demo Shop" in widget(after)

    assert (await post(client, f"/app/reviews/{review_id}/reply", {"reply": " "})).status_code == 303
    assert "Sorry, we changed carriers." not in widget(await seen_fresh(client))


async def test_an_erased_customer_disappears_from_the_widget(client: AsyncTestClient) -> None:
    await add_review(rating=5, title="Kept", author_name="Bob B.")
    await add_review(rating=3, title="Mine to erase", text="Signed, Erin", author_name="Erin E.", email="erin@x.com")
    before = widget(await shown(client))
    assert "Mine to erase" in before and "Erin E." in before

    await erase_customer("erin@x.com", OPEN_AT)

    after = widget(await seen_fresh(client))
    assert "Mine to erase" not in after and "Erin E." not in after and "Signed, Erin" not in after
    assert "Kept" in after


async def test_a_photo_added_or_removed_elsewhere_shows(client: AsyncTestClient) -> None:
    """Written straight into the tables, as another process would: nothing in this one is told."""
    review_id = await add_review(rating=5, title="With a picture later")
    assert "/reviews/photos/" not in widget(await shown(client))

    await ReviewPhoto.insert(
        ReviewPhoto(review=review_id, file_name=f"{'a' * 32}.jpg", content_type="image/jpeg", width=8, height=6, size=9)
    )
    assert f"{'a' * 32}.jpg" in widget(await seen_fresh(client))

    await ReviewPhoto.delete().where(ReviewPhoto.review == review_id)
    assert f"{'a' * 32}.jpg" not in widget(await seen_fresh(client))


async def test_a_review_changed_by_another_process_shows(client: AsyncTestClient) -> None:
    review_id = await add_review(rating=5, title="First words")
    assert "First words" in widget(await shown(client))

    await Review.update({Review.title: "Second words", Review.rating: 3}).where(Review.id == review_id)
    after = await seen_fresh(client)
    assert "Second words" in widget(after) and rating_of(after)["average_rating"] == 3

    await Review.delete().where(Review.id == review_id)
    assert rating_of(await seen_fresh(client))["review_count"] == 0


async def test_a_catalogue_title_change_renames_the_product(
    client: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    await add_review(rating=5, product_name="Kettle as sold")
    assert rating_of(await shown(client))["name"] == "Kettle as sold"

    product = {"title": "Stone kettle 1.5 l", "image_url": "https://cdn.example/k.jpg"}
    stored = await client.put("/api/v1/products/SKU-1", json=product, headers=api_headers)
    assert stored.status_code in (200, 201), stored.text
    named = await seen_fresh(client)
    assert rating_of(named)["name"] == "Stone kettle 1.5 l" and "Reviews of Stone kettle 1.5 l" in widget(named)

    renamed = await client.put("/api/v1/products/SKU-1", json={**product, "title": "Kettle Mk II"}, headers=api_headers)
    assert renamed.status_code in (200, 201), renamed.text
    assert rating_of(await seen_fresh(client))["name"] == "Kettle Mk II"


async def test_a_newer_sale_of_the_product_renames_it_before_its_first_review(client: AsyncTestClient) -> None:
    await add_review(rating=5, sku="SKU-2", product_name="Old name", status="held", held_rule="link")
    assert rating_of(await shown(client, "SKU-2"))["name"] == "Old name"

    await add_review(sku="SKU-2", product_name="New name", status="held", held_rule="link")
    assert rating_of(await seen_fresh(client, "SKU-2"))["name"] == "New name"


async def test_a_settings_change_shows_in_the_widget(client: AsyncTestClient, settings: Settings) -> None:
    await add_review(rating=2, title="Slow delivery")
    await Review.update({Review.reply_text: "We are on it."}).where(Review.title == "Slow delivery")
    before = widget(await shown(client))
    assert "Reply from Demo Shop" in before
    stylesheet = re.search(r'href="/brand/style\.css\?v=(\w+)"', before)
    assert stylesheet

    await overrides.store({"shop_name": "Stone & Steam", "brand_colour": "#aa3300"}, "ada", OPEN_AT)
    overrides.drop_cached_read()  # as every web process does within WEB_MAX_AGE

    after = widget(await seen_fresh(client))
    assert "Reply from Stone &amp; Steam" in after
    assert f"/brand/style.css?v={stylesheet.group(1)}" not in after
