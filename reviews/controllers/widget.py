"""The review widget: a product's published reviews as a small page for the shop's iframe, the server-side
snippet (stars, count and JSON-LD for the shop's own product page), and readers' "helpful" votes.

Readers of the widget have no account and the widget lives in other sites' frames, so a vote is tied to a random
voter id in a cookie (one vote per browser) and rate-limited per address.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode

from babel import Locale
from babel.dates import get_date_format
from babel.numbers import format_decimal
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import TooManyRequestsException, ValidationException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect

from afterglow import i18n
from afterglow.ratelimit import PUBLIC_LIMITS, VOTE_LIMITS, too_many_requests_page
from afterglow.settings import Settings
from afterglow.web import FRAME_OK, AppSettings, error_page, request_language
from afterglow.web import page as template_page
from reviews.controllers.api import PUBLIC_CACHE
from reviews.jsonld import product_jsonld
from reviews.services import versions
from reviews.services.catalogue import SORTS, Sort, UnknownProduct, product_rating, product_reviews
from reviews.services.votes import UnknownReview, vote_helpful, voter_key

PAGE_SIZE = 10
VOTER_COOKIE = "afterglow_voter"
VOTER_MAX_AGE = 365 * 24 * 3600
#: What `secrets.token_urlsafe(16)` makes (22 characters); anything else in the cookie is replaced.
_VOTER_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
#: The same URL answers htmx with the list only and browsers with the whole page; caches must keep both apart.
VARY = {"Vary": "HX-Request, Accept-Language"}

Page = Annotated[int, QueryParameter(ge=1)]
Stars = Annotated[int | None, QueryParameter(ge=1, le=5)]


def _language(request: Request[Any, Any, Any]) -> str:
    """`?lang=` when the shop chose one (limited to the languages we ship), else the browser's first choice."""
    chosen = request.query_params.get("lang")
    return i18n.language_for(chosen) if chosen else request_language(request)


def _lang_query(request: Request[Any, Any, Any]) -> dict[str, str]:
    """Keeps the shop's `?lang=` on every link the widget makes."""
    return {"lang": _language(request)} if request.query_params.get("lang") else {}


#: Rendered widget pages and snippets by what they are made of (see `reviews`): a change to what they show changes
#: the key. A page of ten reviews is at most about 60 kB.
_pages = versions.cache(256)


def _render(request: Request[Any, Any, Any], template: str, language: str, context: dict[str, Any]) -> bytes:
    """The template as `Template` would render it, as bytes that can be kept."""
    engine = request.app.template_engine
    assert engine is not None
    page = engine.get_template(template).render(**context, language=language, request=request)
    return page.encode()


def unknown_product(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    return error_page(
        request, 404, "Product not found", "There are no reviews for this product here.", _language(request)
    )


def unknown_review(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    return error_page(request, 404, "Review not found", "This review is not shown any more.", _language(request))


def bad_query(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    return error_page(
        request, 400, "This link does not work", "The link seems to be incomplete or changed.", _language(request)
    )


@lru_cache(maxsize=len(i18n.LANGUAGES))
def formatters(language: str) -> dict[str, Callable[[Any], str]]:
    """Dates and the average rating written the reader's way (Mar 8, 2026, 4.5 / 08.03.2026, 4,5); the locale
    data is looked up once per language, not once per review."""
    locale = Locale.parse(language)
    date_format = get_date_format("medium", locale=locale)
    return {
        "day": lambda value: date_format.apply(value.date(), locale) if isinstance(value, datetime) else "",
        "decimal": lambda value: format_decimal(value, "0.0", locale=locale),
    }


def stars_text(value: float) -> str:
    """★★★★☆ for 4.4 (whole stars: no inline styles may draw a part of one)."""
    filled = max(0, min(5, int(value + 0.5)))
    return "★" * filled + "☆" * (5 - filled)


def voter_cookie(voter: str, settings: Settings) -> Cookie:
    """In a shop's iframe we are a third party: browsers send only SameSite=None (and so Secure) cookies there.
    Plain-HTTP development keeps Lax, which browsers accept without HTTPS."""
    third_party = settings.production
    return Cookie(
        key=VOTER_COOKIE,
        value=voter,
        max_age=VOTER_MAX_AGE,
        httponly=True,
        secure=third_party,
        samesite="none" if third_party else "lax",
        path="/widget/",
    )


class ReviewWidgetController(Controller):
    path = "/widget"
    include_in_schema = False
    exception_handlers = {
        UnknownProduct: unknown_product,
        UnknownReview: unknown_review,
        ValidationException: bad_query,
        TooManyRequestsException: too_many_requests_page,
    }

    @get(
        "/products/{sku:str}",
        name="reviews:widget",
        opt={FRAME_OK: True},
        middleware=PUBLIC_LIMITS,
        cache_control=PUBLIC_CACHE,
    )
    async def reviews(
        self,
        request: HTMXRequest,
        sku: FromPath[str],
        settings: AppSettings,
        page: Page = 1,
        sort: FromQuery[Sort] = "newest",
        rating: Stars = None,
        voted: FromQuery[int | None] = None,
        again: FromQuery[bool] = False,
    ) -> Response[bytes]:
        """The widget page (for an iframe). htmx asks the same URL for the list alone: sorting, "More reviews"."""
        language = _language(request)
        found = await product_reviews(sku, page=page, per_page=PAGE_SIZE, sort=sort, stars=rating)
        lang_query = _lang_query(request)
        brand = request.state.brand  # kept by the settings dependency
        # Everything the page is made of: the reviews' state (versions), the request, and the settings it shows.
        key = (found.version, sku, page, sort, rating, bool(request.htmx), language, bool(lang_query))
        key += (settings.shop_name, brand.version)
        body = None if voted is not None else _pages.get(key)
        if body is None:
            context: dict[str, Any] = {
                "sku": sku,
                "rating": found.rating,
                "reviews": found,
                "sorts": SORTS,
                # Every link keeps the reader's sort, filter and language; `page` is added per link.
                "query": {
                    **({"sort": sort} if sort != "newest" else {}),
                    **({"rating": rating} if rating is not None else {}),
                    **lang_query,
                },
                "vote_state": ({voted: "again" if again else "thanks"} if voted is not None else {}),
                "shop_name": settings.shop_name,
                **formatters(language),
                "stars_text": stars_text,
            }
            if request.htmx:
                body = _render(request, "reviews/widget/list.html", language, context)
            else:
                jsonld = product_jsonld(found.rating, found.items)
                body = _render(request, "reviews/widget/page.html", language, {**context, "jsonld": jsonld})
            if voted is None:
                _pages.put(key, body)
        return Response(body, media_type=MediaType.HTML, headers=VARY)

    @get(
        "/products/{sku:str}/summary",
        name="reviews:widget-summary",
        middleware=PUBLIC_LIMITS,
        cache_control=PUBLIC_CACHE,
    )
    async def summary(
        self, request: Request[Any, Any, Any], sku: FromPath[str], settings: AppSettings
    ) -> Response[bytes]:
        """The snippet a shop's server fetches and puts into its product page: stars, count, link, JSON-LD."""
        language = _language(request)
        rating = await product_rating(sku)
        query = _lang_query(request)
        key = ("summary", rating.version, sku, language, bool(query), settings.base_url)
        body = _pages.get(key)
        if body is None:
            context = {
                "rating": rating,
                "widget_url": settings.base_url + request.app.route_reverse("reviews:widget", sku=sku),
                "query": query,
                # The snippet shows no reviews, so its markup carries the aggregate rating only.
                "jsonld": product_jsonld(rating),
                "stars_text": stars_text,
                **formatters(language),
            }
            body = _render(request, "reviews/widget/snippet.html", language, context)
            _pages.put(key, body)
        return Response(body, media_type=MediaType.HTML, headers={"Vary": "Accept-Language"})

    @post(
        "/reviews/{review_id:int}/helpful",
        name="reviews:helpful",
        opt={FRAME_OK: True},
        middleware=VOTE_LIMITS,
        status_code=200,
    )
    async def helpful(self, request: HTMXRequest, review_id: FromPath[int], settings: AppSettings) -> Response[Any]:
        """One "helpful" per browser. htmx swaps the button; without JavaScript the reader goes back to the page."""
        voter = request.cookies.get(VOTER_COOKIE, "")
        fresh = _VOTER_ID.fullmatch(voter) is None
        if fresh:
            voter = secrets.token_urlsafe(16)
        vote = await vote_helpful(review_id, voter_key(review_id, voter, settings.secret_key))
        cookies = [voter_cookie(voter, settings)] if fresh else []
        if request.htmx:
            response: Response[Any] = template_page(
                "reviews/widget/helpful.html",
                _language(request),
                review_id=review_id,
                helpful_count=vote.helpful_count,
                vote_state="thanks" if vote.counted else "again",
                query=_lang_query(request),
            )
        else:
            back = request.app.route_reverse("reviews:widget", sku=vote.sku)
            params = {"voted": review_id, **({} if vote.counted else {"again": 1}), **_lang_query(request)}
            response = Redirect(path=f"{back}?{urlencode(params)}#review-{review_id}", status_code=303)
        for cookie in cookies:
            response.set_cookie(cookie)
        return response
