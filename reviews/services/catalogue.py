"""Published reviews as the public sees them: the products, a product's rating, a page of its reviews.

Only `status == "published"` rows are ever read here. A product's rating and pages are kept in this process by
the versions of what they show (reviews.services.versions): a request costs one small read while nothing changed.
The widget and the rating API read them on every view, so they are hand-written statements (afterglow.hotsql).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from piccolo.query.functions.aggregate import Avg, Count
from piccolo.querystring import QueryString

from afterglow import hotsql
from afterglow.kinds import STARS_SCALE
from reviews.services import versions
from reviews.tables import Review
from shop.services.catalogue import title_for_sku

Sort = Literal["newest", "rating", "rating_asc", "helpful"]
SORTS: tuple[str, ...] = get_args(Sort)
RATINGS = tuple(STARS_SCALE.points)


class UnknownProduct(LookupError):
    """The shop never sold this SKU, so there is nothing to show for it."""


@dataclass(frozen=True)
class Paging:
    """Which page of a list, and how long the whole list is; `pages` is 0 for an empty list."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.per_page)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def beyond_end(self) -> bool:
        return self.offset >= self.total

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass(frozen=True)
class ProductRating:
    """A product's published reviews counted by stars; `average_rating` is None while it has none."""

    sku: str
    name: str
    distribution: dict[int, int]
    #: The versions of the state it shows (at least): a cache key for what is made of it.
    version: tuple[int, int] = (0, 0)

    @property
    def review_count(self) -> int:
        return sum(self.distribution.values())

    @property
    def average_rating(self) -> float | None:
        count = self.review_count
        if not count:
            return None
        return round(sum(stars * n for stars, n in self.distribution.items()) / count, 2)

    def share(self, stars: int) -> float:
        """The part of the reviews that gave `stars`, 0..1 (for the bars)."""
        return self.distribution.get(stars, 0) / self.review_count if self.review_count else 0.0


@dataclass(frozen=True)
class ListedProduct:
    sku: str
    name: str
    average_rating: float
    review_count: int


@dataclass(frozen=True)
class ProductList:
    items: list[ListedProduct]
    paging: Paging


@dataclass(frozen=True)
class ShownPhoto:
    file_name: str
    width: int
    height: int


@dataclass
class ShownReview:
    """One published review as readers see it; `reply_text` is the shop's public answer ("" for none)."""

    id: int
    rating: int
    title: str
    text: str
    author: str
    verified: bool
    language: str
    created_at: datetime
    helpful_count: int
    reply_text: str
    reply_at: datetime | None
    photos: list[ShownPhoto] = field(default_factory=list)
    #: Photo addresses of a review imported from another tool: shown as links, never fetched.
    photo_urls: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProductReviews:
    """A product's rating and one page of its published reviews (of `stars` only, when given)."""

    rating: ProductRating
    items: list[ShownReview]
    paging: Paging
    sort: str
    stars: int | None
    version: tuple[int, int] = (0, 0)


#: A product's published reviews counted per star count, and its name, in one statement. Piccolo cannot say this
#: (scalar subqueries). Measured with 10,000 reviews of one product, five counts that each match the whole
#: (sku, status, rating) index key take about half the time of one GROUP BY rating over the same index, on
#: SQLite and on PostgreSQL, and folding the name in saves a round trip. The name is that of the newest published
#: review (the shop may have renamed the product since) or, before any, of the product as last sold; NULL for an
#: SKU never sold.
_SUMMARY = "SELECT {counts}, COALESCE({review_name}, {item_name}) AS name".format(
    counts=", ".join(
        f"(SELECT count(*) FROM review WHERE sku = $1 AND status = 'published' AND rating = {n}) AS stars_{n}"
        for n in RATINGS
    ),
    review_name="(SELECT product_name FROM review WHERE sku = $1 AND status = 'published'"
    " ORDER BY created_at DESC, id DESC LIMIT 1)",
    item_name="(SELECT name FROM order_item WHERE sku = $1 ORDER BY id DESC LIMIT 1)",
)
#: Each sort as SQL; ties always go to the newest review.
_NEWEST_SQL = "r.created_at DESC, r.id DESC"
_ORDER_SQL = {
    "newest": _NEWEST_SQL,
    "rating": f"r.rating DESC, {_NEWEST_SQL}",
    "rating_asc": f"r.rating ASC, {_NEWEST_SQL}",
    "helpful": f"r.helpful_count DESC, {_NEWEST_SQL}",
}
#: One page of published reviews with their photos, in one statement (a review with two photos is two rows).
_SHOWN = (
    "r.id, r.rating, r.title, r.text, r.author_name, r.verified, r.language, r.created_at, r.helpful_count, "
    "r.reply_text, r.reply_at, r.photo_urls"
)
_PAGE = f"""
SELECT {_SHOWN}, p.file_name, p.width, p.height
FROM (SELECT {_SHOWN} FROM review r WHERE r.sku = $1 AND r.status = 'published' {{stars}}
      ORDER BY {{order}} LIMIT $2 OFFSET $3) r
LEFT JOIN review_photo p ON p.review = r.id
ORDER BY {{order}}, p.position, p.id
"""
#: Ratings and pages by (sku, versions, ...): see reviews.services.versions. Pages of up to KEPT_PER_PAGE reviews
#: only (the widget's 10, the API's default 20), so that what is kept stays within a few megabytes.
_ratings = versions.cache(256)
_pages = versions.cache(128)
KEPT_PER_PAGE = 20


async def _rating(sku: str) -> ProductRating:
    row = (await hotsql.fetch(_SUMMARY, sku))[0]
    if row["name"] is None:
        raise UnknownProduct(sku)
    distribution = {n: int(row[f"stars_{n}"]) for n in RATINGS}
    name = await title_for_sku(sku) or str(row["name"])  # the catalogue's title, where it knows the product
    return ProductRating(sku=sku, name=name, distribution=distribution)


async def _rating_at(sku: str, version: tuple[int, int]) -> ProductRating:
    key = (sku, version)
    rating = _ratings.get(key)
    if rating is None:
        rating = dataclasses.replace(await _rating(sku), version=version)
        _ratings.put(key, rating)
    return rating


async def product_rating(sku: str) -> ProductRating:
    """The product's published reviews counted by stars. UnknownProduct when the shop never sold the SKU."""
    return await _rating_at(sku, await versions.version_of(sku))


def _json_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = json.loads(value)
    return list(value or [])


async def _page(sku: str, paging: Paging, sort: str, stars: int | None) -> list[ShownReview]:
    if paging.beyond_end:
        return []
    sql = _PAGE.format(order=_ORDER_SQL[sort], stars="" if stars is None else "AND r.rating = $4")
    args = (sku, paging.per_page, paging.offset, *(() if stars is None else (stars,)))
    shown: dict[int, ShownReview] = {}
    for row in await hotsql.fetch(sql, *args):
        review = shown.get(row["id"])
        if review is None:
            review = shown[row["id"]] = ShownReview(
                id=row["id"],
                rating=row["rating"],
                title=row["title"],
                text=row["text"],
                author=row["author_name"],
                verified=bool(row["verified"]),
                language=row["language"],
                created_at=row["created_at"],
                helpful_count=row["helpful_count"],
                reply_text=row["reply_text"],
                reply_at=row["reply_at"],
                photo_urls=_json_list(row["photo_urls"]),
            )
        if row["file_name"] is not None:
            review.photos.append(ShownPhoto(row["file_name"], row["width"], row["height"]))
    return list(shown.values())


async def product_reviews(
    sku: str, *, page: int = 1, per_page: int = 10, sort: str = "newest", stars: int | None = None
) -> ProductReviews:
    """The product's rating and a page of its published reviews, sorted by `sort` (one of SORTS), only those
    with `stars` when given. A page past the end has no items. UnknownProduct when the shop never sold it.
    `version` on the answer names the state it shows (at least): a cache key for what is made of it."""
    if sort not in _ORDER_SQL:
        raise ValueError(f"unknown sort {sort!r}")
    version = await versions.version_of(sku)
    key = (sku, version, page, per_page, sort, stars)
    found = _pages.get(key)
    if found is None:
        rating = await _rating_at(sku, version)
        total = rating.distribution.get(stars, 0) if stars is not None else rating.review_count
        paging = Paging(page=page, per_page=per_page, total=total)
        items = await _page(sku, paging, sort, stars)
        found = ProductReviews(rating=rating, items=items, paging=paging, sort=sort, stars=stars, version=version)
        if per_page <= KEPT_PER_PAGE:
            _pages.put(key, found)
    return found


def _latest_name() -> QueryString:
    """A select column: the product's name as its newest published review has it (correlated per SKU)."""
    table = Review._meta.tablename
    return QueryString(
        f'(SELECT latest.product_name FROM {table} AS latest WHERE latest.sku = "{table}".sku'
        " AND latest.status = 'published' ORDER BY latest.created_at DESC, latest.id DESC LIMIT 1)"
    ).as_alias("name")


async def product_list(*, page: int = 1, per_page: int = 20) -> ProductList:
    """Products with at least one published review, the most reviewed first (then by SKU). Reviews of the shop
    itself (imported, with no SKU) are no product's."""
    published = (Review.status == "published") & (Review.sku != "")
    async with Review._meta.db.transaction():
        counted = await Review.select(Count(distinct=[Review.sku], alias="n")).where(published).first()
        paging = Paging(page=page, per_page=per_page, total=int(counted["n"]) if counted else 0)
        if paging.beyond_end:
            return ProductList(items=[], paging=paging)
        rows = (
            await Review.select(
                Review.sku,
                _latest_name(),
                Count(alias="review_count"),
                Avg(Review.rating, alias="average_rating"),
            )
            .where(published)
            .group_by(Review.sku)
            .order_by(QueryString("review_count"), ascending=False)
            .order_by(Review.sku)
            .limit(paging.per_page)
            .offset(paging.offset)
        )
    items = [
        ListedProduct(
            sku=row["sku"],
            name=row["name"] or "",
            average_rating=round(float(row["average_rating"]), 2),
            review_count=int(row["review_count"]),
        )
        for row in rows
    ]
    return ProductList(items=items, paging=paging)
