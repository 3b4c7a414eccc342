"""Feedback routed to the Support team, made the real way, for the reply and inbound tests; a real SMTP sink; and
the emailed answer a mail client writes when the customer presses "Reply"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from accounts.services import team_id
from afterglow.settings import Settings
from bench.mailserver import Mailbox, smtp_server
from feedback.policy import Rule
from feedback.services.intake import ingest
from feedback.services.rules import create_rule
from feedback.tables import FeedbackItem, InboxItem, Suggestion
from surveys.services.answers import Answers, save_answers
from tests.unit.review_fixtures import add_review
from tests.unit.survey_fixtures import OPEN_AT, SEND_AT, invite

HTMX = {"HX-Request": "true"}
SCRIPT = "<script>alert(1)</script>"


@dataclass
class Routed:
    feedback_id: int
    item_id: int  # the Support team's inbox item
    thread_token: str


async def routed_to_support(feedback_id: int) -> Routed:
    row = await FeedbackItem.select(FeedbackItem.thread_token).where(FeedbackItem.id == feedback_id).first()
    item = (
        await InboxItem.select(InboxItem.id)
        .where((InboxItem.feedback == feedback_id) & (InboxItem.team == await team_id("support")))
        .first()
    )
    assert row is not None and item is not None, "the feedback reached the Support inbox"
    return Routed(feedback_id, item["id"], row["thread_token"])


async def support_feedback(
    client: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    *,
    email: str = "anna@example.com",
    locale: str = "en",
    comment: str = "Kim never called me back about the broken kettle.",
    external_id: str = "S-1",
) -> Routed:
    """A support CSAT of 2 with a comment: invitation sent, answered, ingested and routed to Support
    (needs `make_staff()` and `support_rule()` first)."""
    invited = await invite(
        client, api_headers, settings, external_id=external_id, email=email, locale=locale, support_agent="Kim"
    )
    response_id = await save_answers(invited.invitation_id, Answers(csat=2, comment=comment), locale, SEND_AT)
    ingested = await ingest("survey", response_id, SEND_AT)
    assert ingested.feedback_id is not None
    return await routed_to_support(ingested.feedback_id)


async def route_kind_to_support(kind: str) -> None:
    await create_rule(Rule(0, f"{kind} → Support", kind=kind, teams=(await team_id("support"),)), None, OPEN_AT)


async def suggestion_feedback(text: str = "Please sell gift cards.", email: str = "") -> Routed:
    """A suggestion-box note (without an address unless given), routed to Support."""
    await route_kind_to_support("suggestion")
    rows = await Suggestion.insert(Suggestion(text=text, email=email, created_at=SEND_AT)).returning(Suggestion.id)
    ingested = await ingest("suggestion", rows[0]["id"], SEND_AT)
    assert ingested.feedback_id is not None
    return await routed_to_support(ingested.feedback_id)


async def review_feedback(**review: Any) -> Routed:
    """A product review, routed to Support."""
    await route_kind_to_support("review")
    ingested = await ingest("review", await add_review(**review), SEND_AT)
    assert ingested.feedback_id is not None
    return await routed_to_support(ingested.feedback_id)


async def post_form(
    client: AsyncTestClient, path: str, data: dict[str, str], *, htmx: bool = False, csrf: bool = True
) -> Any:
    form = {**data, **({"_csrf_token": client.cookies.get("csrftoken") or ""} if csrf else {})}
    return await client.post(path, data=form, headers=HTMX if htmx else {}, follow_redirects=False)


# A real SMTP server ---------------------------------------------------------------------------------------------


@pytest.fixture
def smtp() -> Iterator[Mailbox]:
    """A real SMTP server for one test; its port is `box.port`."""
    with smtp_server() as (box, port):
        box.port = port  # type: ignore[attr-defined]
        yield box


def text_part(msg: EmailMessage, subtype: str = "plain") -> str:
    part = msg.get_body(preferencelist=(subtype,))
    assert part is not None, f"the email has a text/{subtype} part"
    return str(part.get_content()).replace("\r\n", "\n")


def answer_to(received: EmailMessage, answer: str, *, sender: str = "Anna Schmidt <anna@example.com>") -> bytes:
    """What a mail client sends when the customer presses Reply: to the Reply-To address (else From), threaded
    under the received message, their words above the quoted original (with an HTML part that quotes it in a
    blockquote), and a signature."""
    reply = EmailMessage()
    reply["From"] = sender
    reply["To"] = received["Reply-To"] or received["From"]
    reply["Subject"] = f"Re: {received['Subject']}"
    reply["Date"] = format_datetime(OPEN_AT)
    reply["Message-ID"] = make_msgid(domain="mail.example.com")
    reply["In-Reply-To"] = received["Message-ID"]
    reply["References"] = " ".join(filter(None, [received["References"], received["Message-ID"]]))
    original = text_part(received)
    quoted = "\n".join(f"> {line}" if line else ">" for line in original.splitlines())
    wrote = f"On Fri, 6 Mar 2026 at 15:00, {received['From']} wrote:"
    reply.set_content(f"{answer}\n\n-- \nAnna\nSent from my phone\n\n{wrote}\n{quoted}\n")
    paragraphs = "".join(f"<p>{line}</p>" for line in answer.split("\n\n"))
    reply.add_alternative(
        f'<html><body><div dir="ltr">{paragraphs}</div><div class="gmail_quote"><div>{wrote}</div>'
        f"<blockquote>{text_part(received, 'html')}</blockquote></div></body></html>",
        subtype="html",
    )
    return bytes(reply)
