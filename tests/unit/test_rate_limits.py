"""Rate limits: sign-in per account and per address, customer links per link and per address, the ingest API per
key, webhooks per address. Each refusal is a 429 with Retry-After, and the next window lets requests through."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from litestar import Litestar
from litestar.stores.memory import MemoryStore
from litestar.testing import AsyncTestClient

from accounts.services import create_staff, issue_api_key
from afterglow.ratelimit import RATE_LIMIT_STORE, RetryAfter, hit
from afterglow.settings import Settings
from app import create_app
from tests.unit.staff_fixtures import PASSWORD, csrf_token
from tests.unit.survey_fixtures import OPEN_AT, invite

T0 = datetime(2026, 3, 6, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine: time_machine.TimeMachineFixture) -> time_machine.TimeMachineFixture:
    time_machine.move_to(T0, tick=True)
    return time_machine


@asynccontextmanager
async def app_with(settings: Settings, **limits: int) -> AsyncIterator[AsyncTestClient]:
    """The app with some limits made tiny."""
    async with AsyncTestClient(app=create_app(dataclasses.replace(settings, **limits))) as client:
        yield client


@asynccontextmanager
async def browser_at(app: Litestar, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """Another client of the same app, connecting from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as web:
        yield web


async def attempt(web: Any, username: str, password: str) -> httpx.Response:
    """One sign-in attempt through the form, CSRF token included."""
    return await web.post(
        "/login",
        data={"username": username, "password": password, "_csrf_token": await csrf_token(web)},
        follow_redirects=False,
    )


async def make_sue() -> None:
    await create_staff("sue", PASSWORD, "member", email="sue@shop.example")


def assert_refused(response: httpx.Response, most_seconds: int) -> None:
    assert response.status_code == 429
    assert 0 < int(response.headers["retry-after"]) <= most_seconds


def wait_out(clock: time_machine.TimeMachineFixture, refused: httpx.Response) -> None:
    """Move the clock past the Retry-After of a refusal: into the next window."""
    clock.move_to(datetime.now(UTC) + timedelta(seconds=int(refused.headers["retry-after"]) + 1), tick=True)


# Sign-in ----------------------------------------------------------------------------------------------------


async def test_sixth_wrong_password_is_refused_even_from_another_address(
    client: AsyncTestClient, clock: time_machine.TimeMachineFixture
) -> None:
    await make_sue()
    for _ in range(5):
        assert (await attempt(client, "sue", "wrong password")).status_code == 400

    async with browser_at(client.app, "203.0.113.7") as elsewhere:
        refused = await attempt(elsewhere, "sue", PASSWORD)
        assert_refused(refused, 15 * 60)
        assert "Too many sign-in attempts" in refused.text

        wait_out(clock, refused)
        assert (await attempt(elsewhere, "sue", PASSWORD)).status_code == 303


async def test_successful_sign_ins_do_not_count_against_the_account(client: AsyncTestClient) -> None:
    await make_sue()
    for _ in range(6):
        client.cookies.clear()  # no session and no trusted-device cookie
        assert (await attempt(client, "sue", PASSWORD)).status_code == 303


async def test_account_lock_spares_a_browser_that_signed_in_before(client: AsyncTestClient) -> None:
    await make_sue()
    assert (await attempt(client, "sue", PASSWORD)).status_code == 303  # sue's own browser

    async with browser_at(client.app, "203.0.113.7") as attacker:
        for _ in range(5):
            assert (await attempt(attacker, "sue", "guess")).status_code == 400
        assert (await attempt(attacker, "sue", PASSWORD)).status_code == 429

    assert (await attempt(client, "sue", PASSWORD)).status_code == 303


async def test_sign_in_attempts_per_address_are_limited(
    settings: Settings, clock: time_machine.TimeMachineFixture
) -> None:
    await make_sue()
    async with app_with(settings, rate_sign_in_per_address=3) as client:
        for username in ("ada", "max", "leo"):  # three names: no account limit is reached
            assert (await attempt(client, username, "wrong password")).status_code == 400
        refused = await attempt(client, "sue", PASSWORD)
        assert_refused(refused, 60)
        async with browser_at(client.app, "203.0.113.7") as elsewhere:
            assert (await attempt(elsewhere, "sue", PASSWORD)).status_code == 303

        wait_out(clock, refused)
        assert (await attempt(client, "sue", PASSWORD)).status_code == 303


# Customer links ---------------------------------------------------------------------------------------------


async def test_survey_link_is_limited_per_link(
    settings: Settings, time_machine: time_machine.TimeMachineFixture
) -> None:
    time_machine.move_to(OPEN_AT, tick=True)
    async with app_with(settings, rate_link_per_link=2) as client:
        api = {"Authorization": f"Bearer {settings.api_key}"}
        invited = await invite(client, api, settings)
        other = await invite(client, api, settings, external_id="1002", email="bob@example.com")
        for _ in range(2):
            assert (await client.get(invited.survey_path)).status_code == 200

        refused = await client.get(invited.survey_path)
        assert_refused(refused, 60)
        assert refused.headers["content-type"].startswith("text/html")
        assert "One moment, please" in refused.text
        assert (await client.get(other.survey_path)).status_code == 200  # another customer's link

        wait_out(time_machine, refused)
        assert (await client.get(invited.survey_path)).status_code == 200


async def test_customer_links_are_limited_per_address(
    settings: Settings, clock: time_machine.TimeMachineFixture
) -> None:
    async with app_with(settings, rate_link_per_address=3) as client:
        for i in range(3):  # made-up links, one each: only the address ties them together
            assert (await client.get(f"/s/made-up-{i}")).status_code == 400
        refused = await client.post("/u/made-up-3")
        assert_refused(refused, 60)
        async with browser_at(client.app, "203.0.113.7") as elsewhere:
            assert (await elsewhere.get("/s/made-up-4")).status_code == 400

        wait_out(clock, refused)
        assert (await client.get("/s/made-up-5")).status_code == 400


# Machines ---------------------------------------------------------------------------------------------------


async def test_ingest_api_is_limited_per_key(settings: Settings, clock: time_machine.TimeMachineFixture) -> None:
    async with app_with(settings, rate_api_per_key=2) as client:
        bootstrap = {"Authorization": f"Bearer {settings.api_key}"}
        _, issued = await issue_api_key("shop", None)
        for _ in range(2):
            assert (await client.get("/api/v1/orders/unknown", headers=bootstrap)).status_code == 404

        refused = await client.get("/api/v1/orders/unknown", headers=bootstrap)
        assert_refused(refused, 60)
        assert refused.json()["status_code"] == 429
        other_key = await client.get("/api/v1/orders/unknown", headers={"Authorization": f"Bearer {issued}"})
        assert other_key.status_code == 404

        wait_out(clock, refused)
        assert (await client.get("/api/v1/orders/unknown", headers=bootstrap)).status_code == 404


async def test_api_keys_are_not_stored_in_the_limiter(settings: Settings) -> None:
    async with app_with(settings) as client:
        await client.get("/api/v1/orders/unknown", headers={"Authorization": f"Bearer {settings.api_key}"})
        store = client.app.stores.get(RATE_LIMIT_STORE)
        assert isinstance(store, MemoryStore)
        keys = list(store._store)  # no public way to list a store's keys

    assert keys and all(settings.api_key not in key for key in keys)


async def test_webhooks_are_limited_per_address(settings: Settings, clock: time_machine.TimeMachineFixture) -> None:
    async with app_with(settings, rate_webhooks_per_address=1) as client:
        ping = {"content": b"webhook_id=7", "headers": {"content-type": "application/x-www-form-urlencoded"}}
        assert (await client.post("/webhooks/woocommerce", **ping)).status_code == 200

        refused = await client.post("/webhooks/woocommerce", **ping)
        assert_refused(refused, 60)
        assert refused.headers["content-type"].startswith("application/json")

        wait_out(clock, refused)
        assert (await client.post("/webhooks/woocommerce", **ping)).status_code == 200


# The counter ------------------------------------------------------------------------------------------------


async def test_counter_refuses_within_the_window_and_resets_after_it() -> None:
    store = MemoryStore()

    assert await hit(store, "k", 2, 60, now=T0) is None
    assert await hit(store, "k", 2, 60, now=T0 + timedelta(seconds=10)) is None
    assert await hit(store, "k", 2, 60, now=T0 + timedelta(seconds=20)) == RetryAfter(40)
    assert await hit(store, "k", 2, 60, now=T0 + timedelta(seconds=59)) == RetryAfter(1)  # refusals do not extend
    assert await hit(store, "k", 2, 60, now=T0 + timedelta(seconds=60)) is None


async def test_a_limit_of_zero_is_no_limit() -> None:
    store = MemoryStore()

    assert all([await hit(store, "k", 0, 60, now=T0) is None for _ in range(5)])


async def test_made_up_api_keys_share_their_senders_allowance(
    settings: Settings, clock: time_machine.TimeMachineFixture
) -> None:
    async with app_with(settings, rate_api_per_key=3) as client:
        made_up = [{"Authorization": f"Bearer ag_{secrets.token_urlsafe(24)}"} for _ in range(5)]
        statuses = [(await client.get("/api/v1/orders/unknown", headers=h)).status_code for h in made_up]
        assert statuses == [401, 401, 401, 429, 429]

        real = {"Authorization": f"Bearer {settings.api_key}"}
        assert (await client.get("/api/v1/orders/unknown", headers=real)).status_code == 404  # its own allowance


# A burst ----------------------------------------------------------------------------------------------------


async def test_a_burst_across_routes_sharing_a_limit_gets_exactly_the_limit_through(settings: Settings) -> None:
    async with app_with(settings, rate_public_per_address=5) as client, browser_at(client.app, "198.51.100.9") as web:
        # The suggestion form and the products API count against the same public limit per address.
        paths = ["/feedback", "/api/v1/products/SKU-1/reviews"] * 10
        responses = await asyncio.gather(*(web.get(path) for path in paths))

    assert sum(r.status_code != 429 for r in responses) == 5


async def test_concurrent_hits_count_exactly_the_limit() -> None:
    store = MemoryStore()

    results = await asyncio.gather(*(hit(store, "burst", 7, 60, now=T0) for _ in range(30)))

    assert results.count(None) == 7
