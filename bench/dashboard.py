"""How fast is the managers' dashboard at a million responses, next to the same figures as one hand-written query?

    python -m bench.dashboard [--rows 1000000] [--requests 20] [--database-url URL] [--reuse]

Fills a PostgreSQL database (dropped and recreated; default the local `afterglow_bench_dash`) with `--rows`
feedback items over the last 365 days, with what they rest on: customers who order again, orders and their items,
invitations (about half never answered), survey responses, topics, and inbox items (routed to three teams,
mostly closed, some replied to). Rows are written with COPY in batches behind a progress bar, then the rollup is
built (`afterglow rebuild-dashboard`) and the tables analysed. Serves Afterglow with uvicorn (1 worker, pool) and,
signed in as a manager, times sequential requests (median of `--requests` after three warm-ups):

- page_ms: the dashboard's main page as it opens (last 90 days by week: tiles against the 90 days before, five
  charts, topics on the move, the inbox now, the filter menus);
- trend_ms: the NPS trend by week for one year (`/app/dashboard/trend/nps?period=365d&grain=week`);
- sql_ms: the main page's figures as ONE hand-written query over the same tables the page reads (the rollup, the
  inbox, the feedback for the time to close), through asyncpg with no ORM; ratio = page_ms / sql_ms;
- trend_sql_ms: the NPS-by-week-for-a-year aggregate as one hand-written query (trend_ratio = trend_ms / it);
- facts_sql_ms: the main page's figures as one hand-written query over the feedback, invitations and topics
  themselves (no rollup): what the page would cost without it.

Progress goes to stderr; the last line on stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from afterglow.kinds import DETRACTOR_UP_TO, NPS_GROUPS, PROMOTER_FROM, SATISFIED_FROM
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
PASSWORD = "bench-manager-pass"


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


#: The columns written, per table, parents before children (so every batch finds the rows its keys point at).
COLUMNS = {
    "team": "id name slug created_at",
    "customer": "id email name locale timezone created_at",
    "order": "id external_id channel placed_at currency total customer complaint_open created_at",
    "order_item": "id order sku name category quantity price",
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

    async def order(self, customer: int, placed: datetime, channel: str) -> tuple[int, list[tuple[str, str]]]:
        order_id = self.out.next_id("order")
        total = Decimal(self.rng.randint(900, 19900)) / 100
        await self.out.add("order", order_id, f"BD-{order_id}", channel, placed, "EUR", total, customer, False, placed)
        lines = self.rng.sample(self.products, k=self.rng.choice((1, 1, 1, 2, 3)))
        for sku, category in lines:
            item = self.out.next_id("order_item")
            await self.out.add("order_item", item, order_id, sku, f"Product {sku}", category, 1, Decimal("19.90"))
        return order_id, lines

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
            categories = list(dict.fromkeys(c for _, c in lines)) if kind == "order" else []
        elif kind == "review":
            order_id, lines = await shop.order(customer or 1, created - timedelta(days=rng.randint(7, 20)), channel)
            source, (sku, category) = "review", lines[0]
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


async def _seed(rows: int, now: datetime) -> None:
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


#: The main page's figures as one query over the tables the page reads: the rollup, the inbox ($1 start of the
#: period before, $2 start of the period, $3 its end, as local days; $4 now).
ROLLUP_PAGE_SQL = """
WITH kpi AS (
  SELECT CASE WHEN day >= $2 THEN 1 ELSE 0 END AS period, SUM(items) items, SUM(nps_n) nps_n, SUM(promoters) p,
         SUM(detractors) d, SUM(csat_n) csat_n, SUM(csat_ok) csat_ok, SUM(rating_n) rating_n, SUM(rating_sum) rs,
         SUM(positive) pos, SUM(neutral) neu, SUM(negative) neg, SUM(mixed) mix, SUM(scheduled) sch, SUM(sent) sent,
         SUM(opened) opened, SUM(answered) answered
  FROM dashboard_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $3 GROUP BY 1),
weeks AS (
  SELECT date_trunc('week', day)::date AS week, SUM(items) items, SUM(nps_n) nps_n, SUM(promoters) p,
         SUM(detractors) d, SUM(csat_n) csat_n, SUM(csat_ok) csat_ok, SUM(rating_n) rating_n, SUM(rating_sum) rs,
         SUM(positive) pos, SUM(neutral) neu, SUM(negative) neg, SUM(mixed) mix, SUM(scheduled) sch, SUM(sent) sent,
         SUM(opened) opened, SUM(answered) answered
  FROM dashboard_day WHERE segment = '' AND value = '' AND day BETWEEN $2 AND $3 GROUP BY 1),
topics AS (
  SELECT topic, CASE WHEN day >= $2 THEN 1 ELSE 0 END AS period, SUM(mentions) m, SUM(positive) pos,
         SUM(negative) neg, SUM(polarity_sum) ps, SUM(polarity_n) pn
  FROM dashboard_topic_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $3 GROUP BY 1, 2),
inbox AS (
  SELECT COUNT(*) open, COUNT(*) FILTER (WHERE due_at < $4 AND responded_at IS NULL) overdue
  FROM inbox_item WHERE status IN ('new', 'in_progress')),
closing AS (
  SELECT CASE WHEN day >= $2 THEN 1 ELSE 0 END AS period, bucket, SUM(loops) loops
  FROM dashboard_close_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $3 GROUP BY 1, 2),
menus AS (SELECT field, value FROM dashboard_value ORDER BY value)
SELECT (SELECT json_agg(kpi) FROM kpi), (SELECT json_agg(weeks) FROM weeks), (SELECT json_agg(topics) FROM topics),
       (SELECT row_to_json(inbox) FROM inbox), (SELECT json_agg(closing) FROM closing),
       (SELECT json_agg(menus) FROM menus)
"""
#: NPS by week for a year over the rollup ($1, $2: the first and last local day).
ROLLUP_TREND_SQL = """
SELECT date_trunc('week', day)::date AS week, SUM(nps_n) AS n, SUM(promoters) AS p, SUM(detractors) AS d
FROM dashboard_day WHERE segment = '' AND value = '' AND day BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1
"""
#: The same figures straight from the feedback, invitations, topics and inbox, with no rollup ($1 start of the
#: period before, $2 start of the period, $3 its end, as UTC instants; $4 now). Weeks and days in the shop's zone;
#: the NPS and CSAT cut-offs are ints from afterglow.kinds.
FACTS_SQL = f"""
WITH f AS (
  SELECT created_at, created_at >= $2 AS current, nps, csat, rating, label, channel, language, categories
  FROM feedback_item WHERE created_at >= $1 AND created_at < $3),
kpi AS (
  SELECT current, COUNT(*) items, COUNT(nps) nps_n, COUNT(*) FILTER (WHERE nps >= {PROMOTER_FROM:d}) p,
         COUNT(*) FILTER (WHERE nps <= {DETRACTOR_UP_TO:d}) d, COUNT(csat) csat_n,
         COUNT(*) FILTER (WHERE csat >= {SATISFIED_FROM:d}) csat_ok,
         COUNT(rating) rating_n, SUM(rating) rating_sum, COUNT(*) FILTER (WHERE label = 'positive') pos,
         COUNT(*) FILTER (WHERE label = 'neutral') neu, COUNT(*) FILTER (WHERE label = 'negative') neg,
         COUNT(*) FILTER (WHERE label = 'mixed') mix
  FROM f GROUP BY 1),
weeks AS (
  SELECT date_trunc('week', created_at AT TIME ZONE 'Europe/Berlin') week, COUNT(*) items, COUNT(nps) nps_n,
         COUNT(*) FILTER (WHERE nps >= {PROMOTER_FROM:d}) p, COUNT(*) FILTER (WHERE nps <= {DETRACTOR_UP_TO:d}) d,
         COUNT(csat) csat_n,
         COUNT(*) FILTER (WHERE csat >= {SATISFIED_FROM:d}) csat_ok, COUNT(rating) rating_n, SUM(rating) rs,
         COUNT(*) FILTER (WHERE label = 'positive') pos, COUNT(*) FILTER (WHERE label = 'neutral') neu,
         COUNT(*) FILTER (WHERE label = 'negative') neg, COUNT(*) FILTER (WHERE label = 'mixed') mix
  FROM f WHERE current GROUP BY 1),
funnel AS (
  SELECT created_at >= $2 AS current, date_trunc('week', created_at AT TIME ZONE 'Europe/Berlin') week,
         COUNT(*) sch, COUNT(sent_at) sent, COUNT(opened_at) opened, COUNT(answered_at) answered
  FROM invitation WHERE created_at >= $1 AND created_at < $3 GROUP BY 1, 2),
topics AS (
  SELECT topic, created_at >= $2 AS current, COUNT(*) m, COUNT(*) FILTER (WHERE polarity > 0) pos,
         COUNT(*) FILTER (WHERE polarity < 0) neg, AVG(NULLIF(polarity, 0)) polarity
  FROM feedback_topic WHERE created_at >= $1 AND created_at < $3 GROUP BY 1, 2),
inbox AS (
  SELECT COUNT(*) open, COUNT(*) FILTER (WHERE due_at < $4 AND responded_at IS NULL) overdue
  FROM inbox_item WHERE status IN ('new', 'in_progress')),
closing AS (
  SELECT first_reply_at >= $2 AS current, COUNT(*) n,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM first_reply_at - created_at)) median
  FROM feedback_item WHERE first_reply_at >= $1 AND first_reply_at < $3 GROUP BY 1),
menus AS (
  SELECT DISTINCT channel, language FROM f)
SELECT (SELECT json_agg(kpi) FROM kpi), (SELECT json_agg(weeks) FROM weeks), (SELECT json_agg(funnel) FROM funnel),
       (SELECT json_agg(topics) FROM topics), (SELECT row_to_json(inbox) FROM inbox),
       (SELECT json_agg(closing) FROM closing), (SELECT json_agg(menus) FROM menus)
"""
#: NPS by week for a year straight from the feedback ($1, $2: the year as UTC instants; cut-offs from afterglow.kinds).
TREND_SQL = f"""
SELECT date_trunc('week', created_at AT TIME ZONE 'Europe/Berlin') AS week, COUNT(nps) AS n,
       COUNT(*) FILTER (WHERE nps >= {PROMOTER_FROM:d}) AS p, COUNT(*) FILTER (WHERE nps <= {DETRACTOR_UP_TO:d}) AS d
FROM feedback_item WHERE created_at >= $1 AND created_at < $2 AND nps IS NOT NULL GROUP BY 1 ORDER BY 1
"""


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
    from feedback.dashboard.periods import day_start

    start, previous = today - timedelta(days=89), today - timedelta(days=179)
    config = postgres_config(database_url)
    conn = await asyncpg.connect(**config)  # type: ignore[arg-type]
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
            figures["retention_ms"] = await _timed(lambda: page("/app/dashboard/retention?period=28d"), 3)
        # the same figures as one hand-written query over the source tables, and over the tables the page reads
        instants = [day_start(day, TIMEZONE) for day in (previous, start, today + timedelta(days=1))]
        figures["sql_ms"] = await _timed(lambda: conn.fetch(FACTS_SQL, *instants, now), max(3, runs // 4))
        year = [day_start(day, TIMEZONE) for day in (today - timedelta(days=364), today + timedelta(days=1))]
        figures["trend_sql_ms"] = await _timed(lambda: conn.fetch(TREND_SQL, *year), max(3, runs // 4))
        days = (previous, start, today, now)
        figures["rollup_sql_ms"] = await _timed(lambda: conn.fetch(ROLLUP_PAGE_SQL, *days), runs)
        year_days = (today - timedelta(days=364), today)
        figures["rollup_trend_sql_ms"] = await _timed(lambda: conn.fetch(ROLLUP_TREND_SQL, *year_days), runs)
    finally:
        await conn.close()
    return figures


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
        else:
            env = migrated_app_env(args, data_dir, port, shop_timezone=TIMEZONE)
            use_app_env(env)
            started = time.perf_counter()
            asyncio.run(_seed(args.rows, now))
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
    }


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser("dashboard", __doc__ or "")
    parser.add_argument("--rows", type=int, default=1_000_000, help="feedback items to generate (default 1,000,000)")
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page (median; default 20)")
    parser.add_argument("--reuse", action="store_true", help="measure the database as it is (no new data)")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
