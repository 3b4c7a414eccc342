"""Team inboxes: which feedback a staff user may see, and putting analysed feedback in front of a team."""

from __future__ import annotations

import contextlib
from typing import Any

from accounts.services import Staff
from accounts.tables import Team
from afterglow.db import UNIQUE_VIOLATIONS
from feedback.tables import CommentAnalysis, InboxItem
from surveys.tables import Response

SUPPORT_TEAM = "support"

_COLUMNS = (
    InboxItem.id,
    InboxItem.created_at,
    InboxItem.team.name,
    InboxItem.response.id,
    InboxItem.response.updated_at,
    InboxItem.response.csat,
    InboxItem.response.nps,
    InboxItem.response.comment,
    InboxItem.response.invitation.kind,
    InboxItem.response.invitation.agent,
    InboxItem.response.invitation.customer.name,
    InboxItem.response.invitation.customer.email,
    InboxItem.response.invitation.order.external_id,
)


def _visible(user: Staff) -> Any:
    """Admins and managers see every item, triage included; members only their teams' items."""
    if user.sees_everything:
        return None
    return InboxItem.team.is_in(list(user.team_ids)) if user.team_ids else InboxItem.id < 0


async def visible_items(user: Staff, limit: int = 100) -> list[dict[str, Any]]:
    query = InboxItem.select(*_COLUMNS).order_by(InboxItem.id, ascending=False).limit(limit)
    condition = _visible(user)
    if condition is not None:
        query = query.where(condition)
    return await query


async def visible_item(user: Staff, item_id: int) -> dict[str, Any] | None:
    """One item, or None when it does not exist or belongs to a team the user is not in."""
    condition = InboxItem.id == item_id
    extra = _visible(user)
    row = await InboxItem.select(*_COLUMNS).where(condition if extra is None else condition & extra).first()
    if row is None:
        return None
    analysis = (
        await CommentAnalysis.select(CommentAnalysis.label, CommentAnalysis.polarity)
        .where(CommentAnalysis.response == row["response.id"])
        .first()
    )
    row["analysis"] = analysis
    return row


async def place_in_inbox(response_id: int) -> None:
    """Support feedback goes to the support team; everything else waits in triage until routing rules exist."""
    if await InboxItem.exists().where(InboxItem.response == response_id):
        return
    kind = await Response.select(Response.invitation.kind).where(Response.id == response_id).first()
    team = None
    if kind and kind["invitation.kind"] == "support":
        row = await Team.select(Team.id).where(Team.slug == SUPPORT_TEAM).first()
        team = row["id"] if row else None
    with contextlib.suppress(*UNIQUE_VIOLATIONS):  # placed by a concurrent run
        await InboxItem.insert(InboxItem(response=response_id, team=team))
