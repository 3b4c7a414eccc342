"""The responses behind a number: the feedback a figure counted, as a page of rows or all of them for CSV.

`measure` says which count the number was (promoters, satisfied answers, negative feedback …); most count
feedback created in the period, `answered` counts survey answers by the day their invitation was planned (as
the funnel does), `closed` counts loops closed in the period, `open` and `overdue` are inbox items now."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.querystring import QueryString

from afterglow.kinds import NOT_SATISFIED, NPS_GROUPS, SATISFIED, kind_name
from feedback.dashboard.periods import Period, utc_bounds
from feedback.dashboard.segments import Segment, feedback_conditions, joined
from feedback.dashboard.totals import engine
from feedback.services.tagging import topics_by_item
from feedback.tables import FeedbackItem, InboxItem

_PROMOTERS, _PASSIVES, _DETRACTORS = (NPS_GROUPS[name] for name in ("promoters", "passives", "detractors"))
#: measure → (what the list is called, the condition on `feedback_item AS f`). The score ranges are ints from
#: afterglow.kinds, so writing them into the SQL is safe.
MEASURES: dict[str, tuple[str, str]] = {
    "": ("All feedback", ""),
    "nps": ("NPS answers", "f.nps IS NOT NULL"),
    "promoters": (f"Promoters ({_PROMOTERS.text})", f"f.nps >= {_PROMOTERS.low:d}"),
    "passives": (f"Passives ({_PASSIVES.text})", f"f.nps BETWEEN {_PASSIVES.low:d} AND {_PASSIVES.high:d}"),
    "detractors": (f"Detractors ({_DETRACTORS.text})", f"f.nps <= {_DETRACTORS.high:d}"),
    "csat": ("CSAT answers", "f.csat IS NOT NULL"),
    "satisfied": (f"Satisfied (CSAT {SATISFIED.text})", f"f.csat >= {SATISFIED.low:d}"),
    "unsatisfied": (f"Not satisfied (CSAT {NOT_SATISFIED.text})", f"f.csat <= {NOT_SATISFIED.high:d}"),
    "reviews": ("Reviews", "f.rating IS NOT NULL"),
    "positive": ("Positive", "f.label = 'positive'"),
    "neutral": ("Neutral", "f.label = 'neutral'"),
    "negative": ("Negative", "f.label = 'negative'"),
    "mixed": ("Mixed", "f.label = 'mixed'"),
    "answered": ("Survey answers, by the day the invitation was planned", "f.source = 'survey'"),
    "closed": ("Loops closed (first reply sent)", "f.first_reply_at IS NOT NULL"),
    "open": ("With an open inbox item (now)", ""),
    "overdue": ("With an overdue inbox item (now)", ""),
}
PAGE_SIZE = 50
CSV_BATCH = 1000
CSV_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "channel",
    "language",
    "categories",
    "sku",
    "product",
    "nps",
    "csat",
    "rating",
    "label",
    "topics",
    "title",
    "text",
)
_COLUMNS = (
    "f.id, f.created_at, f.kind, f.channel, f.language, f.categories, f.sku, f.product_name, f.nps, f.csat, "
    "f.rating, f.label, f.title, f.text"
)


class InvalidDrill(ValueError):
    """A measure or topic the list cannot be filtered by."""


@dataclass(frozen=True)
class Drill:
    """Which responses: a selection, a period, what was counted, and optionally one topic."""

    segment: Segment
    period: Period
    measure: str = ""
    topic: str = ""

    @property
    def title(self) -> str:
        return MEASURES[self.measure][0]


def check_drill(measure: str, topic: str) -> None:
    if measure not in MEASURES:
        raise InvalidDrill(f"Unknown measure {measure!r}.")
    if len(topic) > 64:
        raise InvalidDrill("A topic has at most 64 characters.")


def _where(drill: Drill, timezone: str, now: datetime) -> QueryString:
    lo, hi = utc_bounds(drill.period, timezone)
    conditions = feedback_conditions(drill.segment, engine())
    condition = MEASURES[drill.measure][1]
    if condition:
        conditions.append(QueryString(condition))
    if drill.measure == "answered":
        conditions.append(
            QueryString(
                "EXISTS (SELECT 1 FROM response AS r JOIN invitation AS i ON i.id = r.invitation "
                "WHERE r.id = f.source_id AND i.created_at >= {} AND i.created_at < {})",
                lo,
                hi,
            )
        )
    elif drill.measure == "closed":
        conditions.append(QueryString("f.first_reply_at >= {} AND f.first_reply_at < {}", lo, hi))
    elif drill.measure in ("open", "overdue"):
        late = " AND ii.due_at < {} AND ii.responded_at IS NULL" if drill.measure == "overdue" else ""
        team = " AND ii.team = {}" if drill.segment.team is not None else ""
        args: list[Any] = [now] if late else []
        args += [drill.segment.team] if team else []
        conditions.append(
            QueryString(
                "EXISTS (SELECT 1 FROM inbox_item AS ii WHERE ii.feedback = f.id "
                f"AND ii.status IN ('new', 'in_progress'){late}{team})",
                *args,
            )
        )
    else:
        conditions.append(QueryString("f.created_at >= {} AND f.created_at < {}", lo, hi))
    if drill.topic:
        mentioned = "EXISTS (SELECT 1 FROM feedback_topic AS ft WHERE ft.feedback = f.id AND ft.topic = {})"
        conditions.append(QueryString(mentioned, drill.topic))
    return joined(conditions)


@dataclass(frozen=True)
class ResponsePage:
    rows: list[dict[str, Any]]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def _local(moment: datetime | str, timezone: str) -> datetime:
    if isinstance(moment, str):  # SQLite returns raw timestamps as text
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(ZoneInfo(timezone))


async def _decorate(rows: list[dict[str, Any]], timezone: str) -> list[dict[str, Any]]:
    """Each row with its local time, categories and topics as lists, and the first inbox item to open."""
    ids = [int(row["id"]) for row in rows]
    topics = await topics_by_item(ids)
    inbox: dict[int, int] = {}
    if ids:
        for item in await InboxItem.select(InboxItem.id, InboxItem.feedback).where(InboxItem.feedback.is_in(ids)):
            inbox.setdefault(item["feedback"], item["id"])
    for row in rows:
        categories = row["categories"]
        row["categories"] = json.loads(categories) if isinstance(categories, str) else list(categories or [])
        row["local_time"] = _local(row["created_at"], timezone)
        row["topics"] = [t["topic"] for t in topics.get(int(row["id"]), [])]
        row["inbox_item"] = inbox.get(int(row["id"]))
        row["kind_name"] = kind_name(row["kind"])
    return rows


async def response_page(drill: Drill, page: int, timezone: str, now: datetime) -> ResponsePage:
    """One page of the responses behind a number, newest first, with how many there are in all."""
    where = _where(drill, timezone, now)
    counted = await FeedbackItem.raw("SELECT COUNT(*) AS n FROM feedback_item AS f WHERE {}", where)
    total = int(counted[0]["n"])
    page = max(1, min(page, max(1, -(-total // PAGE_SIZE))))
    rows = await FeedbackItem.raw(
        f"SELECT {_COLUMNS} FROM feedback_item AS f WHERE {{}} ORDER BY f.created_at DESC, f.id DESC "
        "LIMIT {} OFFSET {}",
        where,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    return ResponsePage(await _decorate(rows, timezone), total, page)


def _cell(value: object) -> str:
    """A spreadsheet must not read a customer's text as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_line(values: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(v) for v in values])
    return out.getvalue()


async def response_csv(drill: Drill, timezone: str, now: datetime) -> AsyncIterator[str]:
    """Every response behind the number as CSV lines (header first), read in batches, oldest first."""
    where = _where(drill, timezone, now)
    yield _csv_line(list(CSV_COLUMNS))
    last = 0
    while True:
        rows = await FeedbackItem.raw(
            f"SELECT {_COLUMNS} FROM feedback_item AS f WHERE {{}} AND f.id > {{}} ORDER BY f.id LIMIT {{}}",
            where,
            last,
            CSV_BATCH,
        )
        if not rows:
            return
        for row in await _decorate(rows, timezone):
            yield _csv_line(
                [
                    row["id"],
                    row["local_time"].isoformat(),
                    row["kind"],
                    row["channel"],
                    row["language"],
                    ";".join(row["categories"]),
                    row["sku"],
                    row["product_name"],
                    row["nps"],
                    row["csat"],
                    row["rating"],
                    row["label"],
                    ";".join(row["topics"]),
                    row["title"],
                    row["text"],
                ]
            )
        last = int(rows[-1]["id"])
