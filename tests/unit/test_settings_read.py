"""A web process reads the stored settings once for all requests that find its kept read too old together, and a
save in the process is never overwritten by a read that began before it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from afterglow import overrides
from afterglow.settings import Settings


@pytest.fixture
def slow_store(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """`overrides.stored` counting its calls and holding each until `release` is set."""
    state: dict[str, Any] = {"calls": 0, "release": asyncio.Event(), "values": {"shop_name": "Before"}}

    async def stored() -> dict[str, Any]:
        state["calls"] += 1
        values = dict(state["values"])
        await state["release"].wait()
        return values

    monkeypatch.setattr(overrides, "stored", stored)
    overrides.drop_cached_read()
    return state


async def test_requests_that_find_the_read_too_old_together_share_one(
    settings: Settings, slow_store: dict[str, Any]
) -> None:
    waiting = [asyncio.create_task(overrides.effective_settings(settings, max_age=60)) for _ in range(10)]
    await asyncio.sleep(0)
    slow_store["release"].set()
    results = await asyncio.gather(*waiting)

    assert slow_store["calls"] == 1
    assert {result.shop_name for result in results} == {"Before"}


async def test_a_save_during_a_read_is_not_undone_by_it(settings: Settings, slow_store: dict[str, Any]) -> None:
    early = asyncio.create_task(overrides.effective_settings(settings, max_age=60))
    while slow_store["calls"] == 0:
        await asyncio.sleep(0)
    slow_store["values"] = {"shop_name": "After"}
    overrides.drop_cached_read()  # what a save does once it has written
    slow_store["release"].set()
    assert (await early).shop_name == "Before"  # it began before the save

    later = await overrides.effective_settings(settings, max_age=60)
    assert later.shop_name == "After" and slow_store["calls"] == 2
