"""What every entry point over HTTP shares: injected settings and clock, error pages, security headers."""

from __future__ import annotations

from datetime import UTC, datetime

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.response import Template

from afterglow import i18n
from afterglow.settings import Settings
from afterglow.templating import render

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

#: Injected into handlers by name (see app.py); tests move the clock with time-machine.
AppSettings = NamedDependency[Settings]
Now = NamedDependency[datetime]


def now() -> datetime:
    return datetime.now(UTC)


def settings_of(connection: ASGIConnection) -> Settings:
    return connection.app.state.settings  # type: ignore[no-any-return]


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


def page(template: str, language: str, status_code: int = 200, **context: object) -> Template:
    return Template(template_name=template, context={"language": language, **context}, status_code=status_code)
