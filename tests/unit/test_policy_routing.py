"""Routing rules as pure values (feedback/policy.py): every condition, the evaluation order, what a decision means,
and the refusals of `check_rule`. No database."""

from __future__ import annotations

import pytest

from feedback.policy import (
    SLA_MAX_HOURS,
    Facts,
    InvalidRule,
    RoutingDecision,
    Rule,
    check_conditions,
    check_rule,
    evaluate,
    matches,
)

ORDER = Facts(kind="order", csat=2, nps=9, label="negative", language="en", channel="web")
SUPPORT = Facts(kind="support", csat=1, label="negative")
REVIEW = Facts(kind="review", rating=4, label="positive", categories=frozenset({"kitchen"}))
SUGGESTION = Facts(kind="suggestion", label="neutral", topics=frozenset({"price"}))


def rule(rule_id: int = 1, **values: object) -> Rule:
    return Rule(rule_id, values.pop("name", f"rule {rule_id}"), **values)  # type: ignore[arg-type]


# Kind ---------------------------------------------------------------------------------------------------------


def test_a_rule_without_conditions_matches_every_kind() -> None:
    assert all(matches(rule(), facts) for facts in (ORDER, SUPPORT, REVIEW, SUGGESTION))


@pytest.mark.parametrize(
    "kind,matching",
    [
        ("csat", {"order"}),
        ("nps", {"order"}),
        ("support", {"support"}),
        ("review", {"review"}),
        ("suggestion", {"suggestion"}),
    ],
)
def test_kind_matches_only_feedback_of_that_kind(kind: str, matching: set[str]) -> None:
    found = {facts.kind for facts in (ORDER, SUPPORT, REVIEW, SUGGESTION) if matches(rule(kind=kind), facts)}
    assert found == matching


def test_an_order_survey_is_csat_or_nps_only_once_that_score_is_given() -> None:
    comment_only = Facts(kind="order", csat=None, nps=None)
    nps_only = Facts(kind="order", nps=3)
    assert not matches(rule(kind="csat"), comment_only) and not matches(rule(kind="nps"), comment_only)
    assert matches(rule(kind="nps"), nps_only) and not matches(rule(kind="csat"), nps_only)


def test_a_support_csat_is_not_an_order_csat() -> None:
    assert not matches(rule(kind="csat"), SUPPORT)
    assert not matches(rule(kind="support"), ORDER)


# Score range --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "score_min,score_max,nps,expected",
    [
        (0, 6, 6, True),  # upper bound included
        (0, 6, 7, False),
        (7, 8, 7, True),  # lower bound included
        (7, 8, 6, False),
        (None, 6, 0, True),  # open below
        (9, None, 10, True),  # open above
        (9, None, 8, False),
    ],
)
def test_score_range_includes_both_bounds(
    score_min: int | None, score_max: int | None, nps: int, expected: bool
) -> None:
    assert matches(rule(kind="nps", score_min=score_min, score_max=score_max), Facts(kind="order", nps=nps)) is expected


def test_score_range_tests_the_score_of_the_rules_kind_not_another() -> None:
    # CSAT 2 but NPS 9: a CSAT 1-2 rule matches, an NPS 0-2 rule does not.
    assert matches(rule(kind="csat", score_min=1, score_max=2), ORDER)
    assert not matches(rule(kind="nps", score_min=0, score_max=2), ORDER)
    # A support CSAT of 1 is not a review of 1 star.
    assert not matches(rule(kind="review", score_max=2), SUPPORT)
    assert matches(rule(kind="support", score_max=2), SUPPORT)


def test_score_range_does_not_match_feedback_without_that_score() -> None:
    assert not matches(rule(kind="review", score_min=1, score_max=5), Facts(kind="review", rating=None))


# Sentiment, topics, categories, channels, languages -----------------------------------------------------------


def test_labels_match_any_of_the_listed_sentiments() -> None:
    unhappy = rule(labels=frozenset({"negative", "mixed"}))
    assert matches(unhappy, ORDER) and matches(unhappy, Facts(kind="order", label="mixed"))
    assert not matches(unhappy, REVIEW)
    assert not matches(unhappy, Facts(kind="order", label=""))  # not analysed yet: no sentiment to go on


def test_flagged_only_matches_when_score_and_text_disagree() -> None:
    flagged = rule(flagged_only=True)
    assert matches(flagged, Facts(kind="review", flagged=True))
    assert not matches(flagged, Facts(kind="review", flagged=False))


def test_topics_match_when_any_topic_is_shared() -> None:
    logistics = rule(topics=frozenset({"delivery", "packaging"}))
    assert matches(logistics, Facts(kind="order", topics=frozenset({"packaging", "price"})))
    assert not matches(logistics, SUGGESTION)
    assert not matches(logistics, Facts(kind="order"))


def test_categories_match_when_any_category_is_shared() -> None:
    kitchen = rule(categories=frozenset({"kitchen", "garden"}))
    assert matches(kitchen, REVIEW)
    assert not matches(kitchen, Facts(kind="review", categories=frozenset({"toys"})))


def test_channels_and_languages_match_exactly() -> None:
    assert matches(rule(channels=frozenset({"web", "app"})), ORDER)
    assert not matches(rule(channels=frozenset({"app"})), ORDER)
    assert matches(rule(languages=frozenset({"de", "en"})), ORDER)
    assert not matches(rule(languages=frozenset({"de"})), ORDER)
    assert not matches(rule(languages=frozenset({"de"})), Facts(kind="order", language=""))


def test_every_condition_that_is_set_must_hold() -> None:
    strict = rule(kind="csat", score_max=2, labels=frozenset({"negative"}), channels=frozenset({"web"}))
    assert matches(strict, ORDER)
    assert not matches(strict, Facts(kind="order", csat=2, label="negative", channel="app"))
    assert not matches(strict, Facts(kind="order", csat=3, label="negative", channel="web"))


# Evaluation order ---------------------------------------------------------------------------------------------


def test_first_matching_rule_in_position_order_decides() -> None:
    later = rule(1, teams=(1,), position=2)
    first = rule(2, teams=(2,), position=1)
    decision = evaluate([later, first], ORDER)
    assert [r.id for r in decision.rules] == [2]
    assert decision.teams == {2: first}


def test_continue_after_lets_the_next_matching_rule_add_its_teams() -> None:
    detractors = rule(1, kind="nps", score_max=6, teams=(1,), continue_after=True, position=1)
    unhappy = rule(2, labels=frozenset({"negative"}), teams=(2,), position=2)
    anything = rule(3, teams=(3,), position=3)
    decision = evaluate([detractors, unhappy, anything], Facts(kind="order", nps=3, label="negative"))
    assert [r.id for r in decision.rules] == [1, 2]  # the second rule does not continue: the third never runs
    assert set(decision.teams) == {1, 2}


def test_a_team_named_by_two_rules_keeps_the_first_rule() -> None:
    urgent = rule(1, teams=(1,), priority="urgent", continue_after=True, position=1)
    normal = rule(2, teams=(1, 2), position=2)
    decision = evaluate([urgent, normal], ORDER)
    assert decision.teams == {1: urgent, 2: normal}


def test_inactive_rules_are_skipped() -> None:
    off = rule(1, teams=(1,), active=False, position=1)
    on = rule(2, teams=(2,), position=2)
    assert [r.id for r in evaluate([off, on], ORDER).rules] == [2]
    assert evaluate([off], ORDER).triage


def test_non_matching_rules_are_passed_over() -> None:
    reviews = rule(1, kind="review", teams=(1,), position=1)
    support = rule(2, kind="support", teams=(2,), position=2)
    assert [r.id for r in evaluate([reviews, support], SUPPORT).rules] == [2]


def test_equal_positions_fall_back_to_the_rule_id() -> None:
    assert [r.id for r in evaluate([rule(7, teams=(1,)), rule(3, teams=(2,))], ORDER).rules] == [3]


# Decisions ----------------------------------------------------------------------------------------------------


def test_no_matching_rule_means_triage() -> None:
    decision = evaluate([rule(kind="review", teams=(1,))], ORDER)
    assert decision.triage and not decision.archived and decision.teams == {}


def test_an_archive_rule_files_the_feedback_without_teams() -> None:
    decision = evaluate([rule(archive=True)], ORDER)
    assert decision.archived and not decision.triage and decision.teams == {}


def test_archive_then_teams_is_not_archived() -> None:
    decision = evaluate(
        [rule(1, archive=True, continue_after=True, position=1), rule(2, teams=(4,), position=2)], ORDER
    )
    assert not decision.archived and list(decision.teams) == [4]


def test_an_empty_decision_is_triage() -> None:
    assert RoutingDecision().triage and not RoutingDecision().archived


# Conditions in words ------------------------------------------------------------------------------------------


def test_conditions_read_as_words() -> None:
    assert rule().conditions() == ["any feedback"]
    worded = rule(
        kind="nps",
        score_max=6,
        labels=frozenset({"negative", "mixed"}),
        topics=frozenset({"delivery"}),
        flagged_only=True,
    ).conditions()
    assert worded == ["NPS 0–6", "sentiment mixed or negative", "topic delivery", "score and text disagree"]
    assert rule(kind="review", score_min=4).conditions() == ["Product review 4–5"]


# check_rule's refusals ----------------------------------------------------------------------------------------


def valid(**values: object) -> Rule:
    return rule(**{"teams": (1,), **values})


@pytest.mark.parametrize(
    "values,field,says",
    [
        ({"name": "  "}, "name", "Give the rule a name."),
        ({"name": "x" * 121}, "name", "at most 120 characters"),
        ({"kind": "tweet"}, "kind", "Choose a kind"),
        ({"score_max": 3}, "score", "needs a kind with a score"),
        ({"kind": "suggestion", "score_min": 1}, "score", "needs a kind with a score"),
        ({"kind": "csat", "score_max": 6}, "score", "from 1 to 5"),
        ({"kind": "nps", "score_min": -1}, "score", "from 0 to 10"),
        ({"kind": "review", "score_min": 4, "score_max": 2}, "score", "must not be above"),
        ({"labels": frozenset({"angry"})}, "labels", "Unknown sentiment: angry"),
        ({"categories": frozenset({"x" * 101})}, "categories", "at most 100 characters"),
        ({"channels": frozenset({"x" * 65})}, "channels", "at most 64 characters"),
        ({"languages": frozenset({"german"})}, "languages", "codes of two or three letters"),
        ({"priority": "asap"}, "priority", "Choose a priority"),
        ({"sla_hours": 0}, "sla_hours", "between 1 and"),
        ({"sla_hours": SLA_MAX_HOURS + 1}, "sla_hours", "between 1 and"),
        ({"teams": (), "archive": False}, "teams", "Choose at least one team"),
        ({"teams": (1,), "archive": True}, "teams", "not both"),
        ({"teams": (1, 99)}, "teams", "No such team: 99"),
    ],
)
def test_check_rule_refuses_with_the_field_and_a_reason(values: dict[str, object], field: str, says: str) -> None:
    with pytest.raises(InvalidRule) as refused:
        check_rule(valid(**values), known_teams=[1, 2])
    assert refused.value.field == field
    assert says in refused.value.message


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"kind": "nps", "score_min": 0, "score_max": 10, "sla_hours": SLA_MAX_HOURS},
        {"kind": "csat", "score_min": 1, "score_max": 1, "priority": "urgent"},
        {"teams": (), "archive": True, "languages": frozenset({"en", "fil"})},
        {"labels": frozenset({"positive", "neutral", "negative", "mixed"}), "sla_hours": 1},
    ],
)
def test_check_rule_accepts_sound_rules(values: dict[str, object]) -> None:
    check_rule(valid(**values), known_teams=[1, 2])


def test_check_conditions_needs_neither_a_name_nor_an_action() -> None:
    check_conditions(Rule(0, "", kind="csat", score_max=2))
    with pytest.raises(InvalidRule):
        check_conditions(Rule(0, "", kind="csat", score_max=9))
