"""Putting feedback in front of the teams that can act on it: routing rules from the database, applied in order.

Routing is recomputed whenever a feedback item changes (a customer adds a comment after clicking a score), and is
additive: inbox items a team has started on are never taken away. An item nobody has touched yet leaves an inbox
that no longer matches (it was routed on less information). Unmatched feedback goes to triage, never nowhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from accounts.tables import Team
from afterglow.db import UNIQUE_VIOLATIONS
from feedback.policy import Decision, Facts, Rule, evaluate
from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem, RoutingRule, ThreadEntry

TRIAGE = "triage"


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


def decision_record(decision: Decision, team_names: dict[int, str]) -> list[dict[str, Any]]:
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
    decision: Decision
    created: list[int]  # new inbox items
    withdrawn: list[int]  # untouched inbox items the feedback no longer belongs in


async def route(feedback_id: int, now: datetime) -> Routed:
    """Apply the rules to one feedback item and bring its inbox items in line. Safe to run again."""
    facts = (await facts_of([feedback_id])).get(feedback_id)
    if facts is None:
        return Routed(Decision(), [], [])
    team_rows = await Team.select(Team.id, Team.name)
    team_names = {row["id"]: row["name"] for row in team_rows}
    rules = [r for r in await all_rules() if r.active]
    # A team deleted since the rule was written is skipped; a rule left with no team does not match.
    rules = [
        Rule(**{**r.__dict__, "teams": tuple(t for t in r.teams if t in team_names)}) if not r.archive else r
        for r in rules
    ]
    rules = [r for r in rules if r.archive or r.teams]
    decision = evaluate(rules, facts)
    created_at = (await FeedbackItem.select(FeedbackItem.created_at).where(FeedbackItem.id == feedback_id).first())[
        "created_at"
    ]

    wanted: dict[str, tuple[int | None, Rule | None]] = {}
    if decision.triage:
        wanted[TRIAGE] = (None, None)
    for team, rule in decision.teams.items():
        wanted[str(team)] = (team, rule)

    existing = await InboxItem.select(InboxItem.id, InboxItem.key, InboxItem.status, InboxItem.assignee).where(
        InboxItem.feedback == feedback_id
    )
    have = {row["key"].split(":", 1)[1]: row for row in existing}
    created: list[int] = []
    for slot, (team, rule) in wanted.items():
        if slot in have:
            continue
        due = created_at + timedelta(hours=rule.sla_hours) if rule and rule.sla_hours else None
        try:
            rows = await InboxItem.insert(
                InboxItem(
                    feedback=feedback_id,
                    team=team,
                    key=f"{feedback_id}:{slot}",
                    rule=rule.id if rule else None,
                    rule_name=rule.name if rule else "",
                    priority=rule.priority if rule else "normal",
                    due_at=due,
                    created_at=now,
                    updated_at=now,
                )
            ).returning(InboxItem.id)
        except UNIQUE_VIOLATIONS:
            continue  # a concurrent run placed it
        created.append(int(rows[0]["id"]))

    withdrawn: list[int] = []
    for slot, row in have.items():
        if slot in wanted or row["status"] != "new" or row["assignee"] is not None:
            continue
        if await ThreadEntry.exists().where(ThreadEntry.inbox_item == row["id"]):
            continue
        await InboxItem.delete().where((InboxItem.id == row["id"]) & (InboxItem.status == "new"))
        withdrawn.append(row["id"])

    await FeedbackItem.update(
        {FeedbackItem.routing: decision_record(decision, team_names), FeedbackItem.routed_at: now}
    ).where(FeedbackItem.id == feedback_id)
    return Routed(decision, created, withdrawn)
