"""Per-address limits behind a real uvicorn server, configured as `afterglow run` and `afterglow web` configure it:
a client cannot pick its own address with `X-Forwarded-For`; only a proxy named in AFTERGLOW_TRUSTED_PROXIES can."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn

from afterglow.settings import Settings, load
from app import create_app
from bench.harness import free_port
from operations.cli import proxy_options
from reviews.tables import Review
from tests.unit.review_fixtures import add_review

HOST = "127.0.0.1"
ATTEMPTS = 6


@asynccontextmanager
async def served(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app under uvicorn on a free port of this host, with `afterglow run`'s proxy handling; a client for it."""
    config = uvicorn.Config(
        create_app(settings), host=HOST, port=free_port(), log_config=None, **proxy_options(settings)
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises why it could not start
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{config.port}", trust_env=False) as web:
            yield web
    finally:
        server.should_exit = True
        await serving


def from_(n: int) -> dict[str, str]:
    """A different made-up client address for each request."""
    return {"X-Forwarded-For": f"203.0.113.{n}"}


async def sign_in_statuses(web: httpx.AsyncClient) -> list[int]:
    page = await web.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    statuses = []
    for n in range(ATTEMPTS):  # a new name each time: only the per-address limit can refuse
        form = {"username": f"guess-{n}", "password": "wrong", "_csrf_token": token.group(1)}
        statuses.append((await web.post("/login", data=form, headers=from_(n))).status_code)
    return statuses


async def test_rotating_forwarded_for_does_not_bypass_the_sign_in_limit(settings: Settings) -> None:
    async with served(dataclasses.replace(settings, rate_sign_in_per_address=3)) as web:
        assert await sign_in_statuses(web) == [400, 400, 400, 429, 429, 429]


async def test_rotating_forwarded_for_does_not_bypass_the_suggestion_limit(settings: Settings) -> None:
    async with served(dataclasses.replace(settings, rate_suggestions_per_address=2)) as web:
        statuses = [(await web.post("/feedback", data={"text": "hi"}, headers=from_(n))).status_code for n in range(5)]
    assert statuses == [400, 400, 429, 429, 429]  # 400: no form token; the limit is counted first


async def test_rotating_forwarded_for_does_not_bypass_the_vote_limit(settings: Settings) -> None:
    review = await add_review()
    async with served(dataclasses.replace(settings, rate_votes_per_address=2)) as web:
        for n in range(ATTEMPTS):
            web.cookies.clear()  # a new browser each time, too
            await web.post(f"/widget/reviews/{review}/helpful", headers=from_(n))
    assert await Review.select(Review.helpful_count).where(Review.id == review).first() == {"helpful_count": 2}


async def test_a_trusted_proxy_gives_each_client_its_own_address(settings: Settings) -> None:
    behind_proxy = dataclasses.replace(settings, rate_sign_in_per_address=3, trusted_proxies=(HOST,))
    async with served(behind_proxy) as web:
        assert await sign_in_statuses(web) == [400] * ATTEMPTS


def test_trusted_proxies_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load().trusted_proxies == ()
    assert proxy_options(load()) == {"proxy_headers": False, "forwarded_allow_ips": ""}
    monkeypatch.setenv("AFTERGLOW_TRUSTED_PROXIES", "10.0.0.5, 172.18.0.0/16")
    assert proxy_options(load())["forwarded_allow_ips"] == ["10.0.0.5", "172.18.0.0/16"]
    monkeypatch.setenv("AFTERGLOW_TRUSTED_PROXIES", "proxy.internal")
    with pytest.raises(RuntimeError, match="TRUSTED_PROXIES"):
        load()
