"""Team inboxes: who may see and handle routed feedback, and one item with what surrounds it (the list and its
filters: feedback.services.inbox_list; changes and the timeline: feedback.services.thread).

Members see the inbox items of their teams; managers and admins see every item, triage (no team) included.
Admins and the members of an item's team may act on it; managers read only. An item someone may not see does
not exist for them (NotYours: 404)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from piccolo.columns.combination import Combinable

from accounts.services import Staff
from accounts.tables import StaffProfile, Team, TeamMember
from feedback.analysis.label import polarity_label
from feedback.analysis.lexicons import LANGUAGES_WITH_LEXICON
from feedback.services.tagging import topics_by_item
from feedback.tables import FeedbackItem, InboxItem
from shop.tables import Order, OrderItem

STATUSES = {"new": "New", "in_progress": "In progress", "resolved": "Resolved", "wont_fix": "Won't fix"}
OPEN_STATUSES = ("new", "in_progress")
EARLIER_LIMIT = 10


class NotYours(LookupError):
    """No such inbox item among those this person may see."""


class ReadOnly(PermissionError):
    """This person may read the item but not handle it (managers read every item and handle none)."""


# Who may see and act --------------------------------------------------------------------------------------------


def visible_to(user: Staff) -> Combinable | None:
    """The condition on InboxItem for what this person sees; None when they see everything."""
    if user.sees_everything:
        return None
    return InboxItem.team.is_in(sorted(user.team_ids)) if user.team_ids else InboxItem.id < 0


def visible(user: Staff, condition: Combinable) -> Combinable:
    """`condition` narrowed to the inbox items this person sees."""
    extra = visible_to(user)
    return condition if extra is None else condition & extra


def may_act(user: Staff, team_id: int | None) -> bool:
    """Admins act on everything, triage included; members on their teams' items; managers only read."""
    if user.role == "admin":
        return True
    return user.role == "member" and team_id is not None and team_id in user.team_ids


def is_overdue(due_at: datetime | None, responded_at: datetime | None, status: str, now: datetime) -> bool:
    """Past its SLA while the team has neither replied nor closed it."""
    return due_at is not None and due_at < now and responded_at is None and status in OPEN_STATUSES


def overdue_condition(now: datetime) -> Combinable:
    """`is_overdue` as a condition on InboxItem, for queries."""
    return (InboxItem.due_at < now) & InboxItem.responded_at.is_null() & InboxItem.status.is_in(list(OPEN_STATUSES))


def sentence_tone(polarity: float | None) -> str:
    """A sentence's sentiment for highlighting; exactly 0 means the lexicon found no opinion words ("none")."""
    if polarity is None or polarity == 0:
        return "none"
    return polarity_label(polarity)


def has_lexicon(language: str) -> bool:
    """Whether the analyser reads text in this language (otherwise a label comes from the score alone)."""
    return language in LANGUAGES_WITH_LEXICON


def duration_text(delta: timedelta) -> str:
    """A span as staff read it: "45 min", "3 h 20 min", "2 d 4 h"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


#: An inbox item with what its list row shows of the feedback.
ROW_COLUMNS = (
    InboxItem.id,
    InboxItem.status,
    InboxItem.priority,
    InboxItem.due_at,
    InboxItem.responded_at,
    InboxItem.created_at,
    InboxItem.team,
    InboxItem.team.name,
    InboxItem.assignee,
    InboxItem.assignee.username,
    InboxItem.feedback,
    InboxItem.feedback.kind,
    InboxItem.feedback.created_at,
    InboxItem.feedback.first_reply_at,
    InboxItem.feedback.name,
    InboxItem.feedback.email,
    InboxItem.feedback.csat,
    InboxItem.feedback.nps,
    InboxItem.feedback.rating,
    InboxItem.feedback.title,
    InboxItem.feedback.text,
    InboxItem.feedback.label,
    InboxItem.feedback.flagged,
    InboxItem.feedback.product_name,
    InboxItem.feedback.order.external_id,
)


def loop_closed_in(row: dict[str, Any]) -> timedelta | None:
    """From the feedback to the first reply the customer was sent (a row with ROW_COLUMNS)."""
    replied = row["feedback.first_reply_at"]
    return replied - row["feedback.created_at"] if replied else None


# One item ------------------------------------------------------------------------------------------------------


@dataclass
class ItemView:
    """Everything the item page shows: the inbox row, the whole feedback, its order, and what surrounds it."""

    item: dict[str, Any]
    feedback: dict[str, Any]
    topics: list[dict[str, Any]]
    order: dict[str, Any] | None
    order_items: list[dict[str, Any]]
    earlier: list[dict[str, Any]]
    can_act: bool
    overdue: bool
    loop_closed_in: timedelta | None
    assignable: list[dict[str, Any]]  # whom this person may assign it to (empty when they cannot act)
    move_to: list[dict[str, Any]]  # the teams it may be moved to


async def inbox_row(user: Staff, item_id: int) -> dict[str, Any]:
    """The inbox item as its list row shows it; NotYours when it does not exist or is not for this person."""
    row = await InboxItem.select(*ROW_COLUMNS, InboxItem.rule_name).where(visible(user, InboxItem.id == item_id))
    if not row:
        raise NotYours(item_id)
    return row[0]


async def assignable_staff(user: Staff, team_id: int | None) -> list[dict[str, Any]]:
    """Whom this person may assign an item of this team to: the team's active members; admins anyone active."""
    if user.role == "admin":
        query = StaffProfile.select(StaffProfile.user.as_alias("id"), StaffProfile.user.username.as_alias("username"))
        return await query.where(StaffProfile.user.active.eq(True)).order_by(StaffProfile.user.username)
    if team_id is None:
        return []
    query = TeamMember.select(TeamMember.user.as_alias("id"), TeamMember.user.username.as_alias("username"))
    return await query.where((TeamMember.team == team_id) & TeamMember.user.active.eq(True)).order_by(
        TeamMember.user.username
    )


async def _earlier_feedback(user: Staff, feedback: dict[str, Any]) -> list[dict[str, Any]]:
    """The customer's other feedback, newest first; for members only what was routed to their teams. Each has
    `link`: the inbox item this person may open for it, if any."""
    if feedback["customer"] is None:
        return []
    condition = (FeedbackItem.customer == feedback["customer"]) & (FeedbackItem.id != feedback["id"])
    if not user.sees_everything:
        theirs = InboxItem.select(InboxItem.feedback).where(InboxItem.team.is_in(sorted(user.team_ids) or [-1]))
        condition = condition & FeedbackItem.id.is_in(theirs)
    rows = (
        await FeedbackItem.select(
            FeedbackItem.id,
            FeedbackItem.kind,
            FeedbackItem.created_at,
            FeedbackItem.csat,
            FeedbackItem.nps,
            FeedbackItem.rating,
            FeedbackItem.title,
            FeedbackItem.text,
            FeedbackItem.label,
        )
        .where(condition)
        .order_by(FeedbackItem.created_at, ascending=False)
        .limit(EARLIER_LIMIT)
    )
    links: dict[int, int] = {}
    if rows:
        items = await InboxItem.select(InboxItem.id, InboxItem.feedback, InboxItem.team).where(
            visible(user, InboxItem.feedback.is_in([r["id"] for r in rows]))
        )
        # The viewer's own team's item first, then the oldest (the first place the feedback was routed).
        for found in sorted(items, key=lambda i: (i["team"] not in user.team_ids, i["id"])):
            links.setdefault(found["feedback"], found["id"])
    return [{**row, "link": links.get(row["id"])} for row in rows]


async def item_view(user: Staff, item_id: int, now: datetime) -> ItemView:
    """The item page's content; NotYours when this person may not see the item."""
    row = await inbox_row(user, item_id)
    feedback = await FeedbackItem.select().where(FeedbackItem.id == row["feedback"]).output(load_json=True).first()
    assert feedback is not None  # an inbox item's feedback is deleted with it (privacy erasure)
    order = None
    order_items: list[dict[str, Any]] = []
    if feedback["order"] is not None:
        order = (
            await Order.select(Order.external_id, Order.channel, Order.placed_at, Order.total, Order.currency)
            .where(Order.id == feedback["order"])
            .first()
        )
        order_items = await (
            OrderItem.select(OrderItem.sku, OrderItem.name, OrderItem.category, OrderItem.quantity, OrderItem.price)
            .where(OrderItem.order == feedback["order"])
            .order_by(OrderItem.id)
        )
    can_act = may_act(user, row["team"])
    teams = await Team.select(Team.id, Team.slug, Team.name).order_by(Team.name) if can_act else []
    return ItemView(
        item=row,
        feedback=feedback,
        topics=(await topics_by_item([feedback["id"]])).get(feedback["id"], []),
        order=order,
        order_items=order_items,
        earlier=await _earlier_feedback(user, feedback),
        can_act=can_act,
        overdue=is_overdue(row["due_at"], row["responded_at"], row["status"], now),
        loop_closed_in=loop_closed_in(row),
        assignable=await assignable_staff(user, row["team"]) if can_act else [],
        move_to=[t for t in teams if t["id"] != row["team"]],
    )
