"""Two web processes on PostgreSQL keep the widget, the rating API and the survey page's reviews in their own
caches: a review voted on, moderated, replied to or erased, or a product renamed, through either process or a
worker, shows in both on the next request (the versions are bumped by deferred triggers in the writer's
transaction)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from litestar.testing import AsyncTestClient

from accounts.services import create_staff, staff
from afterglow.settings import Settings
from bench.harness import SERVER_OPTIONS, Server, afterglow_env, free_port, serve
from bench.mailserver import Mailbox
from operations.services.privacy import erase_customer
from reviews.services.moderation import approve, reject, set_reply
from reviews.tables import Review, ReviewPhoto
from shop.tables import OrderItem
from tests.conftest import _RUN_DIR
from tests.factories import order_payload
from tests.integration.conftest import PG_URL
from tests.unit.review_fixtures import add_review
from tests.unit.survey_fixtures import DELIVERED_AT, SEND_AT, invite

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def second() -> Iterator[Server]:
    """Another web process on the same database, with caches of its own."""
    port = free_port()
    folder = Path(_RUN_DIR / "widget-second")
    folder.mkdir(exist_ok=True)
    env = afterglow_env(
        folder,
        f"http://127.0.0.1:{port}",
        database_url=PG_URL,
        api_key="second-key",
        secret_key=os.environ["AFTERGLOW_SECRET_KEY"],  # the survey links of this process open there too
        rate_public_per_address="0",
    )
    log = folder / "web.log"
    with serve("app:create_app", factory=True, env=env, port=port, log_path=log, **SERVER_OPTIONS) as app:
        yield app


async def both(client: AsyncTestClient, second: Server, path: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=second.base_url, trust_env=False) as other:
        return [await client.get(path), await other.get(path)]


async def ratings(client: AsyncTestClient, second: Server) -> list[dict[str, object]]:
    answers = await both(client, second, "/api/v1/products/SKU-1/rating")
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    return [a.json() for a in answers]


async def widgets(client: AsyncTestClient, second: Server) -> list[str]:
    answers = await both(client, second, "/widget/products/SKU-1")
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    return [a.text for a in answers]


async def test_every_change_shows_in_both_processes(
    client: AsyncTestClient, second: Server, api_headers: dict[str, str]
) -> None:
    voted_on = await add_review(rating=5, title="Lovely kettle", helpful_count=1)
    held = await add_review(rating=1, title="Waiting for a person", status="held", held_rule="link")
    await add_review(rating=3, title="Erase me", author_name="Erin E.", email="erin@example.com")
    moderator = await staff(await create_staff("mia", "moderator-pass-1", "manager", email="mia@shop.example"))
    assert moderator is not None
    assert [r["review_count"] for r in await ratings(client, second)] == [2, 2]
    assert all("Helpful (1)" in page for page in await widgets(client, second))

    # A vote in the other process.
    async with httpx.AsyncClient(base_url=second.base_url, trust_env=False) as other:
        assert (await other.post(f"/widget/reviews/{voted_on}/helpful", headers={"HX-Request": "true"})).is_success
    assert all("Helpful (2)" in page for page in await widgets(client, second))

    # Moderation and a reply, as a staff request or a worker would make them.
    await approve(held, moderator, NOW)
    assert [r["distribution"]["1"] for r in await ratings(client, second)] == [1, 1]
    await set_reply(voted_on, "Thank you, Anna!", moderator, NOW)
    assert all("Thank you, Anna!" in page for page in await widgets(client, second))
    await reject(held, "Please leave out links.", moderator, NOW)
    assert [r["review_count"] for r in await ratings(client, second)] == [2, 2]

    # A photo stored by another process.
    name = f"{'b' * 32}.jpg"
    await ReviewPhoto.insert(
        ReviewPhoto(review=voted_on, file_name=name, content_type="image/jpeg", width=8, height=6, size=9)
    )
    assert all(name in page for page in await widgets(client, second))

    # An erasure, and a product renamed in the catalogue.
    await erase_customer("erin@example.com", NOW)
    assert all("Erase me" not in page and "Erin E." not in page for page in await widgets(client, second))
    put = await client.put("/api/v1/products/SKU-1", json={"title": "Stone kettle"}, headers=api_headers)
    assert put.status_code in (200, 201), put.text
    assert [r["name"] for r in await ratings(client, second)] == ["Stone kettle", "Stone kettle"]


async def test_concurrent_votes_on_one_product_all_count_and_show(client: AsyncTestClient, second: Server) -> None:
    """Every vote bumps the product's one version row at its commit; none waits for long or is lost."""
    ids = [await add_review(rating=4, title=f"Review {n}") for n in range(8)]
    await widgets(client, second)

    async with httpx.AsyncClient(base_url=second.base_url, trust_env=False) as other:
        votes = await asyncio.gather(
            *(other.post(f"/widget/reviews/{review_id}/helpful", headers={"HX-Request": "true"}) for review_id in ids)
        )
    assert [vote.status_code for vote in votes] == [200] * len(ids)
    assert [row["helpful_count"] for row in await Review.select(Review.helpful_count)] == [1] * len(ids)
    for page in await widgets(client, second):
        assert page.count("Helpful (1)") == len(ids)


async def test_concurrent_orders_of_the_same_products_in_any_order_are_all_stored(
    client: AsyncTestClient, second: Server
) -> None:
    """Each order's items bump their products' versions in one sorted pass: orders listing the same products in
    opposite orders never wait for each other in a circle."""
    orders = []
    for n in range(12):
        order = order_payload(f"C-{n}", email=f"buyer{n}@example.com", categories=("kitchen", "garden", "bath"))
        if n % 2:
            order["items"].reverse()
        orders.append(order)

    async with httpx.AsyncClient(base_url=second.base_url, trust_env=False, timeout=30) as other:
        stored = await asyncio.gather(
            *(
                other.post("/api/v1/orders", json=order, headers={"Authorization": "Bearer second-key"})
                for order in orders
            )
        )
    assert [answer.status_code for answer in stored] == [201] * len(orders), [a.text for a in stored]
    await add_review(rating=4, sku="SKU-2", product_name="Item 2", status="held", held_rule="link")
    assert (await client.get("/api/v1/products/SKU-2/rating")).json()["name"] == "Item 2"


async def test_the_survey_pages_reviews_show_in_both_processes(
    client: AsyncTestClient, second: Server, api_headers: dict[str, str], settings: Settings, mailbox: Mailbox
) -> None:
    """The customer's own reviews, whatever their status, and their photos: the order's version."""
    weeks = (datetime.now(UTC) - timedelta(days=1) - SEND_AT) // timedelta(weeks=1)  # recent: the link is valid
    shift = timedelta(weeks=weeks)
    invited = await invite(client, api_headers, settings, delivered_at=DELIVERED_AT + shift, send_at=SEND_AT + shift)
    item = (await OrderItem.select(OrderItem.id).order_by(OrderItem.id).first() or {})["id"]
    moderator = await staff(await create_staff("mo", "moderator-pass-1", "manager", email="mo@shop.example"))
    assert moderator is not None

    async def pages() -> list[str]:
        answers = await both(client, second, invited.survey_path)
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        return [a.text for a in answers]

    assert all("Update review" not in page for page in await pages())

    # The customer reviews the item through the other process.
    async with httpx.AsyncClient(base_url=second.base_url, trust_env=False) as other:
        saved = await other.post(
            f"{invited.survey_path}/items/{item}",
            data={"rating": "4", "text": "Boils in a minute."},
            files=[("photos", ("", b"", "application/octet-stream"))],
            headers={"HX-Request": "true"},
        )
    assert saved.status_code == 200, saved.text
    assert all("Boils in a minute." in page for page in await pages())

    review = (await Review.select(Review.id).first() or {})["id"]
    await reject(review, "Please leave out timings.", moderator, NOW)
    assert all("Please leave out timings." in page for page in await pages())

    name = f"{'c' * 32}.jpg"
    await ReviewPhoto.insert(
        ReviewPhoto(review=review, file_name=name, content_type="image/jpeg", width=8, height=6, size=9)
    )
    assert all(name in page for page in await pages())

    put = await client.put("/api/v1/products/SKU-1", json={"title": "Stone kettle"}, headers=api_headers)
    assert put.status_code in (200, 201), put.text
    assert all("Stone kettle" in page for page in await pages())
