"""The dashboard's daily rollup: DashboardDay and DashboardTopicDay, rebuilt a day at a time from the feedback
and the invitations, so a year of figures reads a few thousand rows.

A day is recomputed whole (delete, then insert the sums in one transaction), so refreshing twice changes
nothing. Which days to recompute is found from the timestamps every change leaves: intake stamps `routed_at` on
each feedback item it copies, staff corrections stamp `label_corrected_at` / `topics_corrected_at` and write
thread events, inbox items carry `updated_at`, invitations `created_at`/`sent_at`/`opened_at`/`answered_at`, a
moderator's decision on a review `moderated_at`, an order `created_at` or an order event's `received_at` (the
retention tab: feedback.dashboard.retention_rollup). The beat pass looks back to its last sweep less a margin (a
change stamped just before the sweep may commit just after it), claiming the sweep with a conditional update so
two passes never run at once."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from piccolo.querystring import QueryString

from afterglow.failures import skip_bad_row
from afterglow.kinds import DETRACTOR_UP_TO, PROMOTER_FROM
from feedback.dashboard.definitions import ORDER_CSAT, PUBLISHED_REVIEW, SATISFIED, SUPPORT_CSAT, counted
from feedback.dashboard.figures import MEASURES
from feedback.dashboard.periods import Period, day_start, shop_day, utc_bounds
from feedback.dashboard.retention_rollup import order_changes, rebuild_customers, refresh_answers, refresh_customers
from feedback.dashboard.segments import INVITATION_LANGUAGE, category_elements
from feedback.tables import (
    DashboardCloseDay,
    DashboardDay,
    DashboardRetentionDay,
    DashboardSweep,
    DashboardTopicDay,
    DashboardValue,
    FeedbackItem,
)
from surveys.tables import Invitation

#: The sums of one group of feedback items (`feedback_item AS f`), named as the rollup's columns. The cut-offs
#: are ints from afterglow.kinds, so writing them into the SQL is safe.
FEEDBACK_SUMS = {
    "items": "COUNT(*)",
    "nps_n": "COUNT(f.nps)",
    "promoters": f"SUM(CASE WHEN f.nps >= {PROMOTER_FROM:d} THEN 1 ELSE 0 END)",
    "detractors": f"SUM(CASE WHEN f.nps <= {DETRACTOR_UP_TO:d} THEN 1 ELSE 0 END)",
    "csat_n": counted(ORDER_CSAT),
    "csat_ok": counted(f"{ORDER_CSAT} AND {SATISFIED}"),
    "support_csat_n": counted(SUPPORT_CSAT),
    "support_csat_ok": counted(f"{SUPPORT_CSAT} AND {SATISFIED}"),
    "rating_n": counted(PUBLISHED_REVIEW),
    "rating_sum": f"COALESCE(SUM(CASE WHEN {PUBLISHED_REVIEW} THEN f.rating END), 0)",
    "positive": "SUM(CASE WHEN f.label = 'positive' THEN 1 ELSE 0 END)",
    "neutral": "SUM(CASE WHEN f.label = 'neutral' THEN 1 ELSE 0 END)",
    "negative": "SUM(CASE WHEN f.label = 'negative' THEN 1 ELSE 0 END)",
    "mixed": "SUM(CASE WHEN f.label = 'mixed' THEN 1 ELSE 0 END)",
}
#: The survey funnel (`invitation AS i`), each step counted on the day it happened: per step, the timestamp that
#: dates it and the sums of the invitations that took it that day. Those sent that day are also counted by what
#: became of them so far (opened, answered): the response rate's "of the invitations sent in the period".
INVITATION_STEPS = {
    "created_at": {"scheduled": "COUNT(*)"},
    "sent_at": {"sent": "COUNT(*)", "sent_opened": "COUNT(i.opened_at)", "sent_answered": "COUNT(i.answered_at)"},
    "opened_at": {"opened": "COUNT(*)"},
    "answered_at": {"answered": "COUNT(*)"},
}
#: Topic mentions (`feedback_topic AS ft`); a polarity of exactly 0 means no opinion was found.
TOPIC_SUMS = {
    "mentions": "COUNT(*)",
    "positive": "SUM(CASE WHEN ft.polarity > 0 THEN 1 ELSE 0 END)",
    "negative": "SUM(CASE WHEN ft.polarity < 0 THEN 1 ELSE 0 END)",
    "polarity_sum": "COALESCE(SUM(CASE WHEN ft.polarity <> 0 THEN ft.polarity END), 0)",
    "polarity_n": "COUNT(CASE WHEN ft.polarity <> 0 THEN 1 END)",
}
FEEDBACK_FROM = "feedback_item AS f"
INVITATION_FROM = 'invitation AS i JOIN "order" AS o ON o.id = i."order" JOIN customer AS c ON c.id = i.customer'
#: How far back each pass looks before its last sweep: longer than any transaction that stamps a change.
MARGIN = timedelta(minutes=10)
#: A claimed sweep is given up after this long (the pass died).
CLAIM = timedelta(minutes=10)
SWEEP = "rollup"


def sums(definitions: dict[str, str]) -> str:
    """`expr AS name, …` for a SELECT list, in the order given."""
    return ", ".join(f"{expr} AS {name}" for name, expr in definitions.items())


def _measures(definitions: dict[str, str]) -> str:
    """Every rollup measure in column order: these definitions, and 0 for the others."""
    return sums({name: definitions.get(name, "0") for name in MEASURES})


def feedback_select() -> str:
    return _measures(FEEDBACK_SUMS)


def invitation_select(step: str) -> str:
    """The sums of the invitations that took this step (a column of INVITATION_STEPS), 0 for the other measures."""
    return _measures(INVITATION_STEPS[step])


def _engine() -> str:
    return str(DashboardDay._meta.db.engine_type)


def _day(day: date) -> QueryString:
    """The day as a constant in a SELECT list (PostgreSQL cannot infer a bare parameter's type there)."""
    return QueryString("{}", day) if _engine() == "sqlite" else QueryString("CAST({} AS date)", day)


def _feedback_rows(day: date, lo: datetime, hi: datetime) -> QueryString:
    """Every rollup row of one day's feedback: everything once, then once per category and per team."""
    dims = "f.kind, f.channel, f.language"
    where = "f.created_at >= {} AND f.created_at < {}"
    elements = category_elements(_engine(), "f.categories")
    parts = [
        (f"SELECT {{}}, {dims}, '', '', {feedback_select()} FROM {FEEDBACK_FROM} WHERE {where} GROUP BY {dims}"),
        (
            f"SELECT {{}}, {dims}, 'category', cat.value, {feedback_select()} FROM {FEEDBACK_FROM}, {elements} "
            f"WHERE {where} GROUP BY {dims}, cat.value"
        ),
        (
            f"SELECT {{}}, {dims}, 'team', CAST(t.team AS TEXT), {feedback_select()} FROM {FEEDBACK_FROM} "
            f"JOIN inbox_item AS t ON t.feedback = f.id AND t.team IS NOT NULL WHERE {where} GROUP BY {dims}, t.team"
        ),
    ]
    args = [arg for _ in parts for arg in (_day(day), lo, hi)]
    return QueryString(" UNION ALL ".join(parts), *args)


def _invitation_rows(day: date, lo: datetime, hi: datetime) -> QueryString:
    """One day's survey funnel, each step on the day it happened: everything once, then once per category ordered
    (summed over the steps, so a day has one row per group)."""
    dims = f"i.kind AS kind, o.channel AS channel, {INVITATION_LANGUAGE} AS language"
    groups = f"i.kind, o.channel, {INVITATION_LANGUAGE}"
    parts: list[str] = []
    args: list[Any] = []
    for step in INVITATION_STEPS:
        where = f"i.{step} >= {{}} AND i.{step} < {{}}"
        # the categories of the orders that took the step that day, each once per order (not of every order ever:
        # that is a full scan)
        categories = (
            'SELECT DISTINCT oi."order", oi.category FROM order_item AS oi JOIN invitation AS day_i '
            f'ON day_i."order" = oi."order" WHERE day_i.{step} >= {{}} AND day_i.{step} < {{}} '
            "AND oi.category <> ''"
        )
        select = invitation_select(step)
        parts += [
            f"SELECT {dims}, '' AS segment, '' AS value, {select} FROM {INVITATION_FROM} WHERE {where} "
            f"GROUP BY {groups}",
            (
                f"SELECT {dims}, 'category', oc.category, {select} FROM {INVITATION_FROM} "
                f'JOIN ({categories}) AS oc ON oc."order" = i."order" AND i.kind = \'order\' '
                f"WHERE {where} GROUP BY {groups}, oc.category"
            ),
        ]
        args += [lo, hi, lo, hi, lo, hi]
    totals = ", ".join(f"SUM({name})" for name in MEASURES)
    return QueryString(
        f"SELECT {{}}, kind, channel, language, segment, value, {totals} FROM ({' UNION ALL '.join(parts)}) AS u "
        "GROUP BY kind, channel, language, segment, value",
        _day(day),
        *args,
    )


def _topic_rows(day: date, lo: datetime, hi: datetime) -> QueryString:
    where = "ft.created_at >= {} AND ft.created_at < {}"
    joined = "feedback_topic AS ft JOIN feedback_item AS f ON f.id = ft.feedback"
    elements = category_elements(_engine(), "f.categories")
    select = sums(TOPIC_SUMS)
    parts = [
        f"SELECT {{}}, f.kind, '', '', ft.topic, {select} FROM {joined} WHERE {where} GROUP BY f.kind, ft.topic",
        (
            f"SELECT {{}}, f.kind, 'category', cat.value, ft.topic, {select} FROM {joined}, {elements} "
            f"WHERE {where} GROUP BY f.kind, cat.value, ft.topic"
        ),
        (
            f"SELECT {{}}, f.kind, 'team', CAST(t.team AS TEXT), ft.topic, {select} FROM {joined} "
            f"JOIN inbox_item AS t ON t.feedback = f.id AND t.team IS NOT NULL WHERE {where} "
            f"GROUP BY f.kind, t.team, ft.topic"
        ),
    ]
    args = [arg for _ in parts for arg in (_day(day), lo, hi)]
    return QueryString(" UNION ALL ".join(parts), *args)


#: The channels, languages and categories of a day, added to the filter menus (DashboardValue).
MENU_VALUES = (
    "INSERT INTO dashboard_value (field, value, key) "
    "SELECT DISTINCT 'channel', channel, 'channel:' || channel FROM dashboard_day "
    "WHERE day = {} AND segment = '' AND channel <> '' "
    "UNION SELECT DISTINCT 'language', language, 'language:' || language FROM dashboard_day "
    "WHERE day = {} AND segment = '' AND language <> '' "
    "UNION SELECT DISTINCT 'category', value, 'category:' || value FROM dashboard_day "
    "WHERE day = {} AND segment = 'category' "
    "ON CONFLICT (key) DO NOTHING"
)
#: Where the buckets of waiting time (hours, from feedback to first reply) end: each 2^¼ (1.19) times the last,
#: from a quarter of an hour to 43 days; bucket n holds waits in [CLOSE_EDGES[n-1], CLOSE_EDGES[n]), the last the
#: rest. A median read from them is within 2^⅛ (9.1%) of the exact one.
CLOSE_EDGES = tuple(round(0.25 * 2 ** (n / 4), 4) for n in range(49))


def hours_to_reply(engine: str) -> str:
    """Hours from a feedback item (`f`) to its first reply, as SQL."""
    if engine == "sqlite":
        return "(julianday(f.first_reply_at) - julianday(f.created_at)) * 24.0"
    return "EXTRACT(EPOCH FROM (f.first_reply_at - f.created_at)) / 3600.0"


def _close_rows(day: date, lo: datetime, hi: datetime) -> QueryString:
    """Loops closed on one day (by the first reply), counted per bucket of waiting time; once per category and team."""
    hours = hours_to_reply(_engine())
    whens = " ".join(f"WHEN {hours} < {edge} THEN {n}" for n, edge in enumerate(CLOSE_EDGES))
    bucket = f"CASE {whens} ELSE {len(CLOSE_EDGES)} END"
    where = "f.first_reply_at >= {} AND f.first_reply_at < {}"
    elements = category_elements(_engine(), "f.categories")
    parts = [
        f"SELECT {{}}, f.kind, '', '', {bucket}, COUNT(*) FROM {FEEDBACK_FROM} WHERE {where} GROUP BY f.kind, 5",
        (
            f"SELECT {{}}, f.kind, 'category', cat.value, {bucket}, COUNT(*) FROM {FEEDBACK_FROM}, {elements} "
            f"WHERE {where} GROUP BY f.kind, cat.value, 5"
        ),
        (
            f"SELECT {{}}, f.kind, 'team', CAST(t.team AS TEXT), {bucket}, COUNT(*) FROM {FEEDBACK_FROM} "
            f"JOIN inbox_item AS t ON t.feedback = f.id AND t.team IS NOT NULL WHERE {where} GROUP BY f.kind, t.team, 5"
        ),
    ]
    args = [arg for _ in parts for arg in (_day(day), lo, hi)]
    return QueryString(" UNION ALL ".join(parts), *args)


DAY_COLUMNS = ", ".join(("day", "kind", "channel", "language", "segment", "value", *MEASURES))
TOPIC_COLUMNS = ", ".join(("day", "kind", "segment", "value", "topic", *TOPIC_SUMS))


async def refresh_day(day: date, timezone: str) -> None:
    """Recompute one local day of the rollup from the feedback, invitations, topics and answers of that day."""
    lo, hi = utc_bounds(Period(day, day), timezone)
    async with DashboardDay._meta.db.transaction():
        if _engine() == "postgres":  # compiling a day's small queries took ~3.5 s of JIT, running them ~0.3 s
            await DashboardDay.raw("SET LOCAL jit = off")
        await DashboardDay.delete().where(DashboardDay.day == day)
        await DashboardTopicDay.delete().where(DashboardTopicDay.day == day)
        await DashboardDay.raw(f"INSERT INTO dashboard_day ({DAY_COLUMNS}) {{}}", _feedback_rows(day, lo, hi))
        await DashboardDay.raw(f"INSERT INTO dashboard_day ({DAY_COLUMNS}) {{}}", _invitation_rows(day, lo, hi))
        await DashboardTopicDay.raw(f"INSERT INTO dashboard_topic_day ({TOPIC_COLUMNS}) {{}}", _topic_rows(day, lo, hi))
        await DashboardCloseDay.delete().where(DashboardCloseDay.day == day)
        await DashboardCloseDay.raw(
            "INSERT INTO dashboard_close_day (day, kind, segment, value, bucket, loops) {}", _close_rows(day, lo, hi)
        )
        await DashboardValue.raw(MENU_VALUES, day, day, day)
        await refresh_answers(day, lo, hi)


async def refresh_days(
    days: Iterable[date], timezone: str, on_progress: Callable[[int, int], None] | None = None
) -> int:
    """Recompute these days, oldest first; returns how many."""
    ordered = sorted(set(days))
    for done, day in enumerate(ordered, start=1):
        await refresh_day(day, timezone)
        if on_progress:
            on_progress(done, len(ordered))
    return len(ordered)


async def _instants(sql: str, *args: Any) -> list[datetime]:
    return [row["at"] for row in await FeedbackItem.raw(sql, *args) if row["at"] is not None]


async def changed_days(since: datetime, timezone: str) -> set[date]:
    """The local days whose feedback, inbox items, topics or invitations changed at or after `since`."""
    moments = await _instants(
        "SELECT f.created_at AS at FROM feedback_item AS f WHERE f.routed_at >= {} OR f.label_corrected_at >= {} "
        "OR f.topics_corrected_at >= {}",
        since,
        since,
        since,
    )
    # a first reply closes a loop on its own day
    moments += await _instants(
        "SELECT f.first_reply_at AS at FROM feedback_item AS f WHERE f.first_reply_at >= {}", since
    )
    moments += await _instants(
        "SELECT f.created_at AS at FROM inbox_item AS t JOIN feedback_item AS f ON f.id = t.feedback "
        "WHERE t.updated_at >= {} OR t.created_at >= {}",
        since,
        since,
    )
    moments += await _instants(
        "SELECT f.created_at AS at FROM thread_entry AS e JOIN feedback_item AS f ON f.id = e.feedback "
        "WHERE e.at >= {} AND e.kind = 'event'",
        since,
    )
    # a funnel step counts on its own day, and an answer also changes the day its invitation was sent
    steps = [f"i.{step}" for step in INVITATION_STEPS]
    changed = " OR ".join(f"{step} >= {{}}" for step in steps)
    touched = await Invitation.raw(
        f"SELECT {', '.join(steps)} FROM invitation AS i WHERE {changed}", *[since] * len(steps)
    )
    for row in touched:
        moments += [_as_datetime(at) for at in row.values() if at is not None]
    # a review published or taken down by a moderator enters or leaves the rating of the day it was written
    moments += await _instants(
        "SELECT f.created_at AS at FROM review AS rv JOIN feedback_item AS f ON f.source = 'review' "
        "AND f.source_id = rv.id WHERE rv.moderated_at >= {}",
        since,
    )
    return {shop_day(moment, timezone) for moment in moments}


async def all_days(timezone: str) -> list[date]:
    """Every local day from the oldest feedback or funnel step to the newest (or the latest first reply)."""
    ends = []
    sources = [(FeedbackItem, "created_at"), (FeedbackItem, "first_reply_at")]
    for table, last in [*sources, *((Invitation, step) for step in INVITATION_STEPS)]:
        name = table._meta.tablename
        row = await table.raw(f"SELECT MIN({last}) AS first, MAX({last}) AS last FROM {name}")
        if row and row[0]["first"] is not None:
            ends += [_as_datetime(row[0]["first"]), _as_datetime(row[0]["last"])]
    if not ends:
        return []
    first, last = shop_day(min(ends), timezone), shop_day(max(ends), timezone)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _as_datetime(value: datetime | str) -> datetime:
    """MIN/MAX of a timestamp come back as text on SQLite."""
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


async def _sweep_row() -> None:
    if not await DashboardSweep.exists().where(DashboardSweep.name == SWEEP):
        await DashboardSweep.insert(DashboardSweep(name=SWEEP)).on_conflict(action="DO NOTHING")


async def _claim(now: datetime) -> tuple[bool, datetime | None]:
    """Claim the sweep: (False, _) when another pass holds it, else (True, where the last sweep reached)."""
    await _sweep_row()
    free = DashboardSweep.claimed_until.is_null() | (DashboardSweep.claimed_until < now)
    claimed = (
        await DashboardSweep.update({DashboardSweep.claimed_until: now + CLAIM})
        .where((DashboardSweep.name == SWEEP) & free)
        .returning(DashboardSweep.swept_until)
    )
    return (True, claimed[0]["swept_until"]) if claimed else (False, None)


async def sweep(now: datetime, timezone: str) -> dict[str, int | str]:
    """One beat pass: recompute every day changed since the last pass (everything on the first). Safe to run
    twice: a pass that finds another one running does nothing."""
    claimed, since = await _claim(now)
    if not claimed:
        return {"refreshed": 0, "status": "busy"}
    try:
        if since is None:
            days, customers = set(await all_days(timezone)), None
        else:
            # an order placed or cancelled changes its customer's runs and the days of the answers it follows
            days = await changed_days(since - MARGIN, timezone)
            answered, customers = await order_changes(since - MARGIN)
            days |= {shop_day(moment, timezone) for moment in answered}
        await (rebuild_customers(timezone) if customers is None else refresh_customers(customers, timezone))
        refreshed = 0
        for day in sorted(set(days)):
            # A day that cannot be computed is recorded as a task failure; the other days are refreshed.
            async with skip_bad_row("feedback.dashboard_sweep", f"day {day.isoformat()}", now) as run:
                await refresh_day(day, timezone)
            refreshed += not run.failed
        values: dict[Any, Any] = {DashboardSweep.swept_until: now}
        if since is None:
            values[DashboardSweep.rebuilt_at] = now
        await DashboardSweep.update(values).where(DashboardSweep.name == SWEEP)
    finally:
        await DashboardSweep.update({DashboardSweep.claimed_until: None}).where(DashboardSweep.name == SWEEP)
    return {"refreshed": refreshed, "status": "rebuilt" if since is None else "swept"}


async def rebuild(now: datetime, timezone: str, on_progress: Callable[[int, int], None] | None = None) -> int:
    """Recompute every day (after a bulk import, or a change of the shop's time zone); returns how many."""
    days = await all_days(timezone)
    await DashboardValue.delete(force=True)
    refreshed = await refresh_days(days, timezone, on_progress)
    await rebuild_customers(timezone)
    for table in (DashboardDay, DashboardTopicDay, DashboardCloseDay, DashboardRetentionDay):
        outside = (table.day < days[0]) | (table.day > days[-1]) if days else table.id > 0
        await table.delete().where(outside)
    await _sweep_row()
    await DashboardSweep.update({DashboardSweep.swept_until: now, DashboardSweep.rebuilt_at: now}).where(
        DashboardSweep.name == SWEEP
    )
    return refreshed


__all__ = ["changed_days", "day_start", "rebuild", "refresh_day", "refresh_days", "sweep"]
