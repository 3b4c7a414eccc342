"""Background tasks in the admin frame: dead letters to send again, and emails whose handover to SMTP was
interrupted, to send again or mark sent."""

from __future__ import annotations

from kombu.exceptions import OperationalError
from litestar import Controller, get, post
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from accounts.controllers.admin import Flash, admin_page, back, field
from afterglow import failures
from afterglow.mail import MailNotSent, MailUncertain
from afterglow.web import AppSettings, Form, Now
from operations.services.admin_actions import requeue_task, settle_email
from surveys.services.emails import interrupted_handovers


class BackgroundTasksController(Controller):
    path = "/app/admin/tasks"
    guards = [require_roles("admin")]
    include_in_schema = False

    @get("/", name="operations:tasks")
    async def tasks(self, request: HTMXRequest, now: Now, done: Flash = None, error: Flash = None) -> Template:
        """Tasks that gave up after their retries (dead letters), tasks retrying now, and emails whose handover
        to SMTP was interrupted."""
        rows = await failures.failures()
        handovers = await interrupted_handovers(now)
        return admin_page(
            "operations/pages/tasks.html",
            request,
            tab="tasks",
            failures=rows,
            handovers=handovers,
            done=done,
            error=error,
        )

    @post("/{failure_id:int}/retry", name="operations:task-retry", status_code=303)
    async def retry_task(self, request: HTMXRequest, failure_id: FromPath[int], now: Now) -> Redirect:
        """Send a dead letter's task again; every task is safe to run twice."""
        try:
            name = await requeue_task(signed_in(request), failure_id, now)
        except failures.UnknownFailure:
            return back(request, "operations:tasks", error="That task was sent again already.")
        except (OperationalError, OSError):
            return back(request, "operations:tasks", error="The task queue cannot be reached; try again later.")
        return back(request, "operations:tasks", done=f"{name} sent again.")

    @post("/emails/{sent_email_id:int}", name="operations:handover", status_code=303)
    async def settle(
        self, request: HTMXRequest, sent_email_id: FromPath[int], data: Form, now: Now, settings: AppSettings
    ) -> Redirect:
        """Decide on an interrupted handover: send it again, or mark it sent (after checking the mail provider)."""
        resend = field(data, "decision") == "resend"
        try:
            settled = await settle_email(signed_in(request), sent_email_id, resend, settings, now)
        except (MailNotSent, MailUncertain) as exc:
            return back(request, "operations:tasks", error=f"Not sent: {exc}")
        if not settled:
            return back(request, "operations:tasks", error="That email was settled already.")
        return back(request, "operations:tasks", done="Email sent again." if resend else "Email marked as sent.")
