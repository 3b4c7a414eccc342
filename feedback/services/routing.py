"""Putting feedback in front of the teams that can act on it: routing rules from the database, applied in order.

Routing is recomputed whenever a feedback item changes (a customer adds a comment after clicking a score), and is
additive: inbox items a team has started on are never taken away. An item nobody has touched yet leaves an inbox
that no longer matches (it was routed on less information). Unmatched feedback goes to triage, never nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.tables import Team
from afterglow.db import UNIQUE_VIOLATIONS
from feedback.policy import (
    Facts,
    RoutingDecision,
    Rule,
    Slots,
    decide_routing,
    due_at,
    inbox_slots,
    untouched,
)
from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem, RoutingRule, ThreadEntry


def rule_from_row(row: dict[str, Any]) -> Rule:
    """A RoutingRule row (selected with `load_json`) as a policy value."""
    return Rule(
        id=row["id"],
        name=row["name"],
        kind=row["kind"],
        score_min=row["score_min"],
        score_max=row["score_max"],
        labels=frozenset(row["labels"] or ()),
        flagged_only=row["flagged_only"],
        topics=frozenset(row["topics"] or ()),
        categories=frozenset(row["categories"] or ()),
        channels=frozenset(row["channels"] or ()),
        languages=frozenset(row["languages"] or ()),
        teams=tuple(int(t) for t in row["teams"] or ()),
        archive=row["archive"],
        priority=row["priority"],
        sla_hours=row["sla_hours"],
        continue_after=row["continue_after"],
        active=row["active"],
        position=row["position"],
    )


async def team_names() -> dict[int, str]:
    """The name of every team that exists, by id."""
    return {row["id"]: row["name"] for row in await Team.select(Team.id, Team.name)}


async def all_rules() -> list[Rule]:
    """Every rule, active or not, in evaluation order."""
    rows = await RoutingRule.select().order_by(RoutingRule.position).order_by(RoutingRule.id).output(load_json=True)
    return [rule_from_row(row) for row in rows]


FACT_COLUMNS = (
    FeedbackItem.id,
    FeedbackItem.kind,
    FeedbackItem.csat,
    FeedbackItem.nps,
    FeedbackItem.rating,
    FeedbackItem.label,
    FeedbackItem.flagged,
    FeedbackItem.categories,
    FeedbackItem.channel,
    FeedbackItem.language,
)


def facts_from_row(row: dict[str, Any], topics: list[str]) -> Facts:
    return Facts(
        kind=row["kind"],
        csat=row["csat"],
        nps=row["nps"],
        rating=row["rating"],
        label=row["label"],
        flagged=row["flagged"],
        topics=frozenset(topics),
        categories=frozenset(row["categories"] or ()),
        channel=row["channel"],
        language=row["language"],
    )


async def facts_of(feedback_ids: list[int]) -> dict[int, Facts]:
    """What the rules look at, for each of these feedback items."""
    if not feedback_ids:
        return {}
    rows = await FeedbackItem.select(*FACT_COLUMNS).where(FeedbackItem.id.is_in(feedback_ids)).output(load_json=True)
    topics: dict[int, list[str]] = {}
    for t in await FeedbackTopic.select(FeedbackTopic.feedback, FeedbackTopic.topic).where(
        FeedbackTopic.feedback.is_in(feedback_ids)
    ):
        topics.setdefault(t["feedback"], []).append(t["topic"])
    return {row["id"]: facts_from_row(row, topics.get(row["id"], [])) for row in rows}


def decision_record(decision: RoutingDecision, team_names: dict[int, str]) -> list[dict[str, Any]]:
    """What is kept on the feedback item: each matching rule and where it sent the feedback."""
    return [
        {
            "rule": rule.id,
            "name": rule.name,
            "teams": [team_names.get(t, f"team {t}") for t in rule.teams if t in team_names],
            "archive": rule.archive,
            "priority": rule.priority,
            "sla_hours": rule.sla_hours,
        }
        for rule in decision.rules
    ]


@dataclass(frozen=True)
class Routed:
    decision: RoutingDecision
    created: list[int]  # new inbox items
    withdrawn: list[int]  # untouched inbox items the feedback no longer belongs in


async def route(feedback_id: int, now: datetime) -> Routed:
    """Apply the rules to one feedback item and bring its inbox items in line. Safe to run again."""
    facts = (await facts_of([feedback_id])).get(feedback_id)
    if facts is None:
        return Routed(RoutingDecision(), [], [])
    names = await team_names()
    decision = decide_routing(await all_rules(), facts, names)
    wanted = inbox_slots(decision)
    existing = await InboxItem.select(InboxItem.id, InboxItem.key, InboxItem.status, InboxItem.assignee).where(
        InboxItem.feedback == feedback_id
    )
    have = {row["key"].split(":", 1)[1]: row for row in existing}
    created = await _place(feedback_id, {slot: v for slot, v in wanted.items() if slot not in have}, now)
    withdrawn = await _withdraw([row for slot, row in have.items() if slot not in wanted])
    await FeedbackItem.update(
        {FeedbackItem.routing: decision_record(decision, names), FeedbackItem.routed_at: now}
    ).where(FeedbackItem.id == feedback_id)
    return Routed(decision, created, withdrawn)


async def _place(feedback_id: int, slots: Slots, now: datetime) -> list[int]:
    """Create the inbox items of these slots; returns the ids of those this run made."""
    if not slots:
        return []
    given_at = (await FeedbackItem.select(FeedbackItem.created_at).where(FeedbackItem.id == feedback_id).first())[
        "created_at"
    ]
    created: list[int] = []
    for slot, (team, rule) in slots.items():
        try:
            rows = await InboxItem.insert(
                InboxItem(
                    feedback=feedback_id,
                    team=team,
                    key=f"{feedback_id}:{slot}",
                    rule=rule.id if rule else None,
                    rule_name=rule.name if rule else "",
                    priority=rule.priority if rule else "normal",
                    due_at=due_at(rule, given_at),
                    created_at=now,
                    updated_at=now,
                )
            ).returning(InboxItem.id)
        except UNIQUE_VIOLATIONS:
            continue  # a concurrent run placed it
        created.append(int(rows[0]["id"]))
    return created


async def _withdraw(rows: list[dict[str, Any]]) -> list[int]:
    """Delete the inbox items nobody has started on among these; returns their ids."""
    withdrawn: list[int] = []
    for row in rows:
        if not untouched(row["status"], row["assignee"]):
            continue
        if await ThreadEntry.exists().where(ThreadEntry.inbox_item == row["id"]):
            continue
        await InboxItem.delete().where((InboxItem.id == row["id"]) & (InboxItem.status == "new"))
        withdrawn.append(row["id"])
    return withdrawn
