"""What every entry point over HTTP shares: injected settings and clock, error pages, security headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import MediaType, Request, Response
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Template
from litestar.types import Message, Scope

from afterglow import i18n
from afterglow.brand import Brand, brand_of
from afterglow.forms import form_field as form_field  # handlers import it from here
from afterglow.logs import REQUEST_ID
from afterglow.numbers import MAX_ROW_ID
from afterglow.overrides import WEB_MAX_AGE, effective_settings
from afterglow.settings import Settings
from afterglow.templating import RenderMemo, render

logger = logging.getLogger(__name__)

#: A URL-encoded form as Litestar parses it: a field sent more than once is a list.
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"Cache-Control": "no-store"}


#: No inline scripts or styles anywhere we serve (htmx is told not to inject its indicator styles). Images may
#: also come over https: the catalogue's product pictures live on the shop's own servers and CDNs.
FRAMABLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "form-action 'self'; base-uri 'none'; object-src 'none'"
)
CSP = f"{FRAMABLE_CSP}; frame-ancestors 'none'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
#: A route handler with `opt={FRAME_OK: True}` may be shown in other sites' frames (the future review widget).
FRAME_OK = "frame_ok"
FRAMABLE_HEADERS = {
    name: FRAMABLE_CSP if name == "Content-Security-Policy" else value
    for name, value in SECURITY_HEADERS.items()
    if name != "X-Frame-Options"
}


_ENCODED = {
    framable: [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    for framable, headers in ((False, SECURITY_HEADERS), (True, FRAMABLE_HEADERS))
}


async def security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: the headers go on every response, error pages, redirects and 404s included
    (an `after_request` hook never sees responses made from exceptions). A handler's own values win."""
    if message["type"] != "http.response.start":
        return
    handler = scope.get("route_handler")
    framable = handler is not None and bool((handler.opt or {}).get(FRAME_OK))
    headers = message.get("headers")
    if not isinstance(headers, list):
        headers = message["headers"] = list(headers or [])
    given = {name.lower() for name, _ in headers}
    headers.extend(header for header in _ENCODED[framable] if header[0] not in given)


class IdsInRange:
    """ASGI middleware on every route: an integer in a path is a row id, and one that no row can have (zero,
    negative, past the database integer) names nothing, so it is a 404 before the database is asked. (As a guard
    it cost a copy of the route handler per request.)"""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        for value in (scope.get("path_params") or {}).values():
            if isinstance(value, int) and not 0 < value <= MAX_ROW_ID:
                raise NotFoundException(detail="not found")
        await self.app(scope, receive, send)


#: Injected into handlers by name (see app.py); tests move the clock with time-machine.
AppSettings = NamedDependency[Settings]
Now = NamedDependency[datetime]


def now() -> datetime:
    return datetime.now(UTC)


def settings_provider(base: Settings) -> Any:
    """The `settings` dependency: the environment's settings with the browser's changes (read at most
    `WEB_MAX_AGE` seconds ago in this process), and the shop's brand kept on the request for the page templates
    (`current_brand()`)."""

    kept: list[tuple[Settings, Brand]] = []  # the brand of the settings last given

    async def provide(request: Request) -> Settings:
        settings = await effective_settings(base, max_age=WEB_MAX_AGE)
        if not kept or kept[0][0] is not settings:
            kept[:] = [(settings, brand_of(settings))]
        request.state.brand = kept[0][1]
        return settings

    return provide


def request_language(request: Request) -> str:
    """The reader's language when we have no customer record to ask: the browser's first choice."""
    header = request.headers.get("accept-language", "")
    return i18n.language_for(header.split(",")[0].split(";")[0].strip())


def error_page(request: Request, status: int, title: str, message: str, language: str | None = None) -> Response:
    language = language or request_language(request)
    html = render(
        "pages/error.html",
        language,
        title=i18n.translate(language, title),
        message=i18n.translate(language, message),
        status=status,
    )
    return Response(html, status_code=status, media_type="text/html")


def remembered_page(
    request: Request, memo: RenderMemo, template: str, language: str, **context: object
) -> Response[bytes]:
    """A page rendered through `memo` (see `RenderMemo`), with the shop's brand the `settings` dependency kept."""
    brand = request.scope.get("state", {}).get("brand")
    html = memo.render(template, {"language": language, "brand": brand, **context}, request)
    return Response(html, media_type=MediaType.HTML)


def page(
    template: str, language: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: object
) -> Template:
    return Template(
        template_name=template, context={"language": language, **context}, status_code=status_code, headers=headers
    )


RETRY_AFTER_SECONDS = "5"
#: Paths whose callers are programs: errors there are JSON, not pages.
MACHINE_PATHS = ("/api/", "/webhooks/")


def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database did not answer (restarting, a dropped connection). Nothing half-written is kept (writes run in
    transactions), so the caller is asked to send again: JSON for machines, a notice for htmx that leaves the form
    as it is, a page otherwise."""
    logger.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
    headers = {"Retry-After": RETRY_AFTER_SECONDS}
    if request.url.path.startswith(MACHINE_PATHS):
        detail = "the database is unavailable right now; nothing was stored, retry after Retry-After seconds"
        return Response({"status_code": 503, "detail": detail}, status_code=503, headers=headers)
    language = request_language(request)
    message = i18n.translate(language, "We could not save this just now, so nothing was stored. Please try again.")
    if request.headers.get("hx-request"):
        html = render("partials/try_again.html", language, message=message)
        return Response(
            html,
            status_code=503,
            media_type="text/html",
            headers={**headers, "HX-Retarget": "#notice", "HX-Reswap": "innerHTML"},
        )
    response = error_page(request, 503, "Please try again", message, language)
    response.headers.update(headers)
    return response


def server_error(request: Request, exc: Exception) -> Response:
    """What no handler expected (any 500): logged once with its traceback and request id, answered with JSON for
    machines and a page for people; neither says more than that something failed."""
    logger.exception(
        "unhandled %s during %s %s (request %s)",
        type(exc).__name__,
        request.method,
        request.url.path,
        REQUEST_ID.get(),
        exc_info=exc,
    )
    if request.url.path.startswith(MACHINE_PATHS):
        return Response({"status_code": 500, "detail": "Internal Server Error"}, status_code=500)
    return error_page(request, 500, "Something went wrong", "Something went wrong on our side. Please try again later.")
