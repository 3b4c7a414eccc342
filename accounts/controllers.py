"""Sign-in and sign-out pages."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Redirect, Template

from accounts.auth import rotate_session
from accounts.services import audit, authenticate, staff
from afterglow.web import Now, page

Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def safe_next(target: str | None) -> str:
    """Only our own staff pages are valid destinations after sign-in (no open redirect)."""
    if target and target.startswith("/app") and not target.startswith("//"):
        return target
    return "/app/inbox"


class SignInController(Controller):
    path = "/"
    include_in_schema = False
    opt = {"public": True}  # reachable without signing in

    @get("/login", name="accounts:login")
    async def form(self, next: FromQuery[str | None] = None) -> Template:
        return page("accounts/pages/login.html", "en", next=safe_next(next), username="", error=None)

    @post("/login", name="accounts:login-post", status_code=303)
    async def sign_in(self, request: Request[Any, Any, Any], data: Form, now: Now) -> Redirect | Template:
        username = str(data.get("username", "")).strip()[:150]
        user = await authenticate(username, str(data.get("password", "")))
        if user is None:
            await audit(None, "sign_in_failed", username, now)
            return page(
                "accounts/pages/login.html",
                "en",
                status_code=400,
                next=safe_next(data.get("next")),
                username=username,
                error="Wrong username or password.",
            )
        rotate_session(request)
        request.set_session({"uid": user.id})
        await audit(user, "signed_in", user.username, now)
        return Redirect(path=safe_next(data.get("next")), status_code=303)

    @post("/logout", name="accounts:logout", status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any], now: Now) -> Redirect:
        uid = request.session.get("uid") if request.session else None
        user = await staff(int(uid)) if uid else None
        if user is not None:
            await audit(user, "signed_out", user.username, now)
        request.clear_session()
        return Redirect(path="/login", status_code=303)
