"""Support coaching: CSAT per support agent over a period, in SQL, over the feedback the viewer may see."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from accounts.services import Staff
from afterglow.settings import Settings
from feedback.services.agents import AgentScore, agent_scores
from feedback.services.thread import correct_label
from feedback.tables import FeedbackItem
from tests.unit.inbox_fixtures import ANSWERED_AT, HTMX, answered, as_staff, inbox_item, rule
from tests.unit.staff_fixtures import make_staff, sign_in

#: Forty days after the answers: inside the 90-day period, outside the 30-day one.
LATER = ANSWERED_AT + timedelta(days=40)
ROW = re.compile(r'<td data-label="Agent">(.*?)</td>\s*<td data-label="Answers">(\d+)</td>')


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(ANSWERED_AT + timedelta(days=1), tick=False)


async def support_answers(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings) -> dict[str, int]:
    """Kim: CSAT 5, 4 and 1 (the 1 with an angry comment: negative); Lee: CSAT 3 ("okay": positive) and a comment
    without a score or an opinion (no label). Support contacts go to Support; an order survey (no agent) is not
    counted."""
    ids = await make_staff()
    await rule("Support contacts → Support", ("support",), kind="support")
    for csat, comment, agent in (
        (5, "Quick and friendly help.", "Kim"),
        (4, "", "Kim"),
        (1, "Terrible, rude and useless.", "Kim"),
        (3, "It was okay.", "Lee"),
        (None, "I called them on Monday about my order.", "Lee"),
    ):
        await answered(client, api_headers, settings, csat=csat, comment=comment, agent=agent)
    await answered(client, api_headers, settings, csat=1, nps=0, comment="Awful order.")
    return ids


async def test_each_agent_gets_answers_average_share_of_4_and_5_and_negative_count(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await support_answers(client, api_headers, settings)

    scores = await agent_scores(await as_staff(ids["manager"]), 30, ANSWERED_AT + timedelta(days=1))

    assert scores == [
        AgentScore("Kim", answers=3, rated=3, average=3.33, satisfied=2, negative=1),
        AgentScore("Lee", answers=2, rated=1, average=3.0, satisfied=0, negative=0),
    ]
    assert scores[0].satisfied_share == pytest.approx(2 / 3)
    assert scores[1].satisfied_share == 0.0


async def test_a_corrected_label_counts_as_corrected(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await support_answers(client, api_headers, settings)
    admin = await as_staff(ids["admin"])
    okay = await FeedbackItem.select(FeedbackItem.id).where(FeedbackItem.text == "It was okay.").first()
    await correct_label(admin, await inbox_item(okay["id"], "support"), "negative", ANSWERED_AT)

    assert [(s.agent, s.negative) for s in await agent_scores(admin, 30, ANSWERED_AT)] == [("Kim", 1), ("Lee", 1)]


async def test_the_period_counts_back_from_now(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    ids = await support_answers(client, api_headers, settings)
    manager: Staff = await as_staff(ids["manager"])

    assert await agent_scores(manager, 30, LATER) == []
    assert [s.agent for s in await agent_scores(manager, 90, LATER)] == ["Kim", "Lee"]


async def test_members_count_only_feedback_routed_to_their_teams(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await support_answers(client, api_headers, settings)

    await sign_in(client, "leo")
    logistics = (await client.get("/app/inbox/agents")).text
    client.cookies.clear()
    await sign_in(client, "sue")
    support = (await client.get("/app/inbox/agents")).text

    assert ROW.findall(logistics) == [] and "No support feedback with an agent in this period." in logistics
    assert ROW.findall(support) == [("Kim", "3"), ("Lee", "2")]
    assert "the support feedback routed to your teams" in support


async def test_agents_page_takes_a_period_and_htmx_gets_only_the_table(
    client: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    await support_answers(client, api_headers, settings)
    await sign_in(client, "max")
    time_machine.move_to(LATER, tick=False)
    await sign_in(client, "max")  # the session from before the jump has gone idle

    default = await client.get("/app/inbox/agents")
    quarter = await client.get("/app/inbox/agents?period=90", headers=HTMX)
    refused = await client.get("/app/inbox/agents?period=7")

    assert default.status_code == 200 and ROW.findall(default.text) == []
    assert default.text.startswith("<!doctype html>") and '<option value="30" selected>' in default.text
    assert quarter.status_code == 200 and "<html" not in quarter.text
    assert ROW.findall(quarter.text) == [("Kim", "3"), ("Lee", "2")]
    assert "3.33" in quarter.text and '67% <span class="muted">(2 of 3)</span>' in quarter.text
    assert refused.status_code == 400 and "Choose one of: Last 30 days, Last 90 days, Last 365 days." in refused.text


async def test_the_inbox_links_to_support_coaching(client: AsyncTestClient) -> None:
    await make_staff()
    await sign_in(client, "sue")

    assert 'href="/app/inbox/agents"' in (await client.get("/app/inbox")).text
