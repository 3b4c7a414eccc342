"""How fast is the managers' dashboard at a million responses, next to the same figures as one hand-written query?

    python -m bench.dashboard [--rows 1000000] [--requests 20] [--database-url URL] [--reuse [--rebuild]]

Fills a PostgreSQL database (dropped and recreated; default the local `afterglow_bench_dash`) with `--rows`
feedback items over the last 365 days, with what they rest on (bench.dashboard_data): customers who order again
(5% of orders cancelled), orders and their items, invitations (about half never answered), survey responses,
product reviews (mostly published, some held or rejected), topics, and inbox items (routed to three teams, mostly
closed, some replied to). Rows are written with COPY in batches behind a progress bar, then the rollup is built
(`afterglow rebuild-dashboard`) and the tables analysed. `--reuse` measures the database as it is (migrated first;
`--rebuild` rebuilds its rollup). Serves Afterglow with uvicorn (1 worker, pool) and, signed in as a manager,
times sequential requests (median of `--requests` after three warm-ups):

- page_ms: the dashboard's main page as it opens (last 90 days by week: tiles against the 90 days before, five
  charts, topics on the move, the inbox now, the filter menus);
- trend_ms: the NPS trend by week for one year (`/app/dashboard/trend/nps?period=365d&grain=week`);
- retention_ms: the retention tab as it opens (answers of the last 90 days, the months they touch).

Next to them, the same figures as ONE hand-written query each, through asyncpg with no ORM (bench.dashboard_sql;
every score as feedback.dashboard.definitions counts it):

- sql_ms: the main page's figures over the feedback, invitations and topics themselves (no rollup); ratio =
  page_ms / sql_ms; trend_sql_ms likewise for the trend (trend_ratio);
- rollup_sql_ms, rollup_trend_sql_ms: the same over the tables the pages read (the rollup, the inbox; the floor):
  rollup_ratio, rollup_trend_ratio;
- retention_sql_ms: the retention tab's figures over the tables it reads (its rollup; the floor): retention_ratio
  = retention_ms / retention_sql_ms.

These run with PostgreSQL's JIT off (it compiled such one-off queries for seconds). retention_facts_ms is the
tab's figures computed in-process straight from the answers and orders, as the tab did before its rollup
(feedback.dashboard.retention.retention_from_facts).

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

from bench.dashboard_data import TIMEZONE, seed
from bench.dashboard_sql import (
    FACTS_SQL,
    RETENTION_ROLLUP_SQL,
    ROLLUP_PAGE_SQL,
    ROLLUP_TREND_SQL,
    TREND_SQL,
)
from bench.harness import (
    SERVER_OPTIONS,
    bench_folder,
    bench_parser,
    free_port,
    log,
    migrated_app_env,
    run_bench,
    run_python,
    use_app_env,
)
from bench.harness import serve as serve_app

DATABASE = "postgres://postgres@127.0.0.1:5432/afterglow_bench_dash"
PASSWORD = "bench-manager-pass"


async def _count() -> int:
    from feedback.tables import FeedbackItem

    return int(await FeedbackItem.count())


async def _timed(call: Callable[[], Awaitable[Any]], runs: int) -> float:
    """Median milliseconds of `runs` calls after three warm-ups."""
    for _ in range(3):
        await call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _measure(base_url: str, database_url: str, today: date, now: datetime, runs: int) -> dict[str, float]:
    import asyncpg

    from afterglow.db import postgres_config
    from feedback.dashboard.periods import Period, day_start
    from feedback.dashboard.retention import retention_from_facts
    from feedback.dashboard.segments import Segment

    start, previous = today - timedelta(days=89), today - timedelta(days=179)
    config = postgres_config(database_url)
    conn = await asyncpg.connect(**config)  # type: ignore[arg-type]
    # PostgreSQL's JIT compiles these one-off queries for seconds (their cost estimates are high): a floor without it
    await conn.execute("SET jit = off")
    figures: dict[str, float] = {}
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=60.0, trust_env=False) as http:
            form = await http.get("/login")
            token = http.cookies.get("csrftoken")
            signed = await http.post(
                "/login", data={"username": "bench-manager", "password": PASSWORD, "_csrf_token": token or ""}
            )
            assert signed.status_code in (200, 303), (form.status_code, signed.status_code, signed.text[:300])

            async def page(path: str) -> None:
                answer = await http.get(path)
                assert answer.status_code == 200, (path, answer.status_code, answer.text[:500])

            figures["page_ms"] = await _timed(lambda: page("/app/dashboard"), runs)
            figures["trend_ms"] = await _timed(lambda: page("/app/dashboard/trend/nps?period=365d&grain=week"), runs)
            figures["retention_ms"] = await _timed(lambda: page("/app/dashboard/retention"), runs)
        # the same figures as one hand-written query over the source tables, and over the tables the page reads
        instants = [day_start(day, TIMEZONE) for day in (previous, start, today + timedelta(days=1))]
        figures["sql_ms"] = await _timed(lambda: conn.fetch(FACTS_SQL, *instants, now), max(3, runs // 4))
        year = [day_start(day, TIMEZONE) for day in (today - timedelta(days=364), today + timedelta(days=1))]
        figures["trend_sql_ms"] = await _timed(lambda: conn.fetch(TREND_SQL, *year), max(3, runs // 4))
        days = (previous, start, today, now)
        figures["rollup_sql_ms"] = await _timed(lambda: conn.fetch(ROLLUP_PAGE_SQL, *days), runs)
        year_days = (today - timedelta(days=364), today)
        figures["rollup_trend_sql_ms"] = await _timed(lambda: conn.fetch(ROLLUP_TREND_SQL, *year_days), runs)
        retention_args = _retention_args(start, today, now)
        figures["retention_sql_ms"] = await _timed(lambda: conn.fetch(RETENTION_ROLLUP_SQL, *retention_args), runs)
        # what the tab cost before its rollup: the same figures computed from the answers and orders
        period = Period(start, today)
        figures["retention_facts_ms"] = await _timed(
            lambda: retention_from_facts(Segment(), period, now, TIMEZONE), max(3, runs // 4)
        )
    finally:
        await conn.close()
    return figures


def _retention_args(first: date, today: date, now: datetime) -> tuple[Any, ...]:
    """The parameters of RETENTION_ROLLUP_SQL for the tab as it opens (the last 90 days, by month)."""
    from feedback.dashboard.periods import Period, buckets, day_start, shop_day

    year_ago = now - timedelta(days=365)
    boundary = shop_day(year_ago, TIMEZONE)
    starts = [b.start for b in buckets(Period(first, today), "month")]
    bounds = [*starts, (starts[-1].replace(day=28) + timedelta(days=4)).replace(day=1)]
    return (first, today, boundary, day_start(boundary, TIMEZONE), year_ago, [*bounds, today], today, now)


def run(args: argparse.Namespace) -> dict[str, object]:
    args.database_url = args.database_url or DATABASE
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with bench_folder(args) as data_dir:
        port = free_port()
        if args.reuse:
            from bench.harness import afterglow_env

            env = afterglow_env(
                data_dir,
                f"http://127.0.0.1:{port}",
                api_key="bench-api-key",
                secret_key="bench-secret",
                database_url=args.database_url,
                shop_timezone=TIMEZONE,
            )
            log(f"reusing {args.database_url}")
            run_python("-m", "operations.cli", "migrate", env=env)
            if args.rebuild:
                run_python("-m", "operations.cli", "rebuild-dashboard", env=env)
        else:
            env = migrated_app_env(args, data_dir, port, shop_timezone=TIMEZONE)
            use_app_env(env)
            started = time.perf_counter()
            asyncio.run(seed(args.rows, now))
            log(f"{args.rows} responses written and rolled up in {time.perf_counter() - started:.0f} s")
            run_python(
                "-m",
                "operations.cli",
                "createuser",
                "--username",
                "bench-manager",
                "--email",
                "manager@bench.example",
                "--role",
                "manager",
                "--password",
                PASSWORD,
                env=env,
            )
        use_app_env(env)
        from feedback.dashboard.periods import shop_day

        today = shop_day(now, TIMEZONE)
        with serve_app(
            "app:create_app", factory=True, env=env, port=port, log_path=data_dir / "app.log", **SERVER_OPTIONS
        ) as app:
            figures = asyncio.run(_measure(app.base_url, args.database_url, today, now, args.requests))
    log(json.dumps(figures))
    page, trend = figures["page_ms"], figures["trend_ms"]
    rows = args.rows if not args.reuse else asyncio.run(_count())
    return {
        "bench": "dashboard",
        "rows": rows,
        "page_ms": round(page, 1),
        "trend_ms": round(trend, 1),
        "sql_ms": round(figures["sql_ms"], 1),
        "ratio": round(page / figures["sql_ms"], 3),
        "trend_sql_ms": round(figures["trend_sql_ms"], 1),
        "trend_ratio": round(trend / figures["trend_sql_ms"], 3),
        "rollup_sql_ms": round(figures["rollup_sql_ms"], 1),
        "rollup_ratio": round(page / figures["rollup_sql_ms"], 2),
        "rollup_trend_sql_ms": round(figures["rollup_trend_sql_ms"], 1),
        "rollup_trend_ratio": round(trend / figures["rollup_trend_sql_ms"], 2),
        "retention_ms": round(figures["retention_ms"], 1),
        "retention_sql_ms": round(figures["retention_sql_ms"], 1),
        "retention_ratio": round(figures["retention_ms"] / figures["retention_sql_ms"], 2),
        "retention_facts_ms": round(figures["retention_facts_ms"], 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser("dashboard", __doc__ or "")
    parser.add_argument("--rows", type=int, default=1_000_000, help="feedback items to generate (default 1,000,000)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (median; default 20)")
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is (no new data)")
    parser.add_argument("--rebuild", action="store_true", help="with --reuse: rebuild the rollup first")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
