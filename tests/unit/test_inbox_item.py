"""One inbox item's page: the feedback, its order, the customer's earlier feedback, what the analyser made of it
and where it came from, the routing decision, and who may open it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from feedback.services.intake import ingest
from feedback.services.rules import set_active
from feedback.tables import FeedbackItem
from tests.unit.inbox_fixtures import (
    ANSWERED_AT,
    answered,
    inbox_item,
    post,
    reviewed,
    reviewed_by_same_customer,
    rule,
)
from tests.unit.staff_fixtures import make_staff, sign_in

INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)
ACTION_FORM = re.compile(r'<form[^>]+action="/app/inbox/\d+/(status|assign|notes|move|label|topics)"')


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(ANSWERED_AT + timedelta(hours=1), tick=False)


async def routed_world() -> None:
    await make_staff()
    await rule("NPS detractors → Logistics", ("logistics",), kind="nps", score_max=6, sla_hours=24)
    await rule("Critical reviews → Support", ("support",), kind="review", score_max=2, priority="urgent")


async def test_item_page_shows_the_feedback_its_order_with_items_and_each_sentence_with_its_sentiment(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await routed_world()
    feedback = await answered(
        client,
        api_headers,
        settings,
        nps=2,
        comment="The courier was friendly. The parcel arrived broken and late.",
        categories=("kitchen", "garden"),
    )
    item = await inbox_item(feedback, "logistics")
    await sign_in(client, "leo")

    page = (await client.get(f"/app/inbox/{item}")).text

    order = re.search(r"<h2 id=\"order-title\">Order (O-\d+)</h2>\s*<p class=\"muted\">(.*?)</p>", page)
    assert order and order.group(2) == "web · placed 2026-03-02 10:00 · 59.90 EUR"
    assert 'Item 1 <span class="sku">SKU-1</span> · <span class="muted">kitchen</span>' in page
    assert 'Item 2 <span class="sku">SKU-2</span> · <span class="muted">garden</span>' in page
    sentences = re.findall(r'<li class="sentence tone-(\w+)"><span class="tone-label">([\w ]+)</span> (.*?)</li>', page)
    assert ("positive", "positive", "The courier was friendly.") in sentences
    assert ("negative", "negative", "The parcel arrived broken and late.") in sentences
    assert "NPS <strong>2</strong>/10" in page
    assert "The analyser read the text and the score together." in page
    assert "Rule “NPS detractors → Logistics”: to Logistics · normal priority · reply within 24 h" in page
    assert "This inbox got it from “NPS detractors → Logistics”." in page


async def test_review_page_shows_its_title_and_text_and_the_product(
    client: AsyncTestClient,
) -> None:
    await routed_world()
    item = await inbox_item(
        await reviewed(sku="KETTLE-1", product_name="Stone kettle", rating=1, title="Leaks", text="Water everywhere."),
        "support",
    )
    await sign_in(client, "sue")

    page = (await client.get(f"/app/inbox/{item}")).text

    assert '<h2 class="feedback-title">Leaks</h2>' in page
    assert '<blockquote class="feedback-text">Water everywhere.</blockquote>' in page
    assert 'Stone kettle <span class="sku">KETTLE-1</span>' in page
    assert "<strong>1</strong>/5 stars" in page and "priority-urgent" in page


async def test_without_a_lexicon_for_the_language_the_page_says_the_label_comes_from_the_score_alone(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await routed_world()
    feedback = await answered(client, api_headers, settings, nps=1, comment="A csomagolás sérült volt.", locale="hu")
    item = await inbox_item(feedback, "logistics")
    await sign_in(client, "leo")

    page = (await client.get(f"/app/inbox/{item}")).text

    assert (
        "There is no sentiment lexicon for the language “hu”: the analyser's label comes from the score alone." in page
    )
    assert "label-negative" in page
    assert "How each sentence reads" not in page, "no English guess at the sentences"
    assert "The analyser read the text" not in page


async def test_when_score_and_text_disagree_the_page_asks_a_person_to_check_the_label(
    client: AsyncTestClient,
) -> None:
    await routed_world()
    item = await inbox_item(await reviewed(rating=1, text="Great product, I love it."), "support")
    await sign_in(client, "sue")

    page = (await client.get(f"/app/inbox/{item}")).text

    assert "The score and the text disagree: a person should check this label." in page


async def test_triage_item_says_no_rule_matched(client: AsyncTestClient) -> None:
    await routed_world()
    item = await inbox_item(await reviewed(rating=5, text="Lovely."), None)
    await sign_in(client, "max")

    page = (await client.get(f"/app/inbox/{item}")).text

    assert "No rule matched: triage." in page
    assert "In triage until someone moves it to a team." in page


async def test_feedback_filed_by_an_archive_rule_names_that_rule_on_the_item_its_team_kept(
    client: AsyncTestClient,
) -> None:
    await routed_world()
    reviews = await rule("Reviews → Support", ("support",), kind="review")
    feedback = await reviewed(rating=3, text="It is fine.")
    item = await inbox_item(feedback, "support")
    await sign_in(client, "sue")
    assert (await post(client, f"/app/inbox/{item}/notes", {"note": "Looking into it"})).status_code == 303
    await set_active(reviews, False, None, ANSWERED_AT)
    await rule("File middling reviews", kind="review", score_min=3, score_max=3, archive=True)
    source = await FeedbackItem.select(FeedbackItem.source_id).where(FeedbackItem.id == feedback).first()
    await ingest("review", source["source_id"], ANSWERED_AT, retag=True)

    page = (await client.get(f"/app/inbox/{item}")).text

    assert "Rule “File middling reviews”: filed without follow-up · normal priority" in page
    assert "This inbox got it from “Reviews → Support”." in page


async def test_earlier_feedback_lists_the_customers_other_feedback_newest_first_linked_where_it_may_be_opened(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await routed_world()
    survey = await answered(client, api_headers, settings, nps=3, comment="Late.", categories=("kitchen", "garden"))
    critical = await reviewed_by_same_customer(survey, "SKU-1", 1, "Cracked lid.", ANSWERED_AT + timedelta(hours=1))
    happy = await reviewed_by_same_customer(survey, "SKU-2", 5, "Nice pot.", ANSWERED_AT + timedelta(hours=2))
    survey_item, critical_item = await inbox_item(survey, "logistics"), await inbox_item(critical, "support")
    happy_item = await inbox_item(happy, None)
    await sign_in(client, "ada")

    page = (await client.get(f"/app/inbox/{critical_item}")).text
    earlier = page[page.index('id="earlier-title"') :]

    assert earlier.index("Nice pot.") < earlier.index("Late."), "newest first"
    assert f'href="/app/inbox/{happy_item}"' in earlier and f'href="/app/inbox/{survey_item}"' in earlier
    assert "Cracked lid." not in earlier, "the item itself is not earlier feedback"


async def test_member_sees_only_earlier_feedback_routed_to_their_teams(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await routed_world()
    survey = await answered(client, api_headers, settings, nps=3, comment="Late.", categories=("kitchen", "garden"))
    critical = await reviewed_by_same_customer(survey, "SKU-1", 1, "Cracked lid.", ANSWERED_AT + timedelta(hours=1))
    await reviewed_by_same_customer(survey, "SKU-2", 5, "Nice pot.", ANSWERED_AT + timedelta(hours=2))
    await sign_in(client, "sue")

    page = (await client.get(f"/app/inbox/{await inbox_item(critical, 'support')}")).text
    earlier = page[page.index('id="earlier-title"') :]

    assert "Late." not in earlier and "Nice pot." not in earlier  # Logistics' and triage's
    assert "None in your teams' inboxes." in earlier
    client.cookies.clear()
    await sign_in(client, "leo")
    page = (await client.get(f"/app/inbox/{await inbox_item(survey, 'logistics')}")).text
    earlier = page[page.index('id="earlier-title"') :]
    assert "Cracked lid." not in earlier and "Nice pot." not in earlier


async def test_another_teams_item_and_triage_do_not_exist_for_a_member(client: AsyncTestClient) -> None:
    await routed_world()
    support_item = await inbox_item(await reviewed(rating=1, text="Cracked."), "support")
    triage_item = await inbox_item(await reviewed(rating=5, text="Lovely."), None)
    await sign_in(client, "leo")

    for item in (support_item, triage_item, 999_999):
        response = await client.get(f"/app/inbox/{item}")
        assert response.status_code == 404
        assert "There is no such feedback in your inboxes." in response.text


async def test_manager_reads_the_item_without_any_form_to_change_it(client: AsyncTestClient) -> None:
    await routed_world()
    item = await inbox_item(await reviewed(rating=1, text="Cracked."), "support")
    await sign_in(client, "max")

    page = (await client.get(f"/app/inbox/{item}")).text

    assert "Cracked." in page and not ACTION_FORM.search(page)
    assert "You can read every item; its team handles it." in page
    client.cookies.clear()
    await sign_in(client, "sue")
    member_page = (await client.get(f"/app/inbox/{item}")).text
    assert set(ACTION_FORM.findall(member_page)) == {"status", "assign", "notes", "move", "label", "topics"}


async def test_inbox_pages_need_no_inline_script_or_style(client: AsyncTestClient) -> None:
    """What the CSP would block in a browser: inline scripts, style blocks and attributes, event handlers."""
    await routed_world()
    item = await inbox_item(await reviewed(rating=1, text="Cracked."), "support")
    await sign_in(client, "sue")
    await post(client, f"/app/inbox/{item}/notes", {"note": "Checking"})

    for path in ("/app/inbox", f"/app/inbox/{item}", "/app/inbox/agents", "/app/inbox?score_min=x"):
        page = await client.get(path)
        assert not INLINE.search(page.text), (path, INLINE.search(page.text))
