"""Published reviews as the public sees them: the products, a product's rating, a page of its reviews.

Only `status == "published"` rows are ever read here. Each read that takes several queries runs them in one
transaction: one connection per request (on SQLite, opening a connection costs more than these queries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from piccolo.columns import Column
from piccolo.query.functions.aggregate import Avg, Count
from piccolo.querystring import QueryString

from afterglow.kinds import STARS_SCALE
from reviews.services.photos import photos_of
from reviews.tables import Review
from shop.services.catalogue import title_for_sku
from shop.tables import OrderItem

Sort = Literal["newest", "rating", "rating_asc", "helpful"]
SORTS: tuple[str, ...] = get_args(Sort)
RATINGS = tuple(STARS_SCALE.points)
_NEWEST: list[tuple[Column, bool]] = [(Review.created_at, False), (Review.id, False)]
#: Each sort as (column, ascending) pairs; ties always go to the newest review.
_ORDER: dict[str, list[tuple[Column, bool]]] = {
    "newest": _NEWEST,
    "rating": [(Review.rating, False), *_NEWEST],
    "rating_asc": [(Review.rating, True), *_NEWEST],
    "helpful": [(Review.helpful_count, False), *_NEWEST],
}


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


def _published(sku: str) -> Any:
    return (Review.sku == sku) & (Review.status == "published")


#: A product's published reviews counted per star count, and its name, in one statement. Piccolo cannot say this
#: (scalar subqueries). Measured with 10,000 reviews of one product, five counts that each match the whole
#: (sku, status, rating) index key take about half the time of one GROUP BY rating over the same index, on
#: SQLite and on PostgreSQL, and folding the name in saves a round trip. The name is that of the newest published
#: review (the shop may have renamed the product since) or, before any, of the product as last sold; NULL for an
#: SKU never sold.
_SUMMARY = "SELECT {counts}, COALESCE({review_name}, {item_name}) AS name".format(
    counts=", ".join(
        f"(SELECT count(*) FROM {Review._meta.tablename} WHERE sku = {{}} AND status = 'published' AND rating = {n})"
        f" AS stars_{n}"
        for n in RATINGS
    ),
    review_name=f"(SELECT product_name FROM {Review._meta.tablename} WHERE sku = {{}} AND status = 'published'"
    " ORDER BY created_at DESC, id DESC LIMIT 1)",
    item_name=f"(SELECT name FROM {OrderItem._meta.tablename} WHERE sku = {{}} ORDER BY id DESC LIMIT 1)",
)


async def _rating(sku: str) -> ProductRating:
    row = (await Review.raw(_SUMMARY, *[sku] * (len(RATINGS) + 2)))[0]
    if row["name"] is None:
        raise UnknownProduct(sku)
    distribution = {n: int(row[f"stars_{n}"]) for n in RATINGS}
    name = await title_for_sku(sku) or str(row["name"])  # the catalogue's title, where it knows the product
    return ProductRating(sku=sku, name=name, distribution=distribution)


async def product_rating(sku: str) -> ProductRating:
    """The product's published reviews counted by stars. UnknownProduct when the shop never sold the SKU."""
    return await _rating(sku)


async def _page(sku: str, paging: Paging, sort: str, stars: int | None) -> list[ShownReview]:
    if paging.beyond_end:
        return []
    where = _published(sku)
    if stars is not None:
        where &= Review.rating == stars
    query = Review.select(
        Review.id,
        Review.rating,
        Review.title,
        Review.text,
        Review.author_name,
        Review.verified,
        Review.language,
        Review.created_at,
        Review.helpful_count,
        Review.reply_text,
        Review.reply_at,
        Review.photo_urls,
    ).where(where)
    for column, ascending in _ORDER[sort]:
        query = query.order_by(column, ascending=ascending)
    rows = await query.limit(paging.per_page).offset(paging.offset).output(load_json=True)
    photos = await photos_of([row["id"] for row in rows])
    return [
        ShownReview(
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
            photos=[ShownPhoto(p["file_name"], p["width"], p["height"]) for p in photos.get(row["id"], [])],
            photo_urls=row["photo_urls"] or [],
        )
        for row in rows
    ]


async def product_reviews(
    sku: str, *, page: int = 1, per_page: int = 10, sort: str = "newest", stars: int | None = None
) -> ProductReviews:
    """The product's rating and a page of its published reviews, sorted by `sort` (one of SORTS), only those
    with `stars` when given. A page past the end has no items. UnknownProduct when the shop never sold it."""
    if sort not in _ORDER:
        raise ValueError(f"unknown sort {sort!r}")
    async with Review._meta.db.transaction():
        rating = await _rating(sku)
        total = rating.distribution.get(stars, 0) if stars is not None else rating.review_count
        paging = Paging(page=page, per_page=per_page, total=total)
        items = await _page(sku, paging, sort, stars)
    return ProductReviews(rating=rating, items=items, paging=paging, sort=sort, stars=stars)


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
