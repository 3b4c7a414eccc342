"""Replying to a customer from an inbox item: who may, what is refused, the email (sent once, threaded, in the
customer's language, escaped) and closing the loop (first_reply_at, responded_at, new → in progress)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from litestar.testing import AsyncTestClient
from piccolo.apps.user.tables import BaseUser

from accounts.services import Staff, staff
from accounts.tables import AuditEvent
from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from afterglow.templating import environment
from feedback.services.intake import ingest
from feedback.services.replies import (
    ERASED,
    NO_ADDRESS,
    REPLY_MAX,
    ReplyRefused,
    first_name,
    opens_with_greeting,
    reply_area,
    send_reply,
    send_unsent_replies,
    signature,
    write_reply,
)
from feedback.tables import FeedbackItem, InboxItem, ThreadEntry
from feedback.tasks import send_pending_replies, send_reply_task
from operations.services.privacy import erase_customer
from surveys.tables import SentEmail
from tests.unit.reply_fixtures import (
    SCRIPT,
    Mailbox,
    Routed,
    post_form,
    review_feedback,
    smtp,
    suggestion_feedback,
    support_feedback,
    text_part,
)
from tests.unit.staff_fixtures import make_staff, sign_in, support_rule
from tests.unit.survey_fixtures import OPEN_AT

__all__ = ["smtp"]  # the fixture, used by name


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


@pytest.fixture
async def staff_ids() -> dict[str, int]:
    ids = await make_staff()
    await support_rule()
    return ids


@pytest.fixture
async def routed(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, staff_ids: dict[str, int]
) -> Routed:
    return await support_feedback(client, api_headers, settings)


async def person(user_id: int) -> Staff:
    found = await staff(user_id)
    assert found is not None
    return found


async def write(user_id: int, item_id: int, body: str, settings: Settings, at: Any = OPEN_AT) -> int:
    user = await person(user_id)
    area = await reply_area(user, item_id)
    assert area is not None
    return await write_reply(user, area, body, at, settings)


async def entries(feedback_id: int, kind: str = "reply") -> list[dict[str, Any]]:
    query = ThreadEntry.select().where((ThreadEntry.feedback == feedback_id) & (ThreadEntry.kind == kind))
    return await query.order_by(ThreadEntry.id)


async def reply_emails() -> list[dict[str, Any]]:
    query = SentEmail.select().where(SentEmail.purpose == "feedback-reply").order_by(SentEmail.id)
    return await query.output(load_json=True)


async def inbox_item(item_id: int) -> dict[str, Any]:
    row = await InboxItem.select().where(InboxItem.id == item_id).first()
    assert row is not None
    return row


async def feedback(feedback_id: int) -> dict[str, Any]:
    row = await FeedbackItem.select().where(FeedbackItem.id == feedback_id).first()
    assert row is not None
    return row


async def run_task(task: Any, *args: Any) -> Any:
    """Run a Celery task here, as a worker would: on a thread of its own, where it starts its own event loop."""
    return await asyncio.to_thread(lambda: task.apply(args=args).get())


def smtp_settings(settings: Settings, box: Mailbox, **more: Any) -> Settings:
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=box.port, **more)


# Through the staff route -----------------------------------------------------------------------------------------


async def test_team_member_reply_is_queued_emailed_and_back_on_the_item(
    client: AsyncTestClient, routed: Routed
) -> None:
    assert await sign_in(client, "sue") == 303
    response = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Sorry, Anna. Kim calls today."})

    assert response.status_code == 303
    assert response.headers["location"] == f"/app/inbox/{routed.item_id}"
    [reply] = await entries(routed.feedback_id)
    assert reply["body"] == "Sorry, Anna. Kim calls today." and reply["author_name"] == "sue"
    assert reply["inbox_item"] == routed.item_id and reply["delivery"] == "sent"  # the eager worker sent it
    [mail] = await reply_emails()
    assert mail["to"] == "anna@example.com" and mail["headers"]["Message-ID"] == reply["message_id"]
    assert (
        "Sorry, Anna. Kim calls today." in mail["text"]
        and "Hi Anna," in mail["text"]
        and "Anna Schmidt," not in mail["text"]
    )
    audit = await AuditEvent.select(AuditEvent.action, AuditEvent.target).where(AuditEvent.action == "feedback.replied")
    assert audit == [{"action": "feedback.replied", "target": f"feedback:{routed.feedback_id}"}]


@pytest.mark.parametrize(
    "body",
    [
        "Hi Anna, sorry about the kettle. Kim calls today.",
        "Hello Anna!\n\nSorry about the kettle.",
        "dear Anna, sorry.",
    ],
)
async def test_reply_that_greets_gets_no_second_greeting_and_is_signed_by_name(
    client: AsyncTestClient, routed: Routed, settings: Settings, body: str
) -> None:
    assert await sign_in(client, "ada") == 303  # an admin without a full name in the profile
    response = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": body})

    assert response.status_code == 303
    [mail] = await reply_emails()
    assert mail["text"].startswith(body + "\n\nAda\n" + settings.shop_name + "\n")
    assert "Hi Anna Schmidt" not in mail["html"] and mail["html"].count("Anna") == body.count("Anna")
    outbox = (await client.get("/dev/outbox.json")).json()
    assert [m["text"] for m in outbox if m["purpose"] == "feedback-reply"] == [mail["text"]]


async def test_reply_greets_by_first_name_and_signs_with_the_full_name(
    client: AsyncTestClient, routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    await BaseUser.update({BaseUser.first_name: "Ada", BaseUser.last_name: "Lovelace"}).where(
        BaseUser.id == staff_ids["admin"]
    )
    assert await sign_in(client, "ada") == 303
    await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Sorry about the kettle."})

    [mail] = await reply_emails()
    expected = f"Hi Anna,\n\nSorry about the kettle.\n\nAda Lovelace\n{settings.shop_name}\n"
    assert mail["text"].startswith(expected)
    assert "Hi Anna,</p>" in mail["html"] and f"Ada Lovelace<br>{settings.shop_name}" in mail["html"]


def test_greeting_name_and_signature_rules() -> None:
    for greeting in (
        "Hi Olivia,",
        "Hello!",
        "Dear Mr Brown",
        "Hallo Jonas",
        "Guten Tag Frau Weber",
        "Liebe Anna",
        "Lieber Jonas",
        "Szia Anna!",
        "Kedves Anna!",
        "  hey there",
        "Good morning Olivia",
    ):
        assert opens_with_greeting(greeting), greeting
    for other in ("Olivia, sorry.", "History repeats.", "Thanks for writing.", "Hilfe kommt.", "Dearly sorry."):
        assert not opens_with_greeting(other), other
    assert first_name("Olivia Brown", "en") == "Olivia" and first_name("Kovács Anna", "hu") == "Anna"
    assert first_name("", "en") == "" and first_name("Cher", "hu") == "Cher"
    assert signature("admin") == "Admin" and signature("olivia.brown") == "Olivia Brown"
    assert signature("Ada Lovelace") == "Ada Lovelace" and signature("") == ""


async def test_htmx_reply_returns_the_updated_reply_area_and_tells_the_timeline(
    client: AsyncTestClient, routed: Routed
) -> None:
    assert await sign_in(client, "sue") == 303
    response = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "On its way."}, htmx=True)

    assert response.status_code == 200
    assert response.headers["hx-trigger"] == "thread-changed"
    assert response.text.lstrip().startswith('<section class="card reply-area" id="reply-area"')
    assert "Reply queued for anna@example.com." in response.text
    assert "1 reply so far. The latest, by sue, was emailed." in " ".join(response.text.split())
    assert "<html" not in response.text


async def test_admin_may_reply_on_any_teams_item(client: AsyncTestClient, routed: Routed) -> None:
    assert await sign_in(client, "ada") == 303
    response = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Admin here."})
    assert response.status_code == 303
    assert len(await entries(routed.feedback_id)) == 1


async def test_manager_cannot_reply(client: AsyncTestClient, routed: Routed) -> None:
    assert await sign_in(client, "max") == 303
    response = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Manager here."})
    assert response.status_code == 403
    assert await entries(routed.feedback_id) == []


async def test_member_cannot_reply_to_another_teams_item(client: AsyncTestClient, routed: Routed) -> None:
    assert await sign_in(client, "leo") == 303  # Logistics
    response = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Not my team."})
    assert response.status_code == 404
    assert await entries(routed.feedback_id) == []


async def test_anonymous_reply_goes_to_sign_in(client: AsyncTestClient, routed: Routed) -> None:
    await client.get("/login")  # a CSRF cookie, so only the missing sign-in stops the post
    plain = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Who am I?"})
    htmx = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Who am I?"}, htmx=True)
    assert plain.status_code == 303 and plain.headers["location"].startswith("/login")
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/login")
    assert await entries(routed.feedback_id) == []


async def test_reply_without_the_csrf_token_is_refused(client: AsyncTestClient, routed: Routed) -> None:
    assert await sign_in(client, "sue") == 303
    response = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Forged?"}, csrf=False)
    assert response.status_code == 403
    assert await entries(routed.feedback_id) == []


async def test_reply_to_a_suggestion_without_an_address_is_refused_with_the_text_kept(
    client: AsyncTestClient, staff_ids: dict[str, int]
) -> None:
    routed = await suggestion_feedback()
    assert await sign_in(client, "sue") == 303
    response = await post_form(client, f"/app/inbox/{routed.item_id}/reply", {"body": "Thanks for the idea!"})

    assert response.status_code == 400
    assert NO_ADDRESS in response.text and "<form" not in response.text.split('id="reply-area"')[1]
    assert '<blockquote class="reply-text">Thanks for the idea!</blockquote>' in response.text  # not lost
    assert "<html" in response.text and f'href="/app/inbox/{routed.item_id}"' in response.text  # a page of its own
    assert await entries(routed.feedback_id) == []


async def test_reply_to_an_erased_customer_is_refused(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, staff_ids: dict[str, int]
) -> None:
    routed = await support_feedback(client, api_headers, settings)
    await erase_customer("anna@example.com", OPEN_AT)
    source = await FeedbackItem.select(FeedbackItem.source_id).where(FeedbackItem.id == routed.feedback_id).first()
    await ingest("survey", source["source_id"], OPEN_AT)  # copied again: the placeholder address
    assert (await feedback(routed.feedback_id))["email"].endswith(".invalid")

    with pytest.raises(ReplyRefused) as refused:
        await write(staff_ids["support"], routed.item_id, "Hello?", settings)
    assert refused.value.message == ERASED
    assert await entries(routed.feedback_id) == []


async def test_reply_erased_after_it_was_written_is_not_sent_and_shows_failed(
    routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    entry_id = await write(staff_ids["support"], routed.item_id, "Hello?", settings)
    await erase_customer("anna@example.com", OPEN_AT)

    assert await send_reply(entry_id, OPEN_AT, settings) == "no-address"
    assert (await entries(routed.feedback_id))[0]["delivery"] == "failed"
    assert await reply_emails() == []
    assert (await feedback(routed.feedback_id))["first_reply_at"] is None


async def test_empty_or_too_long_reply_is_refused_as_a_partial_with_the_text_kept(
    client: AsyncTestClient, routed: Routed
) -> None:
    assert await sign_in(client, "sue") == 303
    path = f"/app/inbox/{routed.item_id}/reply"
    empty = await post_form(client, path, {"body": "   \n "}, htmx=True)
    long = await post_form(client, path, {"body": "x" * (REPLY_MAX + 1)}, htmx=True)

    assert empty.status_code == 422 and "Write your reply first." in empty.text
    assert long.status_code == 422 and f"at most {REPLY_MAX:,} characters; this one has {REPLY_MAX + 1:,}" in long.text
    assert "x" * (REPLY_MAX + 1) + "</textarea>" in long.text and 'aria-invalid="true"' in long.text
    assert "<html" not in long.text
    assert await entries(routed.feedback_id) == []


# Sending ---------------------------------------------------------------------------------------------------------


async def test_reply_is_sent_once_even_when_the_task_runs_twice(
    routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    entry_id = await write(staff_ids["support"], routed.item_id, "Once only.", settings)

    first = await run_task(send_reply_task, entry_id, OPEN_AT.isoformat())
    second = await run_task(send_reply_task, entry_id, (OPEN_AT + timedelta(minutes=1)).isoformat())

    assert (first, second) == ("sent", "sent-before")
    assert len(await reply_emails()) == 1


async def test_a_reply_sent_but_not_marked_is_marked_from_the_mail_log_without_a_second_email(
    routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    entry_id = await write(staff_ids["support"], routed.item_id, "Crash after sending.", settings)
    assert await send_reply(entry_id, OPEN_AT, settings) == "sent"
    await ThreadEntry.update({ThreadEntry.delivery: "queued"}).where(ThreadEntry.id == entry_id)  # the lost mark

    assert await send_reply(entry_id, OPEN_AT + timedelta(hours=1), settings) == "sent-before"
    assert len(await reply_emails()) == 1
    assert (await entries(routed.feedback_id))[0]["delivery"] == "sent"


async def test_first_sent_reply_closes_the_loop_once(
    routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    assert (await inbox_item(routed.item_id))["status"] == "new"
    first = await write(staff_ids["support"], routed.item_id, "First.", settings)
    assert (await feedback(routed.feedback_id))["first_reply_at"] is None  # queued is not replied yet

    await send_reply(first, OPEN_AT + timedelta(minutes=1), settings)
    second = await write(staff_ids["support"], routed.item_id, "Second.", settings, at=OPEN_AT + timedelta(hours=2))
    await send_reply(second, OPEN_AT + timedelta(hours=2), settings)

    assert (await feedback(routed.feedback_id))["first_reply_at"] == OPEN_AT + timedelta(minutes=1)
    item = await inbox_item(routed.item_id)
    assert item["responded_at"] == OPEN_AT + timedelta(minutes=1)
    assert item["status"] == "in_progress"


async def test_reply_on_a_resolved_item_keeps_it_resolved(
    routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    await InboxItem.update({InboxItem.status: "resolved", InboxItem.resolved_at: OPEN_AT}).where(
        InboxItem.id == routed.item_id
    )
    await send_reply(await write(staff_ids["support"], routed.item_id, "Closing note.", settings), OPEN_AT, settings)
    assert (await inbox_item(routed.item_id))["status"] == "resolved"


async def test_catch_up_pass_sends_a_reply_whose_task_was_lost_after_a_grace_period(
    routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    entry_id = await write(staff_ids["support"], routed.item_id, "Broker was down.", settings)  # never queued

    assert await run_task(send_pending_replies, (OPEN_AT + timedelta(seconds=30)).isoformat()) == {}
    assert await run_task(send_pending_replies, (OPEN_AT + timedelta(minutes=5)).isoformat()) == {"sent": 1}
    assert await run_task(send_pending_replies, (OPEN_AT + timedelta(minutes=6)).isoformat()) == {}
    assert [e["id"] for e in await entries(routed.feedback_id) if e["delivery"] == "sent"] == [entry_id]
    assert len(await reply_emails()) == 1


async def test_catch_up_pass_keeps_a_reply_queued_while_smtp_refuses(
    routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    await write(staff_ids["support"], routed.item_id, "SMTP is down.", settings)
    nowhere = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=1)

    assert await send_unsent_replies(OPEN_AT + timedelta(minutes=5), nowhere) == {"smtp-refused": 1}
    assert (await entries(routed.feedback_id))[0]["delivery"] == "queued"


async def test_reply_whose_retries_ran_out_shows_as_failed(
    routed: Routed, settings: Settings, staff_ids: dict[str, int]
) -> None:
    entry_id = await write(staff_ids["support"], routed.item_id, "Never arrives.", settings)
    refused = MailNotSent("SMTP 127.0.0.1:1: refused")
    await asyncio.to_thread(send_reply_task.on_failure, refused, "task-id", (entry_id,), {}, None)
    assert (await entries(routed.feedback_id))[0]["delivery"] == "failed"


# The email -------------------------------------------------------------------------------------------------------


async def test_reply_email_reaches_a_real_smtp_server_threaded_with_the_earlier_reply(
    routed: Routed, settings: Settings, staff_ids: dict[str, int], smtp: Mailbox
) -> None:
    mail_settings = smtp_settings(settings, smtp, reply_address="replies@shop.example")
    first = await write(staff_ids["support"], routed.item_id, "We are on it.", mail_settings)
    await send_reply(first, OPEN_AT, mail_settings)
    second = await write(staff_ids["support"], routed.item_id, "Kim calls at 3.\n\nSue", mail_settings)
    await send_reply(second, OPEN_AT + timedelta(minutes=5), mail_settings)

    assert len(smtp.messages) == 2
    earlier, latest = smtp.messages
    ids = [e["message_id"] for e in await entries(routed.feedback_id)]
    assert earlier["Message-ID"] == ids[0] and latest["Message-ID"] == ids[1]
    assert "In-Reply-To" not in earlier
    assert latest["In-Reply-To"] == ids[0] and latest["References"] == ids[0]
    assert latest["To"] == "anna@example.com" and latest["From"] == settings.mail_from
    assert latest["Reply-To"] == f"replies+{routed.thread_token}@shop.example"
    assert latest["Auto-Submitted"] == "auto-generated"
    assert latest["Subject"] == f"Re: your feedback to {settings.shop_name}"
    text = text_part(latest)
    assert text.startswith("Hi Anna,\n\nKim calls at 3.\n\nSue\n\nSue\n" + settings.shop_name)
    assert "> Kim never called me back about the broken kettle." in text
    assert "Reply to this email, or answer us on this page:" in text and "/r/" in text
    assert '<p style="margin:0 0 12px;font-size:16px;line-height:1.5;">Kim calls at 3.</p>' in text_part(latest, "html")


async def test_reply_email_is_in_the_customers_language(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, staff_ids: dict[str, int]
) -> None:
    routed = await support_feedback(client, api_headers, settings, email="jonas@example.de", locale="de-AT")
    await send_reply(await write(staff_ids["support"], routed.item_id, "Entschuldigung!", settings), OPEN_AT, settings)

    [mail] = await reply_emails()
    assert mail["headers"]["Content-Language"] == "de"
    assert mail["subject"] == f"Re: Ihr Feedback an {settings.shop_name}"
    assert mail["text"].startswith("Hallo Anna,\n\nEntschuldigung!")
    assert "Sie können uns auf dieser Seite antworten:" in mail["text"]  # no reply address configured


async def test_reply_to_a_review_names_the_product_and_quotes_the_review(
    settings: Settings, staff_ids: dict[str, int]
) -> None:
    routed = await review_feedback(product_name="Blue Kettle", title="Leaks", text="It leaks after a week.")
    await send_reply(
        await write(staff_ids["support"], routed.item_id, "We send a new one.", settings), OPEN_AT, settings
    )

    [mail] = await reply_emails()
    assert mail["subject"] == "Re: your review of Blue Kettle"
    assert "Your review of Blue Kettle:\n\n> Leaks\n>\n> It leaks after a week." in mail["text"]


async def test_reply_email_escapes_customer_and_staff_text_in_html_but_not_in_text(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, staff_ids: dict[str, int]
) -> None:
    routed = await support_feedback(client, api_headers, settings, comment=f"Broken {SCRIPT}")
    await send_reply(await write(staff_ids["support"], routed.item_id, f"Sorry {SCRIPT}", settings), OPEN_AT, settings)

    [mail] = await reply_emails()
    assert SCRIPT not in mail["html"]
    assert mail["html"].count("&lt;script&gt;alert(1)&lt;/script&gt;") == 2
    assert f"Sorry {SCRIPT}" in mail["text"] and f"> Broken {SCRIPT}" in mail["text"]


async def test_product_name_cannot_break_the_subject_header(settings: Settings, staff_ids: dict[str, int]) -> None:
    routed = await review_feedback(product_name="Kettle\r\nBcc: all@example.com", text="Leaks.")
    await send_reply(await write(staff_ids["support"], routed.item_id, "Sorry.", settings), OPEN_AT, settings)
    [mail] = await reply_emails()
    assert mail["subject"] == "Re: your review of Kettle Bcc: all@example.com"


# The partial, as the item page includes it ------------------------------------------------------------------------


async def test_item_page_offers_the_reply_form_to_the_team_and_explains_it_to_managers(
    client: AsyncTestClient, routed: Routed
) -> None:
    assert await sign_in(client, "sue") == 303
    member = await client.get(f"/app/inbox/{routed.item_id}")
    assert member.status_code == 200
    assert f'action="/app/inbox/{routed.item_id}/reply"' in member.text and f'maxlength="{REPLY_MAX}"' in member.text

    client.cookies.clear()
    assert await sign_in(client, "max") == 303
    manager = await client.get(f"/app/inbox/{routed.item_id}")
    assert manager.status_code == 200 and 'id="reply-area"' in manager.text
    assert "/reply" not in manager.text and "Only the item's team (and admins) can reply" in manager.text


def render_partial(**context: Any) -> str:
    template = environment().get_template("feedback/partials/reply_form.html")
    url_for = lambda name, **params: f"/{name}/{params.get('item_id', '')}"  # noqa: E731
    return template.render(csrf_input='<input type="hidden" name="_csrf_token" value="t">', url_for=url_for, **context)


def test_item_page_include_offers_the_form_with_the_services_length_limit() -> None:
    html = render_partial(
        item={"id": 7}, feedback={"email": "anna@example.com", "name": "Anna"}, can_act=True, thread=[]
    )
    assert f'maxlength="{REPLY_MAX}"' in html and 'action="/feedback:reply/7"' in html
    assert "To Anna &lt;anna@example.com&gt;" in html and "_csrf_token" in html


def test_item_page_include_explains_why_no_reply_is_possible() -> None:
    def shown(**context: Any) -> str:
        return render_partial(item={"id": 7}, thread=[], **context)

    manager = shown(feedback={"email": "anna@example.com", "name": ""}, can_act=False)
    suggestion = shown(feedback={"email": "", "name": ""}, can_act=True)
    erased = shown(feedback={"email": "erased-3@erased.invalid", "name": ""}, can_act=True)
    assert "<form" not in manager + suggestion + erased
    assert "Only the item's team (and admins) can reply" in manager
    assert NO_ADDRESS in suggestion and ERASED in erased


def test_item_page_include_shows_the_latest_replys_delivery() -> None:
    thread = [
        {"kind": "reply", "delivery": "sent", "author_name": "sue"},
        {"kind": "note", "delivery": "", "author_name": "ada"},
        {"kind": "reply", "delivery": "failed", "author_name": "ada"},
    ]
    html = render_partial(item={"id": 7}, feedback={"email": "a@example.com", "name": ""}, can_act=True, thread=thread)
    assert "2 replies so far. The latest, by ada, could not be delivered." in " ".join(html.split())
