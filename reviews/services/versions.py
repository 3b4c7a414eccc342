"""When what the public sees of a product last changed, and a small cache keyed by it.

Triggers (reviews migrations, `widget_version`) bump `sku:<sku>` in the same transaction as every write that
changes a product's published reviews (a review saved, moderated, voted on, replied to, erased; its photos) or its
newest order item, `order:<id>` with every write to a review of the order's items (any status) or to its photos
(what the survey page shows), and `all` with every catalogue change (titles, images, keys). A request reads the
numbers first and then, only on a miss, the rows: whatever it renders reflects at least the state those numbers
name, so an entry cached under them is never older than they are. A write committed before a request began always
changes the numbers that request reads, in every process.

Concurrent requests share one read: a request joins a read that has not been sent yet, never one already under
way (which might have been answered before the request's writer committed).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from weakref import WeakKeyDictionary

from afterglow import hotsql
from afterglow.lru import Recent

ALL = "all"


def product_key(sku: str) -> str:
    return f"sku:{sku}"


def order_versions_sql(order: str) -> str:
    """A scalar SQL expression, the versions of the order whose id is the expression `order` and of the catalogue
    ("<catalogue>:<order>", 0 for one never bumped): read in the same statement as the order's items, it names a
    state at least as old as theirs."""
    return (
        "(SELECT CAST(coalesce(max(CASE WHEN key = 'all' THEN version END), 0) AS TEXT) || ':' || "
        "CAST(coalesce(max(CASE WHEN key <> 'all' THEN version END), 0) AS TEXT) "
        f"FROM widget_version WHERE key IN ('all', 'order:' || {order}))"
    )


@dataclass
class _Read:
    """One read of the versions: the keys asked for until it is sent, and a future for each request waiting."""

    keys: set[str] = field(default_factory=set)
    answers: list[asyncio.Future[dict[str, int]]] = field(default_factory=list)

    def answer(self, found: dict[str, int] | BaseException) -> None:
        for waiting in self.answers:
            if waiting.done():  # its request went away
                continue
            if isinstance(found, BaseException):
                waiting.set_exception(found)
            else:
                waiting.set_result(found)

    def cancel(self) -> None:
        for waiting in self.answers:
            waiting.cancel()


class _Reader:
    """Reads versions for all the requests of one event loop waiting at once: one statement per round trip."""

    def __init__(self) -> None:
        self.waiting: _Read | None = None
        self.sending: asyncio.Task[None] | None = None

    async def read(self, keys: tuple[str, ...]) -> dict[str, int]:
        loop = asyncio.get_running_loop()
        read = self.waiting
        if read is None:
            read = self.waiting = _Read()
        read.keys.update(keys)
        # A future of its own: a request that goes away cancels only that, never the read the others wait for.
        answer: asyncio.Future[dict[str, int]] = loop.create_future()
        read.answers.append(answer)
        if self.sending is None or self.sending.done():
            self.sending = loop.create_task(self._send())
        return await answer

    async def _send(self) -> None:
        """Send the waiting read; then the one that gathered meanwhile, until none waits."""
        while self.waiting is not None:
            read, self.waiting = self.waiting, None
            try:
                found = await _fetch(sorted(read.keys))
            except asyncio.CancelledError:
                read.cancel()
                raise
            except Exception as exc:  # the waiting requests get the database's error
                read.answer(exc)
            else:
                read.answer(found)


async def _fetch(keys: list[str]) -> dict[str, int]:
    rows = await hotsql.fetch(
        f"SELECT key, version FROM widget_version WHERE key {hotsql.any_of(1)}", hotsql.list_param(keys)
    )
    return {row["key"]: int(row["version"]) for row in rows}


#: One reader per event loop (a process has one; tests may run several).
_readers: WeakKeyDictionary[asyncio.AbstractEventLoop, _Reader] = WeakKeyDictionary()


async def version_of(sku: str) -> tuple[int, int]:
    """(the product's version, the catalogue's version); 0 for one never bumped."""
    loop = asyncio.get_running_loop()
    reader = _readers.get(loop)
    if reader is None:
        reader = _readers[loop] = _Reader()
    key = product_key(sku)
    found = await reader.read((key, ALL))
    return found.get(key, 0), found.get(ALL, 0)


#: Every cache keyed by versions, so that tests can start from cold ones.
CACHES: list[Recent[Any]] = []


def cache(size: int) -> Recent[Any]:
    """A new cache of the `size` most recently used values, each under a key that holds the versions it was made
    under."""
    made: Recent[Any] = Recent(size)
    CACHES.append(made)
    return made


def forget_all() -> None:
    """Empty this process's caches (as a newly started process has them)."""
    for made in CACHES:
        made.clear()
