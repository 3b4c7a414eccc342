"""Routing rules as pure values: which rules a piece of feedback matches, in order. No database here."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from afterglow.errors import FieldError
from afterglow.kinds import RULE_KINDS, SCALES, score_of

LABELS = ("positive", "neutral", "negative", "mixed")
PRIORITIES = ("urgent", "high", "normal", "low")
SLA_MAX_HOURS = 24 * 90
NAME_MAX = 120
#: The longest value a condition can name: what FeedbackItem stores of a category and a channel.
VALUE_MAX = {"categories": 100, "channels": 64}
LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Facts:
    """What rules look at in one piece of feedback."""

    kind: str  # order | support | review | suggestion
    csat: int | None = None
    nps: int | None = None
    rating: int | None = None
    label: str = ""
    flagged: bool = False
    topics: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    channel: str = ""
    language: str = ""

    def score(self, rule_kind: str) -> int | None:
        """The score a rule of `rule_kind` tests, or None when this feedback has none of that kind."""
        return score_of(rule_kind, self.kind, {"csat": self.csat, "nps": self.nps, "rating": self.rating})

    def is_kind(self, rule_kind: str) -> bool:
        """True when the feedback is of the rule's kind: an order survey is "csat" or "nps" once that score is given."""
        if rule_kind in ("csat", "nps"):
            return self.score(rule_kind) is not None
        if rule_kind == "support":
            return self.kind == "support"
        return self.kind == rule_kind


@dataclass(frozen=True)
class Rule:
    """One routing rule: every condition that is set must hold. Empty collections and None mean "any"."""

    id: int
    name: str
    kind: str = ""
    score_min: int | None = None
    score_max: int | None = None
    labels: frozenset[str] = frozenset()
    flagged_only: bool = False
    topics: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    channels: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    teams: tuple[int, ...] = ()
    archive: bool = False
    priority: str = "normal"
    sla_hours: int | None = None
    continue_after: bool = False
    active: bool = True
    position: int = 0

    def conditions(self) -> list[str]:
        """The conditions in words, for lists and previews."""
        said = []
        if self.kind:
            scale = ""
            if self.score_min is not None or self.score_max is not None:
                low, high = SCALES[self.kind]
                scale = f" {self.score_min if self.score_min is not None else low}–"
                scale += f"{self.score_max if self.score_max is not None else high}"
            said.append(f"{RULE_KINDS.get(self.kind, self.kind)}{scale}")
        for title, values in (
            ("sentiment", self.labels),
            ("topic", self.topics),
            ("category", self.categories),
            ("channel", self.channels),
            ("language", self.languages),
        ):
            if values:
                said.append(f"{title} {' or '.join(sorted(values))}")
        if self.flagged_only:
            said.append("score and text disagree")
        return said or ["any feedback"]


@dataclass(frozen=True)
class RoutingDecision:
    """The rules that matched, in order; none means the triage inbox."""

    rules: tuple[Rule, ...] = field(default_factory=tuple)

    @property
    def teams(self) -> dict[int, Rule]:
        """Each team the feedback goes to, with the first rule that sent it there."""
        found: dict[int, Rule] = {}
        for rule in self.rules:
            for team in rule.teams:
                found.setdefault(team, rule)
        return found

    @property
    def archived(self) -> bool:
        """Matched only rules that file it with no follow-up."""
        return bool(self.rules) and not self.teams

    @property
    def triage(self) -> bool:
        return not self.rules


def matches(rule: Rule, facts: Facts) -> bool:
    """True when every condition the rule sets holds for this feedback."""
    if rule.kind:
        if not facts.is_kind(rule.kind):
            return False
        if rule.score_min is not None or rule.score_max is not None:
            score = facts.score(rule.kind)
            if score is None:
                return False
            if rule.score_min is not None and score < rule.score_min:
                return False
            if rule.score_max is not None and score > rule.score_max:
                return False
    return (
        (not rule.labels or facts.label in rule.labels)
        and (not rule.flagged_only or facts.flagged)
        and (not rule.topics or bool(rule.topics & facts.topics))
        and (not rule.categories or bool(rule.categories & facts.categories))
        and (not rule.channels or facts.channel in rule.channels)
        and (not rule.languages or facts.language in rule.languages)
    )


def evaluate(rules: Iterable[Rule], facts: Facts) -> RoutingDecision:
    """Active rules in position order; the first match ends it unless that rule says to go on."""
    matched: list[Rule] = []
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if not rule.active or not matches(rule, facts):
            continue
        matched.append(rule)
        if not rule.continue_after:
            break
    return RoutingDecision(tuple(matched))


# Routing: what real routing and the rule preview both decide with ---------------------------------------------

#: The inbox slot of feedback no rule matched (an inbox item's key is "<feedback id>:<slot>").
TRIAGE_SLOT = "triage"
#: Whom an inbox slot belongs to (a team id, None for triage) and the rule that put the feedback there.
Slots = dict[str, tuple[int | None, Rule | None]]


def routable(rules: Iterable[Rule], team_ids: Collection[int]) -> list[Rule]:
    """The rules routing applies: the active ones, without the teams that no longer exist. A rule left with no team
    (and not filing without follow-up) matches nothing."""
    kept = []
    for rule in rules:
        if not rule.active:
            continue
        if not rule.archive:
            rule = replace(rule, teams=tuple(t for t in rule.teams if t in team_ids))
            if not rule.teams:
                continue
        kept.append(rule)
    return kept


def decide_routing(rules: Iterable[Rule], facts: Facts, team_ids: Collection[int]) -> RoutingDecision:
    """Where this feedback goes under these rules, given the ids of the teams that exist."""
    return evaluate(routable(rules, team_ids), facts)


def inbox_slots(decision: RoutingDecision) -> Slots:
    """The inbox items the feedback belongs in: one per team it goes to, or triage when no rule matched."""
    wanted: Slots = {TRIAGE_SLOT: (None, None)} if decision.triage else {}
    for team, rule in decision.teams.items():
        wanted[str(team)] = (team, rule)
    return wanted


def due_at(rule: Rule | None, given_at: datetime) -> datetime | None:
    """When a reply is due: the rule's reply time counted from when the feedback was given; None without one."""
    return given_at + timedelta(hours=rule.sla_hours) if rule and rule.sla_hours else None


def untouched(status: str, assignee: int | None) -> bool:
    """An inbox item nobody has started on (still new, unassigned) may leave an inbox it no longer belongs in,
    unless something was written on it."""
    return status == "new" and assignee is None


class InvalidRule(FieldError):
    """A rule that cannot be saved as it is: `field` names the input, `message` says why."""


def check_conditions(rule: Rule) -> None:
    """InvalidRule for the first condition that cannot hold as written (what a preview needs; no name or action)."""
    if rule.kind and rule.kind not in RULE_KINDS:
        raise InvalidRule("kind", "Choose a kind from the list.")
    if rule.score_min is not None or rule.score_max is not None:
        if rule.kind not in SCALES:
            raise InvalidRule("score", "A score range needs a kind with a score: CSAT, NPS, review or support CSAT.")
        low, high = SCALES[rule.kind]
        for value in (rule.score_min, rule.score_max):
            if value is not None and not low <= value <= high:
                raise InvalidRule("score", f"Scores of this kind run from {low} to {high}.")
        if rule.score_min is not None and rule.score_max is not None and rule.score_min > rule.score_max:
            raise InvalidRule("score", "The lowest score must not be above the highest.")
    if unknown := rule.labels - set(LABELS):
        raise InvalidRule("labels", f"Unknown sentiment: {', '.join(sorted(unknown))}.")
    for name, values in (("categories", rule.categories), ("channels", rule.channels)):
        if too_long := sorted(v for v in values if len(v) > VALUE_MAX[name]):
            raise InvalidRule(name, f"A value can have at most {VALUE_MAX[name]} characters: {too_long[0][:40]}…")
    if odd := sorted(v for v in rule.languages if not LANGUAGE_CODE.fullmatch(v)):
        raise InvalidRule("languages", f"Languages are codes of two or three letters, such as en or de: {odd[0]}.")


def check_rule(rule: Rule, known_teams: Sequence[int]) -> None:
    """InvalidRule for the first thing wrong with `rule`; known_teams are the ids of existing teams."""
    if not rule.name.strip():
        raise InvalidRule("name", "Give the rule a name.")
    if len(rule.name.strip()) > NAME_MAX:
        raise InvalidRule("name", f"A name can have at most {NAME_MAX} characters.")
    check_conditions(rule)
    if rule.priority not in PRIORITIES:
        raise InvalidRule("priority", "Choose a priority from the list.")
    if rule.sla_hours is not None and not 1 <= rule.sla_hours <= SLA_MAX_HOURS:
        raise InvalidRule("sla_hours", f"The reply time must be between 1 and {SLA_MAX_HOURS} hours.")
    if rule.archive and rule.teams:
        raise InvalidRule("teams", "A rule either sends feedback to teams or files it without follow-up, not both.")
    if not rule.archive and not rule.teams:
        raise InvalidRule("teams", "Choose at least one team, or file the feedback without follow-up.")
    if unknown_teams := set(rule.teams) - set(known_teams):
        raise InvalidRule("teams", f"No such team: {', '.join(str(t) for t in sorted(unknown_teams))}.")
