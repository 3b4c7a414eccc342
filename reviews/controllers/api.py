"""The public reviews API: products, a product's published reviews and its rating. No key, no sign-in."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter

from afterglow.kinds import STARS_SCALE
from afterglow.ratelimit import PUBLIC_LIMITS
from reviews.schemas import ProductPage, RatingOut, ReviewPage, product_page, rating_out, review_page
from reviews.services import versions
from reviews.services.catalogue import Sort, UnknownProduct, product_list, product_rating, product_reviews

#: Readers may see a new review a minute late; shops and CDNs may keep answers that long.
PUBLIC_CACHE = CacheControlHeader(public=True, max_age=60)

#: Answers of the rating API by the versions of what they show (reviews.services.versions).
_ratings = versions.cache(256)

Page = Annotated[int, QueryParameter(ge=1, description="1 for the first page")]
PerPage = Annotated[int, QueryParameter(ge=1, le=100, description="items per page, 1 to 100")]
Stars = Annotated[
    int | None, QueryParameter(ge=STARS_SCALE.low, le=STARS_SCALE.high, description="only reviews with this many stars")
]


def _unknown(sku: str) -> NotFoundException:
    return NotFoundException(detail=f"product {sku!r} is unknown")


class ProductsApiController(Controller):
    path = "/api/v1/products"
    middleware = PUBLIC_LIMITS
    tags = ["reviews"]
    include_in_schema = True
    cache_control = PUBLIC_CACHE

    @get("/", name="reviews:api-products", operation_id="ListProducts")
    async def products(self, page: Page = 1, per_page: PerPage = 20) -> ProductPage:
        """Products with at least one published review, the most reviewed first."""
        return product_page(await product_list(page=page, per_page=per_page))

    @get("/{sku:str}/reviews", name="reviews:api-reviews", operation_id="ListProductReviews")
    async def reviews(
        self,
        request: Request[Any, Any, Any],
        sku: FromPath[str],
        page: Page = 1,
        per_page: PerPage = 20,
        sort: FromQuery[Sort] = "newest",
        rating: Stars = None,
    ) -> ReviewPage:
        """A page of the product's published reviews. newest: latest first; rating / rating_asc: most / fewest
        stars first; helpful: most helpful first (ties: latest first)."""
        try:
            found = await product_reviews(sku, page=page, per_page=per_page, sort=sort, stars=rating)
        except UnknownProduct:
            raise _unknown(sku) from None
        return review_page(found, lambda file: str(request.url_for("reviews:photo", file=file)))

    @get("/{sku:str}/rating", name="reviews:api-rating", operation_id="GetProductRating")
    async def rating(self, sku: FromPath[str]) -> RatingOut:
        """The product's published reviews counted by stars, with their average."""
        try:
            rating = await product_rating(sku)
        except UnknownProduct:
            raise _unknown(sku) from None
        key = (sku, rating.version)
        answer = _ratings.get(key)
        if answer is None:
            answer = rating_out(rating)
            _ratings.put(key, answer)
        return answer
