"""The responses behind a number: the feedback a figure counted, as a page of rows or all of them for CSV.

`measure` says which count the number was (promoters, satisfied answers, negative feedback …); most count
feedback created in the period (CSAT, Support CSAT and reviews as feedback.dashboard.definitions has them),
`answered` counts survey answers by the day they were answered (as the funnel does), `responded` the answers to
invitations sent in the period (as the response rate does), `closed` counts loops closed in the period, `open` and
`overdue` are inbox items now."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from piccolo.querystring import QueryString

from afterglow.kinds import NOT_SATISFIED, NPS_GROUPS, SATISFIED, kind_name
from feedback.dashboard.definitions import ORDER_CSAT, PUBLISHED_REVIEW, SUPPORT_CSAT
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
    "csat": ("CSAT answers (order surveys)", ORDER_CSAT),
    "satisfied": (f"Satisfied (CSAT {SATISFIED.text})", f"{ORDER_CSAT} AND f.csat >= {SATISFIED.low:d}"),
    "unsatisfied": (f"Not satisfied (CSAT {NOT_SATISFIED.text})", f"{ORDER_CSAT} AND f.csat <= {NOT_SATISFIED.high:d}"),
    "support": ("Support CSAT answers", SUPPORT_CSAT),
    "support_satisfied": (
        f"Satisfied with support ({SATISFIED.text})",
        f"{SUPPORT_CSAT} AND f.csat >= {SATISFIED.low:d}",
    ),
    "reviews": ("Published reviews", PUBLISHED_REVIEW),
    "positive": ("Positive", "f.label = 'positive'"),
    "neutral": ("Neutral", "f.label = 'neutral'"),
    "negative": ("Negative", "f.label = 'negative'"),
    "mixed": ("Mixed", "f.label = 'mixed'"),
    "answered": ("Survey answers, by the day they were answered", "f.source = 'survey'"),
    "responded": ("Answers to the invitations sent in the period", "f.source = 'survey'"),
    "closed": ("Loops closed (first reply sent)", "f.first_reply_at IS NOT NULL"),
    "open": ("With an open inbox item (now)", ""),
    "overdue": ("With an overdue inbox item (now)", ""),
}
PAGE_SIZE = 50
#: What a row shows (and the CSV exports), with its order's number and a review's status.
COLUMNS = (
    "f.id, f.created_at, f.kind, o.external_id AS order_ref, f.name, f.email, f.channel, f.language, f.categories, "
    "f.sku, f.product_name, f.nps, f.csat, f.rating, rv.status AS review_status, f.label, f.title, f.text"
)
SOURCE = (
    'feedback_item AS f LEFT JOIN "order" AS o ON o.id = f."order" '
    "LEFT JOIN review AS rv ON f.source = 'review' AND rv.id = f.source_id"
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


def drill_where(drill: Drill, timezone: str, now: datetime) -> QueryString:
    lo, hi = utc_bounds(drill.period, timezone)
    conditions = feedback_conditions(drill.segment, engine())
    condition = MEASURES[drill.measure][1]
    if condition:
        conditions.append(QueryString(condition))
    if drill.measure in ("answered", "responded"):
        step = "answered_at" if drill.measure == "answered" else "sent_at"
        conditions.append(
            QueryString(
                "EXISTS (SELECT 1 FROM response AS r JOIN invitation AS i ON i.id = r.invitation "
                f"WHERE r.id = f.source_id AND i.answered_at IS NOT NULL AND i.{step} >= {{}} AND i.{step} < {{}})",
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


async def decorate(rows: list[dict[str, Any]], timezone: str) -> list[dict[str, Any]]:
    """Each row with its local time, categories and topics as lists, its inbox items (team and status; no team is
    the triage inbox) and the first of them to open."""
    ids = [int(row["id"]) for row in rows]
    topics = await topics_by_item(ids)
    inbox: dict[int, list[dict[str, Any]]] = {}
    if ids:
        items = (
            await InboxItem.select(InboxItem.id, InboxItem.feedback, InboxItem.status, InboxItem.team.name)
            .where(InboxItem.feedback.is_in(ids))
            .order_by(InboxItem.id)
        )
        for item in items:
            inbox.setdefault(item["feedback"], []).append(item)
    for row in rows:
        categories = row["categories"]
        row["categories"] = json.loads(categories) if isinstance(categories, str) else list(categories or [])
        row["local_time"] = _local(row["created_at"], timezone)
        row["topics"] = [t["topic"] for t in topics.get(int(row["id"]), [])]
        items = inbox.get(int(row["id"]), [])
        row["inbox_item"] = items[0]["id"] if items else None
        row["teams"] = [item["team.name"] or "Triage" for item in items]
        row["statuses"] = [item["status"] for item in items]
        row["kind_name"] = kind_name(row["kind"])
    return rows


async def response_page(drill: Drill, page: int, timezone: str, now: datetime) -> ResponsePage:
    """One page of the responses behind a number, newest first, with how many there are in all."""
    where = drill_where(drill, timezone, now)
    counted = await FeedbackItem.raw("SELECT COUNT(*) AS n FROM feedback_item AS f WHERE {}", where)
    total = int(counted[0]["n"])
    page = max(1, min(page, max(1, -(-total // PAGE_SIZE))))
    rows = await FeedbackItem.raw(
        f"SELECT {COLUMNS} FROM {SOURCE} WHERE {{}} ORDER BY f.created_at DESC, f.id DESC LIMIT {{}} OFFSET {{}}",
        where,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    return ResponsePage(await decorate(rows, timezone), total, page)
