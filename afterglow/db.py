"""Database engine construction and the few engine-specific details."""

from __future__ import annotations

from urllib.parse import urlparse

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine

from afterglow.settings import Settings


def postgres_config(url: str) -> dict[str, object]:
    parts = urlparse(url)
    return {
        "host": parts.hostname or "127.0.0.1",
        "port": parts.port or 5432,
        "user": parts.username or "postgres",
        "password": parts.password or "",
        "database": (parts.path or "/afterglow").lstrip("/"),
        "server_settings": {"timezone": "UTC"},
    }


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith(("postgres://", "postgresql://")):
        return PostgresEngine(config=postgres_config(url))
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
    else:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path = str(settings.sqlite_path)
    # A generous busy timeout lets the web process and the worker share one SQLite file.
    return SQLiteEngine(path=path, timeout=30)


def prepare_sqlite(engine: Engine) -> None:
    """Write-ahead logging lets the web process read while the worker writes; it is a property of the file."""
    if engine.engine_type != "sqlite":
        return
    import sqlite3

    with sqlite3.connect(engine.path) as conn:  # type: ignore[attr-defined]
        conn.execute("PRAGMA journal_mode=WAL")


def is_postgres(engine: Engine) -> bool:
    return engine.engine_type in {"postgres", "cockroach"}


async def _keep_session(connection: object) -> None:
    """asyncpg's default reset when a pooled connection comes back (UNLISTEN, CLOSE ALL, RESET ALL, advisory
    unlocks) is one more round trip after each of Piccolo's queries. Afterglow keeps no session state (no LISTEN,
    cursors, session settings or session-level advisory locks), and asyncpg still rolls back a transaction left
    open before calling this, so nothing more is needed."""


async def start_pool(engine: Engine, max_size: int) -> None:
    """A PostgreSQL connection pool for this process's event loop."""
    await engine.start_connection_pool(min_size=1, max_size=max_size, reset=_keep_session)  # type: ignore[attr-defined]


def _unique_violations() -> tuple[type[BaseException], ...]:
    import sqlite3

    from asyncpg.exceptions import UniqueViolationError

    return (sqlite3.IntegrityError, UniqueViolationError)


#: What a lost insert race raises on either engine.
UNIQUE_VIOLATIONS = _unique_violations()


def _unavailable() -> tuple[type[BaseException], ...]:
    import sqlite3

    from asyncpg.exceptions import InterfaceError, OperatorInterventionError, PostgresConnectionError

    return (
        PostgresConnectionError,  # the connection broke or could not be made
        OperatorInterventionError,  # the server is shutting down, or an admin ended the session
        InterfaceError,  # the connection was closed under us
        ConnectionError,  # refused or reset at the socket
        TimeoutError,
        sqlite3.OperationalError,  # a locked SQLite file, past the busy timeout
    )


#: What a database that is down, restarting or dropping connections raises: worth "please try again".
DATABASE_UNAVAILABLE = _unavailable()


async def recreate_postgres_database(url: str) -> None:
    """Drop and create the database named in `url` (tests and benchmarks start from empty)."""
    import asyncpg

    config = postgres_config(url)
    name = str(config.pop("database"))
    config.pop("server_settings")
    conn = await asyncpg.connect(database="postgres", **config)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
