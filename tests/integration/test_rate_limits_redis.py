"""Rate limits on Redis, where every web process keeps its counts: a burst from several processes at once gets
exactly the limit through, and a count given back is usable again."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from litestar.stores.redis import RedisStore

from afterglow.ratelimit import RetryAfter, claim_once, give_back, hit, rate_limit_store
from afterglow.settings import Settings

LIMIT = 7
PROCESSES = 4
EACH = 10


def web_process(settings: Settings, key: str, now: datetime) -> list[RetryAfter | None]:
    """One web process: its own event loop and Redis connection, firing its requests at `now`."""

    async def burst() -> list[RetryAfter | None]:
        store = rate_limit_store(settings)
        async with store:
            return list(await asyncio.gather(*(hit(store, key, LIMIT, 60, now=now) for _ in range(EACH))))

    return asyncio.run(burst())


def test_a_burst_from_several_processes_gets_exactly_the_limit_through(settings: Settings) -> None:
    key, now = f"burst-{uuid.uuid4().hex}", datetime.now(UTC)
    assert isinstance(rate_limit_store(settings), RedisStore)

    with ThreadPoolExecutor(PROCESSES) as pool:
        results = [
            r
            for one in pool.map(web_process, [settings] * PROCESSES, [key] * PROCESSES, [now] * PROCESSES)
            for r in one
        ]

    assert results.count(None) == LIMIT
    assert all(0 < r.seconds <= 60 for r in results if r is not None)


async def test_a_count_given_back_lets_one_more_through_and_a_claim_holds_once(settings: Settings) -> None:
    key, now = f"back-{uuid.uuid4().hex}", datetime.now(UTC)
    store = rate_limit_store(settings)
    async with store:
        assert [await hit(store, key, 2, 60, now=now) for _ in range(3)][:2] == [None, None]
        await give_back(store, key, now=now)
        assert await hit(store, key, 2, 60, now=now) is None
        assert await hit(store, key, 2, 60, now=now) is not None

        token = f"token-{uuid.uuid4().hex}"
        assert await claim_once(store, token, 3600, now=now) is True
        assert await claim_once(store, token, 3600, now=now) is False
