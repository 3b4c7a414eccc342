"""Rate limits: Litestar's limiter on whole controllers, and a fixed-window counter for what it cannot key on.

Both keep their counts in the app store named `rate_limit` (Redis in production, memory in the embedded default).
Limits come from settings (`AFTERGLOW_RATE_*`, see docs/settings.md); 0 turns one off. Requests over a limit get
429 with `Retry-After` (seconds): JSON by default, a friendly page on the customer's routes.

Keys never hold a secret: API keys and signed links are hashed first. A count is read and written in two calls, so
a burst can overshoot a limit by a little: the counter here locks per process, Litestar's limiter per route, and
nothing locks across processes sharing Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from litestar import Request, Response
from litestar.exceptions import TooManyRequestsException
from litestar.middleware.rate_limit import RateLimitConfig, RateLimitMiddleware, get_remote_address
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.types import Receive, Scope, Send

from afterglow.settings import Settings
from afterglow.web import error_page

RATE_LIMIT_STORE = "rate_limit"


def rate_limit_store(settings: Settings) -> Store:
    """Shared by all web processes in production (Redis), so a limit holds across them."""
    if settings.broker_url.startswith("redis://"):
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.broker_url, namespace="afterglow-rate-limit")
    return MemoryStore()


def digest(value: str) -> str:
    """A short, stable stand-in for a secret (an API key, a signed link) in a store key."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


# The fixed-window counter -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryAfter:
    """A refused request: the window that refused it ends in this many seconds."""

    seconds: int


_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def _lock() -> asyncio.Lock:
    # One per event loop: a lock bound to another loop (another test, another thread) cannot be awaited.
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


async def _window(store: Store, key: str, at: float) -> dict[str, float] | None:
    raw = await store.get(key)
    state = json.loads(raw) if raw else None
    return state if state is not None and state["reset"] > at else None


async def _save(store: Store, key: str, state: dict[str, float], at: float) -> None:
    await store.set(key, json.dumps(state), expires_in=max(1, math.ceil(state["reset"] - at)))


async def hit(store: Store, key: str, limit: int, window_seconds: int, *, now: datetime) -> RetryAfter | None:
    """Count one request against `key`'s fixed window; RetryAfter (and nothing counted) once `limit` are used.

    The window starts with its first request and ends `window_seconds` later whatever happens meanwhile, so
    refused requests do not prolong it. A limit of 0 or less means no limit."""
    if limit <= 0:
        return None
    at = now.timestamp()
    async with _lock():
        state = await _window(store, key, at) or {"count": 0, "reset": at + window_seconds}
        if state["count"] >= limit:
            return RetryAfter(max(1, math.ceil(state["reset"] - at)))
        state["count"] += 1
        await _save(store, key, state, at)
    return None


async def give_back(store: Store, key: str, *, now: datetime) -> None:
    """Uncount one request of `key`'s current window: it was counted before we knew it should not be."""
    at = now.timestamp()
    async with _lock():
        state = await _window(store, key, at)
        if state is not None and state["count"] > 0:
            state["count"] -= 1
            await _save(store, key, state, at)


# Litestar's limiter, with its rate taken from the app's settings ----------------------------------------------


@dataclass
class SettingsRateLimitConfig(RateLimitConfig):
    """`limit_of(settings)` replaces `rate_limit`, read when a request arrives, so `create_app(settings)` decides."""

    limit_of: Callable[[Settings], int] = field(default=lambda _: 0)


class SettingsRateLimitMiddleware(RateLimitMiddleware):
    def __init__(self, app: Any, config: SettingsRateLimitConfig) -> None:
        super().__init__(app, config)
        self.limit_of = config.limit_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.unit, self.max_requests = "minute", self.limit_of(scope["litestar_app"].state.settings)
        if self.max_requests <= 0:
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def per_minute(
    name: str, limit: Callable[[Settings], int], identify: Callable[[Request[Any, Any, Any]], str]
) -> SettingsRateLimitConfig:
    """A limiter for `middleware=[...]`: `limit(settings)` requests a minute per `identify(request)`.

    `name` keeps limiters apart in the store: Litestar prefixes every key with the same middleware class name."""
    return SettingsRateLimitConfig(
        rate_limit=("minute", 1),  # replaced per request by `limit(settings)`
        identifier_for_request=lambda request: f"{name}:{identify(request)}",
        middleware_class=SettingsRateLimitMiddleware,
        store=RATE_LIMIT_STORE,
        limit_of=limit,
    )


def client_address(request: Request[Any, Any, Any]) -> str:
    """The peer address; behind a proxy, uvicorn's `--forwarded-allow-ips` makes it the real client's."""
    return get_remote_address(request)


async def hit_per_address(
    request: Request[Any, Any, Any], name: str, limit: int, *, now: datetime
) -> RetryAfter | None:
    """Count one request from this address against `limit` a minute, for a handler that answers a refusal itself
    (the suggestion box keeps what was typed); RetryAfter once the limit is used."""
    store = request.app.stores.get(RATE_LIMIT_STORE)
    return await hit(store, f"{name}:{client_address(request)}", limit, 60, now=now)


def signed_link(request: Request[Any, Any, Any]) -> str:
    return digest(str(request.path_params.get("signed", "")))


def api_key(request: Request[Any, Any, Any]) -> str:
    """The bearer key, hashed; requests without one are counted by address."""
    header = request.headers.get("authorization", "").strip()
    return f"key:{digest(header)}" if header else f"address:{client_address(request)}"


#: Customer links (/s/..., /u/...), each link and each address; both limits are shared by the two controllers.
LINK_LIMITS = [
    per_minute("link-address", lambda s: s.rate_link_per_address, client_address).middleware,
    per_minute("link", lambda s: s.rate_link_per_link, signed_link).middleware,
]
API_LIMITS = [per_minute("api", lambda s: s.rate_api_per_key, api_key).middleware]
#: Public reading (products API, widget, photos) per address; helpful votes per address.
PUBLIC_LIMITS = [per_minute("public-address", lambda s: s.rate_public_per_address, client_address).middleware]
VOTE_LIMITS = [per_minute("vote-address", lambda s: s.rate_votes_per_address, client_address).middleware]
WEBHOOK_LIMITS = [per_minute("webhook-address", lambda s: s.rate_webhooks_per_address, client_address).middleware]


# 429 responses ----------------------------------------------------------------------------------------------


def retry_after(exc: TooManyRequestsException) -> str:
    """Seconds until Litestar's window resets, from the `RateLimit-Reset` header it attaches."""
    try:
        seconds = int((exc.headers or {}).get("RateLimit-Reset", "60"))
    except ValueError:
        seconds = 60
    return str(max(1, seconds))


def too_many_requests_json(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Response[Any]:
    """Machines (API, webhooks): JSON, like every other API error."""
    headers = {**(exc.headers or {}), "Retry-After": retry_after(exc)}
    body = {"status_code": 429, "detail": "too many requests; retry after the number of seconds in Retry-After"}
    return Response(body, status_code=429, headers=headers)


def too_many_requests_page(request: Request[Any, Any, Any], exc: TooManyRequestsException) -> Response[Any]:
    """Customers: a friendly page that says when to come back."""
    response = error_page(
        request, 429, "One moment, please", "We received many requests at once. Please try again in a minute."
    )
    response.headers.update({**(exc.headers or {}), "Retry-After": retry_after(exc)})
    return response
