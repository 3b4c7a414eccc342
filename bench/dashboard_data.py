"""The bench's shop for `bench.dashboard`: `rows` feedback items over the last 365 days and every table they rest
on, written with COPY in batches, then the dashboard's rollup built as `afterglow rebuild-dashboard` builds it."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from afterglow.kinds import NPS_GROUPS
from bench.harness import log

TIMEZONE = "Europe/Berlin"
DAYS = 365
BATCH = 20_000
KINDS = {"order": 58, "support": 12, "review": 25, "suggestion": 5}
CHANNELS = {"web": 60, "app": 30, "marketplace": 10}
LANGUAGES = {"en": 50, "de": 35, "hu": 15}
CATEGORIES = ("kitchen", "garden", "toys", "fashion", "books", "sports", "beauty", "office", "pets", "electronics")
TOPICS = ("delivery", "packaging", "product quality", "size/fit", "price", "support", "website/checkout")
TEAMS = ("Support", "Logistics", "Product")
LABELS = ("positive", "neutral", "negative", "mixed")


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


#: The columns written, per table, parents before children (so every batch finds the rows its keys point at).
COLUMNS = {
    "team": "id name slug created_at",
    "customer": "id email name locale timezone created_at",
    "order": "id external_id channel placed_at currency total customer complaint_open cancelled_at created_at",
    "order_item": "id order sku name category quantity price",
    "review": "id order_item customer sku product_name category rating title text language author_name verified "
    "status held_rule reject_reason reply_text helpful_count source photo_urls created_at updated_at",
    "invitation": "id order customer kind dedupe_key agent status due_at expires_at skip_reason hold_reason sent_at "
    "opened_at answered_at token created_at",
    "response": "id invitation csat nps comment locale created_at updated_at",
    "feedback_item": "id source source_id source_key kind customer order email name csat nps rating title text "
    "locale channel categories sku product_name agent language polarity subjectivity auto_label label_source "
    "flagged sentences aspects auto_topics analysed_hash analysed_at label label_corrected_by topics_corrected_by "
    "routing routed_at first_reply_at thread_token created_at updated_at",
    "feedback_topic": "id feedback topic phrase polarity origin created_at",
    "inbox_item": "id feedback team key rule_name status priority due_at responded_at resolved_at created_at "
    "updated_at",
}
TABLES = tuple(COLUMNS)


class Writer:
    """COPY rows into tables in batches over one asyncpg connection (all tables at once, parents first)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
        self.ids = dict.fromkeys(TABLES, 0)

    def next_id(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table]

    async def add(self, table: str, *row: Any) -> None:
        self.rows[table].append(row)
        if len(self.rows[table]) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        for table, rows in self.rows.items():
            if rows:
                await self.conn.copy_records_to_table(table, records=rows, columns=COLUMNS[table].split())
                rows.clear()


class Shop:
    """The rows behind feedback items: orders with their items, invitations (answered or not)."""

    def __init__(self, out: Writer, rng: random.Random, now: datetime) -> None:
        self.out, self.rng, self.now = out, rng, now
        self.products = [(f"SKU-{p:04d}", CATEGORIES[p % len(CATEGORIES)]) for p in range(500)]

    async def order(self, customer: int, placed: datetime, channel: str) -> tuple[int, list[tuple[int, str, str]]]:
        """An order (5% cancelled, which retention does not count) and its lines: (item id, sku, category)."""
        order_id = self.out.next_id("order")
        total = Decimal(self.rng.randint(900, 19900)) / 100
        cancelled = placed + timedelta(hours=2) if self.rng.random() < 0.05 else None
        await self.out.add(
            "order", order_id, f"BD-{order_id}", channel, placed, "EUR", total, customer, False, cancelled, placed
        )
        lines = []
        for sku, category in self.rng.sample(self.products, k=self.rng.choice((1, 1, 1, 2, 3))):
            item = self.out.next_id("order_item")
            await self.out.add("order_item", item, order_id, sku, f"Product {sku}", category, 1, Decimal("19.90"))
            lines.append((item, sku, category))
        return order_id, lines

    async def review(self, customer: int, item: tuple[int, str, str], rating: int, created: datetime) -> int:
        """A review of one order line: 90% published, 4% held for a moderator, 6% rejected (not on the shop)."""
        review_id, (item_id, sku, category) = self.out.next_id("review"), item
        status = self.rng.choices(("published", "held", "rejected"), weights=(90, 4, 6))[0]
        await self.out.add(
            "review", review_id, item_id, customer, sku, f"Product {sku}", category, rating, "", "", "en", "", True,
            status, "", "", "", 0, "", "[]", created, created,
        )  # fmt: skip
        return review_id

    async def invitation(
        self, order: int, customer: int, kind: str, planned: datetime, answered: datetime | None
    ) -> int:
        """Sent an hour after it was planned (8% never are); opened before the answer, or by 45% of the others."""
        rng, invitation_id = self.rng, self.out.next_id("invitation")
        sent = planned + timedelta(hours=1) if answered or rng.random() < 0.92 else None
        opened = answered - timedelta(minutes=10) if answered else None
        if sent and not answered and rng.random() < 0.45:
            opened = min(self.now, sent + timedelta(hours=rng.randint(1, 72)))
        await self.out.add(
            "invitation", invitation_id, order, customer, kind, f"bench:{invitation_id}", "",
            "sent" if sent else "skipped", planned, planned + timedelta(days=30), "" if sent else "fatigue", "",
            sent, opened, answered, f"t{invitation_id}", planned,
        )  # fmt: skip
        return invitation_id


def _scores(rng: random.Random, kind: str, created: datetime, now: datetime) -> tuple[Any, ...]:
    """CSAT, NPS (promoters up to 8 points more in one half of the year) and stars, and a label that mostly agrees."""
    season = math.sin(2 * math.pi * (created - now).days / DAYS)
    csat = nps = rating = None
    if kind in ("order", "support"):
        csat = rng.choices((5, 4, 3, 2, 1), weights=(45, 25, 12, 8, 10))[0]
    if kind == "order":
        draw = rng.random()
        promoters, passives, detractors = (NPS_GROUPS[g] for g in ("promoters", "passives", "detractors"))
        nps = rng.randint(*promoters) if draw < 0.45 + 0.08 * season else rng.randint(*passives)
        nps = rng.randint(*detractors) if draw > 0.75 + 0.06 * season else nps
    if kind == "review":
        rating = rng.choices((5, 4, 3, 2, 1), weights=(55, 22, 9, 5, 9))[0]
    score = rating or csat
    if score is None:
        label = rng.choice(LABELS)
    elif score >= 4 and rng.random() < 0.8:
        label = "positive"
    elif score <= 2 and rng.random() < 0.8:
        label = "negative"
    else:
        label = rng.choice(LABELS)
    return csat, nps, rating, label


async def _generate(conn: Any, rows: int, now: datetime, rng: random.Random, tick: Callable[[int], None]) -> None:
    """Every table the dashboard reads, `rows` feedback items strong, spread over the last DAYS days."""
    out = Writer(conn)
    shop = Shop(out, rng, now)
    for n, name in enumerate(TEAMS, start=1):
        await out.add("team", n, name, name.lower(), now)
    customers = max(rows // 3, 1)
    for c in range(1, customers + 1):
        locale = _pick(rng, LANGUAGES)
        await out.add("customer", c, f"c{c}@bench.example", f"Customer {c}", locale, TIMEZONE, now - timedelta(400))
    for i in range(1, rows + 1):
        created = now - timedelta(seconds=rng.randint(0, DAYS * 86400 - 1))
        kind, channel, language = _pick(rng, KINDS), _pick(rng, CHANNELS), _pick(rng, LANGUAGES)
        customer = rng.randint(1, customers) if kind != "suggestion" else None
        csat, nps, rating, label = _scores(rng, kind, created, now)
        source, source_id, order_id, categories, sku = "suggestion", i, None, [], ""
        if kind in ("order", "support"):
            order_id, lines = await shop.order(customer or 1, created - timedelta(days=rng.randint(4, 9)), channel)
            source, source_id = "survey", out.next_id("response")
            invitation = await shop.invitation(order_id, customer or 1, kind, created - timedelta(days=3), created)
            # about as many invitations again were never answered
            other = rng.randint(1, customers)
            other_order, _ = await shop.order(other, created - timedelta(days=rng.randint(4, 9)), channel)
            await shop.invitation(other_order, other, kind, created - timedelta(days=3, hours=rng.randint(0, 48)), None)
            await out.add("response", source_id, invitation, csat, nps, "", language, created, created)
            categories = list(dict.fromkeys(c for _, _, c in lines)) if kind == "order" else []
        elif kind == "review":
            order_id, lines = await shop.order(customer or 1, created - timedelta(days=rng.randint(7, 20)), channel)
            (_, sku, category), source = lines[0], "review"
            source_id = await shop.review(customer or 1, lines[0], rating or 5, created)
            categories = [category]
        topics = rng.sample(TOPICS, k=rng.choices((0, 1, 2), weights=(45, 40, 15))[0])
        routed = kind == "support" or label == "negative" or rng.random() < 0.1
        replied = None
        if routed and rng.random() < 0.7 and created < now - timedelta(hours=6):
            replied = min(now, created + timedelta(hours=rng.lognormvariate(2.5, 1.0)))
        await out.add(
            "feedback_item", i, source, source_id, f"{source}:{source_id}", kind, customer, order_id, "", "", csat,
            nps, rating, "", "", language, channel, json.dumps(categories), sku, f"Product {sku}" if sku else "", "",
            language, None, None, label, "score", False, "[]", "[]", json.dumps(topics), "", created, label, "", "",
            "[]", created, replied, f"tok{i}", created, created,
        )  # fmt: skip
        for topic in topics:
            polarity = rng.choice((0.0, round(rng.uniform(-1, 1), 3)))
            await out.add("feedback_topic", out.next_id("feedback_topic"), i, topic, topic, polarity, "auto", created)
        if routed:
            team = 1 if kind == "support" else rng.choice((2, 3, None))
            recent = created >= now - timedelta(days=14)
            weights = (30, 5, 30, 35) if recent else (90, 5, 3, 2)
            status = rng.choices(("resolved", "wont_fix", "in_progress", "new"), weights=weights)[0]
            closed = replied if status in ("resolved", "wont_fix") else None
            await out.add(
                "inbox_item", out.next_id("inbox_item"), i, team, f"{i}:{team or 'triage'}", "bench", status,
                "normal", created + timedelta(hours=24), closed, closed, created, replied or created,
            )  # fmt: skip
        if i % 10_000 == 0:
            tick(10_000)
    await out.flush()
    for table in TABLES:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT max(id) FROM \"{table}\"))"
        )


async def seed(rows: int, now: datetime) -> None:
    """Write the shop, build the rollup, analyse."""
    from rich.progress import Progress

    from feedback.dashboard.rollup import rebuild
    from feedback.tables import FeedbackItem

    engine = FeedbackItem._meta.db
    await engine.start_connection_pool(min_size=1, max_size=2)
    conn = await engine.get_new_connection()
    started = time.perf_counter()
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("writing responses", total=rows)
            await _generate(conn, rows, now, random.Random(20261201), lambda n: progress.advance(task, n))
            await conn.execute("ANALYZE")  # the rollup's day queries need the planner's statistics
            log(f"written in {time.perf_counter() - started:.0f} s")
            built = progress.add_task("building the rollup", total=None)
            await rebuild(now, TIMEZONE, lambda done, total: progress.update(built, completed=done, total=total))
        log(f"written and rolled up in {time.perf_counter() - started:.0f} s")
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()
        await engine.close_connection_pool()
