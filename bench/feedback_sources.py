"""The feedback sources `bench.tagging` and `bench.reanalyse` store, and the analyser floor they measure next to them.

`seeded` sets up a throw-away migrated SQLite database (or the PostgreSQL database named, dropped and recreated)
with the demo teams and starter routing rules, and stores `--texts` feedback sources in bulk: product reviews
(stars), order-survey responses (CSAT, with the order's items and categories) and suggestion-box notes (no score),
in turn. Their texts are the hand-labelled reviews of `tests/data/labelled_reviews.jsonl`, cycled, each with an
order reference appended so that no two are the same.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench.harness import ROOT, bench_folder, free_port, log, migrated_app_env, use_app_env

DATA = ROOT / "tests" / "data" / "labelled_reviews.jsonl"
SOURCES = ("review", "survey", "suggestion")
CATEGORIES = ("kitchen", "clothing", "electronics", "furniture", "cosmetics", "food")
BATCH = 500
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

Row = dict[str, Any]
#: Writes one batch of rows (inside the transaction `write_in_batches` opens).
Writer = Callable[[list[Row]], Awaitable[None]]


def add_options(parser: argparse.ArgumentParser, texts: int, texts_help: str, database_help: str) -> None:
    """The seeding's options: `--texts` (default `texts`), `--database-url` and `--keep`."""
    parser.add_argument("--texts", type=int, default=texts, help=f"{texts_help} (default {texts})")
    parser.add_argument("--database-url", default="", help=database_help)
    parser.add_argument("--keep", action="store_true", help="keep the data folder (database)")


def _texts() -> list[dict[str, Any]]:
    with DATA.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def plan(count: int) -> list[Row]:
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


async def _write_sources(batch: list[Row]) -> None:
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


async def write_in_batches(rows: list[Row], write: Writer) -> None:
    """`write` the rows `BATCH` at a time, a transaction each, then refresh the planner's statistics."""
    from reviews.tables import Review

    db = Review._meta.db  # every table's engine is the app's one database
    for start in range(0, len(rows), BATCH):
        async with db.transaction():
            await write(rows[start : start + BATCH])
    await db.run_ddl("ANALYZE")


async def seed(rows: list[Row], *more: Writer) -> None:
    """The demo teams and starter rules, the sources, then whatever `more` writes for the same rows."""
    from accounts.services import create_team
    from operations.demo import seed_rules

    for team in ("Support", "Logistics", "Product"):
        await create_team(team)
    await seed_rules()
    for write in (_write_sources, *more):
        await write_in_batches(rows, write)


@contextlib.contextmanager
def seeded(
    args: argparse.Namespace, *more: Writer, stored: str = "sources"
) -> Iterator[tuple[list[Row], dict[str, str]]]:
    """A migrated app's database in a fresh data folder with `--texts` sources (and `more`), and this process
    pointed at it: the rows stored and the app's environment. `stored` names what was stored, for the log."""
    if args.texts < 1:
        raise SystemExit("--texts must be at least 1")
    rows = plan(args.texts)
    with bench_folder(args) as data_dir:
        env = migrated_app_env(args, data_dir, free_port())
        use_app_env(env)
        asyncio.run(seed(rows, *more))
        log(f"{len(rows)} {stored} ({dict(Counter(r['source'] for r in rows))}) in {data_dir}")
        yield rows, env


async def stored_items(labels: bool = False) -> dict[str, Any]:
    """The feedback items there are, how many are tagged and routed (and their labels), the topics, inbox items."""
    from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem

    items = await FeedbackItem.select(FeedbackItem.label, FeedbackItem.analysed_hash, FeedbackItem.routed_at)
    found: dict[str, Any] = {
        "items": len(items),
        "tagged": sum(1 for i in items if i["analysed_hash"]),
        "routed": sum(1 for i in items if i["routed_at"] is not None),
    }
    if labels:
        found["labels"] = dict(Counter(i["label"] or "none" for i in items).most_common())
    found["topics"] = await FeedbackTopic.count()
    found["inbox_items"] = await InboxItem.count()
    return found


def warm_analyser() -> None:
    from feedback.analysis import analyse

    analyse("Warm-up: load the lexicons before the clock starts.")


def analyse_all(rows: list[Row]) -> float:
    """Seconds for the in-process analyser (`afterglow analyse`) over the same texts, scores and language hints."""
    from feedback.analysis import analyse

    started = time.perf_counter()
    for r in rows:
        score = None if r["source"] == "suggestion" else r["stars"]
        analyse(r["text"], score=score, scale=(1, 5) if score is not None else None, language=r["language"])
    return time.perf_counter() - started
