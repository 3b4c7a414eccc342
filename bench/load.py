"""200 customers answering surveys at once, for a minute, against the app on PostgreSQL: nothing lost, nothing twice.

    python -m bench.load [--seconds 60] [--concurrency 200] [--database-url postgres://…/afterglow_load]

Seeds delivered orders and sends their invitations (through the services, as bench.survey_page does), serves
Afterglow with uvicorn (`--web-workers` processes, a PostgreSQL pool each) and runs the load from this second
process on loopback: each of `--concurrency` respondents owns a few invitations and keeps answering them as a
customer on a phone does: the score tapped in the email (htmx save), then the whole form, then again on another of
its invitations. Every answer carries a counter, so afterwards the database must hold exactly the last answer of
every invitation: a missing or older one is `lost`, a second response row is `duplicated`. Per-address rate limits
are off for the run (all customers come from 127.0.0.1).

The baseline, in the same run: plain `INSERT … ON CONFLICT DO UPDATE` into the same table through an asyncpg pool
of the same size as the app's, from the same number of concurrent tasks: `bare_insert_per_s`. `ratio` is
answers_per_s / bare_insert_per_s. The last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from dataclasses import dataclass, field

from bench.harness import (
    HOST,
    Call,
    LoadResult,
    _read_response,
    _Tally,
    bench_folder,
    bench_parser,
    free_port,
    log,
    migrated_app_env,
    run_bench,
    serve,
)
from bench.survey_page import SHOP_TIMEZONE, seed

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/afterglow_load"
POOL_SIZE = 10


@dataclass
class Respondent:
    """One customer: their survey links, and the last answer each link was given."""

    paths: list[str]
    last: dict[str, tuple[int, int, str]] = field(default_factory=dict)


async def respond(port: int, who: Respondent, number: int, tally: _Tally) -> None:
    """Answer this respondent's surveys over one keep-alive connection until the time is up."""
    reader, writer = await asyncio.open_connection(HOST, port)
    host = f"{HOST}:{port}"
    turn = 0
    try:
        while time.perf_counter() < tally.until:
            path = who.paths[turn % len(who.paths)]
            nps, csat = turn % 11, 1 + turn % 5
            comment = f"respondent {number} answer {turn}"
            for call in (
                Call.form(f"{path}/answer", {"nps": nps}, headers=(("HX-Request", "true"),)),
                Call.form(path, {"csat": csat, "nps": nps, "comment": comment}),
            ):
                started = time.perf_counter()
                try:
                    writer.write(call.wire(host))
                    status, keep_alive = await _read_response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    tally.record(started, time.perf_counter(), None, exc)
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
                    continue
                # A page post answers 303 (to the thank-you page); that is success here.
                tally.record(started, time.perf_counter(), 200 if status == 303 else status)
                if status in (200, 303) and not call.path.endswith("/answer"):
                    who.last[path] = (csat, nps, comment)
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
            turn += 1
    finally:
        writer.close()


async def run_load(port: int, respondents: list[Respondent], seconds: float, warmup: float) -> LoadResult:
    start = time.perf_counter()
    tally = _Tally(measure_from=start + warmup, until=start + warmup + seconds)
    await asyncio.gather(*(respond(port, who, n, tally) for n, who in enumerate(respondents)))
    return tally.result()


async def check_answers(database_url: str, respondents: list[Respondent]) -> tuple[int, int, int]:
    """(answers expected, lost, duplicated): the stored response of every answered link against its last answer."""
    import asyncpg

    from afterglow.db import postgres_config

    config = postgres_config(database_url)
    config.pop("server_settings")
    conn = await asyncpg.connect(**config)
    try:
        rows = await conn.fetch(
            "SELECT i.token, r.csat, r.nps, r.comment, count(*) OVER (PARTITION BY r.invitation) AS copies"
            " FROM response r JOIN invitation i ON i.id = r.invitation"
        )
    finally:
        await conn.close()
    stored = {row["token"]: row for row in rows}
    duplicated = sum(1 for row in rows if row["copies"] > 1)
    expected = lost = 0
    for who in respondents:
        for path, answer in who.last.items():
            expected += 1
            row = stored.get(token_of(path))
            if row is None or (row["csat"], row["nps"], row["comment"]) != answer:
                lost += 1
    return expected, lost, duplicated


def token_of(path: str) -> str:
    """The invitation token inside a signed survey path (`/s/<token>.<stamp>.<signature>`)."""
    return path.removeprefix("/s/").rsplit(".", 2)[0]


async def bare_inserts(database_url: str, concurrency: int, seconds: float) -> float:
    """Upserts per second straight into `response` through an asyncpg pool, over fresh invitation ids."""
    import asyncpg

    from afterglow.db import postgres_config

    config = postgres_config(database_url)
    config.pop("server_settings")
    pool = await asyncpg.create_pool(min_size=POOL_SIZE, max_size=POOL_SIZE, **config)
    try:
        ids = [row["id"] for row in await pool.fetch("SELECT id FROM invitation ORDER BY id")]
        done = 0
        until = time.perf_counter() + seconds

        async def insert(n: int) -> None:
            nonlocal done
            while time.perf_counter() < until:
                invitation = ids[(n + done) % len(ids)]
                await pool.execute(
                    "INSERT INTO response (invitation, csat, nps, comment, locale, created_at, updated_at)"
                    " VALUES ($1, 4, 9, 'bare', 'en', now(), now()) ON CONFLICT (invitation) DO UPDATE"
                    " SET csat = excluded.csat, nps = excluded.nps, comment = excluded.comment,"
                    " updated_at = excluded.updated_at",
                    invitation,
                )
                done += 1

        started = time.perf_counter()
        await asyncio.gather(*(insert(n) for n in range(concurrency)))
        return done / (time.perf_counter() - started)
    finally:
        await pool.close()


def run(args: argparse.Namespace) -> dict[str, object]:
    args.database_url = args.database_url or DEFAULT_DATABASE
    with bench_folder(args) as data_dir:
        port = free_port()
        env = migrated_app_env(
            args,
            data_dir,
            port,
            shop_timezone=SHOP_TIMEZONE,
            db_pool_size=str(POOL_SIZE),
            rate_link_per_link="0",
            rate_link_per_address="0",
        )
        count = args.concurrency * args.links
        log(f"seeding {count} invitations in {args.database_url}")
        paths = seed(env, count)
        respondents = [Respondent(paths[n :: args.concurrency]) for n in range(args.concurrency)]
        with serve(
            "app:create_app",
            factory=True,
            env=env,
            port=port,
            log_path=data_dir / "app.log",
            access_log=False,
            workers=args.web_workers,
        ) as app:
            log(f"{args.concurrency} respondents for {args.seconds:.0f} s")
            result = asyncio.run(run_load(app.port, respondents, args.seconds, args.warmup))
        log(f"answers: {result.summary()}")
        expected, lost, duplicated = asyncio.run(check_answers(args.database_url, respondents))
        log(f"checked {expected} answered links: {lost} lost, {duplicated} duplicated")
        bare = asyncio.run(bare_inserts(args.database_url, args.concurrency, min(args.seconds, 10.0)))
        log(f"bare upserts: {bare:.1f}/s")
    answers_per_s = result.rps
    return {
        "bench": "load",
        "respondents": args.concurrency,
        "seconds": args.seconds,
        "answers": result.count,
        "answers_per_s": round(answers_per_s, 1),
        "errors": result.errors,
        "lost": lost,
        "duplicated": duplicated,
        "p50_ms": round(result.p50_ms, 2),
        "p99_ms": round(result.p99_ms, 2),
        "bare_insert_per_s": round(bare, 1),
        "ratio": round(answers_per_s / bare, 3) if bare else 0.0,
        "web_workers": args.web_workers,
        **({"exceptions": result.exceptions} if result.exceptions else {}),
        "statuses": {str(k): v for k, v in sorted(result.statuses.items())},
    }


def parser() -> argparse.ArgumentParser:
    options = bench_parser("load", __doc__ or "")
    options.set_defaults(seconds=60.0, concurrency=200, warmup=0.0, web_workers=2)
    options.add_argument("--links", type=int, default=3, help="survey links per respondent (default 3)")
    return options


def main(argv: list[str] | None = None) -> None:
    run_bench(parser(), run, argv)


if __name__ == "__main__":
    main()
