"""Replies to customers: a staff member writes one on an inbox item; a worker emails it once, in the customer's
language, threaded with the earlier messages; the first reply sent closes the loop.

The email is in the owner's wording when they wrote one for the customer's language (Admin → Templates, "reply").
A reply is a ThreadEntry(kind="reply") with a Message-ID chosen when it is written. Sending checks the SentEmail log
for that Message-ID first, so a task run twice (or the beat catch-up pass racing it) sends one email."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from piccolo.apps.user.tables import BaseUser

from accounts.services import Staff, audit
from afterglow import i18n
from afterglow.brand import brand_of
from afterglow.failures import skip_bad_row
from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from feedback.services.inbox import may_act, visible
from feedback.tables import FeedbackItem, InboxItem, ThreadEntry
from reviews.services.rejection_email import UNDELIVERABLE
from surveys.services import wording
from surveys.services.emails import Rendered, deliver
from surveys.services.links import read_dated, sign_dated
from surveys.tables import SentEmail

PURPOSE = "feedback-reply"
#: The longest reply a staff member can send (characters).
REPLY_MAX = 5000
#: The roles that may reply (on their teams' items; admins on any); managers read only.
REPLYING_ROLES = ("admin", "member")
NO_ADDRESS = "This customer left no email address, so a reply cannot reach them."
ERASED = "This customer's personal data was erased, so there is no address to reply to."
#: How far back the catch-up pass looks for queued replies, and how long it leaves a new one to its own task.
CATCH_UP = timedelta(days=7)
GRACE = timedelta(minutes=2)
#: The earlier messages named in References: the first and the latest few (RFC 5322 allows trimming the middle).
REFERENCES_KEPT = 10


class ReplyRefused(ValueError):
    """A reply that cannot be sent as written; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class ReplyArea:
    """What the reply form shows: the inbox row, the whole feedback row and its thread (oldest first)."""

    item: dict[str, Any]
    feedback: dict[str, Any]
    thread: list[dict[str, Any]]


def why_no_reply(feedback: dict[str, Any]) -> str | None:
    """Why no reply can reach this customer (no address, or erased), or None when one can."""
    email = str(feedback.get("email") or "").strip()
    if not email:
        return NO_ADDRESS
    if email.lower().endswith(UNDELIVERABLE):
        return ERASED
    return None


async def thread_of(feedback_id: int) -> list[dict[str, Any]]:
    """Every entry of a feedback item's thread, oldest first."""
    return await ThreadEntry.select().where(ThreadEntry.feedback == feedback_id).order_by(ThreadEntry.id)


async def reply_area(user: Staff, item_id: int) -> ReplyArea | None:
    """The inbox item if this user may reply on it (a member of its team, or an admin), else None."""
    columns = (InboxItem.id, InboxItem.status, InboxItem.team, InboxItem.feedback)
    item = await InboxItem.select(*columns).where(visible(user, InboxItem.id == item_id)).first()
    if item is None or not may_act(user, item["team"]):
        return None
    feedback = await FeedbackItem.select().where(FeedbackItem.id == item["feedback"]).first()
    if feedback is None:
        return None
    return ReplyArea(item, feedback, await thread_of(feedback["id"]))


async def staff_name(user_id: int) -> str:
    """How a reply is signed: the staff member's first and last name, else their username."""
    row = (
        await BaseUser.select(BaseUser.first_name, BaseUser.last_name, BaseUser.username)
        .where(BaseUser.id == user_id)
        .first()
    )
    if row is None:
        return ""
    full = " ".join(part for part in (row["first_name"], row["last_name"]) if part)
    return (full or row["username"])[:200]


def _domain(settings: Settings) -> str:
    return urlparse(settings.base_url).hostname or "afterglow.localhost"


def new_message_id(settings: Settings, feedback_id: int) -> str:
    """Chosen once when the reply is written and stored with it, so every send attempt uses the same one. The random
    part also keeps it unguessable: an emailed answer naming it in In-Reply-To is trusted to belong to the thread."""
    return f"<reply.{feedback_id}.{secrets.token_hex(8)}@{_domain(settings)}>"


async def write_reply(user: Staff, area: ReplyArea, body: str, now: datetime, settings: Settings) -> int:
    """Queue a reply to the customer of `area`: a ThreadEntry that a worker emails. Returns its id.
    ReplyRefused when the text is empty or too long, or the customer cannot be reached."""
    text = body.replace("\r\n", "\n").strip()
    refusal = why_no_reply(area.feedback)
    if refusal:
        raise ReplyRefused(refusal)
    if not text:
        raise ReplyRefused("Write your reply first.")
    if len(text) > REPLY_MAX:
        raise ReplyRefused(f"A reply can have at most {REPLY_MAX:,} characters; this one has {len(text):,}.")
    feedback_id = area.feedback["id"]
    rows = await ThreadEntry.insert(
        ThreadEntry(
            feedback=feedback_id,
            inbox_item=area.item["id"],
            kind="reply",
            author=user.id,
            author_name=await staff_name(user.id),
            body=text,
            message_id=new_message_id(settings, feedback_id),
            delivery="queued",
            at=now,
        )
    ).returning(ThreadEntry.id)
    entry_id = int(rows[0]["id"])
    await audit(user, "feedback.replied", f"feedback:{feedback_id}", now, inbox_item=area.item["id"], entry=entry_id)
    return entry_id


# The conversation link: /r/{signed} ---------------------------------------------------------------------------


def conversation_token(settings: Settings, thread_token: str, issued_at: datetime) -> str:
    """The signed part of a conversation link, stamped with the reply's time so every send of it is the same."""
    return sign_dated(settings, "conversation", thread_token, issued_at)


def read_conversation_token(settings: Settings, signed: str, now: datetime) -> str:
    """The thread token inside a conversation link, or LinkInvalid (altered) / LinkExpired (too old)."""
    return read_dated(settings, "conversation", signed, now)


def reply_to(settings: Settings, thread_token: str) -> str | None:
    """`replies+<thread token>@shop.example` when AFTERGLOW_REPLY_ADDRESS is `replies@shop.example`."""
    local, at, domain = settings.reply_address.rpartition("@")
    if not at or not local or not domain:
        return None
    return f"{local}+{thread_token}@{domain}"


# The email ---------------------------------------------------------------------------------------------------


def paragraphs(text: str) -> list[list[str]]:
    """Text as paragraphs of lines, for HTML that keeps the writer's line breaks without markup in the text."""
    blocks = [block.strip("\n") for block in text.replace("\r\n", "\n").split("\n\n")]
    return [block.split("\n") for block in blocks if block.strip()]


#: How a reply may already open, in the languages staff write (en, de, hu): then the email adds no greeting of its own.
GREETING = re.compile(
    r"^\W*(hi|hello|hey|dear|greetings|good (morning|afternoon|evening)|hallo|guten (tag|morgen|abend)|"
    r"liebe[rs]?|sehr geehrte[rs]?|moin|servus|grüß gott|szia(sztok)?|szervusz|kedves|tisztelt|jó napot|üdv)\b",
    re.IGNORECASE,
)


def opens_with_greeting(text: str) -> bool:
    """Whether the staff member's text starts with a greeting of its own ("Hi Olivia, …", "Liebe Frau …")."""
    return bool(GREETING.match(text.strip()))


def first_name(name: str, language: str) -> str:
    """The customer's given name for a greeting: the first word, or the last in Hungarian (family name first)."""
    parts = name.split()
    if not parts:
        return ""
    return parts[-1] if language == "hu" and len(parts) > 1 else parts[0]


def signature(author_name: str) -> str:
    """The staff member's name as a reply is signed: a full name as it is, a bare username in readable form
    ("olivia.brown" → "Olivia Brown", "admin" → "Admin")."""
    name = author_name.strip()
    if not name or " " in name or name != name.lower():
        return name
    local = name.split("@", 1)[0]
    return " ".join(part[:1].upper() + part[1:] for part in re.split(r"[._+\-]+", local) if part)


def reply_language(feedback: dict[str, Any], settings: Settings) -> str:
    """The language the email is written in; its wording is looked up for the same one."""
    return i18n.customer_language(feedback["locale"], settings)


def render_reply(
    entry: dict[str, Any],
    feedback: dict[str, Any],
    references: list[str],
    settings: Settings,
    fields: Mapping[str, str] | None = None,
) -> Rendered:
    """Subject, text and HTML in the customer's language, with the threading headers. `fields`: the owner's
    wording for that language (None: the default templates)."""
    language = reply_language(feedback, settings)
    answer_by_email = reply_to(settings, feedback["thread_token"])
    signed = conversation_token(settings, feedback["thread_token"], entry["at"])
    quoted = "\n\n".join(part for part in (feedback["title"], feedback["text"]) if part.strip())
    context = {
        "shop_name": settings.shop_name,
        "brand": brand_of(settings),
        "logo_url": brand_of(settings).logo_url(settings.base_url),
        "name": first_name(feedback["name"] or "", language),
        "greeted": opens_with_greeting(entry["body"]),
        "kind": feedback["kind"],
        "product": feedback["product_name"],
        "body": entry["body"],
        "body_paragraphs": paragraphs(entry["body"]),
        "staff_name": signature(entry["author_name"] or ""),
        "quote_lines": quoted.splitlines(),
        "quote_paragraphs": paragraphs(quoted),
        "conversation_url": f"{settings.base_url}/r/{signed}",
        "by_email": answer_by_email is not None,
    }
    headers = {
        "Content-Language": language,
        # A person wrote it, but vacation responders must not answer into the thread (RFC 3834).
        "Auto-Submitted": "auto-generated",
    }
    if references:
        kept = (
            references if len(references) <= REFERENCES_KEPT else [references[0], *references[-REFERENCES_KEPT + 1 :]]
        )
        headers["In-Reply-To"] = references[-1]
        headers["References"] = " ".join(kept)
    if answer_by_email:
        headers["Reply-To"] = answer_by_email
    values = {
        "customer_name": context["name"],
        "shop_name": settings.shop_name,
        "reply_text": entry["body"],
        "staff_name": context["staff_name"],
        "conversation_link": context["conversation_url"],
        "quote": quoted,
        "product_name": feedback["product_name"] or "",
        "is_review": feedback["kind"] == "review",
        "greeted": context["greeted"],
        "answer_by_email": context["by_email"],
    }
    defaults = ("feedback/email/reply_subject.txt", "feedback/email/reply.txt", "feedback/email/reply.html")
    subject, text, html = wording.email_or_default("reply", language, fields, values, context, defaults)
    return Rendered(
        to=feedback["email"],
        subject=subject,
        text=text,
        html=html,
        headers=headers,
    )


async def earlier_messages(feedback_id: int, before_entry: int) -> list[str]:
    """Message-IDs the customer has seen in this thread before this reply: our sent replies and their emails."""
    rows = (
        await ThreadEntry.select(ThreadEntry.message_id)
        .where(
            (ThreadEntry.feedback == feedback_id)
            & (ThreadEntry.id < before_entry)
            & (ThreadEntry.message_id != "")
            & ((ThreadEntry.kind == "customer") | ((ThreadEntry.kind == "reply") & (ThreadEntry.delivery == "sent")))
        )
        .order_by(ThreadEntry.id)
    )
    return [row["message_id"] for row in rows]


# Sending -----------------------------------------------------------------------------------------------------


async def mark_sent(entry: dict[str, Any], sent_at: datetime) -> None:
    """The loop is closed at the first reply sent: first_reply_at, the inbox item's responded_at and new → in
    progress, each only once. The entry is marked last, so a crash before it leaves work the catch-up redoes."""
    await FeedbackItem.update({FeedbackItem.first_reply_at: sent_at}).where(
        (FeedbackItem.id == entry["feedback"]) & FeedbackItem.first_reply_at.is_null()
    )
    if entry["inbox_item"] is not None:
        item = InboxItem.id == entry["inbox_item"]
        await InboxItem.update({InboxItem.responded_at: sent_at}).where(item & InboxItem.responded_at.is_null())
        await InboxItem.update({InboxItem.status: "in_progress", InboxItem.updated_at: sent_at}).where(
            item & (InboxItem.status == "new")
        )
    await ThreadEntry.update({ThreadEntry.delivery: "sent"}).where(ThreadEntry.id == entry["id"])


async def mark_failed(entry_id: int) -> None:
    """The email could not be sent (SMTP kept refusing, or the address is gone); a sent reply stays sent."""
    await ThreadEntry.update({ThreadEntry.delivery: "failed"}).where(
        (ThreadEntry.id == entry_id) & (ThreadEntry.kind == "reply") & (ThreadEntry.delivery != "sent")
    )


async def send_reply(entry_id: int, now: datetime, settings: Settings) -> str:
    """Email one reply unless it went out already. Returns "sent", "sent-before", "no-address" (erased since it
    was written) or "unknown". MailNotSent when SMTP refuses: the task retries."""
    entry = await ThreadEntry.select().where((ThreadEntry.id == entry_id) & (ThreadEntry.kind == "reply")).first()
    if entry is None:
        return "unknown"
    if entry["delivery"] == "sent":
        return "sent-before"
    logged = await SentEmail.select(SentEmail.sent_at).where(SentEmail.message_id == entry["message_id"]).first()
    if logged is not None:  # sent, then the worker stopped before marking it
        await mark_sent(entry, logged["sent_at"])
        return "sent-before"
    feedback = await FeedbackItem.select().where(FeedbackItem.id == entry["feedback"]).first()
    if feedback is None or why_no_reply(feedback):
        await mark_failed(entry_id)
        return "no-address"
    fields = await wording.stored("reply", reply_language(feedback, settings))
    mail = render_reply(entry, feedback, await earlier_messages(feedback["id"], entry_id), settings, fields)
    delivered = await deliver(mail, entry["message_id"], PURPOSE, None, now, settings)
    await mark_sent(entry, now)
    return "sent" if delivered else "sent-before"


async def unsent_replies(now: datetime) -> list[int]:
    """Replies of the last week still queued a while after they were written: their task was lost (broker down,
    worker killed) or is still retrying. The beat pass sends them; the log keeps it to one email each."""
    rows = (
        await ThreadEntry.select(ThreadEntry.id)
        .where(
            (ThreadEntry.kind == "reply")
            & (ThreadEntry.delivery == "queued")
            & (ThreadEntry.at >= now - CATCH_UP)
            & (ThreadEntry.at <= now - GRACE)
        )
        .order_by(ThreadEntry.id)
    )
    return [row["id"] for row in rows]


async def send_unsent_replies(now: datetime, settings: Settings) -> dict[str, int]:
    """The catch-up pass: send every lost reply; one SMTP failure does not stop the others. Counts outcomes."""
    outcomes: dict[str, int] = {}
    for entry_id in await unsent_replies(now):
        outcome = "failed"  # a bad reply: recorded as a task failure, and the pass goes on
        try:
            async with skip_bad_row("feedback.send_pending_replies", f"thread entry {entry_id}", now):
                outcome = await send_reply(entry_id, now, settings)
        except MailNotSent:
            outcome = "smtp-refused"  # still queued: the next pass tries again
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes
