"""The team inbox on PostgreSQL: the filters' subqueries and ILIKE, the search box, overdue, support coaching's
aggregates, and the changes staff make (conditional updates and transactions) through the real app."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from accounts.services import Staff
from afterglow.settings import Settings
from feedback.services.agents import AgentScore, agent_scores
from feedback.services.inbox_list import list_items, parse_filters, team_choices
from feedback.tables import FeedbackItem, InboxItem, ThreadEntry
from tests.integration.conftest import Mailbox
from tests.unit.inbox_fixtures import ANSWERED_AT, answered, as_staff, inbox_item, item_row, post, reviewed, rule
from tests.unit.staff_fixtures import make_staff, sign_in

pytestmark = pytest.mark.integration


async def test_inbox_lists_filters_counts_and_handles_feedback_on_postgresql(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, mailbox: Mailbox
) -> None:
    ids = await make_staff()
    await rule("Support contacts → Support", ("support",), kind="support", sla_hours=4)
    await rule("Critical reviews → Support", ("support",), kind="review", score_max=2)
    quick = await answered(
        client, api_headers, settings, csat=5, comment="The agent was quick and friendly.", agent="Kim"
    )
    rude = await answered(
        client, api_headers, settings, csat=1, comment="The agent was terrible, rude and useless.", agent="Kim"
    )
    kettle = await reviewed(sku="KETTLE-1", product_name="Stone kettle", rating=1, text="The lid cracked.")
    sue = await as_staff(ids["support"])
    teams = await team_choices(sue)

    async def listed(params: dict[str, str], hours: int = 1) -> set[int]:
        found = await list_items(sue, parse_filters(params, teams), ANSWERED_AT + timedelta(hours=hours))
        return {row["feedback"] for row in found.rows}

    assert await listed({}) == {quick, rude, kettle}
    assert await listed({"product": "KETTLE"}) == {kettle}, "ILIKE: the name matches whatever the case"
    assert await listed({"topic": "support"}) == {quick, rude}
    assert await listed({"band": "unhappy-support"}) == {rude}
    assert await listed({"label": "negative"}) == {rude, kettle}
    assert await listed({"overdue": "1"}) == set()
    assert await listed({"overdue": "1"}, hours=5) == {quick, rude}
    assert await agent_scores(sue, 30, ANSWERED_AT + timedelta(days=1)) == [
        AgentScore("Kim", answers=2, rated=2, average=3.0, satisfied=1, negative=1)
    ]

    assert await sign_in(client, "sue") == 303
    rude_item = await inbox_item(rude, "support")
    for path, form in (
        ("status", {"status": "in_progress"}),
        ("assign", {"assignee": "me"}),
        ("notes", {"note": "Called Kim's lead"}),
        ("label", {"label": "mixed"}),
        ("topics", {"topics": ["support", "price"]}),
        ("move", {"team": "logistics", "move_note": "Refund by post"}),
    ):
        response = await post(client, f"/app/inbox/{rude_item}/{path}", form)
        assert response.status_code == 303, (path, response.text)

    moved = await item_row(await inbox_item(rude, "logistics"))
    assert (await item_row(rude_item))["status"] == "resolved" and moved["status"] == "new"
    feedback = await FeedbackItem.select(FeedbackItem.label, FeedbackItem.label_corrected_by).where(
        FeedbackItem.id == rude
    )
    assert feedback == [{"label": "mixed", "label_corrected_by": "sue"}]
    timeline = await ThreadEntry.select(ThreadEntry.kind).where(ThreadEntry.feedback == rude).order_by(ThreadEntry.id)
    assert [row["kind"] for row in timeline] == ["event", "event", "note", "event", "event", "event", "note"]
    assert await InboxItem.count().where(InboxItem.feedback == rude) == 2
    page = await client.get(f"/app/inbox/{rude_item}")
    assert page.status_code == 200 and "Moved from Support to Logistics" in page.text


async def test_inbox_search_on_postgresql_ignores_case_in_any_alphabet_and_reads_wildcards_literally() -> None:
    ids = await make_staff()
    await rule("Critical reviews → Support", ("support",), kind="review", score_max=2)
    await rule("Middling reviews → Logistics", ("logistics",), kind="review", score_min=3, score_max=3)
    percent = await reviewed(rating=1, author_name="Ödön Kovács", text="Got 100% back, code refund_ok!")
    plain = await reviewed(rating=1, author_name="Quinn", email="quinn@example.com", text="1000 reasons, refund ok.")
    elsewhere = await reviewed(rating=3, author_name="Carla", text="Got 100% back too.")
    sue, max_ = await as_staff(ids["support"]), await as_staff(ids["manager"])

    async def searched(q: str, user: Staff = sue) -> set[int]:
        found = await list_items(user, parse_filters({"q": q}, await team_choices(user)), ANSWERED_AT)
        return {row["feedback"] for row in found.rows}

    assert await searched("ÖDÖN kovács") == {percent}, "ILIKE folds the case of every letter"
    assert await searched("100%") == {percent}, "not 1000, nor Logistics' item"
    assert await searched("refund_ok") == {percent}
    assert await searched("QUINN@example") == {plain}
    assert await searched("!") == {percent}
    assert await searched("100%", max_) == {percent, elsewhere}
