"""The inbound-email webhook: a customer's emailed answer, as the raw message, attached to its thread.

`POST /webhooks/inbound-email` with `Content-Type: message/rfc822` and
`Authorization: Bearer <AFTERGLOW_INBOUND_SECRET>` (401 without it, and always while no secret is set).
201 when attached; 200 for a message attached before (a second delivery) or ignored (an auto-reply or a bounce);
404 when no thread matches; 422 when there is no answer to attach. Errors are JSON:
`{"status_code": ..., "detail": "..."}`. See docs/replies.md."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Controller, Request, Response, post
from litestar.exceptions import HTTPException, NotAuthorizedException
from litestar.params import FromQuery

from afterglow.ratelimit import WEBHOOK_LIMITS
from afterglow.web import AppSettings, Now
from feedback.services.inbound import InboundRefused, receive_email

#: Emails with attachments can be large; only their text is kept.
MAX_MESSAGE_BYTES = 25_000_000
MEDIA_TYPE = "message/rfc822"


def _authorised(request: Request[Any, Any, Any], secret: str) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return bool(secret) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), secret.encode())


class InboundEmailController(Controller):
    path = "/webhooks/inbound-email"
    middleware = WEBHOOK_LIMITS
    tags = ["webhooks"]

    @post("/", name="feedback:inbound-email", status_code=201, request_max_body_size=MAX_MESSAGE_BYTES)
    async def receive(
        self, request: Request[Any, Any, Any], now: Now, settings: AppSettings, recipient: FromQuery[str | None] = None
    ) -> Response[Any]:
        """Attach a customer's emailed answer (the raw RFC 822 message) to the conversation it answers;
        `?recipient=` is the envelope recipient, when the sender of the webhook knows it."""
        if not _authorised(request, settings.inbound_secret):
            raise NotAuthorizedException(
                detail="a valid inbound secret is required: Authorization: Bearer <AFTERGLOW_INBOUND_SECRET>"
            )
        if request.content_type[0] != MEDIA_TYPE:
            raise HTTPException(status_code=415, detail=f"send the raw email with Content-Type: {MEDIA_TYPE}")
        try:
            received = await receive_email(await request.body(), now, recipient=recipient)
        except InboundRefused as exc:
            raise HTTPException(status_code=exc.status, detail=exc.message) from exc
        status = 201 if received.outcome == "attached" else 200
        return Response(received.as_dict(), status_code=status)
