"""Hand-written reads for the hottest pages: one statement each, no query building.

A profile of the survey page put most of its CPU into Piccolo building and decoding queries; these statements are
written once. On PostgreSQL a web process runs them on connections of their own (`afterglow.readers`), elsewhere
on the engine's pool (asyncpg keeps each statement prepared per connection); on SQLite on one read-only
connection per process, used from the event loop's thread: a read of a few indexed rows takes microseconds, less
than handing it to a thread. In write-ahead-log mode a reader never waits for a writer,
and each statement sees what was committed before it began.

Statements use PostgreSQL's `$1` placeholders; SQLite is given the same numbers as `?1`. `any_of(n)` is the
dialect's test of membership in a list passed as parameter `n`.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from piccolo.engine import engine_finder
from piccolo.engine.base import Engine

from afterglow import readers
from afterglow.db import is_postgres

_PLACEHOLDER = re.compile(r"\$(\d+)")
Row = Mapping[str, Any]


@lru_cache(maxsize=1)
def _engine() -> Engine:
    """piccolo_conf's engine: chosen once per process, as Piccolo's tables do."""
    engine = engine_finder()
    if engine is None:  # pragma: no cover - piccolo_conf always names one
        raise RuntimeError("no database engine configured")
    return engine


def postgres() -> bool:
    return is_postgres(_engine())


def any_of(number: int) -> str:
    """`= ANY($n)` on PostgreSQL; on SQLite the list travels as a JSON array."""
    return f"= ANY(${number})" if postgres() else f"IN (SELECT value FROM json_each(${number}))"


def json_object_agg(key: str, value: str) -> str:
    """An aggregate of rows into one JSON object text (`{key: value, ...}`; NULL for no rows), `value` a JSON
    column."""
    if postgres():
        return f"json_object_agg({key}, {value})::text"
    return f"json_group_object({key}, json({value}))"


def list_param(values: Sequence[Any]) -> Any:
    """A list for an `any_of` parameter."""
    if postgres():
        return list(values)
    import json

    return json.dumps(list(values))


@lru_cache(maxsize=256)
def _sqlite_text(sql: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", sql)


class _SQLiteReader:
    """One read-only connection per database file, opened on first use and again when the file is replaced."""

    def __init__(self) -> None:
        self.file: tuple[str, int, int] = ("", 0, 0)
        self.connection: sqlite3.Connection | None = None

    def get(self, path: str) -> sqlite3.Connection:
        found = os.stat(path)
        file = (path, found.st_dev, found.st_ino)
        if self.connection is None or self.file != file:
            self.close()
            connection = sqlite3.connect(
                path,
                timeout=5,
                check_same_thread=False,
                isolation_level=None,
                detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES,
            )
            connection.execute("PRAGMA query_only = 1")
            connection.row_factory = sqlite3.Row
            self.connection, self.file = connection, file
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
        self.connection = None


#: Readers by (process, thread): a connection is never shared across a fork or between threads.
_readers: dict[tuple[int, int], _SQLiteReader] = {}


def _reader() -> _SQLiteReader:
    key = (os.getpid(), threading.get_ident())
    reader = _readers.get(key)
    if reader is None:
        reader = _readers[key] = _SQLiteReader()
    return reader


#: The PostgreSQL connection `one_connection()` holds for the reads inside it.
_held: ContextVar[Any] = ContextVar("hotsql_connection", default=None)


@asynccontextmanager
async def one_connection() -> AsyncIterator[None]:
    """The reads inside share one pooled PostgreSQL connection: one checkout for a page's few statements. No ORM
    query may run inside: it would wait for a second connection from the same pool."""
    engine = _engine()
    pool = getattr(engine, "pool", None)
    if pool is None or _held.get() is not None:
        yield
        return
    async with pool.acquire() as connection:
        token = _held.set(connection)
        try:
            yield
        finally:
            _held.reset(token)


def _in_transaction(engine: Engine) -> Any:
    """The connection of the ORM transaction this code runs in, if any: a statement there sees its writes."""
    transaction = engine.current_transaction.get()  # type: ignore[attr-defined]
    return transaction.connection if transaction is not None else None


async def _on_postgres(engine: Engine, held: Any, sql: str, args: tuple[Any, ...]) -> list[Row]:
    """On the connection given, else on the web process's read connections, else one from the pool, else a
    connection of its own."""
    if held is not None:
        return list(await held.fetch(sql, *args))
    kept = readers.current()
    if kept is not None:
        return await kept.fetch(sql, args)
    pool = getattr(engine, "pool", None)
    if pool is not None:
        return list(await pool.fetch(sql, *args))
    connection = await engine.get_new_connection()  # type: ignore[attr-defined]
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


async def fetch(sql: str, *args: Any) -> list[Row]:
    """The rows of one read-only statement (inside an ORM transaction, on its connection)."""
    engine = _engine()
    joined = _in_transaction(engine)
    if is_postgres(engine):
        return await _on_postgres(engine, joined or _held.get(), sql, args)
    if joined is not None:
        async with joined.execute(_sqlite_text(sql), args) as cursor:
            return list(await cursor.fetchall())
    connection = _reader().get(engine.path)  # type: ignore[attr-defined]
    return connection.execute(_sqlite_text(sql), args).fetchall()


async def write(sql: str, *args: Any) -> list[Row]:
    """One writing statement on PostgreSQL (on SQLite writes go through the ORM's connections, which wait for
    the file's lock off the event loop)."""
    engine = _engine()
    if not is_postgres(engine):
        raise RuntimeError("hotsql.write is for PostgreSQL")
    return await _on_postgres(engine, _in_transaction(engine), sql, args)
