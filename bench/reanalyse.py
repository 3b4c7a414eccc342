"""How many feedback texts per second does `afterglow reanalyse` re-tag with 2 worker processes, next to the analyser?

    python -m bench.reanalyse [--texts 100000] [--workers 2] [--database-url URL] [--keep]

Sets up a throw-away migrated SQLite database (or the PostgreSQL database named, dropped and recreated) with the
demo teams and starter routing rules, and stores `--texts` feedback sources as `bench.tagging` does (reviews,
order surveys and suggestions in turn, the hand-labelled texts cycled), each with its feedback item as an older
analyser left it (copied, no tags, not routed): the state a change to the analyser or the topics leaves behind.

Then two phases over the same texts, in the same run:

- `reanalyse`: the `afterglow reanalyse --workers N` command, as an operator runs it (its own process, which hands
  parts of consecutive ids to N worker processes; each reads its sources in batches, analyses them, writes tags and
  topics in bulk and routes each batch as a set), timed from start to exit.
- `analyser`: the in-process analyser alone (`feedback.analysis.analyse`, what `afterglow analyse` runs per line)
  over the same texts with the same scores and language hints, in one process: the floor.

Checks that every item was re-tagged and routed. Progress goes to stderr; the last line on stdout is one JSON
object: `reanalyse_per_s`, `analyser_per_s`, `ratio` (reanalyse over analyser) and `seconds`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import subprocess
import sys
import time
from collections import Counter
from typing import Any

from bench.harness import ROOT, bench_folder, free_port, log, migrated_app_env, run_bench, use_app_env
from bench.tagging import BATCH, NOW, analyse_all, plan
from bench.tagging import _seed as seed_sources

KINDS = {"review": "review", "survey": "order", "suggestion": "suggestion"}


async def _items(rows: list[dict[str, Any]]) -> None:
    """Each source's feedback item as an older analyser left it: copied, untagged, unrouted."""
    from feedback.tables import FeedbackItem

    db = FeedbackItem._meta.db
    for start in range(0, len(rows), BATCH):
        async with db.transaction():
            await FeedbackItem.insert(
                *(
                    FeedbackItem(
                        id=r["n"],
                        source=r["source"],
                        source_id=r["n"],
                        source_key=f"{r['source']}:{r['n']}",
                        kind=KINDS[r["source"]],
                        text=r["text"],
                        thread_token=secrets.token_urlsafe(16)[:22],
                        created_at=r["at"],
                        updated_at=r["at"],
                    )
                    for r in rows[start : start + BATCH]
                )
            )
    await db.run_ddl("ANALYZE")


async def _stored() -> dict[str, Any]:
    from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem

    items = await FeedbackItem.select(FeedbackItem.analysed_hash, FeedbackItem.routed_at)
    return {
        "items": len(items),
        "tagged": sum(1 for i in items if i["analysed_hash"]),
        "routed": sum(1 for i in items if i["routed_at"] is not None),
        "topics": await FeedbackTopic.count(),
        "inbox_items": await InboxItem.count(),
    }


def reanalyse(env: dict[str, str], workers: int) -> tuple[float, dict[str, Any]]:
    """Seconds for `afterglow reanalyse --workers N`, start to exit, and its summary line."""
    command = [sys.executable, "-m", "operations.cli", "reanalyse", "--workers", str(workers), "--now", NOW.isoformat()]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"afterglow reanalyse exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds, json.loads(done.stdout.strip().splitlines()[-1])


def run(args: argparse.Namespace) -> dict[str, object]:
    if args.texts < 1 or args.workers < 1:
        raise SystemExit("--texts and --workers must be at least 1")
    rows = plan(args.texts)
    with bench_folder(args) as data_dir:
        env = migrated_app_env(args, data_dir, free_port())
        use_app_env(env)
        asyncio.run(seed_sources(rows))
        asyncio.run(_items(rows))
        log(f"{len(rows)} sources and items ({dict(Counter(r['source'] for r in rows))}) in {data_dir}")

        seconds, summary = reanalyse(env, args.workers)
        log(f"reanalyse: {len(rows)} in {seconds:.2f} s ({len(rows) / seconds:.1f}/s), {json.dumps(summary)}")
        stored = asyncio.run(_stored())
        log(f"stored: {json.dumps(stored)}")
        if not (stored["items"] == stored["tagged"] == stored["routed"] == summary["reanalysed"] == len(rows)):
            raise SystemExit(f"expected {len(rows)} re-tagged and routed feedback items, found {stored}, {summary}")

        from feedback.analysis import analyse

        analyse("Warm-up: load the lexicons before the clock starts.")
        floor_s = analyse_all(rows)
        log(f"analyser: {len(rows)} in {floor_s:.2f} s ({len(rows) / floor_s:.1f}/s)")
    per_s, floor_per_s = len(rows) / seconds, len(rows) / floor_s
    return {
        "bench": "reanalyse",
        "database": "postgres" if args.database_url else "sqlite",
        "texts": len(rows),
        "workers": args.workers,
        "seconds": round(seconds, 1),
        "reanalyse_per_s": round(per_s, 1),
        "analyser_per_s": round(floor_per_s, 1),
        "ratio": round(per_s / floor_per_s, 4),
        "topics": stored["topics"],
        "inbox_items": stored["inbox_items"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.reanalyse", description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=100_000, help="feedback items to re-tag (default 100000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument(
        "--database-url", default="", help="use this PostgreSQL database (dropped and recreated), not SQLite"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder (database)")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
