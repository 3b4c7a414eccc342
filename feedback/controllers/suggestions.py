"""The open suggestion box: `/feedback` for everyone (no sign-in), and `/feedback/embed`, the same form in a compact
layout that shops may put in an iframe on their own site.

A plain form (works without JavaScript) that redirects to a thank-you page; with htmx the thank-you replaces the
form. A refused note comes back in the form with the message and everything typed (400; htmx 422; 429 when the
address sent too many). The language follows the browser."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from afterglow import i18n
from afterglow.ratelimit import PUBLIC_LIMITS, RATE_LIMIT_STORE, hit_per_address, too_many_requests_page
from afterglow.web import FRAME_OK, AppSettings, Form, Now, page, request_language
from feedback.services.suggestions import (
    PAGE_MAX,
    InvalidSuggestion,
    check_form_token,
    form_token,
    honeypot_filled,
    parse_suggestion,
    spend_form_token,
    submit_suggestion,
)

PAGE = "feedback/suggestion/page.html"
FORM = "feedback/suggestion/form.html"
THANKS = "feedback/suggestion/thanks.html"
#: A form carries a token with its issue time: never keep a copy in a cache. The language follows the browser.
HEADERS = {"Cache-Control": "no-store", "Vary": "Accept-Language, HX-Request"}
#: The route names each layout links to: its own form, where it sends, its thank-you page.
ROUTES = {
    False: {"form": "feedback:suggest", "send": "feedback:suggest-send", "thanks": "feedback:suggest-thanks"},
    True: {
        "form": "feedback:suggest-embed",
        "send": "feedback:suggest-embed-send",
        "thanks": "feedback:suggest-embed-thanks",
    },
}


def _typed(data: dict[str, Any]) -> dict[str, str]:
    return {name: str(data.get(name) or "") for name in ("text", "name", "email", "page")}


class SuggestionBoxController(Controller):
    path = "/feedback"
    include_in_schema = False
    exception_handlers = {TooManyRequestsException: too_many_requests_page}

    @get("/", name="feedback:suggest", middleware=PUBLIC_LIMITS)
    async def form(
        self, request: Request[Any, Any, Any], now: Now, settings: AppSettings, page: FromQuery[str | None] = None
    ) -> Template:
        """The suggestion box on a page of its own."""
        return self._form_page(request, now, settings, False, page)

    @get("/embed", name="feedback:suggest-embed", middleware=PUBLIC_LIMITS, opt={FRAME_OK: True})
    async def embed_form(
        self, request: Request[Any, Any, Any], now: Now, settings: AppSettings, page: FromQuery[str | None] = None
    ) -> Template:
        """The same form, compact, for the shop's iframe (`?page=` may name the shop's page it sits on)."""
        return self._form_page(request, now, settings, True, page)

    @post("/", name="feedback:suggest-send", status_code=303)
    async def send(self, request: HTMXRequest, data: Form, now: Now, settings: AppSettings) -> Template | Redirect:
        return await self._send(request, data, now, settings, False)

    @post("/embed", name="feedback:suggest-embed-send", status_code=303, opt={FRAME_OK: True})
    async def embed_send(
        self, request: HTMXRequest, data: Form, now: Now, settings: AppSettings
    ) -> Template | Redirect:
        return await self._send(request, data, now, settings, True)

    @get("/thanks", name="feedback:suggest-thanks", middleware=PUBLIC_LIMITS)
    async def thanks(self, request: Request[Any, Any, Any]) -> Template:
        return self._thanks(request, False, whole_page=True)

    @get("/embed/thanks", name="feedback:suggest-embed-thanks", middleware=PUBLIC_LIMITS, opt={FRAME_OK: True})
    async def embed_thanks(self, request: Request[Any, Any, Any]) -> Template:
        return self._thanks(request, True, whole_page=True)

    # Responses -------------------------------------------------------------------------------------------------

    def _form_page(
        self, request: Request[Any, Any, Any], now: Now, settings: AppSettings, embed: bool, at: str | None
    ) -> Template:
        # Where the form is shown: the shop's `?page=`, else what the browser says it came from.
        where = (at or request.headers.get("referer", ""))[:PAGE_MAX]
        typed = {"text": "", "name": "", "email": "", "page": where}
        return self._page(request, settings, now, embed, typed=typed)

    def _page(
        self,
        request: Request[Any, Any, Any],
        settings: AppSettings,
        now: Now,
        embed: bool,
        *,
        typed: dict[str, str],
        error: InvalidSuggestion | None = None,
        status_code: int = 200,
        whole_page: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Template:
        return page(
            PAGE if whole_page else FORM,
            request_language(request),
            status_code=status_code,
            headers={**HEADERS, **(headers or {})},
            routes=ROUTES[embed],
            embed=embed,
            token=form_token(settings.secret_key, now),
            typed=typed,
            error=error,
            max_chars=settings.suggestion_max_chars,
            sent=False,
        )

    def _thanks(self, request: Request[Any, Any, Any], embed: bool, *, whole_page: bool) -> Template:
        return page(
            PAGE if whole_page else THANKS,
            request_language(request),
            headers=HEADERS,
            routes=ROUTES[embed],
            embed=embed,
            sent=True,
        )

    async def _send(
        self, request: HTMXRequest, data: dict[str, Any], now: Now, settings: AppSettings, embed: bool
    ) -> Template | Redirect:
        """Rate limit, honeypot, form token, the note itself, then the token is spent (each form sends one note);
        every refusal keeps what was typed."""
        language = request_language(request)
        typed = _typed(data)
        whole_page = not request.htmx
        refused = await hit_per_address(request, "suggestion-address", settings.rate_suggestions_per_address, now=now)
        if refused is not None:
            message = "We received many requests at once. Please try again in a minute."
            error = InvalidSuggestion("rate", i18n.translate(language, message))
            return self._page(
                request,
                settings,
                now,
                embed,
                typed=typed,
                error=error,
                status_code=429,
                whole_page=whole_page,
                headers={"Retry-After": str(refused.seconds)},
            )
        if not honeypot_filled(data):
            try:
                token = str(data.get("token") or "")
                issued = check_form_token(settings.secret_key, token, now, language)
                given = parse_suggestion(data, language, settings.suggestion_max_chars)
                await spend_form_token(request.app.stores.get(RATE_LIMIT_STORE), token, issued, now, language)
            except InvalidSuggestion as exc:
                status = 400 if whole_page else 422
                return self._page(
                    request, settings, now, embed, typed=typed, error=exc, status_code=status, whole_page=whole_page
                )
            await submit_suggestion(given, language, now)
        # A filled honeypot (a bot) gets the same answer as a person, and nothing is stored.
        if whole_page:
            return Redirect(path=request.app.route_reverse(ROUTES[embed]["thanks"]), status_code=303)
        return self._thanks(request, embed, whole_page=False)
