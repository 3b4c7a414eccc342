"""The customer's emailed answer: through the inbound webhook and `afterglow receive-mail`, matched to its thread,
quoted text and signature cut off, attached once, reopening a closed item; and what is refused."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from accounts.services import staff
from afterglow.settings import Settings
from app import create_app
from feedback.services.answer_email import html_text, strip_quoted
from feedback.services.inbound import REOPENED
from feedback.services.replies import reply_area, send_reply, write_reply
from feedback.tables import InboxItem, ThreadEntry
from operations.cli import main
from tests.unit.reply_fixtures import SCRIPT, Mailbox, Routed, answer_to, smtp, support_feedback
from tests.unit.staff_fixtures import make_staff, support_rule
from tests.unit.survey_fixtures import OPEN_AT

__all__ = ["smtp"]  # the fixture, used by name
SECRET = "inbound-test-secret"
REPLY_ADDRESS = "replies@shop.example"


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


@pytest.fixture
def mail_settings(settings: Settings, smtp: Mailbox) -> Settings:
    """SMTP to the test's own server, a reply address, and the webhook's secret."""
    return dataclasses.replace(
        settings, smtp_host="127.0.0.1", smtp_port=smtp.port, reply_address=REPLY_ADDRESS, inbound_secret=SECRET
    )


@pytest.fixture
async def inbound(mail_settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(mail_settings)) as client:
        yield client


@dataclasses.dataclass
class Received:
    routed: Routed
    email: EmailMessage  # our reply, as the customer's mail server got it


@pytest.fixture
async def received(
    client: AsyncTestClient, api_headers: dict[str, str], mail_settings: Settings, smtp: Mailbox
) -> Received:
    """Sue's reply to Anna's support feedback, sent over real SMTP."""
    sue = (await make_staff())["support"]
    await support_rule()
    routed = await support_feedback(client, api_headers, mail_settings)
    user = await staff(sue)
    assert user is not None
    area = await reply_area(user, routed.item_id)
    assert area is not None
    entry_id = await write_reply(user, area, "Kim calls you today.", OPEN_AT, mail_settings)
    assert await send_reply(entry_id, OPEN_AT, mail_settings) == "sent"
    return Received(routed, smtp.messages[-1])


async def deliver(
    client: AsyncTestClient, raw: bytes, *, secret: str | None = SECRET, media: str = "message/rfc822"
) -> Any:
    headers = {"Content-Type": media}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return await client.post("/webhooks/inbound-email", content=raw, headers=headers)


async def answers(feedback_id: int | None = None) -> list[dict[str, Any]]:
    query = ThreadEntry.select().where(ThreadEntry.kind == "customer")
    if feedback_id is not None:
        query = query.where(ThreadEntry.feedback == feedback_id)
    return await query.order_by(ThreadEntry.id)


async def resolve(item_id: int) -> None:
    await InboxItem.update({InboxItem.status: "resolved", InboxItem.resolved_at: OPEN_AT}).where(
        InboxItem.id == item_id
    )


def rewrite(raw: bytes, **headers: str | None) -> bytes:
    """The message with some headers replaced (None removes one)."""
    from email import message_from_bytes
    from email import policy as email_policy

    msg = message_from_bytes(raw, policy=email_policy.default)
    for name, value in headers.items():
        name = name.replace("_", "-")
        del msg[name]
        if value is not None:
            msg[name] = value
    return bytes(msg)


# Through the webhook ---------------------------------------------------------------------------------------------


async def test_emailed_answer_attaches_to_the_thread_without_the_quote_and_reopens_the_item(
    inbound: AsyncTestClient, received: Received
) -> None:
    await resolve(received.routed.item_id)
    raw = answer_to(received.email, "Thank you, Kim called.\n\nBut the kettle still leaks.")
    response = await deliver(inbound, raw)

    assert response.status_code == 201, response.text
    [answer] = await answers(received.routed.feedback_id)
    assert response.json() == {"outcome": "attached", "feedback": received.routed.feedback_id, "entry": answer["id"]}
    assert answer["body"] == "Thank you, Kim called.\n\nBut the kettle still leaks."  # no signature, no quote
    assert answer["author_name"] == "Anna Schmidt <anna@example.com>"
    assert answer["message_id"].endswith("@mail.example.com>") and answer["inbox_item"] == received.routed.item_id
    item = (
        await InboxItem.select(InboxItem.status, InboxItem.resolved_at)
        .where(InboxItem.id == received.routed.item_id)
        .first()
    )
    assert item == {"status": "in_progress", "resolved_at": None}
    assert await ThreadEntry.select(ThreadEntry.body).where(ThreadEntry.kind == "event") == [{"body": REOPENED}]


async def test_the_same_message_delivered_twice_is_attached_once(inbound: AsyncTestClient, received: Received) -> None:
    raw = answer_to(received.email, "Only once, please.")
    first = await deliver(inbound, raw)
    second = await deliver(inbound, raw)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["outcome"] == "duplicate" and second.json()["entry"] == first.json()["entry"]
    assert len(await answers()) == 1


async def test_answer_without_the_plus_address_is_matched_by_in_reply_to(
    inbound: AsyncTestClient, received: Received
) -> None:
    raw = rewrite(answer_to(received.email, "Sent to the From address."), To="Demo Shop <feedback@shop.example>")
    response = await deliver(inbound, raw)
    assert response.status_code == 201 and response.json()["feedback"] == received.routed.feedback_id


async def test_plus_address_is_matched_even_when_a_mail_system_lowercased_it(
    inbound: AsyncTestClient, received: Received
) -> None:
    lowered = f"replies+{received.routed.thread_token.lower()}@shop.example"
    raw = rewrite(answer_to(received.email, "Lowercase world."), To=lowered, In_Reply_To=None, References=None)
    response = await deliver(inbound, raw)
    assert response.status_code == 201 and response.json()["feedback"] == received.routed.feedback_id


async def test_unknown_thread_is_a_404_with_nothing_stored(inbound: AsyncTestClient, received: Received) -> None:
    raw = rewrite(
        answer_to(received.email, "Who are you?"),
        To="replies+NotARealThreadToken1@shop.example",
        In_Reply_To="<someone-else@example.com>",
        References=None,
    )
    response = await deliver(inbound, raw)
    assert response.status_code == 404
    assert response.json()["detail"].startswith("no conversation matches this message")
    assert await answers() == []


async def test_answer_with_nothing_but_the_quote_is_a_422_with_nothing_stored(
    inbound: AsyncTestClient, received: Received
) -> None:
    response = await deliver(inbound, answer_to(received.email, ""))
    assert response.status_code == 422
    assert "no text of its own" in response.json()["detail"]
    assert await answers() == []


async def test_auto_reply_is_acknowledged_and_ignored(inbound: AsyncTestClient, received: Received) -> None:
    await resolve(received.routed.item_id)
    raw = rewrite(answer_to(received.email, "I am out of office until Monday."), Auto_Submitted="auto-replied")
    response = await deliver(inbound, raw)
    assert response.status_code == 200 and response.json()["outcome"] == "ignored"
    assert await answers() == []
    assert (await InboxItem.select(InboxItem.status).where(InboxItem.id == received.routed.item_id))[0] == {
        "status": "resolved"
    }


async def test_html_only_answer_is_read_as_text_and_escaped_on_the_page(
    inbound: AsyncTestClient, received: Received
) -> None:
    reply = EmailMessage()
    for name in ("From", "To", "Subject", "Message-ID", "In-Reply-To"):
        reply[name] = {
            "From": "anna@example.com",
            "To": received.email["Reply-To"],
            "Subject": "Re: thanks",
            "Message-ID": "<html-only@mail.example.com>",
            "In-Reply-To": received.email["Message-ID"],
        }[name]
    reply.set_content(
        "<div>Fixed &amp; working <b>now</b>.<br>&lt;script&gt;alert(1)&lt;/script&gt;</div>"
        f'<div class="gmail_quote">On Fri wrote:<blockquote>{received.email["Subject"]}</blockquote></div>',
        subtype="html",
    )
    assert (await deliver(inbound, bytes(reply))).status_code == 201
    [answer] = await answers()
    assert answer["body"] == f"Fixed & working now.\n{SCRIPT}"


async def test_webhook_needs_its_secret(inbound: AsyncTestClient, received: Received, settings: Settings) -> None:
    raw = answer_to(received.email, "Let me in.")
    assert (await deliver(inbound, raw, secret=None)).status_code == 401
    wrong = await deliver(inbound, raw, secret="guess")
    assert wrong.status_code == 401 and "AFTERGLOW_INBOUND_SECRET" in wrong.json()["detail"]
    async with AsyncTestClient(app=create_app(dataclasses.replace(settings, inbound_secret=""))) as unset:
        assert (await deliver(unset, raw, secret="")).status_code == 401
    assert await answers() == []


async def test_webhook_wants_the_raw_message(inbound: AsyncTestClient, received: Received) -> None:
    as_json = await deliver(inbound, b'{"text": "hello"}', media="application/json")
    empty = await deliver(inbound, b"")
    assert as_json.status_code == 415 and "message/rfc822" in as_json.json()["detail"]
    assert empty.status_code == 422 and "empty" in empty.json()["detail"]


async def test_webhook_takes_the_envelope_recipient_as_a_parameter(
    inbound: AsyncTestClient, received: Received
) -> None:
    raw = rewrite(answer_to(received.email, "Bcc'd."), To="undisclosed-recipients:;", In_Reply_To=None, References=None)
    recipient = f"replies+{received.routed.thread_token}@shop.example"
    response = await inbound.post(
        "/webhooks/inbound-email",
        params={"recipient": recipient},
        content=raw,
        headers={"Content-Type": "message/rfc822", "Authorization": f"Bearer {SECRET}"},
    )
    assert response.status_code == 201 and response.json()["feedback"] == received.routed.feedback_id


# Through the command line ----------------------------------------------------------------------------------------


def test_receive_mail_attaches_a_message_from_standard_input(
    received: Received,
) -> None:
    result = CliRunner().invoke(main, ["receive-mail"], input=answer_to(received.email, "Piped in by Postfix."))
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["outcome"] == "attached" and summary["feedback"] == received.routed.feedback_id
    assert [a["body"] for a in ThreadEntry.select().where(ThreadEntry.kind == "customer").run_sync()] == [
        "Piped in by Postfix."
    ]


def test_receive_mail_takes_the_envelope_recipient(received: Received) -> None:
    raw = rewrite(
        answer_to(received.email, "Envelope only."), To="undisclosed-recipients:;", In_Reply_To=None, References=None
    )
    recipient = f"replies+{received.routed.thread_token}@shop.example"
    result = CliRunner().invoke(main, ["receive-mail", "--recipient", recipient], input=raw)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["outcome"] == "attached"


def test_receive_mail_exits_1_with_a_message_for_an_unknown_thread(received: Received) -> None:
    raw = rewrite(answer_to(received.email, "Lost."), To="nobody@shop.example", In_Reply_To=None, References=None)
    result = CliRunner().invoke(main, ["receive-mail"], input=raw)
    assert result.exit_code == 1
    assert "no conversation matches this message" in result.stderr
    assert ThreadEntry.count().where(ThreadEntry.kind == "customer").run_sync() == 0


def test_receive_mail_exits_75_so_the_mta_retries_when_it_cannot_store(
    received: Received, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def database_down(*_: object, **__: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr("feedback.services.inbound.receive_email", database_down)
    result = CliRunner().invoke(main, ["receive-mail"], input=answer_to(received.email, "Try me later."))
    assert result.exit_code == 75
    assert "try again later" in result.stderr and "connection refused" in result.stderr


# Reading what the customer wrote --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\nOn Fri, 6 Mar 2026 at 15:00, Demo Shop <feedback@shop.example> wrote:\n> Hi Anna", "Thanks!"),
        ("Thanks!\n\nOn Fri, 6 Mar 2026 at 15:00, Demo Shop <\nfeedback@shop.example> wrote:\n> Hi", "Thanks!"),
        ("Danke!\n\nAm Fr., 6. März 2026 um 15:00 Uhr schrieb Demo Shop <feedback@shop.example>:\n> Hallo", "Danke!"),
        ("Köszönöm!\n\nDemo Shop <feedback@shop.example> ezt írta (időpont: 2026. márc. 6.):\n> Szia", "Köszönöm!"),
        ("Yes.\n\nFrom: Demo Shop <feedback@shop.example>\nSent: Friday, 6 March 2026 15:00\nTo: Anna", "Yes."),
        ("Fine.\n-----Original Message-----\nFrom: Demo Shop", "Fine."),
        ("Great, thanks.\n\n-- \nAnna Schmidt\n+49 30 1234567", "Great, thanks."),
        ("> Did Kim call?\nYes, yesterday.\n> Is it fixed?\nNo.", "Yes, yesterday.\nNo."),
        ("From: my kitchen\nthe kettle leaks", "From: my kitchen\nthe kettle leaks"),  # no Sent: line: their words
        ("On Monday my husband wrote:\nit is fine now", "On Monday my husband wrote:\nit is fine now"),  # no date
    ],
)
def test_quoted_text_and_signature_are_cut_off(text: str, expected: str) -> None:
    assert strip_quoted(text) == expected


def test_html_text_drops_markup_quotes_and_scripts_and_keeps_line_breaks() -> None:
    html = (
        "<html><head><style>p{}</style></head><body><p>First &amp; second</p><p>Line<br>break</p>"
        "<script>steal()</script><blockquote>quoted</blockquote>"
        '<div id="divRplyFwdMsg">From: Demo Shop</div><p>Outlook quote</p></body></html>'
    )
    assert html_text(html) == "First & second\n\nLine\nbreak"
