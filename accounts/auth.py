"""Staff sign-in: server-side sessions (Redis in production, memory in the embedded default), a fresh session id
at every sign-in, role guards, and what anonymous visitors of staff pages get (a redirect, or 401 for htmx)."""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.response import Redirect
from litestar.security.session_auth import SessionAuth
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import Message

from accounts.services import Staff, api_key_valid, staff
from afterglow.ratelimit import client_address, digest, per_minute
from afterglow.settings import Settings
from afterglow.web import error_page

SESSION_STORE = "sessions"
_ROTATE = "afterglow.rotate_session"
_NEW_ID = "afterglow.session_id"
#: Signed-in staff are signed out after this long without a request.
IDLE_SECONDS = 8 * 3600


class RotatingSessionBackend(ServerSideSessionBackend):
    """Server-side sessions whose id is replaced when asked (at sign-in), so a planted id is worthless."""

    def get_session_id(self, connection: ASGIConnection) -> str:
        if connection.scope.get(_ROTATE):  # type: ignore[misc]
            new = connection.scope.get(_NEW_ID) or self.generate_session_id()  # type: ignore[misc]
            connection.scope[_NEW_ID] = new  # type: ignore[literal-required]
            return str(new)
        return super().get_session_id(connection)

    async def store_in_message(self, scope_session: Any, message: Message, connection: ASGIConnection) -> None:
        old = connection.cookies.get(self.config.key)
        if connection.scope.get(_ROTATE) and old and old != "null":  # type: ignore[misc]
            await self.delete(old, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def signed_in(request: Request[Any, Any, Any]) -> Staff:
    """The staff member behind a request that passed session auth."""
    return request.user  # type: ignore[no-any-return]


def rotate_session(request: Request[Any, Any, Any]) -> None:
    """Give this request's session a new id when the response is sent."""
    request.scope[_ROTATE] = True  # type: ignore[literal-required]


def session_store(settings: Settings) -> Store:
    if settings.broker_url.startswith("redis://"):
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.broker_url, namespace="afterglow-sessions")
    return MemoryStore()


async def _retrieve_staff(session: dict[str, Any], _: ASGIConnection) -> Staff | None:
    user_id = session.get("uid")
    return await staff(int(user_id)) if user_id else None


def session_auth(settings: Settings) -> SessionAuth[Staff, RotatingSessionBackend]:
    return SessionAuth[Staff, RotatingSessionBackend](
        retrieve_user_handler=_retrieve_staff,
        session_backend_config=RotatingSessionConfig(
            store=SESSION_STORE,
            key="afterglow_session",
            max_age=IDLE_SECONDS,
            renew_on_access=True,
            httponly=True,
            samesite="lax",
            secure=settings.production,
        ),
        # Applied to the staff router only; its sign-in pages opt out with `public=True`.
        exclude_opt_key="public",
    )


def require_roles(*roles: str) -> Any:
    """A guard: only these roles may use the route."""

    def guard(connection: ASGIConnection[Any, Staff, Any, Any], _: BaseRouteHandler) -> None:
        user = connection.user
        if not isinstance(user, Staff) or user.role not in roles:
            raise PermissionDeniedException(detail="your role does not allow this page")

    return guard


def staff_auth_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Staff pages: anonymous visitors go to sign-in (htmx gets 401 + HX-Redirect); others get a 403 page."""
    if isinstance(exc, NotAuthorizedException) and request.url.path.startswith("/app"):
        target = "/login?next=" + quote(request.url.path)
        if request.headers.get("hx-request"):
            return Response("", status_code=401, headers={"HX-Redirect": target})
        return Redirect(path=target, status_code=303)
    if isinstance(exc, PermissionDeniedException) and request.url.path.startswith("/app"):
        return error_page(request, 403, "Not for your role", "Your account cannot open this page.")
    detail = getattr(exc, "detail", "") or str(exc)
    return Response({"status_code": exc.status_code, "detail": detail}, status_code=exc.status_code)  # type: ignore[attr-defined]


_API_KEY_CHECKED = "afterglow.api_key_valid"


async def _valid_api_key(connection: ASGIConnection) -> str | None:
    """The request's Bearer key if it is one we issued (stored hashed, revocable) or the bootstrap
    `AFTERGLOW_API_KEY`; else None. Checked once per request: the limiter and the guard both ask."""
    if _API_KEY_CHECKED not in connection.scope:
        scheme, _sep, key = connection.headers.get("authorization", "").partition(" ")
        key = key.strip()
        valid = False
        if scheme.lower() == "bearer" and key:
            bootstrap = connection.app.state.settings.api_key
            valid = bool(bootstrap and hmac.compare_digest(key, bootstrap)) or await api_key_valid(
                key, datetime.now(UTC)
            )
        connection.scope[_API_KEY_CHECKED] = key if valid else None  # type: ignore[literal-required]
    return connection.scope[_API_KEY_CHECKED]  # type: ignore[literal-required,no-any-return]


async def api_caller(request: Request[Any, Any, Any]) -> str:
    """Who the API limiter counts a request against: a valid key by its hash, anything else (no key, a made-up
    or revoked one) by the sender's address, so inventing keys buys no extra requests."""
    key = await _valid_api_key(request)
    return f"key:{digest(key)}" if key else f"address:{client_address(request)}"


#: The ingest API: `AFTERGLOW_RATE_API_PER_KEY` requests a minute per valid key, and as many per address without.
API_LIMITS = [per_minute("api", lambda s: s.rate_api_per_key, api_caller)]


async def require_api_key(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Bearer key: one issued by an admin (stored hashed, revocable), or the bootstrap `AFTERGLOW_API_KEY`."""
    if await _valid_api_key(connection) is None:
        raise NotAuthorizedException(detail="a valid API key is required: Authorization: Bearer <key>")
