"""Routing end to end: real survey responses and suggestions through intake (copy, tag, route), with the rules
admins write. Unmatched feedback lands in triage, never nowhere; every decision records the rule that made it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from accounts.services import create_team, team_id
from afterglow.settings import Settings
from feedback.policy import Rule
from feedback.services.intake import ingest
from feedback.services.rules import create_rule, set_active
from feedback.services.suggestions import SuggestionInput, save_suggestion
from feedback.tables import FeedbackItem, InboxItem
from surveys.services.answers import Answers, save_answers
from tests.unit.survey_fixtures import SEND_AT, invite

ANSWERED_AT = SEND_AT + timedelta(hours=2)


async def teams() -> dict[str, int]:
    for name in ("Support", "Logistics", "Product"):
        await create_team(name)
    return {slug: await team_id(slug) for slug in ("support", "logistics", "product")}


async def answered(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, answers: Answers, **invite_values: Any
) -> int:
    """A customer answers a real invitation; intake copies, tags and routes it. Returns the feedback item id."""
    invited = await invite(client, api_headers, settings, **invite_values)
    response_id = await save_answers(invited.invitation_id, answers, "en", ANSWERED_AT)
    ingested = await ingest("survey", response_id, ANSWERED_AT)
    assert ingested.feedback_id is not None
    return ingested.feedback_id


async def suggested(text: str) -> int:
    suggestion_id = await save_suggestion(SuggestionInput(text, "", "", ""), "en", ANSWERED_AT)
    ingested = await ingest("suggestion", suggestion_id, ANSWERED_AT)
    assert ingested.feedback_id is not None
    return ingested.feedback_id


async def inbox_of(feedback_id: int) -> list[dict[str, Any]]:
    return await InboxItem.select(
        InboxItem.team, InboxItem.rule, InboxItem.rule_name, InboxItem.priority, InboxItem.due_at, InboxItem.key
    ).where(InboxItem.feedback == feedback_id)


async def routing_of(feedback_id: int) -> list[dict[str, Any]]:
    row = (
        await FeedbackItem.select(FeedbackItem.routing, FeedbackItem.routed_at)
        .where(FeedbackItem.id == feedback_id)
        .output(load_json=True)
        .first()
    )
    assert row is not None and row["routed_at"] is not None
    return row["routing"]  # type: ignore[no-any-return]


async def test_feedback_no_rule_matches_goes_to_triage(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await teams()
    await create_rule(Rule(0, "Reviews → Product", kind="review", teams=(ids["product"],)), None, ANSWERED_AT)

    item = await answered(client, api_headers, settings, Answers(csat=3, comment="It was fine."))

    assert await inbox_of(item) == [
        {"team": None, "rule": None, "rule_name": "", "priority": "normal", "due_at": None, "key": f"{item}:triage"}
    ]
    assert await routing_of(item) == []


async def test_feedback_with_no_rules_at_all_goes_to_triage(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    item = await answered(client, api_headers, settings, Answers(nps=0))
    assert [row["team"] for row in await inbox_of(item)] == [None]


async def test_an_archive_rule_files_feedback_without_an_inbox_item_but_records_the_rule(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await teams()
    rule_id = await create_rule(
        Rule(0, "Promoters: no follow-up", kind="nps", score_min=9, archive=True), None, SEND_AT
    )

    item = await answered(client, api_headers, settings, Answers(nps=10, comment="Lovely, thank you!"))

    assert await inbox_of(item) == []
    (record,) = await routing_of(item)
    assert (record["rule"], record["name"], record["archive"], record["teams"]) == (
        rule_id,
        "Promoters: no follow-up",
        True,
        [],
    )


async def test_the_matching_rule_is_recorded_on_the_feedback_and_its_inbox_item(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await teams()
    rule_id = await create_rule(
        Rule(
            0, "Detractors → Support", kind="nps", score_max=6, teams=(ids["support"],), priority="urgent", sla_hours=24
        ),
        None,
        SEND_AT,
    )

    item = await answered(client, api_headers, settings, Answers(nps=2, comment="Never again."))

    (inbox,) = await inbox_of(item)
    assert (inbox["team"], inbox["rule"], inbox["rule_name"], inbox["priority"]) == (
        ids["support"],
        rule_id,
        "Detractors → Support",
        "urgent",
    )
    assert inbox["due_at"] == ANSWERED_AT + timedelta(hours=24)  # the SLA counts from when the feedback was given
    (record,) = await routing_of(item)
    assert (record["rule"], record["teams"], record["sla_hours"]) == (rule_id, ["Support"], 24)


async def test_a_rule_that_continues_adds_the_next_matching_rules_teams(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await teams()
    await create_rule(
        Rule(0, "Detractors", kind="nps", score_max=6, teams=(ids["support"],), continue_after=True), None, SEND_AT
    )
    await create_rule(
        Rule(0, "Unhappy about delivery", topics=frozenset({"delivery"}), teams=(ids["logistics"],)), None, SEND_AT
    )
    await create_rule(Rule(0, "Everything else", teams=(ids["product"],)), None, SEND_AT)

    item = await answered(
        client, api_headers, settings, Answers(nps=1, comment="The delivery was late and the parcel was damaged.")
    )

    assert sorted(row["team"] for row in await inbox_of(item)) == sorted([ids["support"], ids["logistics"]])
    assert [record["name"] for record in await routing_of(item)] == ["Detractors", "Unhappy about delivery"]


async def test_a_rule_added_later_routes_the_next_feedback(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await teams()
    before = await answered(
        client, api_headers, settings, Answers(csat=1, comment="Broken."), external_id="A-1", email="a@example.com"
    )
    assert [row["team"] for row in await inbox_of(before)] == [None]

    await create_rule(
        Rule(0, "Very unhappy → Support", kind="csat", score_max=2, teams=(ids["support"],)), None, SEND_AT
    )
    after = await answered(
        client, api_headers, settings, Answers(csat=1, comment="Broken too."), external_id="A-2", email="b@example.com"
    )

    assert [row["team"] for row in await inbox_of(after)] == [ids["support"]]
    assert [row["team"] for row in await inbox_of(before)] == [None]  # already routed feedback stays where it is


async def test_a_switched_off_rule_routes_nothing(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await teams()
    rule_id = await create_rule(Rule(0, "All → Support", teams=(ids["support"],)), None, SEND_AT)
    await set_active(rule_id, False, None, SEND_AT)

    item = await answered(client, api_headers, settings, Answers(csat=4))

    assert [row["team"] for row in await inbox_of(item)] == [None]


async def test_a_suggestion_is_tagged_and_routed_by_a_suggestion_rule(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await teams()
    await create_rule(Rule(0, "Surveys → Support", kind="csat", teams=(ids["support"],)), None, SEND_AT)
    rule_id = await create_rule(
        Rule(0, "Suggestion box → Product", kind="suggestion", teams=(ids["product"],), sla_hours=72), None, SEND_AT
    )

    item = await suggested("The delivery was terribly slow and the parcel arrived damaged.")

    row = await FeedbackItem.select().where(FeedbackItem.id == item).first()
    assert row is not None
    assert (row["kind"], row["channel"], row["language"], row["label"]) == (
        "suggestion",
        "suggestion box",
        "en",
        "negative",
    )
    (inbox,) = await inbox_of(item)
    assert (inbox["team"], inbox["rule"], inbox["rule_name"]) == (ids["product"], rule_id, "Suggestion box → Product")
