"""The routing rule form: what it offers (topics, the shop's categories and channels, languages, teams) and the rule
as the admin typed it, kept as typed so a refused form comes back unchanged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from piccolo.query.methods.select import Count

from afterglow.forms import form_field, form_values
from afterglow.i18n import LANGUAGES
from afterglow.numbers import whole_number
from afterglow.overrides import WEB_MAX_AGE
from feedback.analysis.topics import active_keywords
from feedback.policy import InvalidRule, Rule, check_conditions
from feedback.services.rules import team_names
from feedback.services.topic_settings import current_topics
from shop.tables import Order, OrderItem

#: The most categories and channels the form offers as checkboxes (the most frequent first).
CHOICES_MAX = 60

_SPLIT = re.compile(r"[,;\n]+")


def _one(data: Mapping[str, Any], name: str) -> str:
    return form_field(data, name).strip()


def _many(data: Mapping[str, Any], name: str) -> list[str]:
    return list(dict.fromkeys(value.strip() for value in form_values(data, name)))


def _typed_list(text: str) -> list[str]:
    """`a, b; c` (commas, semicolons or lines) as values, in order, without repeats."""
    return list(dict.fromkeys(part.strip() for part in _SPLIT.split(text) if part.strip()))


def _whole(raw: str, field_name: str, message: str) -> int | None:
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidRule(field_name, message) from None


@dataclass(frozen=True)
class Choices:
    """What the form offers as checkboxes: topics, the shop's categories and channels, languages and teams."""

    topics: tuple[str, ...]
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    languages: tuple[str, ...]
    teams: tuple[tuple[int, str], ...]  # (id, name)


async def _most_used(column: Any) -> tuple[str, ...]:
    table = column._meta.table
    rows = await table.select(column, Count()).where(column != "").group_by(column)
    name = column._meta.name
    ranked = sorted(rows, key=lambda row: (-row["count"], row[name]))
    return tuple(sorted(row[name] for row in ranked[:CHOICES_MAX]))


async def rule_choices() -> Choices:
    """The form's checkboxes: topics the analyser knows, categories and channels the shop's orders use."""
    return Choices(
        topics=tuple(await current_topics(WEB_MAX_AGE)),
        categories=await _most_used(OrderItem.category),
        channels=await _most_used(Order.channel),
        languages=LANGUAGES,
        teams=tuple((await team_names()).items()),
    )


@dataclass
class RuleForm:
    """A rule as the admin typed it, kept as typed so that a refused form comes back unchanged."""

    name: str = ""
    kind: str = ""
    score_min: str = ""
    score_max: str = ""
    labels: list[str] = field(default_factory=list)
    flagged_only: bool = False
    topics: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # ticked
    categories_other: str = ""  # typed
    channels: list[str] = field(default_factory=list)
    channels_other: str = ""
    languages: list[str] = field(default_factory=list)
    languages_other: str = ""
    teams: list[str] = field(default_factory=list)
    archive: bool = False
    priority: str = "normal"
    sla_hours: str = ""
    continue_after: bool = False
    active: bool = True

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> RuleForm:
        """The posted form (a value or a list of values per field name); unticked boxes are absent."""
        return cls(
            name=_one(data, "name"),
            kind=_one(data, "kind"),
            score_min=_one(data, "score_min"),
            score_max=_one(data, "score_max"),
            labels=_many(data, "labels"),
            flagged_only=_one(data, "flagged_only") == "1",
            topics=_many(data, "topics"),
            categories=_many(data, "categories"),
            categories_other=_one(data, "categories_other"),
            channels=_many(data, "channels"),
            channels_other=_one(data, "channels_other"),
            languages=_many(data, "languages"),
            languages_other=_one(data, "languages_other"),
            teams=_many(data, "teams"),
            archive=_one(data, "archive") == "1",
            priority=_one(data, "priority") or "normal",
            sla_hours=_one(data, "sla_hours"),
            continue_after=_one(data, "continue_after") == "1",
            active=_one(data, "active") == "1",
        )

    @classmethod
    def from_rule(cls, rule: Rule, choices: Choices) -> RuleForm:
        """A saved rule in the form: values the checkboxes do not offer go to the free-text fields."""

        def split(values: frozenset[str], offered: tuple[str, ...]) -> tuple[list[str], str]:
            return sorted(values & set(offered)), ", ".join(sorted(values - set(offered)))

        known_teams = {team_id for team_id, _name in choices.teams}
        categories, categories_other = split(rule.categories, choices.categories)
        channels, channels_other = split(rule.channels, choices.channels)
        languages, languages_other = split(rule.languages, choices.languages)
        return cls(
            name=rule.name,
            kind=rule.kind,
            score_min="" if rule.score_min is None else str(rule.score_min),
            score_max="" if rule.score_max is None else str(rule.score_max),
            labels=sorted(rule.labels),
            flagged_only=rule.flagged_only,
            topics=sorted(rule.topics),
            categories=categories,
            categories_other=categories_other,
            channels=channels,
            channels_other=channels_other,
            languages=languages,
            languages_other=languages_other,
            teams=[str(t) for t in rule.teams if t in known_teams],  # a deleted team drops out
            archive=rule.archive,
            priority=rule.priority,
            sla_hours="" if rule.sla_hours is None else str(rule.sla_hours),
            continue_after=rule.continue_after,
            active=rule.active,
        )

    def rule(self, rule_id: int = 0) -> Rule:
        """The rule this form describes; InvalidRule when a number is not a number or a topic is unknown.
        Everything else is checked by `check_rule` when saving (and `check_conditions` when previewing)."""
        scores = "Scores are whole numbers, such as 1 or 6."
        if unknown := [t for t in self.topics if t not in active_keywords()]:
            raise InvalidRule("topics", f"Unknown topic: {unknown[0]}.")
        teams = []
        for team in self.teams:
            if (number := whole_number(team)) is None:
                raise InvalidRule("teams", f"No such team: {team}.")
            teams.append(number)
        return Rule(
            id=rule_id,
            name=self.name,
            kind=self.kind,
            score_min=_whole(self.score_min, "score", scores),
            score_max=_whole(self.score_max, "score", scores),
            labels=frozenset(self.labels),
            flagged_only=self.flagged_only,
            topics=frozenset(self.topics),
            categories=frozenset([*self.categories, *_typed_list(self.categories_other)]),
            channels=frozenset([*self.channels, *_typed_list(self.channels_other)]),
            languages=frozenset(v.lower() for v in [*self.languages, *_typed_list(self.languages_other)]),
            teams=tuple(teams),
            archive=self.archive,
            priority=self.priority,
            sla_hours=_whole(self.sla_hours, "sla_hours", "The reply time is a whole number of hours."),
            continue_after=self.continue_after,
            active=self.active,
        )


def previewable(form: RuleForm, rule_id: int | None = None) -> Rule:
    """The form's rule for a preview: its conditions must make sense; a name and an action are not needed yet."""
    rule = form.rule(rule_id or 0)
    check_conditions(rule)
    return rule
