"""Staff page for product reviews (moderation arrives with the reviews capability)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from accounts.auth import require_roles
from accounts.services import Staff
from afterglow.web import page
from reviews.tables import Review


class ReviewsController(Controller):
    path = "/app/reviews"
    guards = [require_roles("admin", "manager")]
    include_in_schema = False

    @get("/", name="reviews:staff-list")
    async def reviews(self, request: Request[Staff, Any, Any]) -> Template:
        rows = await Review.select().order_by(Review.id, ascending=False).limit(100)
        return page("reviews/pages/list.html", "en", user=request.user, reviews=rows)
