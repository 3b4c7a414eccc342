"""What staff do with an inbox item, and the timeline that tells it: status, assignee, moving it to another team,
sentiment and topic corrections, internal notes. Every change adds a ThreadEntry (an event, or the note itself).

Each change takes the signed-in person, plain values and `now`, and raises NotYours (not theirs to see), ReadOnly
(theirs to read, not to handle) or InvalidChange (the change cannot be made as asked; nothing was changed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.services import Staff
from accounts.tables import Team
from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.errors import FieldError
from afterglow.overrides import WEB_MAX_AGE
from feedback.policy import LABELS
from feedback.services import tagging
from feedback.services.inbox import OPEN_STATUSES, STATUSES, NotYours, ReadOnly, assignable_staff, may_act, visible
from feedback.services.topic_settings import current_topics
from feedback.tables import FeedbackItem, InboxItem, ThreadEntry

#: Where each status may go: new → in progress → resolved | won't fix, and a closed item can be reopened.
STATUS_CHANGES = {
    "new": ("in_progress", "resolved", "wont_fix"),
    "in_progress": ("resolved", "wont_fix"),
    "resolved": ("in_progress",),
    "wont_fix": ("in_progress",),
}
CLOSED_STATUSES = ("resolved", "wont_fix")
NOTE_MAX = 5000
CHANGED_MEANWHILE = "Someone else changed this item meanwhile. Reload the page and try again."


class InvalidChange(FieldError):
    """A change that cannot be made as asked: `field` names the input, `message` says why."""


def check_status_change(current: str, target: str) -> None:
    """InvalidChange unless an item in `current` may move to `target`."""
    if target not in STATUSES:
        raise InvalidChange("status", "Choose a status from the list.")
    if target not in STATUS_CHANGES[current]:
        raise InvalidChange(
            "status", f"An item that is {STATUSES[current].lower()} cannot become {STATUSES[target].lower()}."
        )


async def _handled(user: Staff, item_id: int) -> dict[str, Any]:
    """The inbox item this person is about to change: NotYours when they cannot see it, ReadOnly when they may
    only read it."""
    row = await InboxItem.select(
        InboxItem.id,
        InboxItem.feedback,
        InboxItem.team,
        InboxItem.team.name,
        InboxItem.status,
        InboxItem.assignee,
        InboxItem.assignee.username,
        InboxItem.priority,
        InboxItem.due_at,
        InboxItem.responded_at,
    ).where(visible(user, InboxItem.id == item_id))
    if not row:
        raise NotYours(item_id)
    if not may_act(user, row[0]["team"]):
        raise ReadOnly(item_id)
    return row[0]


async def _entry(row: dict[str, Any], by: Staff, body: str, now: datetime, *, kind: str = "event") -> int:
    """Add to the feedback's timeline, tied to this inbox item."""
    entry = ThreadEntry(
        feedback=row["feedback"],
        inbox_item=row["id"],
        kind=kind,
        author=by.id,
        author_name=by.username,
        body=body,
        at=now,
    )
    return int((await ThreadEntry.insert(entry).returning(ThreadEntry.id))[0]["id"])


def _where(team: str | None) -> str:
    return team or "Triage"


async def set_status(user: Staff, item_id: int, status: str, now: datetime) -> None:
    """Move the item along new → in progress → resolved | won't fix, or reopen it. Closing it records when, and
    counts as the team's response if nothing was sent before. Asking for the status it has changes nothing."""
    row = await _handled(user, item_id)
    if status == row["status"]:
        return
    check_status_change(row["status"], status)
    values: dict[Any, Any] = {InboxItem.status: status, InboxItem.updated_at: now}
    if status in CLOSED_STATUSES:
        values[InboxItem.resolved_at] = now
        values[InboxItem.responded_at] = row["responded_at"] or now
    else:
        values[InboxItem.resolved_at] = None
    async with InboxItem._meta.db.transaction():
        changed = (
            await InboxItem.update(values)
            .where((InboxItem.id == item_id) & (InboxItem.status == row["status"]))
            .returning(InboxItem.id)
        )
        if not changed:
            raise InvalidChange("status", CHANGED_MEANWHILE)
        verb = "Reopened" if row["status"] in CLOSED_STATUSES else "Status"
        await _entry(row, user, f"{verb}: {STATUSES[row['status']]} → {STATUSES[status]}", now)


async def assign(user: Staff, item_id: int, assignee: int | None, now: datetime) -> None:
    """Give the item to one person (a member of its team; admins may choose anyone), or to nobody (None)."""
    row = await _handled(user, item_id)
    if assignee == row["assignee"]:
        return
    name = ""
    if assignee is not None:
        allowed = {person["id"]: person["username"] for person in await assignable_staff(user, row["team"])}
        if assignee not in allowed:
            raise InvalidChange("assignee", f"Choose a member of {_where(row['team.name'])}.")
        name = allowed[assignee]
    async with InboxItem._meta.db.transaction():
        await InboxItem.update({InboxItem.assignee: assignee, InboxItem.updated_at: now}).where(InboxItem.id == item_id)
        body = f"Assigned to {name}" if name else f"Unassigned (was {row['assignee.username']})"
        await _entry(row, user, body, now)


def _note_text(body: str) -> str:
    text = body.replace("\r\n", "\n").strip()
    if len(text) > NOTE_MAX:
        raise InvalidChange("note", f"A note can have at most {NOTE_MAX:,} characters; this one has {len(text):,}.")
    return text


async def add_note(user: Staff, item_id: int, body: str, now: datetime) -> int:
    """An internal note on the item's timeline (never sent to the customer); returns its id."""
    row = await _handled(user, item_id)
    text = _note_text(body)
    if not text:
        raise InvalidChange("note", "Write the note first.")
    return await _entry(row, user, text, now, kind="note")


@dataclass(frozen=True)
class Moved:
    target_item: int  # the target team's inbox item for this feedback
    already_there: bool  # the target team had it before: this item was only closed


async def move(user: Staff, item_id: int, team_slug: str, note: str, now: datetime) -> Moved:
    """Hand the item to another team (triage → a team, or one team to another): the target team gets it as new
    with the same priority and due time, and this item is closed. If the target team has this feedback already,
    this item is only closed. `note` (optional) goes on the timeline with the move."""
    row = await _handled(user, item_id)
    text = _note_text(note)
    if row["status"] not in OPEN_STATUSES:
        raise InvalidChange("team", "This item is closed. Reopen it before moving it to another team.")
    target = await Team.select(Team.id, Team.name).where(Team.slug == team_slug).first()
    if target is None:
        raise InvalidChange("team", "Choose a team from the list.")
    if target["id"] == row["team"]:
        raise InvalidChange("team", f"It is in the {target['name']} inbox already.")
    here, there = _where(row["team.name"]), target["name"]
    existing = await InboxItem.select(InboxItem.id).where(InboxItem.key == f"{row['feedback']}:{target['id']}").first()
    try:
        async with InboxItem._meta.db.transaction():
            closed = (
                await InboxItem.update(
                    {InboxItem.status: "resolved", InboxItem.resolved_at: now, InboxItem.updated_at: now}
                )
                .where((InboxItem.id == item_id) & (InboxItem.status == row["status"]))
                .returning(InboxItem.id)
            )
            if not closed:
                raise InvalidChange("team", CHANGED_MEANWHILE)
            if existing is not None:
                await _entry(row, user, f"Closed in {here}: {there} has this feedback already", now)
                target_item = int(existing["id"])
            else:
                inserted = await InboxItem.insert(
                    InboxItem(
                        feedback=row["feedback"],
                        team=target["id"],
                        key=f"{row['feedback']}:{target['id']}",
                        priority=row["priority"],
                        due_at=row["due_at"],
                        created_at=now,
                        updated_at=now,
                    )
                ).returning(InboxItem.id)
                target_item = int(inserted[0]["id"])
                # Tied to the new item, so routing never withdraws it as untouched.
                await _entry({**row, "id": target_item}, user, f"Moved from {here} to {there}", now)
            if text:
                await _entry({**row, "id": target_item}, user, text, now, kind="note")
    except UNIQUE_VIOLATIONS:  # routing placed it in the target inbox a moment ago
        raise InvalidChange("team", CHANGED_MEANWHILE) from None
    return Moved(target_item, existing is not None)


async def _analysed(feedback_id: int) -> dict[str, Any]:
    """What the analyser said of this feedback, for the timeline next to a person's correction."""
    query = FeedbackItem.select(FeedbackItem.auto_label, FeedbackItem.auto_topics)
    row = await query.where(FeedbackItem.id == feedback_id).output(load_json=True).first()
    return row or {"auto_label": "", "auto_topics": []}


async def correct_label(user: Staff, item_id: int, label: str, now: datetime) -> None:
    """Set the sentiment label by hand ("" gives it back to the analyser); re-analysis keeps a person's label."""
    row = await _handled(user, item_id)
    if label and label not in LABELS:
        raise InvalidChange("label", "Choose a sentiment from the list.")
    said = (await _analysed(row["feedback"]))["auto_label"] or "no label"
    body = (
        f"Sentiment set to {label} (the analyser said {said})" if label else f"Sentiment back to the analyser's: {said}"
    )
    async with InboxItem._meta.db.transaction():
        await tagging.correct_label(row["feedback"], label, user, now)
        await _entry(row, user, body, now)


async def correct_topics(user: Staff, item_id: int, topics: list[str], now: datetime) -> None:
    """Set the topics by hand (from the configured list; none is a choice); re-analysis keeps them."""
    row = await _handled(user, item_id)
    if unknown := [t for t in topics if t not in await current_topics(WEB_MAX_AGE)]:
        raise InvalidChange("topics", f"Unknown topic: {unknown[0]}.")
    chosen = ", ".join(dict.fromkeys(topics)) or "none"
    found = ", ".join((await _analysed(row["feedback"]))["auto_topics"]) or "none"
    async with InboxItem._meta.db.transaction():
        await tagging.correct_topics(row["feedback"], topics, user, now)
        await _entry(row, user, f"Topics set to {chosen} (the analyser found {found})", now)


async def timeline(feedback_id: int) -> list[dict[str, Any]]:
    """The feedback's notes, events, replies (with their delivery) and the customer's answers, oldest first."""
    return await (
        ThreadEntry.select(
            ThreadEntry.id,
            ThreadEntry.kind,
            ThreadEntry.author_name,
            ThreadEntry.body,
            ThreadEntry.delivery,
            ThreadEntry.at,
            ThreadEntry.inbox_item.team.name,
        )
        .where(ThreadEntry.feedback == feedback_id)
        .order_by(ThreadEntry.at)
        .order_by(ThreadEntry.id)
    )
