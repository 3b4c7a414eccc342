"""What a single read statement costs the web process on PostgreSQL: through asyncpg's pool, through the web
process's read connections (`afterglow.readers`), and on connections each used by one task alone (the floor).

    python -m bench.read_connections [--statements 20000] [--tasks 32] [--connections 8]

`--tasks` tasks send `SELECT $1::int` one after another, `--statements` in all, as a web process's requests do
under load: through a pool of `--connections` connections, through `ReadConnections` of as many, and on
`--connections` tasks each owning a connection. Each figure is this process's CPU time per statement (the
server's work is not counted). The last line on stdout is one JSON object; its `ratio` is the floor's CPU over the
read connections' (1.0: handing out connections costs nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from itertools import count
from typing import Any

from bench.harness import log

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
STATEMENT = "SELECT $1::int"


async def _cpu_per_statement(tasks: int, statements: int, fetch: Callable[[int], Awaitable[Any]]) -> float:
    """Microseconds of this process's CPU per statement, `tasks` tasks sending `statements` in all."""
    numbers = count()

    async def task() -> None:
        while (n := next(numbers)) < statements:
            await fetch(n)

    started = time.process_time()
    await asyncio.gather(*(task() for _ in range(tasks)))
    return (time.process_time() - started) / statements * 1e6


async def measure(url: str, statements: int, tasks: int, connections: int) -> dict[str, object]:
    import asyncpg

    from afterglow.readers import ReadConnections

    pool = await asyncpg.create_pool(url, min_size=connections, max_size=connections)
    readers = ReadConnections(lambda: asyncpg.connect(url), connections)
    own = [await asyncpg.connect(url) for _ in range(connections)]
    try:
        figures: dict[str, float] = {}
        for _ in range(2):  # the first round warms up connections and prepared statements
            figures["pool_us"] = await _cpu_per_statement(tasks, statements, lambda n: pool.fetch(STATEMENT, n))
            figures["readers_us"] = await _cpu_per_statement(
                tasks, statements, lambda n: readers.fetch(STATEMENT, (n,))
            )
            per_owner = statements // connections
            started = time.process_time()
            await asyncio.gather(*(_alone(connection, per_owner) for connection in own))
            figures["floor_us"] = (time.process_time() - started) / (per_owner * connections) * 1e6
            log(json.dumps({key: round(value, 1) for key, value in figures.items()}))
    finally:
        await pool.close()
        await readers.close()
        await asyncio.gather(*(connection.close() for connection in own))
    return {
        "bench": "read_connections",
        "statements": statements,
        "concurrency": tasks,
        "connections": connections,
        **{key: round(value, 1) for key, value in figures.items()},
        "pool_ratio": round(figures["floor_us"] / figures["pool_us"], 3),
        "ratio": round(figures["floor_us"] / figures["readers_us"], 3),
    }


async def _alone(connection: Any, statements: int) -> None:
    for n in range(statements):
        await connection.fetch(STATEMENT, n)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.read_connections", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--database-url", default=DEFAULT_URL, help="a PostgreSQL database to connect to (read only)")
    parser.add_argument("--statements", type=int, default=20000)
    parser.add_argument("--tasks", type=int, default=32)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        run = asyncio.run
    else:
        run = uvloop.run
    result = run(measure(args.database_url, args.statements, args.tasks, args.connections))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
