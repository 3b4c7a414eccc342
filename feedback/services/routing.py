"""Putting feedback in front of the teams that can act on it: routing rules from the database, applied in order.

Routing is recomputed whenever a feedback item changes (a customer adds a comment after clicking a score), and is
additive: inbox items a team has started on are never taken away. An item nobody has touched yet leaves an inbox
that no longer matches (it was routed on less information). Unmatched feedback goes to triage, never nowhere."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.tables import Team
from feedback.policy import (
    Facts,
    RoutingDecision,
    Rule,
    decide_routing,
    due_at,
    inbox_slots,
    untouched,
)
from feedback.services.bulk import insert_rows
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


async def _fact_rows(feedback_ids: list[int]) -> tuple[list[dict[str, Any]], dict[int, list[str]]]:
    rows = (
        await FeedbackItem.select(*FACT_COLUMNS, FeedbackItem.created_at)
        .where(FeedbackItem.id.is_in(feedback_ids))
        .output(load_json=True)
    )
    topics: dict[int, list[str]] = {}
    for t in await FeedbackTopic.select(FeedbackTopic.feedback, FeedbackTopic.topic).where(
        FeedbackTopic.feedback.is_in(feedback_ids)
    ):
        topics.setdefault(t["feedback"], []).append(t["topic"])
    return rows, topics


async def facts_of(feedback_ids: list[int]) -> dict[int, Facts]:
    """What the rules look at, for each of these feedback items."""
    if not feedback_ids:
        return {}
    rows, topics = await _fact_rows(feedback_ids)
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
    return (await route_many([feedback_id], now)).get(feedback_id, Routed(RoutingDecision(), [], []))


async def route_many(feedback_ids: list[int], now: datetime) -> dict[int, Routed]:
    """Route a set of feedback items at once: the rules and teams read once, every item's inbox items read in one
    query, the missing ones inserted in one statement (an item another run placed first is skipped, so each is
    reported as new by one run only), and one update per distinct routing record. Safe to run again."""
    if not feedback_ids:
        return {}
    rows, topics = await _fact_rows(feedback_ids)
    if not rows:
        return {}
    names = await team_names()
    rules = await all_rules()
    existing: dict[int, dict[str, dict[str, Any]]] = {}
    for row in await InboxItem.select(
        InboxItem.id, InboxItem.feedback, InboxItem.key, InboxItem.status, InboxItem.assignee
    ).where(InboxItem.feedback.is_in([r["id"] for r in rows])):
        existing.setdefault(row["feedback"], {})[row["key"].split(":", 1)[1]] = row
    decisions: dict[int, RoutingDecision] = {}
    to_place: list[dict[str, Any]] = []
    to_withdraw: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        feedback_id = row["id"]
        decision = decisions[feedback_id] = decide_routing(
            rules, facts_from_row(row, topics.get(feedback_id, [])), names
        )
        wanted = inbox_slots(decision)
        have = existing.get(feedback_id, {})
        to_place += [
            _inbox_item(feedback_id, slot, team, rule, row["created_at"], now)
            for slot, (team, rule) in wanted.items()
            if slot not in have
        ]
        to_withdraw[feedback_id] = [item for slot, item in have.items() if slot not in wanted]
    created = await _place(to_place)
    withdrawn = await _withdraw([item for items in to_withdraw.values() for item in items])
    by_record: dict[str, list[int]] = {}
    for feedback_id, decision in decisions.items():
        by_record.setdefault(json.dumps(decision_record(decision, names)), []).append(feedback_id)
    for record, ids in by_record.items():
        await FeedbackItem.update({FeedbackItem.routing: json.loads(record), FeedbackItem.routed_at: now}).where(
            FeedbackItem.id.is_in(ids)
        )
    return {
        feedback_id: Routed(
            decision,
            sorted(i for i, f in created.items() if f == feedback_id),
            [item["id"] for item in to_withdraw[feedback_id] if item["id"] in withdrawn],
        )
        for feedback_id, decision in decisions.items()
    }


def _inbox_item(
    feedback_id: int, slot: str, team: int | None, rule: Rule | None, given_at: datetime, now: datetime
) -> dict[str, Any]:
    return {
        "feedback": feedback_id,
        "team": team,
        "key": f"{feedback_id}:{slot}",
        "rule": rule.id if rule else None,
        "rule_name": rule.name if rule else "",
        "priority": rule.priority if rule else "normal",
        "due_at": due_at(rule, given_at),
        "created_at": now,
        "updated_at": now,
    }


async def _place(items: list[dict[str, Any]]) -> dict[int, int]:
    """Insert these inbox items, skipping any another run placed first; returns {new inbox item id: feedback id}
    of those this run made."""
    created: dict[int, int] = {}
    for start in range(0, len(items), PLACE_BATCH):
        rows = await insert_rows(
            InboxItem,
            items[start : start + PLACE_BATCH],
            on_conflict='ON CONFLICT ("key") DO NOTHING',
            returning=("id", "feedback"),
        )
        created.update({int(row["id"]): int(row["feedback"]) for row in rows})
    return created


#: Inbox items per insert statement.
PLACE_BATCH = 500


async def _withdraw(rows: list[dict[str, Any]]) -> set[int]:
    """Delete the inbox items nobody has started on among these; returns their ids."""
    candidates = [row["id"] for row in rows if untouched(row["status"], row["assignee"])]
    if not candidates:
        return set()
    answered = {
        row["inbox_item"]
        for row in await ThreadEntry.select(ThreadEntry.inbox_item).where(ThreadEntry.inbox_item.is_in(candidates))
    }
    gone = [item_id for item_id in candidates if item_id not in answered]
    if not gone:
        return set()
    deleted = (
        await InboxItem.delete().where(InboxItem.id.is_in(gone) & (InboxItem.status == "new")).returning(InboxItem.id)
    )
    return {int(row["id"]) for row in deleted}
