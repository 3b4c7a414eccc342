"""How many feedback texts per second does `afterglow reanalyse` re-tag with 2 worker processes, next to the analyser?

    python -m bench.reanalyse [--texts 100000] [--workers 2] [--database-url URL] [--keep]

Stores `--texts` feedback sources in a throw-away database as `bench.feedback_sources` describes (reviews, order
surveys and suggestions in turn, the hand-labelled texts cycled), each with its feedback item as an older analyser
left it (copied, no tags, not routed): the state a change to the analyser or the topics leaves behind.

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
from typing import Any

from bench.feedback_sources import NOW, Row, add_options, analyse_all, seeded, stored_items, warm_analyser
from bench.harness import ROOT, log, run_bench

KINDS = {"review": "review", "survey": "order", "suggestion": "suggestion"}


async def _items(batch: list[Row]) -> None:
    """Each source's feedback item as an older analyser left it: copied, untagged, unrouted."""
    from feedback.tables import FeedbackItem

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
            for r in batch
        )
    )


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
    with seeded(args, _items, stored="sources and items") as (rows, env):
        seconds, summary = reanalyse(env, args.workers)
        log(f"reanalyse: {len(rows)} in {seconds:.2f} s ({len(rows) / seconds:.1f}/s), {json.dumps(summary)}")
        stored = asyncio.run(stored_items())
        log(f"stored: {json.dumps(stored)}")
        if not (stored["items"] == stored["tagged"] == stored["routed"] == summary["reanalysed"] == len(rows)):
            raise SystemExit(f"expected {len(rows)} re-tagged and routed feedback items, found {stored}, {summary}")

        warm_analyser()
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
    add_options(
        parser, 100_000, "feedback items to re-tag", "use this PostgreSQL database (dropped and recreated), not SQLite"
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
