"""The web process's read connections (`afterglow.readers`): never more than their number open, handed out in
turn, a broken or interrupted one replaced, none lost when a request goes away."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from afterglow.readers import ReadConnections
from tests.eventually import until


class FakeConnection:
    """Answers each statement when the test says so (`release`), or fails it."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.pending: list[asyncio.Future[list[Any]]] = []
        self.closed = False
        self.statements = 0

    async def fetch(self, sql: str, *args: Any) -> list[Any]:
        assert not self.closed, "a statement on a closed connection"
        assert not self.pending, "two statements at once on one connection"
        self.statements += 1
        answer: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self.pending.append(answer)
        try:
            return await answer
        finally:
            self.pending.remove(answer)

    def waiting(self) -> bool:
        return any(not answer.done() for answer in self.pending)

    def release(self, rows: list[Any] | BaseException | None = None) -> None:
        answer = next(answer for answer in self.pending if not answer.done())
        if isinstance(rows, BaseException):
            answer.set_exception(rows)
        else:
            answer.set_result(rows if rows is not None else [self.number])

    def is_closed(self) -> bool:
        return self.closed

    def terminate(self) -> None:
        self.closed = True

    async def close(self) -> None:
        self.closed = True


class Opener:
    def __init__(self) -> None:
        self.made: list[FakeConnection] = []
        self.refuse = False

    async def __call__(self) -> FakeConnection:
        if self.refuse:
            raise ConnectionRefusedError("the database is down")
        connection = FakeConnection(len(self.made))
        self.made.append(connection)
        return connection

    def busy(self) -> list[FakeConnection]:
        return [c for c in self.made if c.waiting()]


@pytest.fixture
def opener() -> Opener:
    return Opener()


async def test_statements_beyond_the_number_wait_and_are_served_in_turn(opener: Opener) -> None:
    readers = ReadConnections(opener, 2)
    tasks = [asyncio.create_task(readers.fetch("SELECT", ())) for _ in range(5)]
    await until(lambda: len(opener.busy()) == 2)
    assert len(opener.made) == 2 and len(readers.waiting) == 3

    for _ in range(5):
        await until(lambda: bool(opener.busy()))
        opener.busy()[0].release()
    results = await asyncio.gather(*tasks)

    assert len(opener.made) == 2, "never more connections than asked for"
    assert {r[0] for r in results} == {0, 1}
    assert readers.idle and not readers.waiting


async def test_a_failed_statement_keeps_its_connection_and_a_broken_one_is_replaced(opener: Opener) -> None:
    readers = ReadConnections(opener, 1)

    first = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: bool(opener.busy()))
    opener.made[0].release(ValueError("invalid input"))
    with pytest.raises(ValueError):
        await first

    second = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: bool(opener.busy()))
    assert len(opener.made) == 1, "a statement's own error leaves the connection usable"
    opener.made[0].closed = True  # the server went away under it
    opener.made[0].release(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await second

    third = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: bool(opener.busy()))
    opener.made[1].release()
    assert await third == [1]


async def test_a_cancelled_statement_drops_its_connection_and_the_waiting_one_opens_another(
    opener: Opener,
) -> None:
    readers = ReadConnections(opener, 1)
    leaving = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: bool(opener.busy()))
    waiting = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: len(readers.waiting) == 1)

    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving
    assert opener.made[0].closed, "what the server says next on it is unknown"

    await until(lambda: len(opener.made) == 2 and bool(opener.busy()))
    opener.made[1].release()
    assert await waiting == [1]
    assert readers.opened == 1


async def test_a_request_that_goes_away_as_it_is_handed_a_connection_passes_it_on(opener: Opener) -> None:
    readers = ReadConnections(opener, 1)
    first = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: bool(opener.busy()))
    leaving = asyncio.create_task(readers.fetch("SELECT", ()))
    staying = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: len(readers.waiting) == 2)

    opener.made[0].release()
    await until(lambda: first.done())  # the connection is now handed to `leaving`, which has not run yet
    leaving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await leaving

    await until(lambda: bool(opener.busy()))
    opener.made[0].release()
    assert await staying == [0]
    assert len(opener.made) == 1 and readers.idle == [opener.made[0]]


async def test_when_the_database_refuses_the_caller_hears_it_and_the_next_tries_again(opener: Opener) -> None:
    readers = ReadConnections(opener, 1)
    opener.refuse = True
    with pytest.raises(ConnectionRefusedError):
        await readers.fetch("SELECT", ())
    assert readers.opened == 0

    opener.refuse = False
    task = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: bool(opener.busy()))
    opener.made[0].release()
    assert await task == [0]


async def test_closing_closes_the_idle_and_later_the_busy(opener: Opener) -> None:
    readers = ReadConnections(opener, 2)
    idle = asyncio.create_task(readers.fetch("SELECT", ()))
    busy = asyncio.create_task(readers.fetch("SELECT", ()))
    await until(lambda: len(opener.busy()) == 2)
    opener.made[0].release()
    await idle

    await readers.close()
    assert opener.made[0].closed and not opener.made[1].closed
    opener.made[1].release()
    await busy
    assert opener.made[1].closed
    with pytest.raises(RuntimeError):
        await readers.fetch("SELECT", ())
