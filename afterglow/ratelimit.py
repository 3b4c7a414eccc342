"""Rate limits: a fixed-window counter per key, used by the limiter middleware on whole controllers and by handlers
that answer a refusal themselves (sign-in, the suggestion box).

Counts live in the app store named `rate_limit` (Redis in production, memory in the embedded default). Limits come
from settings (`AFTERGLOW_RATE_*`, see docs/settings.md); 0 turns one off. Requests over a limit get 429 with
`Retry-After` (seconds): JSON by default, a friendly page on the customer's routes.

Counting is atomic, so a burst gets exactly `limit` requests through: on Redis one Lua script reads and writes a
window (across every web process), in memory a lock guards it. Keys never hold a secret: API keys and signed links
are hashed first.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from litestar import Request, Response
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import get_remote_address
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.types import ASGIApp, Receive, Scope, Send

from afterglow.settings import Settings
from afterglow.web import error_page

RATE_LIMIT_STORE = "rate_limit"


def rate_limit_store(settings: Settings) -> Store:
    """Shared by all web processes in production (Redis), so a limit holds across them."""
    if settings.broker_url.startswith("redis://"):
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


# KEYS[1] a hash {count, reset}; ARGV: now and window length (ms), limit. Returns {counted (1/0), reset}.
_HIT = """
local state = redis.call('HMGET', KEYS[1], 'count', 'reset')
local count, reset = tonumber(state[1] or '0'), tonumber(state[2] or '0')
local now = tonumber(ARGV[1])
if reset <= now then count, reset = 0, now + tonumber(ARGV[2]) end
if count >= tonumber(ARGV[3]) then return {0, reset} end
redis.call('HSET', KEYS[1], 'count', count + 1, 'reset', reset)
redis.call('PEXPIRE', KEYS[1], reset - now)
return {1, reset}
"""
# KEYS[1] as above; ARGV: now (ms). Takes one back from a live window.
_GIVE_BACK = """
local state = redis.call('HMGET', KEYS[1], 'count', 'reset')
if tonumber(state[2] or '0') > tonumber(ARGV[1]) and tonumber(state[1] or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'count', -1)
end
return 0
"""

_locks: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = WeakKeyDictionary()


def _lock() -> asyncio.Lock:
    # One per event loop: a lock bound to another loop (another test, another thread) cannot be awaited.
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


async def _redis_script(store: RedisStore, script: str, key: str, *args: int) -> Any:
    # RedisStore offers get/set only; the script runs on its own client (`_redis`) under its namespace.
    full_key = f"{store.namespace}:{key}" if store.namespace else key
    return await store._redis.register_script(script)(keys=[full_key], args=list(args))


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
    if isinstance(store, RedisStore):
        counted, reset_ms = await _redis_script(store, _HIT, key, int(at * 1000), window_seconds * 1000, limit)
        return None if counted else RetryAfter(max(1, math.ceil(reset_ms / 1000 - at)))
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
    if isinstance(store, RedisStore):
        await _redis_script(store, _GIVE_BACK, key, int(at * 1000))
        return
    async with _lock():
        state = await _window(store, key, at)
        if state is not None and state["count"] > 0:
            state["count"] -= 1
            await _save(store, key, state, at)


async def claim_once(store: Store, key: str, for_seconds: int, *, now: datetime) -> bool:
    """True the first time `key` is claimed within `for_seconds`, False every later time (a used form token)."""
    return await hit(store, key, 1, max(1, for_seconds), now=now) is None


# The limiter on controllers and handlers --------------------------------------------------------------------

Identify = Callable[[Request[Any, Any, Any]], "str | Awaitable[str]"]


class RequestLimit:
    """`limit_of(settings)` requests a minute per `identify(request)` (which may be async); more get 429.

    The limit is read from the app's settings when a request arrives, so `create_app(settings)` decides."""

    def __init__(self, app: ASGIApp, name: str, limit_of: Callable[[Settings], int], identify: Identify) -> None:
        self.app, self.name, self.limit_of, self.identify = app, name, limit_of, identify

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        litestar_app = scope["litestar_app"]
        limit = self.limit_of(litestar_app.state.settings)
        if scope["type"] == "http" and limit > 0:
            who = self.identify(litestar_app.request_class(scope))
            if inspect.isawaitable(who):
                who = await who
            store = litestar_app.stores.get(RATE_LIMIT_STORE)
            refused = await hit(store, f"{self.name}:{who}", limit, 60, now=datetime.now(UTC))
            if refused is not None:
                raise TooManyRequestsException(
                    headers={
                        "RateLimit-Policy": f"{limit}; w=60",
                        "RateLimit-Limit": str(limit),
                        "RateLimit-Remaining": "0",
                        "RateLimit-Reset": str(refused.seconds),
                    }
                )
        await self.app(scope, receive, send)


def per_minute(name: str, limit: Callable[[Settings], int], identify: Identify) -> DefineMiddleware:
    """A limiter for `middleware=[...]`: `limit(settings)` requests a minute per `identify(request)`.

    `name` keeps limiters apart in the store; two controllers with the same limiter share its counts."""
    return DefineMiddleware(RequestLimit, name=name, limit_of=limit, identify=identify)


def client_address(request: Request[Any, Any, Any]) -> str:
    """The peer address. It is a client's own only where uvicorn believes `X-Forwarded-For` from a proxy named in
    AFTERGLOW_TRUSTED_PROXIES (operations.cli.proxy_options); from anyone else the header is ignored."""
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


#: Customer links (/s/..., /u/...), each link and each address; both limits are shared by the two controllers.
LINK_LIMITS = [
    per_minute("link-address", lambda s: s.rate_link_per_address, client_address),
    per_minute("link", lambda s: s.rate_link_per_link, signed_link),
]
#: Public reading (products API, widget, photos) per address; helpful votes per address.
PUBLIC_LIMITS = [per_minute("public-address", lambda s: s.rate_public_per_address, client_address)]
VOTE_LIMITS = [per_minute("vote-address", lambda s: s.rate_votes_per_address, client_address)]
WEBHOOK_LIMITS = [per_minute("webhook-address", lambda s: s.rate_webhooks_per_address, client_address)]


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
