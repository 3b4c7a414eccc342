"""The web process's connections for `afterglow.hotsql`'s single read statements on PostgreSQL.

asyncpg's pool costs about 45 µs of CPU per statement when requests wait for it (a queue, a task for each release,
a timer), measured with 32 requests on 10 connections: more than the statement itself. These statements need none
of what the pool looks after (transactions, session state): each runs alone, outside any transaction. So a web
process keeps a few connections of its own for them (`AFTERGLOW_DB_READ_CONNECTIONS`), handed out in turn; the ORM
keeps the pool.

A connection that breaks, or whose statement is cancelled halfway, is closed and a new one is opened when next
needed: a restarted database costs the statements that were on their way, as on the pool.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from weakref import WeakKeyDictionary

Connect = Callable[[], Awaitable[Any]]


class ReadConnections:
    """Up to `size` connections, each running one statement at a time; a statement that finds all busy waits for
    the first to come free (first come, first served)."""

    def __init__(self, connect: Connect, size: int) -> None:
        self.connect = connect
        self.size = size
        self.idle: list[Any] = []
        self.opened = 0  # open or opening
        # Each waiter is given a free connection, or None: "open one yourself" (one was dropped).
        self.waiting: deque[asyncio.Future[Any]] = deque()
        self.closed = False

    async def fetch(self, sql: str, args: Sequence[Any]) -> list[Any]:
        connection = await self._take()
        try:
            rows = await connection.fetch(sql, *args)
        except Exception:
            if connection.is_closed():
                self._drop(connection)
            else:  # the statement failed (a constraint, a type): the connection is as good as before
                self._give(connection)
            raise
        except BaseException:  # cancelled on its way: what the connection will say next is unknown
            self._drop(connection)
            raise
        self._give(connection)
        return list(rows)

    async def _take(self) -> Any:
        if self.closed:
            raise RuntimeError("the read connections are closed")
        if self.idle:
            return self.idle.pop()
        if self.opened < self.size:
            self.opened += 1
        else:
            waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self.waiting.append(waiter)
            try:
                given = await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    self._pass_on(waiter.result())  # handed over as the request went away
                raise
            if given is not None:
                return given
            # None: a connection was dropped and its place passed to this request
        try:
            return await self.connect()
        except BaseException:
            self._pass_on(None)
            raise

    def _pass_on(self, connection: Any) -> None:
        """A connection to hand to the next waiter, or None for a place to open one in."""
        if connection is not None:
            self._give(connection)
        elif not self._wake_one(None):
            self.opened -= 1

    def _give(self, connection: Any) -> None:
        if self.closed:
            connection.terminate()
            self.opened -= 1
            return
        if not self._wake_one(connection):
            self.idle.append(connection)

    def _drop(self, connection: Any) -> None:
        connection.terminate()
        self._pass_on(None)

    def _wake_one(self, connection: Any) -> bool:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return True
        return False

    async def close(self) -> None:
        """Close the idle connections; those in use are closed when given back."""
        self.closed = True
        idle, self.idle = self.idle, []
        await asyncio.gather(*(connection.close() for connection in idle), return_exceptions=True)
        self._wake_all_with_error()

    def _wake_all_with_error(self) -> None:
        while self.waiting:
            waiter = self.waiting.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the read connections are closed"))


#: The connections of each event loop (a web process has one; tests may run several).
_kept: WeakKeyDictionary[asyncio.AbstractEventLoop, ReadConnections] = WeakKeyDictionary()


def start(connect: Connect, size: int) -> None:
    """Keep up to `size` connections for this event loop's statements (opened when first needed)."""
    _kept[asyncio.get_running_loop()] = ReadConnections(connect, size)


def current() -> ReadConnections | None:
    return _kept.get(asyncio.get_running_loop())


async def stop() -> None:
    kept = _kept.pop(asyncio.get_running_loop(), None)
    if kept is not None:
        await kept.close()
