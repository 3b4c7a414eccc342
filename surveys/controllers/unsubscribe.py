"""Unsubscribing from surveys through the signed link in every email (`/u/{signed}`)."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.response import Template

from afterglow.ratelimit import LINK_LIMITS
from afterglow.web import AppSettings, Now, page
from surveys.controllers.links import LINK_ERRORS
from surveys.services.answers import unsubscribe, unsubscribe_language


class UnsubscribeController(Controller):
    """`/u/{signed}`: GET asks to confirm (scanners follow links); POST unsubscribes, also as RFC 8058 one-click."""

    path = "/u/{signed:str}"
    exception_handlers = LINK_ERRORS
    middleware = LINK_LIMITS
    include_in_schema = False

    @get("/", name="surveys:unsubscribe")
    async def confirm(self, signed: FromPath[str], settings: AppSettings) -> Template:
        language = await unsubscribe_language(signed, settings)
        return page("surveys/pages/unsubscribe.html", language, signed=signed, done=False)

    @post("/", name="surveys:unsubscribe-post", status_code=200)
    async def unsubscribe(self, signed: FromPath[str], now: Now, settings: AppSettings) -> Template:
        language = await unsubscribe(signed, now, settings)
        return page("surveys/pages/unsubscribe.html", language, signed=signed, done=True)
