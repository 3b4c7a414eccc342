"""Customers' privacy requests in the admin frame: export everything held under an email address, or erase it
after a confirm step."""

from __future__ import annotations

import json

from litestar import Controller, Response, get, post
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from accounts.controllers.admin import Flash, admin_page, back, field
from afterglow.web import NO_STORE, Form, Now
from operations.services.admin_actions import erase_for, export_for
from operations.services.privacy import UnknownCustomer, export_customer

PAGE = "operations/pages/privacy.html"


class PrivacyController(Controller):
    path = "/app/admin/privacy"
    guards = [require_roles("admin")]
    include_in_schema = False

    @get("/", name="operations:privacy")
    async def privacy(self, request: HTMXRequest, done: Flash = None) -> Template:
        return admin_page(PAGE, request, tab="privacy", email="", done=done)

    def _unknown(self, request: HTMXRequest, email: str) -> Template:
        message = "Nothing is held under this email address (an erased customer keeps only a placeholder)."
        return admin_page(PAGE, request, 404, tab="privacy", email=email, error=message)

    @post("/export", name="operations:privacy-export", status_code=200)
    async def export(self, request: HTMXRequest, data: Form, now: Now) -> Response[bytes] | Template:
        """Everything held under one email address (a customer's, or a suggestion box user's), as a JSON download."""
        email = field(data, "email")
        try:
            subject, held = await export_for(signed_in(request), email, now)
        except UnknownCustomer:
            return self._unknown(request, email)
        body = json.dumps({"exported_at": now.isoformat(), **held}, indent=2, ensure_ascii=False)
        disposition = f'attachment; filename="afterglow-{subject.replace(":", "-").replace(",", "-")}.json"'
        return Response(
            body.encode(),
            media_type="application/json",
            headers={"Content-Disposition": disposition, **NO_STORE},
        )

    @post("/erase", name="operations:privacy-erase", status_code=200)
    async def erase_confirm(self, request: HTMXRequest, data: Form) -> Template:
        """The confirm step: who would be erased, and what of theirs."""
        email = field(data, "email")
        try:
            held = await export_customer(email)
        except UnknownCustomer:
            return self._unknown(request, email)
        return admin_page(
            "operations/pages/privacy_confirm.html", request, tab="privacy", email=email, held=held, secret=True
        )

    @post("/erase/confirm", name="operations:privacy-erase-confirm", status_code=303)
    async def erase(self, request: HTMXRequest, data: Form, now: Now) -> Redirect | Template:
        email = field(data, "email")
        if field(data, "confirm") != "yes":
            return back(request, "operations:privacy", done="Nothing was erased.")
        try:
            subject, counts = await erase_for(signed_in(request), email, now)
        except UnknownCustomer:
            return self._unknown(request, email)
        summary = ", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items() if name != "customer")
        kind, _, ids = subject.partition(":")
        who = f"Customer #{ids}" if kind == "customer" else "The sender of suggestion #" + ids.replace(",", ", #")
        return back(request, "operations:privacy", done=f"{who} erased ({summary}).")
