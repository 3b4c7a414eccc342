"""The inbox list: the search box and filters from the query string (status, team, kind, sentiment, topic, score,
product, overdue, assigned to me) and one page of the items a person may see, newest first, with their topics in one
query."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from piccolo.columns.combination import Combinable

from accounts.services import Staff
from accounts.tables import Team
from afterglow.errors import FieldError
from afterglow.kinds import KIND_NAMES, NPS_GROUPS, RULE_KINDS, SCALES, SCORES, UNHAPPY_UP_TO, Scale
from afterglow.numbers import whole_number
from feedback.analysis.topics import active_keywords
from feedback.policy import LABELS
from feedback.services.inbox import (
    OPEN_STATUSES,
    ROW_COLUMNS,
    STATUSES,
    is_overdue,
    loop_closed_in,
    overdue_condition,
    visible_to,
)
from feedback.services.inbox_search import QUERY_MAX, contains, search_condition
from feedback.services.tagging import topics_by_item
from feedback.tables import FeedbackTopic, InboxItem
from shop.tables import OrderItem

#: The status filter: "open" (the default) is new and in progress.
STATUS_FILTERS = {"open": "Open", **STATUSES, "all": "Any status"}
KINDS = KIND_NAMES
#: The scores a range can be asked of: CSAT, NPS, product review stars, support CSAT.
SCORE_KINDS = {kind: RULE_KINDS[kind] for kind in SCALES}
#: The team filter's value for feedback no team has yet; no team slug can look like it (slugs are [a-z0-9-]).
TRIAGE_FILTER = "_triage"
PAGE_SIZE = 25


class InvalidFilter(FieldError):
    """A filter value the list cannot apply: `field` names the input, `message` says why."""


# Filters -------------------------------------------------------------------------------------------------------


def _unhappy(score_kind: str) -> Scale:
    return Scale(SCALES[score_kind].low, UNHAPPY_UP_TO)


@dataclass(frozen=True)
class ScoreRange:
    kind: str  # a key of SCORE_KINDS
    low: int
    high: int

    def condition(self) -> Combinable:
        """The range on the score of this kind, as routing rules read scores (afterglow.kinds.score_of)."""
        feedback = InboxItem.feedback
        kind, name = SCORES[self.kind]
        column = getattr(feedback, name)
        return (feedback.kind == kind) & (column >= self.low) & (column <= self.high)


#: Score bands offered as one choice; a custom range (kind, from, to) is the alternative.
SCORE_BANDS = {
    **{
        name: (f"NPS {name} ({NPS_GROUPS[name].text})", ScoreRange("nps", *NPS_GROUPS[name]))
        for name in ("detractors", "passives", "promoters")
    },
    "unhappy": (f"Unhappy CSAT ({_unhappy('csat').text})", ScoreRange("csat", *_unhappy("csat"))),
    "unhappy-support": (
        f"Unhappy support CSAT ({_unhappy('support').text})",
        ScoreRange("support", *_unhappy("support")),
    ),
    "critical-reviews": (
        f"Critical reviews ({_unhappy('review').text} stars)",
        ScoreRange("review", *_unhappy("review")),
    ),
}
#: Every filter's query parameter, in the order the form shows them.
FILTER_FIELDS = (
    "q",
    "status",
    "team",
    "kind",
    "label",
    "topic",
    "band",
    "score_kind",
    "score_min",
    "score_max",
    "product",
    "overdue",
    "mine",
)


@dataclass(frozen=True)
class TeamChoice:
    id: int | None  # None: triage
    slug: str
    name: str


@dataclass(frozen=True)
class InboxFilters:
    q: str = ""  # the search box (inbox_search.search_condition)
    status: str = "open"
    team: TeamChoice | None = None
    kind: str = ""
    label: str = ""
    topic: str = ""
    score: ScoreRange | None = None
    product: str = ""
    overdue: bool = False
    mine: bool = False
    page: int = 1

    def condition(self, user: Staff, now: datetime) -> Combinable | None:
        """Everything this list asks for, within what the user may see."""
        parts: list[Combinable] = []
        if (found := search_condition(self.q)) is not None:
            parts.append(found)
        if self.status == "open":
            parts.append(InboxItem.status.is_in(list(OPEN_STATUSES)))
        elif self.status != "all":
            parts.append(InboxItem.status == self.status)
        if self.team is not None:
            parts.append(InboxItem.team.is_null() if self.team.id is None else InboxItem.team == self.team.id)
        if self.kind:
            parts.append(InboxItem.feedback.kind == self.kind)
        if self.label:
            parts.append(InboxItem.feedback.label == self.label)
        if self.topic:
            tagged = FeedbackTopic.select(FeedbackTopic.feedback).where(FeedbackTopic.topic == self.topic)
            parts.append(InboxItem.feedback.is_in(tagged))
        if self.score is not None:
            parts.append(self.score.condition())
        if self.product:
            parts.append(_product_condition(self.product))
        if self.overdue:
            parts.append(overdue_condition(now))
        if self.mine:
            parts.append(InboxItem.assignee == user.id)
        if (extra := visible_to(user)) is not None:
            parts.append(extra)
        if not parts:
            return None
        condition = parts[0]
        for part in parts[1:]:
            condition = condition & part
        return condition


def _product_condition(product: str) -> Combinable:
    """A review of the product, or feedback on an order that had it: by exact SKU or part of the name."""
    feedback = InboxItem.feedback
    orders = OrderItem.select(OrderItem.order).where((OrderItem.sku == product) | contains(OrderItem.name, product))
    return (feedback.sku == product) | contains(feedback.product_name, product) | feedback.order.is_in(orders)


async def team_choices(user: Staff) -> list[TeamChoice]:
    """The teams this person may filter by (theirs, or all and triage for those who see everything)."""
    query = Team.select(Team.id, Team.slug, Team.name).order_by(Team.name)
    if not user.sees_everything:
        query = query.where(Team.id.is_in(sorted(user.team_ids) or [-1]))
    choices = [TeamChoice(row["id"], row["slug"], row["name"]) for row in await query]
    return [*choices, TeamChoice(None, TRIAGE_FILTER, "Triage (no team)")] if user.sees_everything else choices


def _int(params: Mapping[str, str], name: str) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidFilter(name, "Scores are whole numbers.") from None


def _score(params: Mapping[str, str]) -> ScoreRange | None:
    band = params.get("band") or ""
    if band:
        if band not in SCORE_BANDS:
            raise InvalidFilter("band", "Choose a score band from the list.")
        return SCORE_BANDS[band][1]
    kind = params.get("score_kind") or ""
    low, high = _int(params, "score_min"), _int(params, "score_max")
    if not kind:
        if low is not None or high is not None:
            raise InvalidFilter("score_kind", "Choose which score the range is for.")
        return None
    if kind not in SCORE_KINDS:
        raise InvalidFilter("score_kind", "Choose a score from the list.")
    first, last = SCALES[kind]
    low, high = first if low is None else low, last if high is None else high
    if not (first <= low <= last and first <= high <= last):
        raise InvalidFilter("score_min", f"{SCORE_KINDS[kind]} runs from {first} to {last}.")
    if low > high:
        raise InvalidFilter("score_min", "The lowest score must not be above the highest.")
    return ScoreRange(kind, low, high)


def parse_filters(params: Mapping[str, str], teams: list[TeamChoice]) -> InboxFilters:
    """The list's query parameters as filters; InvalidFilter for a value the list cannot apply."""
    status = params.get("status") or "open"
    if status not in STATUS_FILTERS:
        raise InvalidFilter("status", "Choose a status from the list.")
    team = None
    if slug := params.get("team") or "":
        team = next((t for t in teams if t.slug == slug), None)
        if team is None:
            raise InvalidFilter("team", "Choose one of your teams.")
    chosen = {name: params.get(name) or "" for name in ("kind", "label", "topic")}
    for name, allowed in (("kind", KINDS), ("label", LABELS), ("topic", active_keywords())):
        if chosen[name] and chosen[name] not in allowed:
            raise InvalidFilter(name, f"Choose a {name} from the list.")
    page = params.get("page") or "1"
    return InboxFilters(
        q=" ".join((params.get("q") or "").split())[:QUERY_MAX],
        status=status,
        team=team,
        kind=chosen["kind"],
        label=chosen["label"],
        topic=chosen["topic"],
        score=_score(params),
        product=(params.get("product") or "").strip()[:128],
        overdue=bool(params.get("overdue")),
        mine=bool(params.get("mine")),
        page=whole_number(page) or 1,
    )


def list_url(path: str, params: Mapping[str, str], page: int = 1) -> str:
    """The list's URL with only the filters that are set (a plain GET form also sends the empty ones), on `page`."""
    kept = [(name, params[name]) for name in FILTER_FIELDS if params.get(name)]
    query = urlencode([*kept, ("page", str(page))] if page > 1 else kept)
    return f"{path}?{query}" if query else path


# The list ------------------------------------------------------------------------------------------------------


@dataclass
class InboxPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


def _decorate(row: dict[str, Any], topics: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """What a row shows besides its columns: topics, overdue, and how long the loop took to close."""
    return {
        **row,
        "topics": topics,
        "overdue": is_overdue(row["due_at"], row["responded_at"], row["status"], now),
        "loop_closed_in": loop_closed_in(row),
    }


async def list_items(user: Staff, filters: InboxFilters, now: datetime) -> InboxPage:
    """One page of the inbox items this person may see that match the filters, newest first."""
    condition = filters.condition(user, now)
    count = InboxItem.count()
    query = InboxItem.select(*ROW_COLUMNS)
    if condition is not None:
        count, query = count.where(condition), query.where(condition)
    total = await count
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(filters.page, pages)
    rows = (
        await query.order_by(InboxItem.created_at, ascending=False)
        .order_by(InboxItem.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    topics = await topics_by_item(sorted({row["feedback"] for row in rows}))
    return InboxPage([_decorate(row, topics.get(row["feedback"], []), now) for row in rows], total, page, pages)
