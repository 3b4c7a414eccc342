"""What the public reviews API returns (JSON), built from the catalogue's plain values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import msgspec

from reviews.services.catalogue import Paging, ProductList, ProductRating, ProductReviews, ShownReview


class ProductOut(msgspec.Struct):
    sku: str
    name: str
    average_rating: float
    review_count: int


class ProductPage(msgspec.Struct):
    items: list[ProductOut]
    page: int
    per_page: int
    total: int
    pages: int


class PhotoOut(msgspec.Struct):
    url: str
    width: int
    height: int


class ReplyOut(msgspec.Struct):
    """The shop's public answer to a review."""

    text: str
    at: datetime | None


class ReviewOut(msgspec.Struct):
    id: int
    rating: int
    title: str
    text: str
    author: str
    verified: bool
    language: str
    created_at: datetime
    helpful_count: int
    photos: list[PhotoOut]
    reply: ReplyOut | None


class ReviewPage(msgspec.Struct):
    items: list[ReviewOut]
    page: int
    per_page: int
    total: int
    pages: int


class RatingOut(msgspec.Struct):
    """`average_rating` is null while the product has no published review; `distribution` always has "1".."5"."""

    sku: str
    name: str
    average_rating: float | None
    review_count: int
    distribution: dict[str, int]


def _envelope(paging: Paging) -> dict[str, int]:
    return {"page": paging.page, "per_page": paging.per_page, "total": paging.total, "pages": paging.pages}


def product_page(products: ProductList) -> ProductPage:
    items = [ProductOut(p.sku, p.name, p.average_rating, p.review_count) for p in products.items]
    return ProductPage(items=items, **_envelope(products.paging))


def review_out(review: ShownReview, photo_url: Callable[[str], str]) -> ReviewOut:
    return ReviewOut(
        id=review.id,
        rating=review.rating,
        title=review.title,
        text=review.text,
        author=review.author,
        verified=review.verified,
        language=review.language,
        created_at=review.created_at,
        helpful_count=review.helpful_count,
        photos=[PhotoOut(photo_url(p.file_name), p.width, p.height) for p in review.photos],
        reply=ReplyOut(review.reply_text, review.reply_at) if review.reply_text else None,
    )


def review_page(reviews: ProductReviews, photo_url: Callable[[str], str]) -> ReviewPage:
    return ReviewPage(items=[review_out(r, photo_url) for r in reviews.items], **_envelope(reviews.paging))


def rating_out(rating: ProductRating) -> RatingOut:
    return RatingOut(
        sku=rating.sku,
        name=rating.name,
        average_rating=rating.average_rating,
        review_count=rating.review_count,
        distribution={str(stars): n for stars, n in sorted(rating.distribution.items())},
    )
