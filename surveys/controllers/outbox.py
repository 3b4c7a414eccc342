"""The dev outbox: every email the embedded default "sent", as a page and as JSON."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, get
from litestar.response import Template

from afterglow.web import page
from surveys.services.emails import outbox


class DevOutboxController(Controller):
    """Every email the embedded default "sent". Registered only when no SMTP server is configured."""

    path = "/dev"
    include_in_schema = False

    @get("/outbox", name="dev:outbox")
    async def page(self) -> Template:
        return page("dev/outbox.html", "en", messages=await outbox())

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
