"""Routing rules as admins edit them: save, reorder, switch off, delete, and try one on recent feedback."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from piccolo.query.methods.select import Count

from accounts.services import Staff, audit
from accounts.tables import Team
from feedback.policy import Rule, check_rule, decide_routing, matches
from feedback.services.routing import all_rules, facts_of, rule_from_row
from feedback.tables import FeedbackItem, InboxItem, RoutingRule

PREVIEW_SIZE = 100
#: How far back the rules list counts what each rule routed.
ACTIVITY_DAYS = 30


class UnknownRule(LookupError):
    """No rule with this id."""


async def team_ids() -> list[int]:
    """The ids of every team a rule may name."""
    return [row["id"] for row in await Team.select(Team.id)]


async def team_names() -> dict[int, str]:
    """Every team a rule may name, by id, in alphabetical order."""
    return {row["id"]: row["name"] for row in await Team.select(Team.id, Team.name).order_by(Team.name)}


def _columns(rule: Rule) -> dict[Any, Any]:
    return {
        RoutingRule.name: rule.name.strip()[:120],
        RoutingRule.active: rule.active,
        RoutingRule.kind: rule.kind,
        RoutingRule.score_min: rule.score_min,
        RoutingRule.score_max: rule.score_max,
        RoutingRule.labels: sorted(rule.labels),
        RoutingRule.flagged_only: rule.flagged_only,
        RoutingRule.topics: sorted(rule.topics),
        RoutingRule.categories: sorted(rule.categories),
        RoutingRule.channels: sorted(rule.channels),
        RoutingRule.languages: sorted(rule.languages),
        RoutingRule.teams: list(rule.teams),
        RoutingRule.archive: rule.archive,
        RoutingRule.priority: rule.priority,
        RoutingRule.sla_hours: rule.sla_hours,
        RoutingRule.continue_after: rule.continue_after,
    }


async def get_rule(rule_id: int) -> Rule:
    """One saved rule (UnknownRule when there is none)."""
    row = await RoutingRule.select().where(RoutingRule.id == rule_id).output(load_json=True).first()
    if row is None:
        raise UnknownRule(rule_id)
    return rule_from_row(row)


async def create_rule(rule: Rule, by: Staff | None, now: datetime) -> int:
    """Check and save a new rule at the end of the list (InvalidRule says what is wrong)."""
    check_rule(rule, await team_ids())
    last = await RoutingRule.select(RoutingRule.position).order_by(RoutingRule.position, ascending=False).first()
    position = (last["position"] + 1) if last else 1
    row = RoutingRule(position=position, created_at=now, updated_at=now)
    for column, value in _columns(rule).items():
        setattr(row, column._meta.name, value)
    rule_id = int((await RoutingRule.insert(row).returning(RoutingRule.id))[0]["id"])
    await audit(by, "routing.rule_created", f"rule:{rule_id}", now, name=rule.name)
    return rule_id


async def update_rule(rule_id: int, rule: Rule, by: Staff | None, now: datetime) -> None:
    """Check and save changes to a rule; its place in the list stays."""
    await get_rule(rule_id)
    check_rule(rule, await team_ids())
    await RoutingRule.update({**_columns(rule), RoutingRule.updated_at: now}).where(RoutingRule.id == rule_id)
    await audit(by, "routing.rule_changed", f"rule:{rule_id}", now, name=rule.name)


async def delete_rule(rule_id: int, by: Staff | None, now: datetime) -> None:
    """Remove a rule. Inbox items it routed stay where they are and keep its name."""
    rule = await get_rule(rule_id)
    async with RoutingRule._meta.db.transaction():
        # The foreign key would cascade (Piccolo's default) and take the team's inbox items with it.
        await InboxItem.update({InboxItem.rule: None}).where(InboxItem.rule == rule_id)
        await RoutingRule.delete().where(RoutingRule.id == rule_id)
    await audit(by, "routing.rule_deleted", f"rule:{rule_id}", now, name=rule.name)


async def set_active(rule_id: int, active: bool, by: Staff | None, now: datetime) -> None:
    """Switch a rule on or off; a rule that is off is skipped when routing."""
    rule = await get_rule(rule_id)
    await RoutingRule.update({RoutingRule.active: active, RoutingRule.updated_at: now}).where(RoutingRule.id == rule_id)
    await audit(by, "routing.rule_switched", f"rule:{rule_id}", now, name=rule.name, active=active)


async def move_rule(rule_id: int, step: int, by: Staff | None, now: datetime) -> None:
    """Move a rule up (step -1) or down (+1) in the evaluation order."""
    rules = await all_rules()
    ids = [r.id for r in rules]
    if rule_id not in ids:
        raise UnknownRule(rule_id)
    at = ids.index(rule_id)
    to = min(max(at + step, 0), len(ids) - 1)
    ids.insert(to, ids.pop(at))
    async with RoutingRule._meta.db.transaction():
        for position, each in enumerate(ids, start=1):
            await RoutingRule.update({RoutingRule.position: position}).where(RoutingRule.id == each)
    await audit(by, "routing.rule_moved", f"rule:{rule_id}", now, to=to + 1)


@dataclass(frozen=True)
class PreviewRow:
    feedback_id: int
    kind: str
    created_at: datetime
    scores: str
    label: str
    topics: tuple[str, ...]
    text: str
    matches: bool
    decided_by: str  # the rule that routes it once this rule is saved ("" = triage)
    reached: bool = False  # this rule is among those that route it (not taken first by an earlier rule)


@dataclass(frozen=True)
class Preview:
    rows: list[PreviewRow]

    @property
    def matched(self) -> int:
        return sum(1 for row in self.rows if row.matches)


def _scores(row: dict[str, Any]) -> str:
    parts = []
    if row["csat"] is not None:
        parts.append(f"CSAT {row['csat']}")
    if row["nps"] is not None:
        parts.append(f"NPS {row['nps']}")
    if row["rating"] is not None:
        parts.append(f"{row['rating']}★")
    return " · ".join(parts)


async def preview_rule(rule: Rule, replacing: int | None = None, size: int = PREVIEW_SIZE) -> Preview:
    """Try a rule (saved or not) on the latest `size` feedback items: which it matches, and which rule would route
    each item with it in the list (in place of rule `replacing`, or last). Nothing is changed."""
    rows = (
        await FeedbackItem.select(
            FeedbackItem.id,
            FeedbackItem.kind,
            FeedbackItem.created_at,
            FeedbackItem.csat,
            FeedbackItem.nps,
            FeedbackItem.rating,
            FeedbackItem.label,
            FeedbackItem.title,
            FeedbackItem.text,
        )
        .order_by(FeedbackItem.created_at, ascending=False)
        .order_by(FeedbackItem.id, ascending=False)
        .limit(size)
    )
    facts = await facts_of([row["id"] for row in rows])
    saved = await all_rules()
    others = [r for r in saved if r.id != replacing]
    if replacing is not None:
        original = next((r for r in saved if r.id == replacing), None)
        trial = replace(rule, id=replacing, position=original.position if original else rule.position)
    else:
        trial = replace(rule, id=0, position=(max((r.position for r in others), default=0) + 1))
    # A rule being written may have no action yet: it is tried as one that files the feedback it matches.
    trial = replace(trial, active=True, archive=trial.archive or not trial.teams)
    listed, teams = [*others, trial], await team_ids()
    result = []
    for row in rows:
        fact = facts[row["id"]]
        decision = decide_routing(listed, fact, teams)  # the same decision routing makes
        result.append(
            PreviewRow(
                feedback_id=row["id"],
                kind=row["kind"],
                created_at=row["created_at"],
                scores=_scores(row),
                label=row["label"],
                topics=tuple(sorted(fact.topics)),
                text=(f"{row['title']}. {row['text']}" if row["title"] else row["text"])[:200],
                matches=matches(trial, fact),
                decided_by=", ".join(r.name or "this rule" for r in decision.rules),
                reached=any(r.id == trial.id for r in decision.rules),
            )
        )
    return Preview(result)


# What each rule did ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Activity:
    """What the rules did with the feedback of the last `days` days (by when the feedback was given)."""

    days: int
    feedback: int  # feedback items routed
    triage: int  # of which no rule matched
    matched: dict[int, int]  # rule id → feedback items it matched
    inbox_items: dict[int, int]  # rule id → inbox items it created for that feedback


async def rule_activity(now: datetime, days: int = ACTIVITY_DAYS) -> Activity:
    """Per rule, how much feedback it matched and how many inbox items it made, from the routing records."""
    since = now - timedelta(days=days)
    records = (
        await FeedbackItem.select(FeedbackItem.routing)
        .where((FeedbackItem.created_at >= since) & FeedbackItem.routed_at.is_not_null())
        .output(load_json=True)
    )
    matched: dict[int, int] = {}
    for record in records:
        for rule_id in {entry.get("rule") for entry in record["routing"] or ()}:
            if isinstance(rule_id, int):
                matched[rule_id] = matched.get(rule_id, 0) + 1
    made = (
        await InboxItem.select(InboxItem.rule, Count())
        .where((InboxItem.feedback.created_at >= since) & InboxItem.rule.is_not_null())
        .group_by(InboxItem.rule)
    )
    return Activity(
        days=days,
        feedback=len(records),
        triage=sum(1 for record in records if not record["routing"]),
        matched=matched,
        inbox_items={row["rule"]: row["count"] for row in made},
    )
