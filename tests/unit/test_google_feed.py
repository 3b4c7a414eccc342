"""Google's product reviews feed: valid against Google's own schema, published reviews with text only, escaped,
with the catalogue's product identifiers and our photos, streamed in batches, and cached by ETag."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from lxml import etree

from afterglow.settings import Settings
from app import create_app
from operations.services.privacy import erase_customer
from reviews.services.google_feed import FeedSite, feed_chunks
from reviews.tables import Review
from shop.tables import Product, ProductKey
from tests.unit.review_fixtures import add_review

XSD = Path(__file__).resolve().parents[1] / "data" / "google" / "product_reviews.xsd"
SCHEMA = etree.XMLSchema(etree.parse(str(XSD)))
FEED = "/feeds/google-product-reviews.xml"
BASE = "https://reviews.kettle.example"
PHOTO = "0123456789abcdef0123456789abcdef.jpg"
EVIL = '<script>alert(1)</script> & Tom\'s "best" ]]> kettle'


@pytest.fixture
async def feed_client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    ours = dataclasses.replace(settings, base_url=BASE, shop_name="Kettle & Co <Shop>")
    async with AsyncTestClient(app=create_app(ours)) as client:
        yield client


def valid(body: bytes) -> etree._Element:
    """The parsed feed, after checking it against Google's schema (failing with the schema's own message)."""
    root = etree.fromstring(body)
    if not SCHEMA.validate(root):
        raise AssertionError(str(SCHEMA.error_log))
    return root


def review_ids(root: etree._Element) -> list[int]:
    return [int(text) for text in root.xpath("/feed/reviews/review/review_id/text()")]


def review_of(root: etree._Element, review_id: int) -> etree._Element:
    return root.xpath(f"/feed/reviews/review[review_id='{review_id}']")[0]


async def add_product(sku: str, **fields: str) -> None:
    product = (await Product.insert(Product(sku=sku, **fields)).returning(Product.id))[0]["id"]
    await ProductKey.insert(ProductKey(product=product, key=f"sku:{sku}"))


async def test_the_feed_lists_published_reviews_with_text_and_validates(feed_client: AsyncTestClient) -> None:
    with_photo = await add_review(
        sku="KETTLE-1", title="Fast", text="Boils in a minute.", photos=((PHOTO, "image/jpeg"),)
    )
    anonymous = await add_review(sku="KETTLE-1", text="Does what it says.", author_name="")
    evil = await add_review(sku="KETTLE-1", title=EVIL, text=f"{EVIL}\x00\x07 & more", author_name="O'Brien & <Sons>")
    await add_product("MUG-2", title="Blue mug", url="https://shop.example/mug-2", gtin="4006381333931", mpn="MB-2")
    await Product.update({Product.brand: "Acme & Co"}).where(Product.sku == "MUG-2")
    catalogued = await add_review(sku="MUG-2", product_name="Mug (old name)", text="Holds tea.", rating=4)
    await add_review(text="Hidden until approved.", status="held", held_rule="link")
    await add_review(text="Rejected.", status="rejected")
    await add_review(text="")  # stars only: Google's schema requires content

    response = await feed_client.get(FEED)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml; charset=utf-8"
    root = valid(response.content)
    assert review_ids(root) == [with_photo, anonymous, evil, catalogued]
    assert root.findtext("version") == "2.4"
    assert root.findtext("publisher/name") == "Kettle & Co <Shop>"
    assert b"<script>" not in response.content and b"Co <Shop>" not in response.content
    assert not root.xpath("//is_spam")

    first = review_of(root, with_photo)
    assert [child.tag for child in first] == [
        "review_id",
        "reviewer",
        "review_language",
        "review_timestamp",
        "title",
        "content",
        "review_url",
        "reviewer_images",
        "ratings",
        "products",
        "is_verified_purchase",
        "collection_method",
    ]
    assert first.findtext("reviewer/name") == "Anna S."
    assert first.find("reviewer/name").get("is_anonymous") is None
    assert first.findtext("review_timestamp") == "2026-03-08T12:00:00Z"
    assert first.findtext("reviewer_images/reviewer_image/url") == f"{BASE}/media/reviews/{PHOTO}"
    assert first.find("ratings/overall").attrib == {"min": "1", "max": "5"}
    assert first.findtext("ratings/overall") == "5"
    # Not in the catalogue: the SKU alone, the name it was sold under, and our public page of its reviews.
    assert first.findtext("products/product/product_ids/skus/sku") == "KETTLE-1"
    assert first.find("products/product/product_ids/gtins") is None
    assert first.findtext("products/product/product_name") == "Item 1"
    assert first.findtext("products/product/product_url") == f"{BASE}/widget/products/KETTLE-1"
    assert first.find("review_url").attrib == {"type": "group"}
    assert first.findtext("review_url") == f"{BASE}/widget/products/KETTLE-1"

    nameless = review_of(root, anonymous).find("reviewer/name")
    assert (nameless.text, nameless.get("is_anonymous")) == ("Anonymous", "true")
    assert review_of(root, anonymous).find("title") is None

    escaped = review_of(root, evil)
    assert escaped.findtext("title") == EVIL
    assert escaped.findtext("content") == f"{EVIL} & more"  # what XML cannot carry is dropped
    assert escaped.findtext("reviewer/name") == "O'Brien & <Sons>"

    product = review_of(root, catalogued).find("products/product")
    assert product.findtext("product_ids/gtins/gtin") == "4006381333931"
    assert product.findtext("product_ids/mpns/mpn") == "MB-2"
    assert product.findtext("product_ids/skus/sku") == "MUG-2"
    assert product.findtext("product_ids/brands/brand") == "Acme & Co"
    assert product.findtext("product_name") == "Blue mug"
    assert product.findtext("product_url") == "https://shop.example/mug-2"
    assert review_of(root, catalogued).findtext("review_url") == "https://shop.example/mug-2"


async def test_an_empty_feed_validates(feed_client: AsyncTestClient) -> None:
    await add_review(text="Waiting.", status="held", held_rule="email")

    root = valid((await feed_client.get(FEED)).content)

    assert root.find("reviews") is None
    assert root.findtext("publisher/name") == "Kettle & Co <Shop>"


async def test_an_erased_customers_review_leaves_the_feed(feed_client: AsyncTestClient) -> None:
    kept = await add_review(text="Still here.")
    await add_review(text="My words.", email="erase.me@example.com", photos=((PHOTO, "image/jpeg"),))

    await erase_customer("erase.me@example.com", datetime(2026, 4, 1, tzinfo=UTC))
    root = valid((await feed_client.get(FEED)).content)

    assert review_ids(root) == [kept]
    assert PHOTO not in etree.tostring(root, encoding="unicode")


async def test_catalogue_leftovers_are_not_sent(feed_client: AsyncTestClient) -> None:
    """A GTIN that is not one, an address that is not http(s), a deleted product, an SKU with spaces."""
    await add_product("ODD 1/2", gtin="n/a", url="javascript:alert(1)", brand="  ")
    await add_product("GONE-3", gtin="4006381333931", deleted_at=datetime(2026, 1, 1, tzinfo=UTC))  # type: ignore[arg-type]
    odd = await add_review(sku="ODD 1/2", text="Odd one.")
    gone = await add_review(sku="GONE-3", text="Gone one.")

    root = valid((await feed_client.get(FEED)).content)

    ids = review_of(root, odd).find("products/product/product_ids")
    assert [child.tag for child in ids] == ["skus"]
    assert review_of(root, odd).findtext("products/product/product_url") == f"{BASE}/widget/products/ODD%201%2F2"
    assert review_of(root, gone).find("products/product/product_ids/gtins") is None


async def test_batches_make_the_same_feed(settings: Settings) -> None:
    for n in range(5):
        await add_review(text=f"Review {n}", photos=((f"{n:032x}.png", "image/png"),))
    site = FeedSite(
        publisher="Shop", base_url=BASE, product_page=lambda sku: f"{BASE}/p/{sku}", photo_url=lambda f: f"{BASE}/{f}"
    )

    small = [chunk async for chunk in feed_chunks(site, batch=2)]
    whole = [chunk async for chunk in feed_chunks(site)]

    assert len(small) == 5  # head, three batches, tail
    assert b"".join(small) == b"".join(whole)
    assert len(review_ids(valid(b"".join(small)))) == 5


async def test_an_unchanged_feed_answers_304(feed_client: AsyncTestClient) -> None:
    review = await add_review(text="First.")
    first = await feed_client.get(FEED)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=3600"
    assert "set-cookie" not in first.headers  # shared caches keep it: no CSRF cookie of one visitor in it

    again = await feed_client.get(FEED, headers={"If-None-Match": f'"other", W/{etag}'})

    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    await Review.update({Review.status: "rejected", Review.moderated_at: datetime(2026, 4, 1, tzinfo=UTC)}).where(
        Review.id == review
    )
    changed = await feed_client.get(FEED, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert review_ids(valid(changed.content)) == []

    await add_review(text="Second.")
    assert (await feed_client.get(FEED, headers={"If-None-Match": changed.headers["etag"]})).status_code == 200
