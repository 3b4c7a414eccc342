"""How fast are the review widget and the rating API for a product with 10,000 reviews, next to a bare route?

    python -m bench.reviews_widget [--seconds 5] [--concurrency 32] [--reviews 10000] [--database-url URL]

Sets up a throw-away SQLite database (or the PostgreSQL database named, dropped and recreated) and fills it in
bulk: one product with `--reviews` published reviews (varied ratings, titles, texts, helpful counts and dates, some
with photos or a reply from the shop, plus some held and rejected ones that must not count), and a few hundred
reviews of other products; each review with the customer, order and order item it belongs to. Serves Afterglow
and `bench/bare_app.py` with uvicorn (1 worker, no access log, public rate limit off) on 127.0.0.1 and measures
phases of fixed length: GET the widget page (`/widget/products/<sku>`, newest first, its first page), GET the
rating (`/api/v1/products/<sku>/rating`), GET the bare route, and GET widget pages that are never cached
(`widget_uncached_rps`): 600 different pages (sorts, star filters, page numbers) in turn, more than a process keeps,
so that each request reads its page of reviews and renders it (the product's rating stays cached). Nothing is
written meanwhile, so the first two measure a web process answering from what it keeps (one read of the
product's version per batch of requests). Progress goes to stderr; the last line on stdout is one JSON object.
Non-2xx answers count as errors.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from bench.harness import (
    Call,
    bare_phase,
    bench_folder,
    bench_parser,
    free_port,
    log,
    migrated_app_env,
    phase,
    run_bench,
    server_options,
    use_app_env,
)
from bench.harness import serve as serve_app

SKU = "BENCH-KETTLE"
OTHER_PRODUCTS = 20
OTHER_REVIEWS = 300
#: Reviews of the main product that are not published (held by a rule, rejected): read past, never counted.
UNPUBLISHED = 200
BATCH = 500
#: Skewed like real shops: mostly 4 and 5 stars, a tail of 1s.
RATING_WEIGHTS = {5: 55, 4: 22, 3: 9, 2: 5, 1: 9}
TITLES = ["Great kettle", "Does the job", "Quiet and quick", "Not for me", "Lid broke after a month", "Love it", ""]
SENTENCES = [
    "Boils a full kettle in under three minutes.",
    "The lid opens with one hand, which I use every morning.",
    "Quieter than our old one, but the switch light is very bright.",
    "Limescale filter is easy to take out and rinse.",
    "Arrived quickly and well packed.",
    "The handle gets warm after a few boils in a row.",
    "Looks great on the counter; the steel shows fingerprints though.",
    "Started leaking at the base after two months, so one star off.",
    "Good value for the price.",
    "Bought it as a gift and they love it.",
]


def _text(rng: random.Random) -> str:
    return " ".join(rng.sample(SENTENCES, k=rng.randint(0, 5)))


def _plan(count: int, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    """Every review to write, as plain values: the main product's first, then the other products'."""
    plan = []
    total = count + UNPUBLISHED + OTHER_REVIEWS
    for n in range(total):
        if n < count + UNPUBLISHED:
            sku, name = SKU, "Bench kettle 1.7 l"
            status = "published" if n < count else rng.choice(["held", "rejected"])
        else:
            other = n % OTHER_PRODUCTS
            sku, name, status = f"BENCH-{other:03d}", f"Bench product {other}", "published"
        rating = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        plan.append(
            {
                "n": n + 1,
                "sku": sku,
                "name": name,
                "status": status,
                "rating": rating,
                "title": rng.choice(TITLES),
                "text": _text(rng),
                "helpful": int(rng.paretovariate(1.5)) - 1 if rng.random() < 0.4 else 0,
                "at": now - timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60)),
                "photo": rng.random() < 0.05,
                "reply": rng.random() < 0.05,
                "verified": rng.random() < 0.9,
            }
        )
    return plan


async def _write_batch(batch: list[dict[str, Any]]) -> None:
    from reviews.tables import Review, ReviewPhoto
    from shop.tables import Customer, Order, OrderItem

    # Explicit ids (the database is new): one row of each kind per review, no round trips for generated keys.
    await Customer.insert(
        *(Customer(id=r["n"], email=f"bench{r['n']}@example.com", name=f"Reader {r['n']}") for r in batch)
    )
    await Order.insert(
        *(
            Order(id=r["n"], external_id=f"BR-{r['n']:06d}", placed_at=r["at"], total=Decimal("39.90"), customer=r["n"])
            for r in batch
        )
    )
    await OrderItem.insert(
        *(OrderItem(id=r["n"], order=r["n"], sku=r["sku"], name=r["name"], price=Decimal("39.90")) for r in batch)
    )
    await Review.insert(
        *(
            Review(
                id=r["n"],
                order_item=r["n"],
                customer=r["n"],
                sku=r["sku"],
                product_name=r["name"],
                category="kitchen",
                rating=r["rating"],
                title=r["title"],
                text=r["text"],
                author_name=f"Reader {r['n'] % 997}.",
                verified=r["verified"],
                status=r["status"],
                held_rule="link" if r["status"] == "held" else "",
                reject_reason="spam" if r["status"] == "rejected" else "",
                helpful_count=r["helpful"],
                reply_text="Thank you for your review!" if r["reply"] else "",
                reply_at=r["at"] + timedelta(days=1) if r["reply"] else None,
                created_at=r["at"],
                updated_at=r["at"],
            )
            for r in batch
        )
    )
    photos = [r for r in batch if r["photo"]]
    if photos:
        await ReviewPhoto.insert(
            *(
                ReviewPhoto(
                    review=r["n"],
                    file_name=f"{r['n']:032x}.jpg",
                    content_type="image/jpeg",
                    width=1600,
                    height=1200,
                    size=250_000,
                )
                for r in photos
            )
        )


async def _seed(count: int) -> int:
    """Write the reviews in batches, each batch one transaction; returns how many were written."""
    from rich.progress import Progress

    from reviews.tables import Review

    plan = _plan(count, random.Random(20261123), datetime.now(UTC))
    db = Review._meta.db
    with Progress(transient=True, console=None) as progress:
        task = progress.add_task("seeding reviews", total=len(plan))
        for start in range(0, len(plan), BATCH):
            batch = plan[start : start + BATCH]
            async with db.transaction():
                await _write_batch(batch)
            progress.advance(task, len(batch))
    if db.engine_type == "postgres":
        # Explicit ids leave the sequences behind; later inserts (votes, new orders) must not collide.
        for table in ("customer", "order", "order_item", "review"):
            await db.run_ddl(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"
            )
    # As a long-running database would have them (autovacuum, or `ANALYZE` now and then): the planner's statistics,
    # and on PostgreSQL the visibility map, without which the counts cannot be answered from the indexes alone.
    await db.run_ddl("VACUUM ANALYZE" if db.engine_type == "postgres" else "ANALYZE")
    return len(plan)


def seed(env: dict[str, str], count: int) -> int:
    """Create the reviews in this process, against the same database the server will use."""
    use_app_env(env)
    return asyncio.run(_seed(count))


def _uncached_calls() -> list[Call]:
    """More widget pages than a web process keeps (reviews.controllers.widget), asked for in turn."""
    calls = []
    for sort in ("newest", "rating", "rating_asc", "helpful"):
        for stars in (None, 1, 2, 3, 4, 5):
            for page in range(1, 26):
                query = {"sort": sort, "page": page, **({"rating": stars} if stars else {})}
                calls.append(Call("GET", f"/widget/products/{SKU}?{urlencode(query)}"))
    return calls


def run(args: argparse.Namespace) -> dict[str, object]:
    with bench_folder(args) as data_dir:
        port = free_port()
        # The load comes from one address at many times a real reader's rate: measure the page, not the limiter.
        env = migrated_app_env(args, data_dir, port, rate_public_per_address="0")
        written = seed(env, args.reviews)
        log(f"{written} reviews ({args.reviews} published of {SKU}) in {data_dir}")
        with serve_app(
            "app:create_app", factory=True, env=env, port=port, log_path=data_dir / "app.log", **server_options(args)
        ) as app:
            widget = phase("widget page", app.port, [Call("GET", f"/widget/products/{SKU}")], args)
            rating = phase("rating api", app.port, [Call("GET", f"/api/v1/products/{SKU}/rating")], args)
            uncached = phase("widget page, uncached", app.port, _uncached_calls(), args)
            bare = bare_phase(args, data_dir)
    return {
        "bench": "reviews_widget",
        "database": "postgres" if args.database_url else "sqlite",
        "reviews": args.reviews,
        "widget_rps": round(widget.rps, 1),
        "rating_rps": round(rating.rps, 1),
        "widget_uncached_rps": round(uncached.rps, 1),
        "bare_rps": round(bare.rps, 1),
        "ratio": round(widget.rps / bare.rps, 3) if bare.rps else 0.0,
        "rating_ratio": round(rating.rps / bare.rps, 3) if bare.rps else 0.0,
        "widget_p50_ms": round(widget.p50_ms, 2),
        "widget_p99_ms": round(widget.p99_ms, 2),
        "rating_p99_ms": round(rating.p99_ms, 2),
        "errors": widget.errors + rating.errors + bare.errors,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
    }


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser("reviews_widget", __doc__ or "")
    parser.add_argument("--reviews", type=int, default=10_000, help="published reviews of the measured product")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
