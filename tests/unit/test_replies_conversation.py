"""The customer's conversation page behind the link in every reply email (/r/{signed}): what it shows, answering
(which reopens a closed item), refused answers, broken, unknown and expired links, escaping and rate limits."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from accounts.services import staff
from afterglow.settings import Settings
from app import create_app
from feedback.services.inbound import ANSWER_MAX, REOPENED
from feedback.services.replies import conversation_token, reply_area, send_reply, write_reply
from feedback.tables import InboxItem, ThreadEntry
from surveys.tables import SentEmail
from tests.unit.reply_fixtures import SCRIPT, Routed, post_form, support_feedback
from tests.unit.staff_fixtures import make_staff, support_rule
from tests.unit.survey_fixtures import OPEN_AT

LINK = re.compile(r"https?://[^\s/]+(/r/[A-Za-z0-9_.\-]+)")
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)


@pytest.fixture
def clock(time_machine: time_machine.TimeMachineFixture) -> time_machine.TimeMachineFixture:
    time_machine.move_to(OPEN_AT, tick=True)
    return time_machine


@dataclasses.dataclass
class Replied:
    routed: Routed
    path: str  # /r/<signed>, from the email the customer received


async def reply_and_link(routed: Routed, settings: Settings, sue: int, body: str = "Kim calls you today.") -> str:
    """Sue replies; the path of the conversation link in the email the customer gets."""
    user = await staff(sue)
    assert user is not None
    area = await reply_area(user, routed.item_id)
    assert area is not None
    entry_id = await write_reply(user, area, body, OPEN_AT, settings)
    assert await send_reply(entry_id, OPEN_AT, settings) == "sent"
    mail = await SentEmail.select(SentEmail.text).order_by(SentEmail.id, ascending=False).first()
    found = LINK.search(mail["text"])
    assert found, mail["text"]
    return found.group(1)


@pytest.fixture
async def replied(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, clock: Any) -> Replied:
    sue = (await make_staff())["support"]
    await support_rule()
    routed = await support_feedback(client, api_headers, settings, comment=f"The kettle leaks {SCRIPT}")
    return Replied(routed, await reply_and_link(routed, settings, sue))


async def customer_entries(feedback_id: int) -> list[dict[str, Any]]:
    query = ThreadEntry.select().where((ThreadEntry.feedback == feedback_id) & (ThreadEntry.kind == "customer"))
    return await query.order_by(ThreadEntry.id)


async def status(item_id: int) -> str:
    row = await InboxItem.select(InboxItem.status).where(InboxItem.id == item_id).first()
    assert row is not None
    return str(row["status"])


async def test_page_shows_the_feedback_the_replies_and_answers_but_never_notes_or_events(
    client: AsyncTestClient, replied: Replied
) -> None:
    fid = replied.routed.feedback_id
    await ThreadEntry.insert(
        ThreadEntry(feedback=fid, kind="note", body="Internal: customer is difficult", at=OPEN_AT),
        ThreadEntry(feedback=fid, kind="event", body="Assigned to sue", at=OPEN_AT),
        ThreadEntry(feedback=fid, kind="reply", body="Draft not yet sent", delivery="queued", at=OPEN_AT),
        ThreadEntry(feedback=fid, kind="customer", author_name="Anna", body="Earlier answer", at=OPEN_AT),
    )
    page = await client.get(replied.path)

    assert page.status_code == 200
    assert "Hi Anna Schmidt," in page.text and "Kim calls you today." in page.text and "Earlier answer" in page.text
    assert "sue from Demo Shop" in page.text
    for hidden in ("Internal: customer is difficult", "Assigned to sue", "Draft not yet sent"):
        assert hidden not in page.text
    assert (
        page.text.index("The kettle leaks")
        < page.text.index("Kim calls you today.")
        < page.text.index("Earlier answer")
    )
    assert not INLINE.search(page.text), "the CSP forbids inline scripts and styles"


async def test_customer_text_is_escaped_on_the_page(client: AsyncTestClient, replied: Replied) -> None:
    await post_form(client, replied.path, {"body": f"Still leaking {SCRIPT}"}, csrf=False)
    page = await client.get(replied.path)
    assert SCRIPT not in page.text
    assert page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2  # their feedback and their answer


async def test_answer_on_the_page_attaches_to_the_thread_and_reopens_a_resolved_item(
    client: AsyncTestClient, replied: Replied
) -> None:
    await InboxItem.update({InboxItem.status: "resolved", InboxItem.resolved_at: OPEN_AT}).where(
        InboxItem.id == replied.routed.item_id
    )
    response = await post_form(client, replied.path, {"body": "Thanks!\r\nIt still leaks though."}, csrf=False)

    assert response.status_code == 303 and response.headers["location"] == f"{replied.path}?sent=1"
    [answer] = await customer_entries(replied.routed.feedback_id)
    assert answer["body"] == "Thanks!\nIt still leaks though." and answer["author_name"] == "Anna Schmidt"
    assert answer["inbox_item"] == replied.routed.item_id and answer["message_id"] == ""
    item = await InboxItem.select().where(InboxItem.id == replied.routed.item_id).first()
    assert item["status"] == "in_progress" and item["resolved_at"] is None
    events = await ThreadEntry.select(ThreadEntry.body).where(ThreadEntry.kind == "event")
    assert events == [{"body": REOPENED}]
    thanks = await client.get(f"{replied.path}?sent=1")
    assert "Thank you! Your answer is with our team." in thanks.text and "It still leaks though." in thanks.text


async def test_answer_on_an_open_item_leaves_its_status(client: AsyncTestClient, replied: Replied) -> None:
    assert await status(replied.routed.item_id) == "in_progress"  # the reply moved it from new
    await post_form(client, replied.path, {"body": "Thanks."}, csrf=False)
    assert await status(replied.routed.item_id) == "in_progress"
    assert await ThreadEntry.count().where(ThreadEntry.kind == "event") == 0


async def test_htmx_answer_returns_the_conversation_section(client: AsyncTestClient, replied: Replied) -> None:
    response = await post_form(client, replied.path, {"body": "Via htmx."}, htmx=True, csrf=False)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="conversation" id="conversation"')
    assert "Via htmx." in response.text and "Thank you! Your answer is with our team." in response.text
    assert "<html" not in response.text


async def test_the_same_answer_sent_twice_is_stored_once(client: AsyncTestClient, replied: Replied) -> None:
    await post_form(client, replied.path, {"body": "Double click."}, csrf=False)
    await post_form(client, replied.path, {"body": "Double click."}, csrf=False)
    assert len(await customer_entries(replied.routed.feedback_id)) == 1


async def test_empty_or_too_long_answer_is_refused_with_the_text_kept(
    client: AsyncTestClient, replied: Replied
) -> None:
    empty = await post_form(client, replied.path, {"body": "  "}, csrf=False)
    long = await post_form(client, replied.path, {"body": "y" * (ANSWER_MAX + 1)}, htmx=True, csrf=False)

    assert empty.status_code == 400 and "Please write your answer first." in empty.text and "<html" in empty.text
    assert long.status_code == 422 and "Please keep it under 5,000 characters." in long.text
    assert "y" * (ANSWER_MAX + 1) + "</textarea>" in long.text and 'aria-invalid="true"' in long.text
    assert await customer_entries(replied.routed.feedback_id) == []


async def test_tampered_link_is_a_400_page(client: AsyncTestClient, replied: Replied) -> None:
    page = await client.get(replied.path[:-2] + ("AA" if not replied.path.endswith("AA") else "BB"))
    assert page.status_code == 400 and "This link does not work" in page.text
    answer = await post_form(client, replied.path + "x", {"body": "Hi"}, csrf=False)
    assert answer.status_code == 400 and await customer_entries(replied.routed.feedback_id) == []


async def test_genuine_link_to_an_unknown_conversation_is_a_404_page(
    client: AsyncTestClient, settings: Settings, clock: Any
) -> None:
    page = await client.get(f"/r/{conversation_token(settings, 'no-such-thread-token', OPEN_AT)}")
    assert page.status_code == 404 and "Conversation not found" in page.text


async def test_link_expires_after_the_link_age(
    client: AsyncTestClient, replied: Replied, settings: Settings, clock: time_machine.TimeMachineFixture
) -> None:
    clock.move_to(OPEN_AT + timedelta(days=settings.link_max_age_days - 1), tick=True)
    assert (await client.get(replied.path)).status_code == 200
    clock.move_to(OPEN_AT + timedelta(days=settings.link_max_age_days), tick=True)
    page = await client.get(replied.path)
    assert page.status_code == 410 and "This link has expired" in page.text
    assert (await post_form(client, replied.path, {"body": "Late"}, csrf=False)).status_code == 410


async def test_german_customer_sees_the_page_in_german(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, clock: Any
) -> None:
    sue = (await make_staff())["support"]
    await support_rule()
    routed = await support_feedback(client, api_headers, settings, email="jonas@example.de", locale="de")
    page = await client.get(await reply_and_link(routed, settings, sue))
    assert '<html lang="de">' in page.text and "Hallo Anna Schmidt," in page.text
    assert "Ihre Antwort" in page.text


@pytest.fixture
async def strict_client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    strict = dataclasses.replace(settings, rate_answers_per_link=2)
    async with AsyncTestClient(app=create_app(strict)) as client:
        yield client


async def test_answers_per_link_are_rate_limited_with_the_text_kept(
    strict_client: AsyncTestClient, replied: Replied
) -> None:
    for n in range(2):
        assert (await post_form(strict_client, replied.path, {"body": f"Answer {n}"}, csrf=False)).status_code == 303
    refused = await post_form(strict_client, replied.path, {"body": "Answer 2"}, csrf=False)

    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert "Please try again later." in refused.text and "Answer 2</textarea>" in refused.text
    assert [e["body"] for e in await customer_entries(replied.routed.feedback_id)] == ["Answer 0", "Answer 1"]
