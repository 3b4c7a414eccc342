"""What every entry point over HTTP shares: injected settings and clock, error pages, security headers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template
from litestar.types import Message, Scope

from afterglow import i18n
from afterglow.settings import Settings
from afterglow.templating import render

logger = logging.getLogger(__name__)

#: A URL-encoded form as Litestar parses it: a field sent more than once is a list.
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
NO_STORE = {"Cache-Control": "no-store"}


def form_field(data: dict[str, Any], name: str) -> str:
    """One form field as text: "" when missing, the last value when sent more than once."""
    value = data.get(name, "")
    return str(value[-1] if isinstance(value, list) else value)


#: No inline scripts or styles anywhere we serve (htmx is told not to inject its indicator styles).
FRAMABLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
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


async def security_headers(message: Message, scope: Scope) -> None:
    """A `before_send` hook: the headers go on every response, error pages, redirects and 404s included
    (an `after_request` hook never sees responses made from exceptions). A handler's own values win."""
    if message["type"] != "http.response.start":
        return
    handler = scope.get("route_handler")
    framable = handler is not None and bool((handler.opt or {}).get(FRAME_OK))
    message.setdefault("headers", [])
    headers = MutableScopeHeaders.from_message(message)
    for name, value in (FRAMABLE_HEADERS if framable else SECURITY_HEADERS).items():
        headers.setdefault(name, value)


#: Injected into handlers by name (see app.py); tests move the clock with time-machine.
AppSettings = NamedDependency[Settings]
Now = NamedDependency[datetime]


def now() -> datetime:
    return datetime.now(UTC)


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


def page(
    template: str, language: str, status_code: int = 200, headers: dict[str, str] | None = None, **context: object
) -> Template:
    return Template(
        template_name=template, context={"language": language, **context}, status_code=status_code, headers=headers
    )


RETRY_AFTER_SECONDS = "5"


def database_unavailable(request: Request, exc: Exception) -> Response:
    """The database did not answer (restarting, a dropped connection). Nothing half-written is kept (writes run in
    transactions), so the caller is asked to send again: JSON for machines, a notice for htmx that leaves the form
    as it is, a page otherwise."""
    logger.warning("database unavailable during %s %s: %s", request.method, request.url.path, exc, exc_info=exc)
    headers = {"Retry-After": RETRY_AFTER_SECONDS}
    if request.url.path.startswith(("/api/", "/webhooks/")):
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


#: Bodies whose text a NUL character could reach: PostgreSQL cannot store it, and no person types it.
_TEXT_BODIES = (b"application/x-www-form-urlencoded", b"application/json")


class RefuseNulCharacters:
    """Answers 400 to a form or JSON body carrying a NUL character (`%00`, `\\u0000`), before any handler stores
    text that PostgreSQL would refuse halfway. Multipart forms (photos are binary) clean their text fields instead."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        content_type = dict(scope.get("headers", [])).get(b"content-type", b"").split(b";")[0].strip().lower()
        if scope["type"] != "http" or content_type not in _TEXT_BODIES:
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        lowered = body.lower()
        if b"\x00" in body or b"%00" in lowered or b"\\u0000" in lowered:
            detail = b'{"status_code":400,"detail":"the request contains a NUL character, which cannot be stored"}'
            await send(
                {"type": "http.response.start", "status": 400, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": detail})
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}]), send)


def _replay(messages: list[Message]) -> Any:
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    return receive
