"""Moderating product reviews: the held queue and the other statuses, approve, reject with a reason, reply.

Plain forms that redirect back (303) to the tab they came from; with htmx a decision swaps the review's card for
a short note (the review has left the tab) and refreshes the tab counts out of band, and a reply swaps the card.
Refused input comes back as the card with the message and everything typed kept (400)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import File, Redirect, Template

from accounts.auth import require_roles, signed_in
from afterglow.numbers import whole_number
from afterglow.web import AppSettings, Form, Now, error_page, form_field
from reviews.controllers.media import Size, photo_file
from reviews.services import moderation
from reviews.services.moderation import InvalidModeration, NotModeratable, UnknownReview
from reviews.services.photos import any_photo
from reviews.tasks import queue_rejection_email

LIST_PAGE = "reviews/pages/list.html"
CARD = "reviews/partials/review_card.html"
DECIDED = "reviews/partials/review_decided.html"
#: What the list says after a plain form's redirect (`?done=`); codes, so a link cannot make the page say anything.
DONE = {
    "approved": "Approved: the review is published.",
    "rejected": "Rejected: the customer gets an email with your reason.",
    "rejected-unsent": "Rejected. The email to the customer could not be queued now; it goes out within minutes.",
    "rejected-imported": "Rejected. It was imported from another tool, so nobody is emailed.",
    "reply-saved": "Reply saved.",
    "reply-removed": "Reply removed.",
}


def _where_from(data: dict[str, Any]) -> tuple[str, int]:
    """The tab and page the form was on, so a plain post lands back there."""
    tab = form_field(data, "tab")
    page = form_field(data, "page")
    return (tab if tab in moderation.STATUSES else "held"), (whole_number(page) or 1)


def _rejection_reason(data: dict[str, Any]) -> str:
    """A common reason picked from the list, the moderator's own words, or both (the common one first)."""
    parts = (form_field(data, "preset").strip(), form_field(data, "reason").strip())
    return "\n\n".join(part for part in parts if part)


def _context(request: HTMXRequest, **context: Any) -> dict[str, Any]:
    return {
        "language": "en",
        "user": request.user,
        "rule_label": moderation.rule_label,
        "presets": moderation.PRESET_REASONS,
        "reason_max": moderation.REASON_MAX,
        "reply_max": moderation.REPLY_MAX,
        "typed": {},
        **context,
    }


class ReviewsController(Controller):
    path = "/app/reviews"
    guards = [require_roles("admin", "manager")]
    include_in_schema = False

    @get("/", name="reviews:staff-list")
    async def reviews(
        self,
        request: HTMXRequest,
        status: FromQuery[str] = "held",
        page: FromQuery[int] = 1,
        done: FromQuery[str | None] = None,
    ) -> Template:
        """Held (the queue, by default), published or rejected reviews, a page at a time."""
        tab = status if status in moderation.STATUSES else "held"
        found = await moderation.held_queue(tab, page)
        return Template(
            template_name=LIST_PAGE,
            context=_context(
                request,
                tab=tab,
                found=found,
                page=found.page,
                counts=await moderation.status_counts(),
                done=DONE.get(done or ""),
            ),
        )

    @get("/photos/{file:str}", name="reviews:staff-photo")
    async def photo(self, file: FromPath[str], settings: AppSettings, size: FromQuery[Size] = "full") -> File:
        """Any review's photo, whatever its state: moderators must see what they decide on."""
        row = await any_photo(file)
        if row is None:
            raise NotFoundException("photo not found")
        return photo_file(row, settings, cache="private, max-age=3600", size=size)

    @post("/{review_id:int}/approve", name="reviews:staff-approve", status_code=303)
    async def approve(
        self, request: HTMXRequest, review_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        try:
            row = await moderation.approve(review_id, signed_in(request), now)
        except UnknownReview:
            return error_page(request, 404, "Not found", "There is no such review.")
        except NotModeratable as exc:
            return await self._refused(request, data, review_id, exc.message)
        return await self._decided(request, data, row, "approved")

    @post("/{review_id:int}/reject", name="reviews:staff-reject", status_code=303)
    async def reject(
        self, request: HTMXRequest, review_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        """Reject with a reason the customer reads; the email goes out through the task queue."""
        try:
            row = await moderation.reject(review_id, _rejection_reason(data), signed_in(request), now)
        except UnknownReview:
            return error_page(request, 404, "Not found", "There is no such review.")
        except (InvalidModeration, NotModeratable) as exc:
            return await self._refused(request, data, review_id, exc.message)
        if row["source"]:
            return await self._decided(request, data, row, "rejected-imported")
        queued = await queue_rejection_email(review_id, now)
        return await self._decided(request, data, row, "rejected" if queued else "rejected-unsent")

    @post("/{review_id:int}/reply", name="reviews:staff-reply", status_code=303)
    async def reply(
        self, request: HTMXRequest, review_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        """Write, edit or (sent empty) remove the shop's public reply."""
        try:
            row = await moderation.set_reply(review_id, form_field(data, "reply"), signed_in(request), now)
        except UnknownReview:
            return error_page(request, 404, "Not found", "There is no such review.")
        except InvalidModeration as exc:
            return await self._refused(request, data, review_id, exc.message)
        done = "reply-saved" if row["reply_text"] else "reply-removed"
        tab, page = _where_from(data)
        if not request.htmx:
            return self._back(request, tab, page, done)
        return Template(template_name=CARD, context=_context(request, r=row, tab=tab, page=page, notice=DONE[done]))

    # Responses -------------------------------------------------------------------------------------------------

    def _back(self, request: HTMXRequest, tab: str, page: int, done: str) -> Redirect:
        path = request.app.route_reverse("reviews:staff-list")
        return Redirect(path=path, query_params={"status": tab, "page": str(page), "done": done}, status_code=303)

    async def _decided(
        self, request: HTMXRequest, data: dict[str, Any], row: dict[str, Any], done: str
    ) -> Template | Redirect:
        """The review changed status, so it has left the tab it was shown in."""
        tab, page = _where_from(data)
        if not request.htmx:
            return self._back(request, tab, page, done)
        counts = await moderation.status_counts()
        return Template(
            template_name=DECIDED,
            context=_context(request, r=row, tab=tab, counts=counts, message=DONE[done], oob=True),
        )

    async def _refused(
        self, request: HTMXRequest, data: dict[str, Any], review_id: int, message: str
    ) -> Template | Response[Any]:
        """The card again with the message and what was typed; a plain post gets it on a page of its own."""
        try:
            row = await moderation.review_card(review_id)
        except UnknownReview:
            return error_page(request, 404, "Not found", "There is no such review.")
        tab, page = _where_from(data)
        typed = {name: form_field(data, name) for name in ("preset", "reason", "reply") if name in data}
        card = {"r": row, "tab": tab, "page": page, "error": message, "typed": typed}
        if request.htmx:
            return Template(template_name=CARD, context=_context(request, **card), status_code=400)
        context = _context(request, **card, counts=await moderation.status_counts(), single=True)
        return Template(template_name=LIST_PAGE, context=context, status_code=400)
