"""The admin pages: staff users, teams, API keys and the audit log (privacy requests and background tasks are
in `operations.controllers`, which share this page frame).

Plain forms that redirect back (303) with a message in `?done=` or `?error=`; the user and API key rows also
answer htmx by swapping just the row. Secrets (a new password, a new key) are rendered once and never stored."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts import management
from accounts.auth import require_roles, signed_in
from accounts.policy import ROLES
from accounts.services import AccountError
from afterglow.forms import form_values
from afterglow.i18n import LANGUAGE_NAMES
from afterglow.web import NO_STORE, Form, Now, error_page, form_field

Flash = FromQuery[str | None]
PAGES = "accounts/pages/"


def field(data: dict[str, Any], name: str) -> str:
    return form_field(data, name).strip()


def admin_page(template: str, request: HTMXRequest, status_code: int = 200, **context: Any) -> Template:
    """A page in the admin frame (`template` under templates/); `secret=True` keeps it out of every cache."""
    headers = NO_STORE if context.pop("secret", False) else None
    flash = {"done": context.pop("done", None), "error": context.pop("error", None)}
    return Template(
        template_name=template,
        context={"language": "en", "user": request.user, **flash, **context},
        status_code=status_code,
        headers=headers,
    )


def back(request: HTMXRequest, route: str, *, done: str = "", error: str = "") -> Redirect:
    """To the page named `route`, with `done` or `error` as the message."""
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
        context.setdefault("form", {"username": "", "email": "", "role": "member", "teams": [], "language": "en"})
        return admin_page(
            PAGES + "admin_users.html",
            request,
            status_code,
            tab="users",
            users=await management.staff_list(),
            teams=await management.team_list(),
            roles=ROLES,
            languages=LANGUAGE_NAMES,
            **context,
        )

    @post("/users", name="accounts:admin-invite", status_code=200)
    async def invite(self, request: HTMXRequest, data: Form, now: Now) -> Template:
        """Create the user and show their one-time password on this response only (never redirected to)."""
        form = {
            "username": field(data, "username"),
            "email": field(data, "email"),
            "role": field(data, "role"),
            "teams": form_values(data, "teams"),
            "language": field(data, "language") or "en",
        }
        try:
            invited = await management.invite_staff(signed_in(request), now=now, **form)
        except AccountError as exc:
            return await self._users_page(request, 400, form=form, error=str(exc))
        return admin_page(
            PAGES + "admin_user_created.html", request, tab="users", invited=invited, email=form["email"], secret=True
        )

    async def _user_changed(
        self, request: HTMXRequest, user_id: int, done: str = "", error: str = ""
    ) -> Template | Redirect | Response[Any]:
        """htmx: the user's row again (with the message swapped in out of band); otherwise back to the list."""
        if not request.htmx:
            return back(request, "accounts:admin-users", done=done, error=error)
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
                "languages": LANGUAGE_NAMES,
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
        active = field(data, "active") == "1"
        change = management.change_active(signed_in(request), user_id, active, now)
        return await self._change(request, user_id, change, "User reactivated." if active else "User deactivated.")

    @post("/users/{user_id:int}/role", name="accounts:admin-role", status_code=303)
    async def set_role(
        self, request: HTMXRequest, user_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        role = field(data, "role")
        change = management.change_role(signed_in(request), user_id, role, now)
        return await self._change(request, user_id, change, f"Role changed to {role}.")

    @post("/users/{user_id:int}/language", name="accounts:admin-language", status_code=303)
    async def set_language(
        self, request: HTMXRequest, user_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        """The language of the emails this user gets: team notifications, digests."""
        language = field(data, "language")
        change = management.change_language(signed_in(request), user_id, language, now)
        name = LANGUAGE_NAMES.get(language, language)
        return await self._change(request, user_id, change, f"Email language changed to {name}.")

    @post("/users/{user_id:int}/teams", name="accounts:admin-membership", status_code=303)
    async def set_membership(
        self, request: HTMXRequest, user_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        team, member = field(data, "team"), field(data, "member") == "1"
        change = management.change_membership(signed_in(request), user_id, team, member, now)
        done = f"Added to {team}." if member else f"Removed from {team}."
        return await self._change(request, user_id, change, done)

    # Teams ---------------------------------------------------------------------------------------------------

    @get("/teams", name="accounts:admin-teams")
    async def teams(self, request: HTMXRequest, done: Flash = None, error: Flash = None) -> Template:
        return admin_page(
            PAGES + "admin_teams.html", request, tab="teams", teams=await management.team_list(), done=done, error=error
        )

    @post("/teams", name="accounts:admin-team-create", status_code=303)
    async def create_team(self, request: HTMXRequest, data: Form, now: Now) -> Redirect:
        name = field(data, "name")
        try:
            await management.new_team(signed_in(request), name, now)
        except AccountError as exc:
            return back(request, "accounts:admin-teams", error=str(exc))
        return back(request, "accounts:admin-teams", done=f"Team {name} created.")

    # API keys ------------------------------------------------------------------------------------------------

    @get("/api-keys", name="accounts:admin-keys")
    async def api_keys(self, request: HTMXRequest, done: Flash = None, error: Flash = None) -> Template:
        keys = await management.api_key_list()
        return admin_page(PAGES + "admin_api_keys.html", request, tab="keys", keys=keys, done=done, error=error)

    @post("/api-keys", name="accounts:admin-key-create", status_code=200)
    async def create_api_key(self, request: HTMXRequest, data: Form, now: Now) -> Template | Redirect:
        """Issue a key and show it on this response only."""
        try:
            key_id, key = await management.new_api_key(signed_in(request), field(data, "name"), now)
        except AccountError as exc:
            return back(request, "accounts:admin-keys", error=str(exc))
        row = (await management.api_key_list(key_id))[0]
        return admin_page(PAGES + "admin_api_key_created.html", request, tab="keys", key=key, row=row, secret=True)

    @post("/api-keys/{key_id:int}/revoke", name="accounts:admin-key-revoke", status_code=303)
    async def revoke_api_key(
        self, request: HTMXRequest, key_id: FromPath[int], now: Now
    ) -> Template | Redirect | Response[Any]:
        try:
            await management.end_api_key(signed_in(request), key_id, now)
        except management.UnknownApiKey:
            return error_page(request, 404, "Not found", "There is no such API key.")
        if not request.htmx:
            return back(request, "accounts:admin-keys", done="API key revoked.")
        row = (await management.api_key_list(key_id))[0]
        return Template(template_name="accounts/partials/admin_api_key_row.html", context={"key": row})

    # Audit log -----------------------------------------------------------------------------------------------

    @get("/audit", name="accounts:admin-audit")
    async def audit_log(self, request: HTMXRequest, page: FromQuery[int] = 1) -> Template:
        events, pages = await management.audit_page(page)
        current = min(max(1, page), pages)
        return admin_page(PAGES + "admin_audit.html", request, tab="audit", events=events, page=current, pages=pages)
