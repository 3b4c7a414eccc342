"""The rule preview ("try on the last 100 responses") says what real routing does with the same rules and feedback,
including a rule whose only team no longer exists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from accounts.services import create_team, team_id
from accounts.tables import Team
from feedback.policy import Rule
from feedback.services.routing import route
from feedback.services.rules import create_rule, preview_rule, set_active
from feedback.tables import FeedbackItem
from tests.unit.staff_fixtures import make_staff

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


async def feedback(n: int, *, csat: int | None = None, nps: int | None = None, label: str = "") -> int:
    given = NOW - timedelta(minutes=n)
    row = FeedbackItem(
        source="suggestion",
        source_id=n,
        source_key=f"suggestion:{n}",
        kind="order",
        csat=csat,
        nps=nps,
        label=label,
        text=f"item {n}",
        thread_token=f"token-{n}",
        created_at=given,
        updated_at=given,
    )
    return int((await FeedbackItem.insert(row).returning(FeedbackItem.id))[0]["id"])


async def test_preview_and_real_routing_agree_on_the_same_rules_and_feedback() -> None:
    await make_staff()
    await create_team("Returns")
    support, logistics, returns = await team_id("support"), await team_id("logistics"), await team_id("returns")
    await create_rule(Rule(0, "Returns desk", kind="csat", teams=(returns,)), None, NOW)
    detractors = Rule(0, "Detractors", kind="nps", score_max=6, teams=(logistics,), continue_after=True)
    await create_rule(detractors, None, NOW)
    await create_rule(Rule(0, "Unhappy", labels=frozenset({"negative"}), teams=(support,)), None, NOW)
    off = await create_rule(Rule(0, "Switched off", archive=True), None, NOW)
    await set_active(off, False, None, NOW)
    await Team.delete().where(Team.id == returns)  # the "Returns desk" rule now names no team that exists
    items = [
        await feedback(1, csat=1, label="negative"),
        await feedback(2, nps=3, label="negative"),
        await feedback(3, csat=5, label="positive"),
        await feedback(4, nps=9, label="neutral"),
    ]

    # A trial rule that matches nothing, so the preview shows how the saved rules route each item.
    preview = await preview_rule(Rule(0, "Trial", kind="review"))

    previewed = {row.feedback_id: row.decided_by for row in preview.rows}
    routed = {item: ", ".join(r.name for r in (await route(item, NOW)).decision.rules) for item in items}
    assert previewed == routed
    assert routed == {items[0]: "Unhappy", items[1]: "Detractors, Unhappy", items[2]: "", items[3]: ""}
