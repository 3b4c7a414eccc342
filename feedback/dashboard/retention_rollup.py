"""The retention tab's rollup (read by feedback.dashboard.retention), kept exact by the dashboard's sweep:

- DashboardRetentionDay: a local day's answers per group (NPS group, CSAT score) and segment, with the orders
  their customers placed in the 365 days after each answer. Recomputed whole with the day (rollup.refresh_day);
  an order placed or cancelled marks the days of the answers it falls after (`order_changes`).
- DashboardSpell and DashboardCustomerDay: each customer's runs of orders and, per local day, the runs that began
  and ended on it. A customer whose orders changed has their runs recomputed, and the days those runs touch.

An order is found changed by its `created_at` (stamped when it is stored) or by an event received on it (a
cancellation is one)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.querystring import QueryString

from afterglow.kinds import NPS_GROUPS
from feedback.dashboard.definitions import ORDER_CSAT
from feedback.dashboard.periods import shop_day
from feedback.dashboard.segments import category_elements
from feedback.tables import DashboardCustomerDay, DashboardRetentionDay, DashboardSpell, FeedbackItem

YEAR = timedelta(days=365)
#: Rows per multi-row INSERT and ids per IN list (SQLite allows 999 parameters in a statement).
CHUNK = 150
CUSTOMERS = 5_000


def engine() -> str:
    return str(DashboardRetentionDay._meta.db.engine_type)


def within_year() -> str:
    """An order (`o`) placed after the answer (`f`) and within 365 days of it."""
    if engine() == "sqlite":
        return (
            "julianday(o.placed_at) > julianday(f.created_at) "
            "AND julianday(o.placed_at) <= julianday(f.created_at) + 365"
        )
    return "o.placed_at > f.created_at AND o.placed_at <= f.created_at + INTERVAL '365 days'"


def nps_group(column: str) -> str:
    """The NPS group of a score as SQL (NULL for none); names and cut-offs from afterglow.kinds, safe in SQL."""
    promoters, passives = NPS_GROUPS["promoters"].low, NPS_GROUPS["passives"].low
    return (
        f"CASE WHEN {column} >= {promoters:d} THEN 'promoters' WHEN {column} >= {passives:d} THEN 'passives' "
        f"WHEN {column} IS NOT NULL THEN 'detractors' END"
    )


#: Answers counted by the retention tab: an NPS score or an order survey's CSAT, from a known customer.
ANSWERED = f"(f.nps IS NOT NULL OR ({ORDER_CSAT})) AND f.customer IS NOT NULL"
RETENTION_SUMS = "COUNT(*), SUM(CASE WHEN s.orders > 0 THEN 1 ELSE 0 END), SUM(s.orders), SUM(s.revenue_cents)"
RETENTION_COLUMNS = "day, kind, channel, language, segment, value, score, grp, answers, returned, orders, revenue_cents"


def _day(day: date) -> QueryString:
    """The day as a constant in a SELECT list (PostgreSQL cannot infer a bare parameter's type there)."""
    return QueryString("{}", day) if engine() == "sqlite" else QueryString("CAST({} AS date)", day)


def _answer_rows(day: date, lo: datetime, hi: datetime) -> QueryString:
    """The rollup rows of one day's answers: everything once, then once per category and per team."""
    answered = (
        "SELECT f.id, f.kind, f.channel, f.language, f.categories, "
        f"{nps_group('f.nps')} AS nps_grp, CASE WHEN {ORDER_CSAT} THEN f.csat END AS csat, COUNT(o.id) AS orders, "
        "CAST(ROUND(COALESCE(SUM(o.total), 0) * 100) AS BIGINT) AS revenue_cents "
        'FROM feedback_item AS f LEFT JOIN "order" AS o ON o.customer = f.customer '
        f"AND {within_year()} AND o.cancelled_at IS NULL "
        f"WHERE {ANSWERED} AND f.created_at >= {{}} AND f.created_at < {{}} GROUP BY f.id"
    )
    scored = (
        "SELECT id, kind, channel, language, 'nps' AS score, nps_grp AS grp, orders, revenue_cents FROM answered "
        "WHERE nps_grp IS NOT NULL UNION ALL SELECT id, kind, channel, language, 'csat', CAST(csat AS TEXT), orders, "
        "revenue_cents FROM answered WHERE csat IS NOT NULL"
    )
    dims = "s.kind, s.channel, s.language"
    groups = f"{dims}, s.score, s.grp"
    # a category named twice in one item counts once
    categories = f"SELECT DISTINCT a.id, cat.value FROM answered AS a, {category_elements(engine(), 'a.categories')}"
    parts = [
        f"SELECT {{}}, {dims}, '', '', s.score, s.grp, {RETENTION_SUMS} FROM scored AS s GROUP BY {groups}",
        f"SELECT {{}}, {dims}, 'category', c.value, s.score, s.grp, {RETENTION_SUMS} FROM scored AS s "
        f"JOIN ({categories}) AS c ON c.id = s.id GROUP BY {groups}, c.value",
        # one inbox item per feedback and team (its key)
        f"SELECT {{}}, {dims}, 'team', CAST(t.team AS TEXT), s.score, s.grp, {RETENTION_SUMS} FROM scored AS s "
        f"JOIN inbox_item AS t ON t.feedback = s.id AND t.team IS NOT NULL GROUP BY {groups}, t.team",
    ]
    return QueryString(
        f"WITH answered AS ({answered}), scored AS ({scored}) {' UNION ALL '.join(parts)}",
        lo,
        hi,
        *[_day(day) for _ in parts],
    )


async def refresh_answers(day: date, lo: datetime, hi: datetime) -> None:
    """Recompute one local day ([lo, hi) in UTC) of DashboardRetentionDay (inside the day's transaction)."""
    await DashboardRetentionDay.delete().where(DashboardRetentionDay.day == day)
    await DashboardRetentionDay.raw(
        f"INSERT INTO dashboard_retention_day ({RETENTION_COLUMNS}) {{}}", _answer_rows(day, lo, hi)
    )


def _in(values: list[Any]) -> str:
    return ", ".join("{}" for _ in values)


async def order_changes(since: datetime) -> tuple[list[datetime], set[int]]:
    """Orders stored, or with an event received (a cancellation among them), at or after `since`: when the answers
    they fall after were given, and whose orders they are."""
    changed = await FeedbackItem.raw(
        'SELECT o.id, o.customer FROM "order" AS o WHERE o.customer IS NOT NULL AND (o.created_at >= {} OR o.id IN '
        '(SELECT e."order" FROM order_event AS e WHERE e.received_at >= {}))',
        since,
        since,
    )
    moments: list[datetime] = []
    ids = [row["id"] for row in changed]
    for n in range(0, len(ids), CHUNK):
        chunk = ids[n : n + CHUNK]
        rows = await FeedbackItem.raw(
            f'SELECT f.created_at AS at FROM "order" AS o JOIN feedback_item AS f ON f.customer = o.customer '
            f"AND {within_year()} WHERE o.id IN ({_in(chunk)})",
            *chunk,
        )
        moments += [as_datetime(row["at"]) for row in rows]
    return moments, {int(row["customer"]) for row in changed}


def spells(placed: Iterable[datetime]) -> list[tuple[datetime, datetime]]:
    """A customer's runs of orders as (first order, last order + 365 days): a new run starts after a gap of more
    than 365 days, when the customer had stopped being one."""
    found: list[tuple[datetime, datetime]] = []
    start = last = None
    for moment in sorted(placed):
        if start is None or last is None or moment > last + YEAR:
            if start is not None and last is not None:
                found.append((start, last + YEAR))
            start = moment
        last = moment
    if start is not None and last is not None:
        found.append((start, last + YEAR))
    return found


async def _orders_of(where: QueryString) -> dict[int, list[datetime]]:
    """When each customer meeting `where` (on `o`) placed their orders that were not cancelled."""
    rows = await FeedbackItem.raw(
        'SELECT o.customer, o.placed_at FROM "order" AS o WHERE o.cancelled_at IS NULL AND {}', where
    )
    found: dict[int, list[datetime]] = {}
    for row in rows:
        found.setdefault(int(row["customer"]), []).append(as_datetime(row["placed_at"]))
    return found


async def _insert_spells(orders: dict[int, list[datetime]], timezone: str) -> set[date]:
    """Write these customers' runs; the local days they touch."""
    rows = []
    for customer, placed in orders.items():
        for n, (began, ends) in enumerate(spells(placed)):
            rows.append((customer, began, ends, shop_day(began, timezone), shop_day(ends, timezone), int(n == 0)))
    for n in range(0, len(rows), CHUNK):
        chunk = rows[n : n + CHUNK]
        values = ", ".join("({}, {}, {}, {}, {}, {})" for _ in chunk)
        await DashboardSpell.raw(
            f"INSERT INTO dashboard_spell (customer, began, ends, began_day, ends_day, first_run) VALUES {values}",
            *[value for row in chunk for value in row],
        )
    return {day for row in rows for day in (row[3], row[4])}


async def _replace_spells(customers: list[int], timezone: str) -> set[date]:
    """Replace these customers' runs with ones computed from their orders; the local days the old and new touch."""
    old = await DashboardSpell.select(DashboardSpell.began_day, DashboardSpell.ends_day).where(
        DashboardSpell.customer.is_in(customers)
    )
    days = {_as_date(row[name]) for row in old for name in ("began_day", "ends_day")}
    await DashboardSpell.delete().where(DashboardSpell.customer.is_in(customers))
    orders = await _orders_of(QueryString(f"o.customer IN ({_in(customers)})", *customers))
    return days | await _insert_spells(orders, timezone)


CUSTOMER_DAY_SUMS = (
    "SELECT day, SUM(b), SUM(e), SUM(n) FROM (SELECT began_day AS day, 1 AS b, 0 AS e, first_run AS n "
    "FROM dashboard_spell AS s WHERE {} UNION ALL SELECT ends_day, 0, 1, 0 FROM dashboard_spell AS s WHERE {}) "
    "AS u GROUP BY day"
)


async def _customer_days(days: set[date]) -> None:
    """Recompute these local days of DashboardCustomerDay from the runs."""
    ordered = sorted(days)
    for n in range(0, len(ordered), CHUNK):
        chunk = ordered[n : n + CHUNK]
        await DashboardCustomerDay.delete().where(DashboardCustomerDay.day.is_in(chunk))
        began = QueryString(f"s.began_day IN ({_in(chunk)})", *chunk)
        ended = QueryString(f"s.ends_day IN ({_in(chunk)})", *chunk)
        await DashboardCustomerDay.raw(
            "INSERT INTO dashboard_customer_day (day, began, ended, new_customers) {}",
            QueryString(CUSTOMER_DAY_SUMS, began, ended),
        )


async def refresh_customers(customers: Iterable[int], timezone: str) -> int:
    """Recompute the runs of these customers and the days they touch; returns how many customers."""
    ordered = sorted(set(customers))
    for n in range(0, len(ordered), CUSTOMERS):
        chunk = ordered[n : n + CUSTOMERS]
        async with DashboardSpell._meta.db.transaction():
            days: set[date] = set()
            for m in range(0, len(chunk), CHUNK):
                days |= await _replace_spells(chunk[m : m + CHUNK], timezone)
            await _customer_days(days)
    return len(ordered)


async def rebuild_customers(timezone: str) -> None:
    """Every customer's runs and every day of them, afresh."""
    await DashboardSpell.delete(force=True)
    await DashboardCustomerDay.delete(force=True)
    ends = await FeedbackItem.raw('SELECT MIN(customer) AS lo, MAX(customer) AS hi FROM "order"')
    if ends and ends[0]["lo"] is not None:
        for first in range(int(ends[0]["lo"]), int(ends[0]["hi"]) + 1, CUSTOMERS):
            span = QueryString("o.customer >= {} AND o.customer < {}", first, first + CUSTOMERS)
            await _insert_spells(await _orders_of(span), timezone)
    everything = QueryString("1 = 1")
    await DashboardCustomerDay.raw(
        "INSERT INTO dashboard_customer_day (day, began, ended, new_customers) {}",
        QueryString(CUSTOMER_DAY_SUMS, everything, everything),
    )


def as_datetime(value: datetime | str) -> datetime:
    """Timestamps may come back as text on SQLite."""
    if isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
