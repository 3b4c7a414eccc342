"""The review exports `afterglow import-reviews` reads, told apart by their header row. Pure: no database, no clock.

Each format turns one row (keys are the header's names, lower-cased) into an `ImportedReview`, or raises `Skipped`
(the tool hid it: not imported, counted by reason) or `BadRow` (reported by line). Every tool rates 1 to 5 stars;
a format with another scale sets `scale` and ratings are brought onto five stars.

- Judge.me: its import/export CSV. No review id: the key is a digest of the row's lasting fields.
- Yotpo: the reviews export of its moderation page (`id`, `review_score`, ...; custom questions as `cf_` columns),
  and its newer layout (`Review ID`, `Review Score`, `Review Status`, `Order ID`, ...).
- Stamped: the fields of Stamped's review records (`reviewRating`, `reviewMessage`, ...).
- Shopify Product Reviews: its CSV (`product_handle,state,rating,...`). No review id: a digest, as for Judge.me.
- Trustpilot: the service reviews export of Trustpilot Business. A service review is about the shop, not a product.

A review the tool published is imported as published (our content rules still apply); one the tool had not decided
on waits for a moderator here; one it hid or marked as spam is left out.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Re-exported: the importers and tests read these from the format module.
from afterglow.csvfiles import UnknownHeader as UnknownHeader
from afterglow.csvfiles import normalise_header as normalise_header
from afterglow.csvfiles import recognise_header

Row = Mapping[str, str]

STARS = 5
#: Where Stamped keeps review photos named only by file name in its records.
STAMPED_PHOTOS = "https://cdn.stamped.io/uploads/photos/"
_SPLIT_URLS = re.compile(r"[\s,;|]+")
_HANDLE_IN_URL = re.compile(r"/products?/([^/?#]+)")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")


@dataclass(frozen=True)
class ProductRef:
    """How the tool names the product: the platform's product id, handle, SKU, name or page address."""

    platform_id: str = ""
    handle: str = ""
    sku: str = ""
    name: str = ""
    #: A review of the shop itself (a Trustpilot service review): there is no product.
    shop: bool = False


SHOP = ProductRef(shop=True)


@dataclass(frozen=True)
class ImportedReview:
    #: `<source>:<the tool's review id>`, or `<source>:<digest of the row's lasting fields>`.
    key: str
    rating: int
    created_at: datetime
    title: str = ""
    text: str = ""
    author: str = ""
    email: str = ""
    reply: str = ""
    reply_at: datetime | None = None
    photo_urls: tuple[str, ...] = ()
    product: ProductRef = field(default_factory=ProductRef)
    #: The shop's order number or id where the export has one.
    order_ref: str = ""
    #: The tool had not decided on it yet: a moderator here does.
    held: bool = False
    language: str = ""


class Skipped(Exception):
    """The tool hid this review; the message is the reason counted in the summary."""


class BadRow(ValueError):
    """The row cannot be read; the message names the column."""


@dataclass(frozen=True)
class ReviewFormat:
    source: str
    title: str
    #: Header names a file must have (compared without case).
    required: tuple[str, ...]
    #: Header names only this export has: a header with all of them is this export.
    signature: tuple[str, ...]
    read: Callable[[Row], ImportedReview]


def _get(row: Row, *columns: str) -> str:
    """The first non-empty value among `columns` (exports name some columns differently over the years)."""
    return next((row[c] for c in columns if row.get(c)), "")


def digest_key(source: str, *parts: str) -> str:
    """A key for an export without review ids: the same review always gives the same key."""
    return f"{source}:{hashlib.sha256(chr(31).join(parts).encode()).hexdigest()[:32]}"


def rating(value: str, column: str, scale: int = STARS) -> int:
    """A rating on the tool's `scale`, as whole stars from 1 to 5."""
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        raise BadRow(f"`{column}` is not a rating: {value!r}") from None
    if not number.is_finite() or not 0 < number <= scale:
        raise BadRow(f"`{column}` is not a rating from 1 to {scale}: {value!r}")
    stars = int((number * STARS / scale).to_integral_value(ROUND_HALF_UP))
    return max(1, min(STARS, stars))


def when(value: str, column: str) -> datetime:
    """An export's time: ISO-8601 (also with a space, `Z` or ` UTC`), a date alone, or Stamped's `MM/DD/YYYY`.
    A time without an offset is UTC."""
    text = value.strip().removesuffix(" UTC").removesuffix(" GMT")
    us = _US_DATE.match(text)
    try:
        if us:
            month, day, year, hour, minute, second = (int(part or 0) for part in us.groups())
            at = datetime(year, month, day, hour, minute, second)
        else:
            at = datetime.fromisoformat(text)
    except ValueError:
        raise BadRow(f"`{column}` is not a date: {value!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def optional_when(value: str, column: str) -> datetime | None:
    return when(value, column) if value.strip() else None


def photo_urls(value: str, bare_prefix: str = "") -> tuple[str, ...]:
    """The web addresses in a list of them; with `bare_prefix`, a bare file name is one of its photos."""
    found = []
    for part in _SPLIT_URLS.split(value.strip()):
        if part.startswith(("https://", "http://")):
            found.append(part)
        elif bare_prefix and part and "/" not in part and "." in part:
            found.append(bare_prefix + part)
    return tuple(dict.fromkeys(found))


def handle_in(url: str) -> str:
    """The product handle in a shop address (`.../products/<handle>?variant=1`)."""
    match = _HANDLE_IN_URL.search(url)
    return match[1] if match else ""


def _truthy(value: str) -> bool:
    return value.strip().lower() in {"true", "1", "yes", "y"}


def _judgeme(row: Row) -> ImportedReview:
    curated = row.get("curated", "").lower()
    if curated == "spam":
        raise Skipped("spam in Judge.me")
    product = ProductRef(platform_id=row.get("product_id", ""), handle=row.get("product_handle", ""))
    lasting = ("review_date", "reviewer_email", "reviewer_name", "product_id", "product_handle", "rating", "body")
    return ImportedReview(
        key=digest_key("judgeme", *(row.get(column, "") for column in (*lasting, "title"))),
        rating=rating(row.get("rating", ""), "rating"),
        created_at=when(row.get("review_date", ""), "review_date"),
        title=row.get("title", ""),
        text=row.get("body", ""),
        author=row.get("reviewer_name", ""),
        email=row.get("reviewer_email", ""),
        reply=row.get("reply", ""),
        reply_at=optional_when(row.get("reply_date", ""), "reply_date"),
        photo_urls=photo_urls(row.get("picture_urls", "")),
        product=product,
        held=curated not in {"ok", ""},
    )


def _shopify(row: Row) -> ImportedReview:
    state = row.get("state", "").lower()
    if state in {"unpublished", "spam"}:
        raise Skipped(f"{state} in Shopify Product Reviews")
    lasting = ("created_at", "email", "author", "product_handle", "rating", "title", "body")
    return ImportedReview(
        key=digest_key("shopify", *(row.get(column, "") for column in lasting)),
        rating=rating(row.get("rating", ""), "rating"),
        created_at=when(row.get("created_at", ""), "created_at"),
        title=row.get("title", ""),
        text=row.get("body", ""),
        author=row.get("author", ""),
        email=row.get("email", ""),
        reply=row.get("reply", ""),
        reply_at=optional_when(row.get("replied_at", ""), "replied_at"),
        product=ProductRef(handle=row.get("product_handle", "")),
        held=state not in {"published", ""},
    )


def _yotpo(row: Row) -> ImportedReview:
    if row.get("published") and not _truthy(row["published"]):
        raise Skipped("not published in Yotpo")
    product_id = row.get("product_id", "")
    url = row.get("product_url", "")
    if product_id == "yotpo_site_reviews":
        product = SHOP
    else:
        product = ProductRef(platform_id=product_id, handle=handle_in(url), name=row.get("product_title", ""))
    public_reply = _truthy(row.get("comment_public", ""))
    review_id = row.get("id", "")
    lasting = ("date", "email", "display_name", "product_id", "review_score", "review_title", "review_content")
    return ImportedReview(
        key=f"yotpo:{review_id}" if review_id else digest_key("yotpo", *(row.get(c, "") for c in lasting)),
        rating=rating(row.get("review_score", ""), "review_score"),
        created_at=when(row.get("date", ""), "date"),
        title=row.get("review_title", ""),
        text=row.get("review_content", ""),
        author=row.get("display_name", ""),
        email=row.get("email", ""),
        # A private comment stays with the tool: only the shop's public comment is its reply.
        reply=row.get("comment_content", "") if public_reply else "",
        reply_at=optional_when(row.get("comment_created_at", ""), "comment_created_at") if public_reply else None,
        photo_urls=photo_urls(row.get("published_image_url", "")),
        product=product,
    )


def _yotpo_titled(row: Row) -> ImportedReview:
    """Yotpo's newer export: columns named in words, with the review's order and status."""
    status = row.get("review status", "").lower()
    if status and status != "published":
        raise Skipped(f"{status} in Yotpo")
    review_type, product_id = row.get("review type", "").lower(), row.get("product id", "")
    product = SHOP if review_type == "site_review" or not product_id else ProductRef(platform_id=product_id)
    review_id = row.get("review id", "")
    lasting = ("review creation date", "reviewer email", "product id", "review score", "review content")
    return ImportedReview(
        key=f"yotpo:{review_id}" if review_id else digest_key("yotpo", *(row.get(c, "") for c in lasting)),
        rating=rating(row.get("review score", ""), "Review Score"),
        created_at=when(row.get("review creation date", ""), "Review Creation Date"),
        title=row.get("review title", ""),
        text=row.get("review content", ""),
        author=row.get("reviewer display name", ""),
        email=row.get("reviewer email", ""),
        photo_urls=photo_urls(row.get("published image urls", "")),
        product=product,
        order_ref=row.get("order id", ""),
    )


def _stamped(row: Row) -> ImportedReview:
    if row.get("published") and not _truthy(row["published"]):
        raise Skipped("not published in Stamped")
    created = _get(row, "datecreated", "reviewdate")
    if not created:
        raise BadRow("`dateCreated` is empty")
    review_id = row.get("id", "")
    lasting = ("datecreated", "reviewdate", "email", "author", "productid", "reviewrating", "reviewmessage")
    return ImportedReview(
        key=f"stamped:{review_id}" if review_id else digest_key("stamped", *(row.get(c, "") for c in lasting)),
        rating=rating(row.get("reviewrating", ""), "reviewRating"),
        created_at=when(created, "dateCreated"),
        title=row.get("reviewtitle", ""),
        text=row.get("reviewmessage", ""),
        author=row.get("author", ""),
        email=row.get("email", ""),
        reply=row.get("reviewreply", ""),
        reply_at=optional_when(row.get("reviewreplydate", ""), "reviewReplyDate"),
        photo_urls=photo_urls(row.get("reviewuserphotos", ""), bare_prefix=STAMPED_PHOTOS),
        product=ProductRef(
            platform_id=row.get("productid", ""),
            sku=row.get("productsku", ""),
            name=row.get("productname", ""),
            handle=handle_in(row.get("producturl", "")),
        ),
    )


def _trustpilot(row: Row) -> ImportedReview:
    review_id = row.get("review id", "")
    lasting = ("review created (utc)", "review username", "review stars", "review title", "review content")
    reply_date = _get(row, "company reply date (utc)", "business reply date (utc)", "reply date (utc)")
    return ImportedReview(
        key=f"trustpilot:{review_id}" if review_id else digest_key("trustpilot", *(row.get(c, "") for c in lasting)),
        rating=rating(row.get("review stars", ""), "Review Stars"),
        created_at=when(row.get("review created (utc)", ""), "Review Created (UTC)"),
        title=row.get("review title", ""),
        text=row.get("review content", ""),
        author=_get(row, "review username", "consumer name"),
        email=_get(row, "review consumer email", "review user email", "consumer email"),
        reply=_get(row, "company response", "reply content", "business reply", "reply"),
        reply_at=optional_when(reply_date, "Company Reply Date (UTC)"),
        product=SHOP,
        order_ref=_get(row, "reference id", "order id"),
        language=row.get("review language", ""),
    )


JUDGEME = ReviewFormat(
    source="judgeme",
    title="Judge.me",
    required=("title", "body", "rating", "review_date", "reviewer_name", "product_id", "product_handle"),
    signature=("curated", "reviewer_name", "review_date"),
    read=_judgeme,
)
YOTPO = ReviewFormat(
    source="yotpo",
    title="Yotpo",
    required=("review_title", "review_content", "review_score", "date", "product_id", "display_name"),
    signature=("review_content", "review_score", "display_name"),
    read=_yotpo,
)
YOTPO_TITLED = ReviewFormat(
    source="yotpo",
    title="Yotpo (newer export)",
    required=("Review ID", "Review Score", "Review Content", "Review Creation Date", "Product ID"),
    signature=("Review Score", "Review Content", "Reviewer Display Name"),
    read=_yotpo_titled,
)
STAMPED = ReviewFormat(
    source="stamped",
    title="Stamped",
    required=("productId", "author", "reviewRating", "reviewTitle", "reviewMessage"),
    signature=("reviewRating", "reviewMessage"),
    read=_stamped,
)
SHOPIFY = ReviewFormat(
    source="shopify",
    title="Shopify Product Reviews",
    required=("product_handle", "state", "rating", "title", "author", "body", "created_at"),
    signature=("product_handle", "state", "author"),
    read=_shopify,
)
TRUSTPILOT = ReviewFormat(
    source="trustpilot",
    title="Trustpilot",
    required=("Review Created (UTC)", "Review Stars", "Review Title", "Review Content"),
    signature=("Review Created (UTC)", "Review Stars"),
    read=_trustpilot,
)
FORMATS = (JUDGEME, YOTPO, YOTPO_TITLED, STAMPED, SHOPIFY, TRUSTPILOT)


def recognise(header: Sequence[str]) -> ReviewFormat:
    """The export a file with this header row (as `normalise_header` gives it) comes from; UnknownHeader naming
    the columns missing for the closest one otherwise."""
    return recognise_header(header, FORMATS)
