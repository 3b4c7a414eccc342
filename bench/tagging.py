"""How many feedback texts per second go through intake (saved text → tagged, stored, routed), next to the analyser?

    python -m bench.tagging [--texts 3000] [--database-url URL] [--keep]

Sets up a throw-away migrated SQLite database (or the PostgreSQL database named, dropped and recreated) with the
demo teams and starter routing rules, and stores `--texts` feedback sources in bulk: product reviews (stars),
order-survey responses (CSAT, with the order's items and categories) and suggestion-box notes (no score), in turn.
Their texts are the hand-labelled reviews of `tests/data/labelled_reviews.jsonl`, cycled, each with an order
reference appended so that no two are the same.

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
import asyncio
import json
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.harness import ROOT, bench_folder, free_port, log, migrated_app_env, run_bench, use_app_env

DATA = ROOT / "tests" / "data" / "labelled_reviews.jsonl"
SOURCES = ("review", "survey", "suggestion")
CATEGORIES = ("kitchen", "clothing", "electronics", "furniture", "cosmetics", "food")
BATCH = 500
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _texts() -> list[dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def plan(count: int) -> list[dict[str, Any]]:
    """Every source to store, as plain values: labelled texts cycled, sources in turn, a reference appended."""
    labelled = _texts()
    rows = []
    for n in range(1, count + 1):
        review = labelled[(n - 1) % len(labelled)]
        reference = f"(Bestellung {n:05d})" if review["language"] == "de" else f"(order {n:05d})"
        rows.append(
            {
                "n": n,
                "source": SOURCES[(n - 1) % len(SOURCES)],
                "text": f"{review['text']} {reference}",
                "language": review["language"],
                "stars": review["stars"],
                "category": CATEGORIES[n % len(CATEGORIES)],
                "at": NOW - timedelta(minutes=n),
            }
        )
    return rows


async def _write_batch(batch: list[dict[str, Any]]) -> None:
    from feedback.tables import Suggestion
    from reviews.tables import Review
    from shop.tables import Customer, Order, OrderItem
    from surveys.tables import Invitation, Response

    # Explicit ids (the database is new): one customer, order and item per source, no round trips for keys.
    await Customer.insert(
        *(Customer(id=r["n"], email=f"tag{r['n']}@example.com", name=f"Customer {r['n']}") for r in batch)
    )
    await Order.insert(
        *(
            Order(id=r["n"], external_id=f"T-{r['n']:06d}", placed_at=r["at"], total=Decimal("49.90"), customer=r["n"])
            for r in batch
        )
    )
    await OrderItem.insert(
        *(
            OrderItem(
                id=r["n"],
                order=r["n"],
                sku=f"SKU-{r['n'] % 50:03d}",
                name="Bench product",
                category=r["category"],
                price=Decimal("49.90"),
            )
            for r in batch
        )
    )
    reviews = [r for r in batch if r["source"] == "review"]
    if reviews:
        await Review.insert(
            *(
                Review(
                    id=r["n"],
                    order_item=r["n"],
                    customer=r["n"],
                    sku=f"SKU-{r['n'] % 50:03d}",
                    product_name="Bench product",
                    category=r["category"],
                    rating=r["stars"],
                    text=r["text"],
                    language=r["language"],
                    created_at=r["at"],
                    updated_at=r["at"],
                )
                for r in reviews
            )
        )
    surveys = [r for r in batch if r["source"] == "survey"]
    if surveys:
        await Invitation.insert(
            *(
                Invitation(
                    id=r["n"],
                    order=r["n"],
                    customer=r["n"],
                    dedupe_key=f"bench:{r['n']}",
                    status="sent",
                    due_at=r["at"],
                    expires_at=r["at"] + timedelta(days=30),
                    token=f"bench-{r['n']}",
                )
                for r in surveys
            )
        )
        await Response.insert(
            *(
                Response(
                    id=r["n"],
                    invitation=r["n"],
                    csat=r["stars"],
                    comment=r["text"],
                    locale=r["language"],
                    created_at=r["at"],
                    updated_at=r["at"],
                )
                for r in surveys
            )
        )
    suggestions = [r for r in batch if r["source"] == "suggestion"]
    if suggestions:
        await Suggestion.insert(
            *(Suggestion(id=r["n"], text=r["text"], locale=r["language"], created_at=r["at"]) for r in suggestions)
        )


async def _seed(rows: list[dict[str, Any]]) -> None:
    from accounts.services import create_team
    from operations.demo import seed_rules
    from reviews.tables import Review

    for team in ("Support", "Logistics", "Product"):
        await create_team(team)
    await seed_rules()
    db = Review._meta.db
    for start in range(0, len(rows), BATCH):
        async with db.transaction():
            await _write_batch(rows[start : start + BATCH])
    await db.run_ddl("ANALYZE")


async def _stored() -> dict[str, Any]:
    from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem

    items = await FeedbackItem.select(FeedbackItem.label, FeedbackItem.analysed_hash, FeedbackItem.routed_at)
    return {
        "items": len(items),
        "tagged": sum(1 for i in items if i["analysed_hash"]),
        "routed": sum(1 for i in items if i["routed_at"] is not None),
        "labels": dict(Counter(i["label"] or "none" for i in items).most_common()),
        "topics": await FeedbackTopic.count(),
        "inbox_items": await InboxItem.count(),
    }


def tag_all(rows: list[dict[str, Any]]) -> float:
    """Seconds to announce every source to the `feedback.ingest` task body, in the order saved, as a worker would."""
    from feedback.tasks import ingest_source

    started = time.perf_counter()
    for r in rows:
        ingest_source(r["source"], r["n"], NOW.isoformat())
    return time.perf_counter() - started


def analyse_all(rows: list[dict[str, Any]]) -> float:
    """Seconds for the in-process analyser (`afterglow analyse`) over the same texts, scores and language hints."""
    from feedback.analysis import analyse

    started = time.perf_counter()
    for r in rows:
        score = None if r["source"] == "suggestion" else r["stars"]
        analyse(r["text"], score=score, scale=(1, 5) if score is not None else None, language=r["language"])
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> dict[str, object]:
    if args.texts < 1:
        raise SystemExit("--texts must be at least 1")
    rows = plan(args.texts)
    with bench_folder(args) as data_dir:
        env = migrated_app_env(args, data_dir, free_port())
        use_app_env(env)
        asyncio.run(_seed(rows))
        log(f"{len(rows)} sources ({dict(Counter(r['source'] for r in rows))}) in {data_dir}")

        from feedback.analysis import analyse

        analyse("Warm-up: load the lexicons before the clock starts.")
        before_s = analyse_all(rows)  # the floor before and after intake: the machine's load drifts meanwhile
        tagged_s = tag_all(rows)
        log(f"intake: {len(rows)} in {tagged_s:.2f} s ({len(rows) / tagged_s:.1f}/s)")
        from afterglow.celery_app import run_async

        stored = run_async(_stored())  # on the tasks' loop: on PostgreSQL the worker's pool lives there
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
    parser.add_argument("--texts", type=int, default=3000, help="feedback sources to tag (default 3000)")
    parser.add_argument(
        "--database-url", default="", help="tag into this PostgreSQL database (dropped and recreated), not SQLite"
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder (database)")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
