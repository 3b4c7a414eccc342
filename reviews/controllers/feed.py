"""Google's product reviews feed, which Merchant Center fetches to show the shop's stars in Google Shopping.

Public (Google signs in nowhere) and rate-limited per address like the other public reads. Every answer carries an
ETag; a fetch that sends it back in `If-None-Match` gets 304 and no body while nothing in the feed changed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.response import Stream

from afterglow.ratelimit import PUBLIC_LIMITS
from afterglow.settings import Settings
from afterglow.web import AppSettings
from reviews.services.google_feed import FeedSite, feed_chunks, feed_etag

#: Google fetches the feed once a day or so; a cache may keep it an hour, then ask again with the ETag.
FEED_CACHE = "public, max-age=3600"
MEDIA_TYPE = "application/xml; charset=utf-8"


def etag_matches(if_none_match: str, etag: str) -> bool:
    """`If-None-Match` names this ETag (compared weakly, as RFC 9110 says for GET) or is `*`."""
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def feed_site(request: Request[Any, Any, Any], settings: Settings) -> FeedSite:
    """Absolute addresses from the configured base URL (never from the request's Host header)."""
    base = settings.base_url.rstrip("/")
    reverse = request.app.route_reverse
    return FeedSite(
        publisher=settings.shop_name,
        base_url=base,
        product_page=lambda sku: base + reverse("reviews:widget", sku=quote(sku, safe="")),
        photo_url=lambda file_name: base + reverse("reviews:photo", file=file_name),
    )


class GoogleFeedController(Controller):
    path = "/feeds"
    middleware = PUBLIC_LIMITS
    include_in_schema = False

    @get("/google-product-reviews.xml", name="reviews:google-feed")
    async def google_product_reviews(
        self, request: Request[Any, Any, Any], settings: AppSettings
    ) -> Response[Any] | Stream:
        """Every published review with text, in Google's product reviews schema, streamed."""
        site = feed_site(request, settings)
        etag = await feed_etag(site)
        headers = {"ETag": etag, "Cache-Control": FEED_CACHE}
        if etag_matches(request.headers.get("if-none-match", ""), etag):
            return Response(content=None, status_code=304, headers=headers)
        return Stream(feed_chunks(site), media_type=MEDIA_TYPE, headers=headers)
