"""The team inbox: feedback routed to the signed-in person's teams (everything, triage included, for managers)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from accounts.services import Staff
from afterglow.web import page
from feedback.services.inbox import visible_item, visible_items

StaffRequest = Request[Staff, Any, Any]


class InboxController(Controller):
    path = "/app"
    include_in_schema = False

    @get("/", name="staff:home")
    async def home(self) -> Redirect:
        return Redirect(path="/app/inbox", status_code=303)

    @get("/inbox", name="feedback:inbox")
    async def inbox(self, request: StaffRequest) -> Template:
        items = await visible_items(request.user)
        return page("feedback/pages/inbox.html", "en", user=request.user, items=items)

    @get("/inbox/{item_id:int}", name="feedback:item")
    async def item(self, request: StaffRequest, item_id: FromPath[int]) -> Template:
        row = await visible_item(request.user, item_id)
        if row is None:
            raise NotFoundException(detail="no such feedback in your inboxes")
        return page("feedback/pages/item.html", "en", user=request.user, item=row)
