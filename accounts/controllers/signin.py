"""Sign-in and sign-out pages.

Sign-in is rate-limited twice (PBKDF2 makes every attempt cost CPU): attempts per client address per minute, and
failures per account in a fixed window (`AFTERGLOW_RATE_SIGN_IN_*`). The account limit is what stops a guesser
who spreads over many addresses; it expires with its window, so a lock never outlives
`rate_sign_in_window_minutes`. To keep an attacker who fails on purpose from locking a real user out for good,
a browser that once signed in as that user carries a signed "trusted device" cookie and is not held by the
account limit (only by the per-address one).
"""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from accounts.auth import rotate_session
from accounts.services import audit, authenticate, staff
from afterglow.ratelimit import RATE_LIMIT_STORE, RetryAfter, client_address, digest, give_back, hit
from afterglow.settings import Settings
from afterglow.web import AppSettings, Form, Now, page

TRUSTED_DEVICE_COOKIE = "afterglow_device"
TRUSTED_DEVICE_DAYS = 180


def trusted_device_mark(settings: Settings, username: str) -> str:
    """The cookie value that marks a browser where `username` signed in."""
    message = f"trusted-device:{username.lower()}".encode()
    return hmac.new(settings.secret_key.encode(), message, hashlib.sha256).hexdigest()


def _login_page(
    next_: Any, username: str, error: str, status_code: int, headers: dict[str, str] | None = None
) -> Template:
    return page(
        "accounts/pages/login.html",
        "en",
        status_code=status_code,
        headers=headers,
        next=safe_next(next_),
        username=username,
        error=error,
    )


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
    async def sign_in(
        self, request: Request[Any, Any, Any], data: Form, now: Now, settings: AppSettings
    ) -> Redirect | Template:
        username = str(data.get("username", "")).strip()[:150]
        store = request.app.stores.get(RATE_LIMIT_STORE)
        account = f"sign-in:account:{digest(username.lower())}"
        mark = trusted_device_mark(settings, username)
        trusted = hmac.compare_digest(request.cookies.get(TRUSTED_DEVICE_COOKIE, "").encode(), mark.encode())
        # Count the attempt before checking the password, so parallel guesses cannot all slip past the limit.
        refused = await hit(
            store, f"sign-in:address:{client_address(request)}", settings.rate_sign_in_per_address, 60, now=now
        )
        if refused is None and not trusted:
            window = settings.rate_sign_in_window_minutes * 60
            refused = await hit(store, account, settings.rate_sign_in_failures, window, now=now)
        if refused is not None:
            return _too_many_attempts(data, username, refused)
        user = await authenticate(username, str(data.get("password", "")))
        if user is None:
            await audit(None, "sign_in_failed", username, now)
            return _login_page(data.get("next"), username, "Wrong username or password.", 400)
        if not trusted:
            await give_back(store, account, now=now)  # the account limit counts failures only
        rotate_session(request)
        request.set_session({"uid": user.id})
        await audit(user, "signed_in", user.username, now)
        device = Cookie(
            key=TRUSTED_DEVICE_COOKIE,
            value=mark,
            max_age=TRUSTED_DEVICE_DAYS * 86400,
            path="/login",
            httponly=True,
            samesite="lax",
            secure=settings.production,
        )
        return Redirect(path=safe_next(data.get("next")), status_code=303, cookies=[device])

    @post("/logout", name="accounts:logout", status_code=303)
    async def sign_out(self, request: Request[Any, Any, Any], now: Now) -> Redirect:
        uid = request.session.get("uid") if request.session else None
        user = await staff(int(uid)) if uid else None
        if user is not None:
            await audit(user, "signed_out", user.username, now)
        request.clear_session()
        return Redirect(path="/login", status_code=303)


def _too_many_attempts(data: dict[str, Any], username: str, refused: RetryAfter) -> Template:
    minutes = math.ceil(refused.seconds / 60)
    wait = "a minute" if minutes <= 1 else f"{minutes} minutes"
    return _login_page(
        data.get("next"),
        username,
        f"Too many sign-in attempts. Please try again in {wait}.",
        429,
        {"Retry-After": str(refused.seconds)},
    )
