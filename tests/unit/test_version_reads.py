"""Requests of one process share reads of the widget versions: a request joins a read not yet sent, never the one
on its way (it could have been answered before the request's writer committed)."""

from __future__ import annotations

import asyncio

import pytest

from reviews.services import versions
from tests.eventually import until


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str], asyncio.Future[dict[str, int]]]]:
    """Each statement the reader sends, with the future that answers it."""
    sent: list[tuple[list[str], asyncio.Future[dict[str, int]]]] = []

    async def fetch(keys: list[str]) -> dict[str, int]:
        answer: asyncio.Future[dict[str, int]] = asyncio.get_running_loop().create_future()
        sent.append((keys, answer))
        return await answer

    monkeypatch.setattr(versions, "_fetch", fetch)
    return sent


async def test_the_read_on_its_way_is_never_joined_and_the_rest_wait_together(
    statements: list[tuple[list[str], asyncio.Future[dict[str, int]]]],
) -> None:
    reader = versions._Reader()
    first = asyncio.create_task(reader.read(("sku:a",)))
    await until(lambda: len(statements) == 1)
    later = [asyncio.create_task(reader.read((key,))) for key in ("sku:b", "sku:c")]
    await until(lambda: reader.waiting is not None and len(reader.waiting.keys) == 2)
    assert [keys for keys, _ in statements] == [["sku:a"]], "the later two wait for the read to return"

    statements[0][1].set_result({"sku:a": 1})
    assert await first == {"sku:a": 1}
    await until(lambda: len(statements) == 2)
    assert statements[1][0] == ["sku:b", "sku:c"], "those that waited go together, in a read of their own"
    statements[1][1].set_result({"sku:b": 2, "sku:c": 3})
    assert [await task for task in later] == [{"sku:b": 2, "sku:c": 3}] * 2


async def test_a_request_that_goes_away_leaves_the_shared_read_to_the_others(
    statements: list[tuple[list[str], asyncio.Future[dict[str, int]]]],
) -> None:
    reader = versions._Reader()
    before = asyncio.create_task(reader.read(("sku:z",)))
    await until(lambda: len(statements) == 1)
    leaving = asyncio.create_task(reader.read(("sku:a",)))
    staying = asyncio.create_task(reader.read(("sku:b",)))
    await until(lambda: reader.waiting is not None and len(reader.waiting.keys) == 2)  # both wait for one read
    leaving.cancel()
    statements[0][1].set_result({"sku:z": 1})
    assert await before == {"sku:z": 1}
    await until(lambda: len(statements) == 2)
    statements[1][1].set_result({"sku:a": 7, "sku:b": 8})
    assert await staying == {"sku:a": 7, "sku:b": 8}
    with pytest.raises(asyncio.CancelledError):
        await leaving
