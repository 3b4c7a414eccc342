"""Published reviews as Google's product reviews feed (Merchant Center "Product Ratings", schema 2.4), written in
batches so that a shop with 100,000 reviews never holds them all at once.

Google's schema: http://www.google.com/shopping/reviews/schema/product/2.4/product_reviews.xsd (a copy, which the
tests validate against, is tests/data/google/product_reviews.xsd). Its `<content>` is required, so a review
without text (stars only, or a customer's erased review, whose words erasure blanks) is left out. Each element is
built with ElementTree, which escapes it; characters XML 1.0 cannot carry are dropped first.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.query.functions.aggregate import Count, Max

from afterglow.kinds import STARS_SCALE
from reviews.services.photos import photos_of
from reviews.tables import Review, ReviewPhoto
from shop.tables import Product, ProductKey

VERSION = "2.4"
SCHEMA = f"http://www.google.com/shopping/reviews/schema/product/{VERSION}/product_reviews.xsd"
BATCH = 500
ANONYMOUS = "Anonymous"
_FEED_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns:vc="http://www.w3.org/2007/XMLSchema-versioning"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    f' xsi:noNamespaceSchemaLocation="{SCHEMA}">\n'
    f"<version>{VERSION}</version>\n"
)
#: Everything XML 1.0 does not allow (control characters, lone surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
#: GTIN-8, -12 (UPC), -13 (EAN) and -14; anything else the shop typed in that field is not sent.
_GTIN = re.compile(r"\d{8}|\d{12,14}")
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
#: What the schema's URL type accepts (and browsers too): http(s), no spaces, a dot somewhere after the scheme.
_HTTP_URL = re.compile(r"https?://\S+\.\S+")


@dataclass(frozen=True)
class FeedSite:
    """What the feed says about us: the publisher's name and our absolute public addresses."""

    publisher: str
    base_url: str
    #: A product's public page of reviews (the widget page), for a product the catalogue has no address for.
    product_page: Callable[[str], str]
    #: A stored review photo by its file name.
    photo_url: Callable[[str], str]


@dataclass(frozen=True)
class Listing:
    """What the catalogue knows of one SKU; "" where it knows nothing."""

    title: str = ""
    url: str = ""
    gtin: str = ""
    mpn: str = ""
    brand: str = ""


def clean(text: str) -> str:
    return _NOT_XML.sub("", text or "").strip()


async def feed_etag(site: FeedSite) -> str:
    """Changes whenever the feed's bytes may: a review published, edited, moderated or erased, a photo added or
    removed, the catalogue changed, the shop renamed. A handful of aggregate reads, cheap enough per request."""
    published = (Review.status == "published") & (Review.text != "")
    reviews = await Review.select(
        Count(alias="n"), Max(Review.updated_at, alias="updated"), Max(Review.id, alias="top")
    ).where(published)
    moderated = await Review.select(Max(Review.moderated_at, alias="moderated"))
    photos = await ReviewPhoto.select(Count(alias="n"), Max(ReviewPhoto.id, alias="top"))
    products = await Product.select(Count(alias="n"), Max(Product.updated_at, alias="updated"))
    keys = await ProductKey.select(Count(alias="n"), Max(ProductKey.id, alias="top"))
    state = repr((VERSION, site.publisher, site.base_url, reviews, moderated, photos, products, keys))
    return '"' + hashlib.sha256(state.encode()).hexdigest()[:32] + '"'


async def feed_chunks(site: FeedSite, batch: int = BATCH) -> AsyncIterator[bytes]:
    """The whole feed as UTF-8 pieces: the head, then the published reviews `batch` at a time, oldest first."""
    publisher = ET.Element("publisher")
    ET.SubElement(publisher, "name").text = clean(site.publisher) or clean(site.base_url)
    yield (_FEED_OPEN + ET.tostring(publisher, encoding="unicode") + "\n").encode()
    opened = False
    after = 0
    while True:
        rows = await _published_after(after, batch)
        if not rows:
            break
        after = rows[-1]["id"]
        elements = await _review_elements(rows, site)
        if elements and not opened:
            opened = True
            elements.insert(0, "<reviews>\n")
        yield "".join(elements).encode()
        if len(rows) < batch:
            break
    # The schema wants at least one <review> inside <reviews>: a feed without any has no <reviews> at all.
    yield ("</reviews>\n</feed>\n" if opened else "</feed>\n").encode()


async def _published_after(after: int, batch: int) -> list[dict[str, Any]]:
    """The next `batch` published reviews with text, by id (a keyset page: each costs the same, however deep)."""
    return (
        await Review.select(
            Review.id,
            Review.sku,
            Review.product_name,
            Review.rating,
            Review.title,
            Review.text,
            Review.language,
            Review.author_name,
            Review.verified,
            Review.source,
            Review.created_at,
        )
        .where((Review.status == "published") & (Review.text != "") & (Review.id > after))
        .order_by(Review.id)
        .limit(batch)
    )


async def _review_elements(rows: list[dict[str, Any]], site: FeedSite) -> list[str]:
    photos = await photos_of([row["id"] for row in rows])
    listings = await catalogue_listings(sorted({row["sku"] for row in rows}))
    elements = []
    for row in rows:
        element = review_element(row, listings.get(row["sku"], Listing()), photos.get(row["id"], []), site)
        if element is not None:
            elements.append(ET.tostring(element, encoding="unicode") + "\n")
    return elements


async def catalogue_listings(skus: list[str]) -> dict[str, Listing]:
    """The catalogue's product for each SKU: the one its `sku:<sku>` key names, else one with that SKU (the
    latest changed). Deleted products are not used. Read only."""
    if not skus:
        return {}
    found: dict[str, Listing] = {}
    columns = (Product.title, Product.url, Product.gtin, Product.mpn, Product.brand)
    by_sku = (
        await Product.select(Product.sku, *columns)
        .where(Product.sku.is_in(skus) & Product.deleted_at.is_null())
        .order_by(Product.updated_at)
        .order_by(Product.id)
    )
    for row in by_sku:  # the latest changed comes last and wins
        found[row["sku"]] = _listing(row)
    product = ProductKey.product
    keyed = await ProductKey.select(
        ProductKey.key, product.title, product.url, product.gtin, product.mpn, product.brand
    ).where(ProductKey.key.is_in([f"sku:{sku}" for sku in skus]) & product.deleted_at.is_null())
    for row in keyed:
        found[row["key"].removeprefix("sku:")] = _listing({k.removeprefix("product."): v for k, v in row.items()})
    return found


def _listing(row: dict[str, Any]) -> Listing:
    return Listing(*(clean(row[name] or "") for name in ("title", "url", "gtin", "mpn", "brand")))


def review_element(
    row: dict[str, Any], listing: Listing, photos: list[dict[str, Any]], site: FeedSite
) -> ET.Element | None:
    """One `<review>` in the schema's order of elements; None for a review without text."""
    content = clean(row["text"])
    if not content:
        return None
    review = ET.Element("review")
    ET.SubElement(review, "review_id").text = str(row["id"])
    reviewer = ET.SubElement(review, "reviewer")
    name = clean(row["author_name"])
    # The name the review pages show; without one they say "Anonymous", and so does the feed.
    ET.SubElement(reviewer, "name", {"is_anonymous": "true"} if not name else {}).text = name or ANONYMOUS
    if _LANGUAGE.fullmatch(row["language"] or ""):
        ET.SubElement(review, "review_language").text = row["language"]
    ET.SubElement(review, "review_timestamp").text = timestamp(row["created_at"])
    if title := clean(row["title"]):
        ET.SubElement(review, "title").text = title
    ET.SubElement(review, "content").text = content
    page = listing.url if _HTTP_URL.fullmatch(listing.url) else site.product_page(row["sku"])
    # No page shows one review alone: the product's page shows it among the others.
    ET.SubElement(review, "review_url", {"type": "group"}).text = page
    if photos:
        images = ET.SubElement(review, "reviewer_images")
        for photo in photos:
            ET.SubElement(ET.SubElement(images, "reviewer_image"), "url").text = site.photo_url(photo["file_name"])
    ratings = ET.SubElement(review, "ratings")
    bounds = {"min": str(STARS_SCALE.low), "max": str(STARS_SCALE.high)}
    ET.SubElement(ratings, "overall", bounds).text = str(row["rating"])
    _product(ET.SubElement(ET.SubElement(review, "products"), "product"), row, listing, page)
    if row["verified"]:
        ET.SubElement(review, "is_verified_purchase").text = "true"
    if not row["source"]:  # collected here: asked for by the invitation sent after delivery
        ET.SubElement(review, "collection_method").text = "post_fulfillment"
    return review


def _product(product: ET.Element, row: dict[str, Any], listing: Listing, page: str) -> None:
    ids = ET.Element("product_ids")
    if _GTIN.fullmatch(listing.gtin):
        ET.SubElement(ET.SubElement(ids, "gtins"), "gtin").text = listing.gtin
    if listing.mpn:
        ET.SubElement(ET.SubElement(ids, "mpns"), "mpn").text = listing.mpn
    if sku := clean(row["sku"]):
        ET.SubElement(ET.SubElement(ids, "skus"), "sku").text = sku
    if listing.brand:
        ET.SubElement(ET.SubElement(ids, "brands"), "brand").text = listing.brand
    if len(ids):
        product.append(ids)
    if name := listing.title or clean(row["product_name"]):
        ET.SubElement(product, "product_name").text = name
    ET.SubElement(product, "product_url").text = page


def timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with its zone, as the schema's xs:dateTime and Google want it: 2026-03-08T12:00:00Z."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
