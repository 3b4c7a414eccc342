"""Customers writing reviews behind their survey link: `/s/{signed}/items/{item}` (the email links each item)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import File, Redirect, Template

from afterglow.ratelimit import LINK_LIMITS
from afterglow.web import AppSettings, Now, error_page, page
from reviews.controllers.media import Size, photo_file
from reviews.policy import parse_rating
from reviews.services.collect import (
    InvalidReview,
    ItemReview,
    UnknownItem,
    check_photo_count,
    check_photos,
    parse_review,
    reviewable_item,
    submit_review,
)
from reviews.services.photos import MAX_PHOTOS, any_photo
from surveys.controllers.links import LINK_ERRORS
from surveys.services.answers import invitation_for_link

MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
#: Three photos at the largest configurable default size, and the text fields.
MAX_UPLOAD = (MAX_PHOTOS + 1) * 10_000_000


def unknown_item(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    return error_page(request, 404, "Not found", "This item is not part of the order this survey is about.")


def _uploads(data: dict[str, Any]) -> list[UploadFile]:
    """The files chosen in the photo input; a browser sends one empty part when none was chosen."""
    given = data.get("photos") or []
    files = given if isinstance(given, list) else [given]
    return [f for f in files if isinstance(f, UploadFile) and f.filename]


def item_card(
    signed: str,
    item: ItemReview,
    language: str,
    *,
    whole_page: bool,
    error: InvalidReview | None = None,
    saved: bool = False,
) -> Template:
    template = "reviews/pages/item.html" if whole_page else "reviews/partials/item_review.html"
    status = (400 if whole_page else 422) if error else 200
    return page(template, language, status_code=status, signed=signed, item=item, error=error, saved=saved)


class ItemReviewController(Controller):
    """No sign-in: the signed survey link is the key, and the item must belong to its order."""

    path = "/s/{signed:str}/items"
    exception_handlers = {**LINK_ERRORS, UnknownItem: unknown_item}
    middleware = LINK_LIMITS
    include_in_schema = False

    @get("/{item_id:int}", name="reviews:item")
    async def show(
        self,
        signed: FromPath[str],
        item_id: FromPath[int],
        now: Now,
        settings: AppSettings,
        saved: FromQuery[bool] = False,
    ) -> Template:
        linked = await invitation_for_link(signed, now, settings)
        item = await reviewable_item(linked.id, item_id)
        return item_card(signed, item, linked.language, whole_page=True, saved=saved and item.review_id is not None)

    @post("/{item_id:int}", name="reviews:item-save", status_code=200, request_max_body_size=MAX_UPLOAD)
    async def save(
        self,
        request: HTMXRequest,
        signed: FromPath[str],
        item_id: FromPath[int],
        now: Now,
        settings: AppSettings,
        data: MultipartForm,
    ) -> Template | Redirect:
        """Save the review of one item. htmx swaps the item's card; a plain form post lands on the item's page.
        When something is refused, the card comes back with the message and everything typed kept."""
        linked = await invitation_for_link(signed, now, settings)
        item = await reviewable_item(linked.id, item_id)
        whole_page = not request.htmx
        try:
            given = parse_review(data, linked.language)
            files = _uploads(data)
            check_photo_count(item, given, len(files), linked.language)
            uploads = [(f.filename, await f.read()) for f in files]
            photos = await check_photos(uploads, settings, linked.language)
            item = await submit_review(linked.id, item, given, photos, now, settings, linked.language)
        except InvalidReview as exc:
            item.rating = parse_rating(str(data.get("rating") or "")) or item.rating
            item.title, item.text = str(data.get("title") or ""), str(data.get("text") or "")
            return item_card(signed, item, linked.language, whole_page=whole_page, error=exc)
        if whole_page:
            path = request.app.route_reverse("reviews:item", signed=signed, item_id=item_id)
            return Redirect(path=f"{path}?saved=1", status_code=303)
        return item_card(signed, item, linked.language, whole_page=False, saved=True)

    @get("/{item_id:int}/photos/{file:str}", name="reviews:own-photo")
    async def own_photo(
        self,
        signed: FromPath[str],
        item_id: FromPath[int],
        file: FromPath[str],
        now: Now,
        settings: AppSettings,
        size: FromQuery[Size] = "full",
    ) -> File:
        """The author sees their photos whatever the moderation state."""
        linked = await invitation_for_link(signed, now, settings)
        item = await reviewable_item(linked.id, item_id)
        row = await any_photo(file, item.review_id) if item.review_id is not None else None
        if row is None:
            raise NotFoundException("photo not found")
        return photo_file(row, settings, cache="private, max-age=3600", size=size)
