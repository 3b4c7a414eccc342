"""Complaints without opinion words reach the team a rule names: the topic comes from the event ("broke" → product
quality, "dented box" → packaging), and the text's language, not the customer's locale, decides how it is read.
The rules are the demo's (operations.demo.seed_rules)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from accounts.services import create_team
from afterglow.settings import Settings
from operations.demo import seed_rules
from tests.unit.inbox_fixtures import answered, inbox_item, reviewed


async def _demo_rules() -> None:
    for name in ("Support", "Logistics", "Product"):
        await create_team(name)
    await seed_rules()


async def test_a_review_that_broke_reaches_product_not_triage() -> None:
    await _demo_rules()
    feedback_id = await reviewed(rating=2, text="Broke after two weeks of daily use.")
    assert await inbox_item(feedback_id, "product")


async def test_an_english_complaint_from_a_german_locale_customer_reaches_logistics(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await _demo_rules()
    feedback_id = await answered(
        client, api_headers, settings, csat=4, locale="de", comment="The lamp arrived quickly but the box was dented."
    )
    assert await inbox_item(feedback_id, "logistics")


async def test_a_question_about_a_missing_order_reaches_logistics(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await _demo_rules()
    feedback_id = await answered(client, api_headers, settings, csat=3, comment="Where is my order?")
    assert await inbox_item(feedback_id, "logistics")


async def test_praise_with_a_hard_assembly_reaches_product(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await _demo_rules()
    feedback_id = await answered(
        client, api_headers, settings, csat=3, comment="Great quality, but the chair was hard to assemble."
    )
    assert await inbox_item(feedback_id, "product")
