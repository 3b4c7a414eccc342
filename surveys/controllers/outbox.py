"""The dev outbox: every email the embedded default "sent", as a page and as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from afterglow.web import page
from surveys.services.emails import outbox

#: An email's HTML: inline styles (as mail programs allow them) and images, no scripts, no forms, no frames.
EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src * data:; sandbox"


class DevOutboxController(Controller):
    """Every email the embedded default "sent". Registered only when no SMTP server is configured."""

    path = "/dev"
    include_in_schema = False

    @get("/outbox", name="dev:outbox")
    async def page(self) -> Template:
        return page("dev/outbox.html", "en", messages=await outbox())

    @get("/outbox/{email_id:int}/html", name="dev:outbox-html")
    async def as_html(self, email_id: FromPath[int]) -> Response[str]:
        """One email's HTML part as the customer's mail program shows it: its inline styles allowed, nothing run."""
        found = next((m for m in await outbox() if m["id"] == email_id), None)
        if found is None or not found["html"]:
            raise NotFoundException(detail="no such email in the outbox")
        return Response(found["html"], media_type="text/html", headers={"Content-Security-Policy": EMAIL_CSP})

    @get("/outbox.json", name="dev:outbox-json")
    async def as_json(self) -> list[dict[str, Any]]:
        return [
            {
                "to": m["to"],
                "subject": m["subject"],
                "text": m["text"],
                "html": m["html"],
                "headers": m["headers"],
                "sent_at": m["sent_at"].isoformat() if isinstance(m["sent_at"], datetime) else m["sent_at"],
                "purpose": m["purpose"],
            }
            for m in await outbox()
        ]
