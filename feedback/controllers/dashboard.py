"""The managers' dashboard."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.response import Template

from accounts.auth import require_roles
from accounts.services import Staff
from afterglow.web import page
from feedback.dashboard import headline

StaffRequest = Request[Staff, Any, Any]


class DashboardController(Controller):
    path = "/app/dashboard"
    guards = [require_roles("admin", "manager")]
    include_in_schema = False

    @get("/", name="feedback:dashboard")
    async def dashboard(self, request: StaffRequest) -> Template:
        return page("feedback/pages/dashboard.html", "en", user=request.user, figures=await headline())
