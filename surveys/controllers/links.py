"""What a customer sees when a signed link fails: expired, unknown, incomplete, or used too often."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import TooManyRequestsException

from afterglow.ratelimit import too_many_requests_page
from afterglow.web import error_page
from surveys.services.answers import UnknownInvitation
from surveys.services.links import LinkExpired, LinkInvalid


def link_error(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    if isinstance(exc, LinkExpired):
        return error_page(
            request, 410, "This link has expired", "Thank you for coming back; this survey is closed now."
        )
    if isinstance(exc, UnknownInvitation):
        return error_page(request, 404, "Survey not found", "We could not find this survey. It may have been removed.")
    return error_page(
        request, 400, "This link does not work", "The link seems to be incomplete. Please open it again from the email."
    )


LINK_ERRORS: dict[type[Exception], Any] = {
    LinkInvalid: link_error,
    LinkExpired: link_error,
    UnknownInvitation: link_error,
    TooManyRequestsException: too_many_requests_page,
}
