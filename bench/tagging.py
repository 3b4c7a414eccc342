"""How many feedback texts per second go through intake (saved text → tagged, stored, routed), next to the analyser?

    python -m bench.tagging [--texts 3000] [--database-url URL] [--keep]

Stores `--texts` feedback sources in a throw-away database as `bench.feedback_sources` describes (product reviews,
order-survey responses and suggestion-box notes, in turn, their texts the hand-labelled reviews cycled).

Then two phases over the same texts, in the same run:

- `intake`: every source announced to the `feedback.ingest` Celery task, in the order saved, its body run as a
  worker runs it (the worker's event loop, kept from task to task): an announcement takes what else is pending
  along as one batch (read in one query per kind, analysed in this process, items, tags and topics written in bulk,
  routed as a set, notifications handed over), and the announcements of sources a batch already took find them
  current and do nothing more.
- `analyser`: the in-process analyser alone (`feedback.analysis.analyse`, what `afterglow analyse` runs per line)
  over the same texts with the same scores and language hints, in one process: the floor, measured before and
  after intake and averaged (a shared machine's load drifts).

Checks that every source became exactly one tagged, routed feedback item. Progress goes to stderr; the last line on
stdout is one JSON object: `intake_per_s`, `analyser_per_s` and `ratio` (intake over analyser).
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from bench.feedback_sources import NOW, add_options, analyse_all, seeded, stored_items, warm_analyser
from bench.harness import log, run_bench


def tag_all(rows: list[dict[str, Any]]) -> float:
    """Seconds to announce every source to the `feedback.ingest` task body, in the order saved, as a worker would."""
    from feedback.tasks import ingest_source

    started = time.perf_counter()
    for r in rows:
        ingest_source(r["source"], r["n"], NOW.isoformat())
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> dict[str, object]:
    with seeded(args) as (rows, _env):
        warm_analyser()
        before_s = analyse_all(rows)  # the floor before and after intake: the machine's load drifts meanwhile
        tagged_s = tag_all(rows)
        log(f"intake: {len(rows)} in {tagged_s:.2f} s ({len(rows) / tagged_s:.1f}/s)")
        from afterglow.celery_app import run_async

        stored = run_async(stored_items(labels=True))  # on the tasks' loop: on PostgreSQL the worker's pool lives there
        log(f"stored: {json.dumps(stored)}")
        if stored["items"] != len(rows) or stored["tagged"] != len(rows) or stored["routed"] != len(rows):
            raise SystemExit(f"expected {len(rows)} tagged and routed feedback items, found {stored}")
        after_s = analyse_all(rows)
        floor_s = (before_s + after_s) / 2
        log(f"analyser: {len(rows)} in {before_s:.2f} s before, {after_s:.2f} s after ({len(rows) / floor_s:.1f}/s)")
    tagged_per_s = len(rows) / tagged_s
    floor_per_s = len(rows) / floor_s
    return {
        "bench": "tagging",
        "database": "postgres" if args.database_url else "sqlite",
        "texts": len(rows),
        "intake_per_s": round(tagged_per_s, 1),
        "analyser_per_s": round(floor_per_s, 1),
        "ratio": round(tagged_per_s / floor_per_s, 4),
        "ms_per_text": round(1000 * tagged_s / len(rows), 2),
        "topics": stored["topics"],
        "inbox_items": stored["inbox_items"],
        "labels": stored["labels"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.tagging", description=(__doc__ or "").split("\n\n")[0])
    add_options(
        parser, 3000, "feedback sources to tag", "tag into this PostgreSQL database (dropped and recreated), not SQLite"
    )
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
