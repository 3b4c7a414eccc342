"""The admin pages: staff users, teams, API keys, the audit log and customers' privacy requests.

Plain forms that redirect back (303) with a message in `?done=` or `?error=`; the user and API key rows also
answer htmx by swapping just the row. Secrets (a new password, a new key) are rendered once and never stored."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any

from kombu.exceptions import OperationalError
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts import management
from accounts.auth import require_roles, signed_in
from accounts.privacy import UnknownCustomer, erase_customer, export_customer, subject_of
from accounts.services import AccountError, audit
from accounts.tables import ROLES
from afterglow import failures
from afterglow.celery_app import celery_app
from afterglow.mail import MailNotSent, MailUncertain
from afterglow.web import NO_STORE, AppSettings, Form, Now, error_page, form_field
from surveys.services.emails import interrupted_handovers, settle_handover

Flash = FromQuery[str | None]
PAGES = "accounts/pages/"


def _field(data: dict[str, Any], name: str) -> str:
    return form_field(data, name).strip()


def _fields(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name, [])
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]


def _page(template: str, request: HTMXRequest, status_code: int = 200, **context: Any) -> Template:
    headers = NO_STORE if context.pop("secret", False) else None
    flash = {"done": context.pop("done", None), "error": context.pop("error", None)}
    return Template(
        template_name=PAGES + template,
        context={"language": "en", "user": request.user, **flash, **context},
        status_code=status_code,
        headers=headers,
    )


def _back(request: HTMXRequest, route: str, *, done: str = "", error: str = "") -> Redirect:
    params = {"error": error[:200]} if error else {"done": done[:200]}
    return Redirect(path=request.app.route_reverse(route), query_params=params, status_code=303)


class AdminController(Controller):
    path = "/app/admin"
    guards = [require_roles("admin")]
    include_in_schema = False

    @get("/", name="accounts:admin")
    async def home(self, request: HTMXRequest) -> Redirect:
        return Redirect(path=request.app.route_reverse("accounts:admin-users"), status_code=303)

    # Users ---------------------------------------------------------------------------------------------------

    @get("/users", name="accounts:admin-users")
    async def users(self, request: HTMXRequest, done: Flash = None, error: Flash = None) -> Template:
        return await self._users_page(request, done=done, error=error)

    async def _users_page(self, request: HTMXRequest, status_code: int = 200, **context: Any) -> Template:
        context.setdefault("form", {"username": "", "email": "", "role": "member", "teams": []})
        return _page(
            "admin_users.html",
            request,
            status_code,
            tab="users",
            users=await management.staff_list(),
            teams=await management.team_list(),
            roles=ROLES,
            **context,
        )

    @post("/users", name="accounts:admin-invite", status_code=200)
    async def invite(self, request: HTMXRequest, data: Form, now: Now) -> Template:
        """Create the user and show their one-time password on this response only (never redirected to)."""
        form = {
            "username": _field(data, "username"),
            "email": _field(data, "email"),
            "role": _field(data, "role"),
            "teams": _fields(data, "teams"),
        }
        try:
            invited = await management.invite_staff(signed_in(request), now=now, **form)
        except AccountError as exc:
            return await self._users_page(request, 400, form=form, error=str(exc))
        return _page("admin_user_created.html", request, tab="users", invited=invited, email=form["email"], secret=True)

    async def _user_changed(
        self, request: HTMXRequest, user_id: int, done: str = "", error: str = ""
    ) -> Template | Redirect | Response[Any]:
        """htmx: the user's row again (with the message swapped in out of band); otherwise back to the list."""
        if not request.htmx:
            return _back(request, "accounts:admin-users", done=done, error=error)
        try:
            row = await management.one_staff(user_id)
        except management.UnknownStaff:
            return error_page(request, 404, "Not found", "There is no such staff user.")
        return Template(
            template_name="accounts/partials/admin_user_row.html",
            context={
                "u": row,
                "user": request.user,
                "teams": await management.team_list(),
                "roles": ROLES,
                "done": done,
                "error": error,
                "oob": True,
            },
        )

    async def _change(
        self, request: HTMXRequest, user_id: int, change: Awaitable[None], done: str
    ) -> Template | Redirect | Response[Any]:
        try:
            await change
        except management.UnknownStaff:
            return error_page(request, 404, "Not found", "There is no such staff user.")
        except AccountError as exc:
            return await self._user_changed(request, user_id, error=str(exc))
        return await self._user_changed(request, user_id, done=done)

    @post("/users/{user_id:int}/active", name="accounts:admin-active", status_code=303)
    async def set_active(
        self, request: HTMXRequest, user_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        active = _field(data, "active") == "1"
        change = management.change_active(signed_in(request), user_id, active, now)
        return await self._change(request, user_id, change, "User reactivated." if active else "User deactivated.")

    @post("/users/{user_id:int}/role", name="accounts:admin-role", status_code=303)
    async def set_role(
        self, request: HTMXRequest, user_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        role = _field(data, "role")
        change = management.change_role(signed_in(request), user_id, role, now)
        return await self._change(request, user_id, change, f"Role changed to {role}.")

    @post("/users/{user_id:int}/teams", name="accounts:admin-membership", status_code=303)
    async def set_membership(
        self, request: HTMXRequest, user_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        team, member = _field(data, "team"), _field(data, "member") == "1"
        change = management.change_membership(signed_in(request), user_id, team, member, now)
        done = f"Added to {team}." if member else f"Removed from {team}."
        return await self._change(request, user_id, change, done)

    # Teams ---------------------------------------------------------------------------------------------------

    @get("/teams", name="accounts:admin-teams")
    async def teams(self, request: HTMXRequest, done: Flash = None, error: Flash = None) -> Template:
        return _page(
            "admin_teams.html", request, tab="teams", teams=await management.team_list(), done=done, error=error
        )

    @post("/teams", name="accounts:admin-team-create", status_code=303)
    async def create_team(self, request: HTMXRequest, data: Form, now: Now) -> Redirect:
        name = _field(data, "name")
        try:
            await management.new_team(signed_in(request), name, now)
        except AccountError as exc:
            return _back(request, "accounts:admin-teams", error=str(exc))
        return _back(request, "accounts:admin-teams", done=f"Team {name} created.")

    # API keys ------------------------------------------------------------------------------------------------

    @get("/api-keys", name="accounts:admin-keys")
    async def api_keys(self, request: HTMXRequest, done: Flash = None, error: Flash = None) -> Template:
        keys = await management.api_key_list()
        return _page("admin_api_keys.html", request, tab="keys", keys=keys, done=done, error=error)

    @post("/api-keys", name="accounts:admin-key-create", status_code=200)
    async def create_api_key(self, request: HTMXRequest, data: Form, now: Now) -> Template | Redirect:
        """Issue a key and show it on this response only."""
        try:
            key_id, key = await management.new_api_key(signed_in(request), _field(data, "name"), now)
        except AccountError as exc:
            return _back(request, "accounts:admin-keys", error=str(exc))
        row = (await management.api_key_list(key_id))[0]
        return _page("admin_api_key_created.html", request, tab="keys", key=key, row=row, secret=True)

    @post("/api-keys/{key_id:int}/revoke", name="accounts:admin-key-revoke", status_code=303)
    async def revoke_api_key(
        self, request: HTMXRequest, key_id: FromPath[int], now: Now
    ) -> Template | Redirect | Response[Any]:
        try:
            await management.end_api_key(signed_in(request), key_id, now)
        except management.UnknownApiKey:
            return error_page(request, 404, "Not found", "There is no such API key.")
        if not request.htmx:
            return _back(request, "accounts:admin-keys", done="API key revoked.")
        row = (await management.api_key_list(key_id))[0]
        return Template(template_name="accounts/partials/admin_api_key_row.html", context={"key": row})

    # Audit log -----------------------------------------------------------------------------------------------

    @get("/audit", name="accounts:admin-audit")
    async def audit_log(self, request: HTMXRequest, page: FromQuery[int] = 1) -> Template:
        events, pages = await management.audit_page(page)
        current = min(max(1, page), pages)
        return _page("admin_audit.html", request, tab="audit", events=events, page=current, pages=pages)

    # Background tasks ----------------------------------------------------------------------------------------

    @get("/tasks", name="accounts:admin-tasks")
    async def tasks(self, request: HTMXRequest, now: Now, done: Flash = None, error: Flash = None) -> Template:
        """Tasks that gave up after their retries (dead letters), tasks retrying now, and emails whose handover
        to SMTP was interrupted."""
        rows = await failures.failures()
        handovers = await interrupted_handovers(now)
        return _page(
            "admin_tasks.html", request, tab="tasks", failures=rows, handovers=handovers, done=done, error=error
        )

    @post("/tasks/{failure_id:int}/retry", name="accounts:admin-task-retry", status_code=303)
    async def retry_task(self, request: HTMXRequest, failure_id: FromPath[int], now: Now) -> Redirect:
        """Send a dead letter's task again; every task is safe to run twice."""

        def publish(name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
            celery_app.send_task(name, args=args, kwargs=kwargs, retry=False)

        actor = signed_in(request)
        try:
            name = await failures.requeue(failure_id, publish, actor.username, now)
        except failures.UnknownFailure:
            return _back(request, "accounts:admin-tasks", error="That task was sent again already.")
        except (OperationalError, OSError):
            return _back(request, "accounts:admin-tasks", error="The task queue cannot be reached; try again later.")
        await audit(actor, "task.requeued", f"task-failure:{failure_id}", now, task=name)
        return _back(request, "accounts:admin-tasks", done=f"{name} sent again.")

    @post("/tasks/emails/{sent_email_id:int}", name="accounts:admin-handover", status_code=303)
    async def settle(
        self, request: HTMXRequest, sent_email_id: FromPath[int], data: Form, now: Now, settings: AppSettings
    ) -> Redirect:
        """Decide on an interrupted handover: send it again, or mark it sent (after checking the mail provider)."""
        resend = _field(data, "decision") == "resend"
        try:
            settled = await settle_handover(sent_email_id, resend, settings)
        except (MailNotSent, MailUncertain) as exc:
            return _back(request, "accounts:admin-tasks", error=f"Not sent: {exc}")
        if not settled:
            return _back(request, "accounts:admin-tasks", error="That email was settled already.")
        await audit(signed_in(request), "email.handover_settled", f"sent-email:{sent_email_id}", now, resent=resend)
        return _back(request, "accounts:admin-tasks", done="Email sent again." if resend else "Email marked as sent.")

    # Privacy -------------------------------------------------------------------------------------------------

    @get("/privacy", name="accounts:admin-privacy")
    async def privacy(self, request: HTMXRequest, done: Flash = None) -> Template:
        return _page("admin_privacy.html", request, tab="privacy", email="", done=done)

    def _unknown(self, request: HTMXRequest, email: str) -> Template:
        message = "Nothing is held under this email address (an erased customer keeps only a placeholder)."
        return _page("admin_privacy.html", request, 404, tab="privacy", email=email, error=message)

    @post("/privacy/export", name="accounts:admin-export", status_code=200)
    async def export(self, request: HTMXRequest, data: Form, now: Now) -> Response[bytes] | Template:
        """Everything held under one email address (a customer's, or a suggestion box user's), as a JSON download."""
        email = _field(data, "email")
        try:
            subject = await subject_of(email)
            held = await export_customer(email)
        except UnknownCustomer:
            return self._unknown(request, email)
        # The audit log names the person by ids only: an email there would outlive an erasure.
        await audit(signed_in(request), "customer_exported", subject, now)
        body = json.dumps({"exported_at": now.isoformat(), **held}, indent=2, ensure_ascii=False)
        disposition = f'attachment; filename="afterglow-{subject.replace(":", "-").replace(",", "-")}.json"'
        return Response(
            body.encode(),
            media_type="application/json",
            headers={"Content-Disposition": disposition, **NO_STORE},
        )

    @post("/privacy/erase", name="accounts:admin-erase", status_code=200)
    async def erase_confirm(self, request: HTMXRequest, data: Form) -> Template:
        """The confirm step: who would be erased, and what of theirs."""
        email = _field(data, "email")
        try:
            held = await export_customer(email)
        except UnknownCustomer:
            return self._unknown(request, email)
        return _page("admin_privacy_confirm.html", request, tab="privacy", email=email, held=held, secret=True)

    @post("/privacy/erase/confirm", name="accounts:admin-erase-confirm", status_code=303)
    async def erase(self, request: HTMXRequest, data: Form, now: Now) -> Redirect | Template:
        email = _field(data, "email")
        if _field(data, "confirm") != "yes":
            return _back(request, "accounts:admin-privacy", done="Nothing was erased.")
        try:
            subject = await subject_of(email)
            counts = await erase_customer(email, now)
        except UnknownCustomer:
            return self._unknown(request, email)
        await audit(signed_in(request), "customer_erased", subject, now, **counts)
        summary = ", ".join(f"{name.replace('_', ' ')}: {n}" for name, n in counts.items() if name != "customer")
        kind, _, ids = subject.partition(":")
        who = f"Customer #{ids}" if kind == "customer" else "The sender of suggestion #" + ids.replace(",", ", #")
        return _back(request, "accounts:admin-privacy", done=f"{who} erased ({summary}).")
