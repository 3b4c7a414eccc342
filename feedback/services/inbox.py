"""Team inboxes: which routed feedback a staff user may see."""

from __future__ import annotations

from typing import Any

from accounts.services import Staff
from feedback.tables import InboxItem

_COLUMNS = (
    InboxItem.id,
    InboxItem.status,
    InboxItem.priority,
    InboxItem.due_at,
    InboxItem.rule_name,
    InboxItem.created_at,
    InboxItem.team.name,
    InboxItem.feedback.id,
    InboxItem.feedback.kind,
    InboxItem.feedback.created_at,
    InboxItem.feedback.csat,
    InboxItem.feedback.nps,
    InboxItem.feedback.rating,
    InboxItem.feedback.title,
    InboxItem.feedback.text,
    InboxItem.feedback.label,
    InboxItem.feedback.label_source,
    InboxItem.feedback.language,
    InboxItem.feedback.agent,
    InboxItem.feedback.name,
    InboxItem.feedback.email,
    InboxItem.feedback.order.external_id,
)


def visible_to(user: Staff) -> Any:
    """Admins and managers see every item, triage included; members only their teams' items."""
    if user.sees_everything:
        return None
    return InboxItem.team.is_in(list(user.team_ids)) if user.team_ids else InboxItem.id < 0


async def visible_items(user: Staff, limit: int = 100) -> list[dict[str, Any]]:
    query = InboxItem.select(*_COLUMNS).order_by(InboxItem.id, ascending=False).limit(limit)
    condition = visible_to(user)
    if condition is not None:
        query = query.where(condition)
    return await query


async def visible_item(user: Staff, item_id: int) -> dict[str, Any] | None:
    """One item, or None when it does not exist or belongs to a team the user is not in."""
    condition = InboxItem.id == item_id
    extra = visible_to(user)
    return await InboxItem.select(*_COLUMNS).where(condition if extra is None else condition & extra).first()
