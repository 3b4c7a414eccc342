"""The customer's answers, attached to the thread of the feedback they answer: written on the conversation page
(`/r/{signed}`) or sent by email (the inbound webhook, or `afterglow receive-mail` from an MTA pipe).

An answer reopens the inbox item of the latest reply when that item was resolved or won't-fixed. An emailed answer
is matched by the plus-address token it was sent to, else by the reply Message-IDs it names; quoted text and the
signature are cut off; its Message-ID is kept, so a message delivered twice is attached once."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from piccolo.engine.sqlite import TransactionType

from afterglow import i18n
from afterglow.db import is_postgres
from feedback.services.answer_email import InboundEmail, UnreadableEmail, read_email
from feedback.services.replies import paragraphs, why_no_reply
from feedback.tables import FeedbackItem, InboxItem, ThreadEntry

#: The longest answer written on the page.
ANSWER_MAX = 5000
#: The same answer sent again this soon (a double click, a resent form) is the one already stored.
RESUBMIT = timedelta(minutes=10)
REOPENED = "Reopened: the customer answered."
_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,32}")


class InboundRefused(ValueError):
    """An answer that cannot be attached; `status` is the HTTP status that says so, `message` why."""

    status = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownThread(InboundRefused):
    """No conversation matches (an unknown token, or no Message-ID of ours)."""

    status = 404


class ThreadClosed(InboundRefused):
    """The conversation's customer was erased: the link shows nothing and takes no answer."""

    status = 410


class AnswerRefused(InboundRefused):
    """The answer is empty, too long, or sent too often."""


class NotAMessage(InboundRefused):
    """The body is not an email message."""


# The conversation --------------------------------------------------------------------------------------------


@dataclass
class Conversation:
    """What the customer sees of a thread: their feedback, our sent replies and their own answers, oldest first."""

    feedback_id: int
    language: str
    name: str
    kind: str
    product: str
    title: str
    text: str
    entries: list[dict[str, Any]] = field(default_factory=list)  # each with its body's `paragraphs`

    @property
    def text_paragraphs(self) -> list[list[str]]:
        return paragraphs(self.text)


def _customer_visible() -> Any:
    """Internal notes, events and replies not (yet) emailed stay with the team."""
    return (ThreadEntry.kind == "customer") | ((ThreadEntry.kind == "reply") & (ThreadEntry.delivery == "sent"))


async def open_conversation(thread_token: str) -> Conversation:
    """The conversation of a thread token; UnknownThread when there is none, ThreadClosed when its customer was
    erased."""
    row = (
        await FeedbackItem.select(
            FeedbackItem.id,
            FeedbackItem.email,
            FeedbackItem.locale,
            FeedbackItem.name,
            FeedbackItem.kind,
            FeedbackItem.product_name,
            FeedbackItem.title,
            FeedbackItem.text,
        )
        .where(FeedbackItem.thread_token == thread_token)
        .first()
    )
    if row is None:
        raise UnknownThread("no conversation has this link")
    if why_no_reply(row):  # a link exists only where a reply went out, so no address means erased
        raise ThreadClosed("this conversation was erased")
    entries = (
        await ThreadEntry.select(
            ThreadEntry.id, ThreadEntry.kind, ThreadEntry.author_name, ThreadEntry.body, ThreadEntry.at
        )
        .where((ThreadEntry.feedback == row["id"]) & _customer_visible())
        .order_by(ThreadEntry.id)
    )
    return Conversation(
        feedback_id=row["id"],
        language=i18n.language_for(row["locale"]),
        name=row["name"],
        kind=row["kind"],
        product=row["product_name"],
        title=row["title"],
        text=row["text"],
        entries=[{**entry, "paragraphs": paragraphs(entry["body"])} for entry in entries],
    )


async def answer_on_page(conversation: Conversation, body: str, now: datetime) -> int:
    """Attach what the customer wrote on the conversation page; AnswerRefused (in their language) when it is empty
    or too long. The same text sent again within minutes is the answer already stored."""
    text = body.replace("\r\n", "\n").strip()
    language = conversation.language
    if not text:
        raise AnswerRefused(i18n.translate(language, "Please write your answer first."))
    if len(text) > ANSWER_MAX:
        raise AnswerRefused(i18n.translate(language, "Your answer is too long. Please keep it under 5,000 characters."))
    latest = (
        await ThreadEntry.select(ThreadEntry.id, ThreadEntry.body, ThreadEntry.at)
        .where((ThreadEntry.feedback == conversation.feedback_id) & (ThreadEntry.kind == "customer"))
        .order_by(ThreadEntry.id, ascending=False)
        .first()
    )
    if latest is not None and latest["body"] == text and latest["at"] >= now - RESUBMIT:
        return int(latest["id"])
    entry_id, _ = await attach_answer(conversation.feedback_id, text, conversation.name, "", now)
    return entry_id


# Attaching ---------------------------------------------------------------------------------------------------


async def _serialise(key: str) -> None:
    """Inside a transaction: wait for any other transaction attaching the same message (PostgreSQL; SQLite's
    immediate transaction holds the write lock already)."""
    if is_postgres(ThreadEntry._meta.db):
        await ThreadEntry.raw("SELECT pg_advisory_xact_lock(hashtext({}))", key)


def _transaction() -> Any:
    db = ThreadEntry._meta.db
    if is_postgres(db):
        return db.transaction()
    return db.transaction(transaction_type=TransactionType.immediate)  # type: ignore[call-arg]


async def attach_answer(
    feedback_id: int, body: str, author_name: str, message_id: str, now: datetime
) -> tuple[int, bool]:
    """Add the customer's answer to the thread and reopen the item in conversation if it was closed. Returns the
    entry id and whether it is new: an answer whose Message-ID is attached already is not added again."""
    async with _transaction():
        if message_id:
            await _serialise(message_id)
            existing = (
                await ThreadEntry.select(ThreadEntry.id)
                .where(
                    (ThreadEntry.feedback == feedback_id)
                    & (ThreadEntry.kind == "customer")
                    & (ThreadEntry.message_id == message_id)
                )
                .first()
            )
            if existing is not None:
                return int(existing["id"]), False
        latest_reply = (
            await ThreadEntry.select(ThreadEntry.inbox_item)
            .where((ThreadEntry.feedback == feedback_id) & (ThreadEntry.kind == "reply"))
            .order_by(ThreadEntry.id, ascending=False)
            .first()
        )
        inbox_item = latest_reply["inbox_item"] if latest_reply else None
        rows = await ThreadEntry.insert(
            ThreadEntry(
                feedback=feedback_id,
                inbox_item=inbox_item,
                kind="customer",
                author_name=author_name[:200],
                body=body,
                message_id=message_id,
                at=now,
            )
        ).returning(ThreadEntry.id)
        if inbox_item is not None:
            await reopen(feedback_id, inbox_item, now)
    return int(rows[0]["id"]), True


async def reopen(feedback_id: int, inbox_item: int, now: datetime) -> bool:
    """A resolved or won't-fix item goes back to in progress, with an event in the timeline. True if it did."""
    reopened = (
        await InboxItem.update(
            {InboxItem.status: "in_progress", InboxItem.resolved_at: None, InboxItem.updated_at: now}
        )
        .where((InboxItem.id == inbox_item) & InboxItem.status.is_in(["resolved", "wont_fix"]))
        .returning(InboxItem.id)
    )
    if not reopened:
        return False
    await ThreadEntry.insert(
        ThreadEntry(feedback=feedback_id, inbox_item=inbox_item, kind="event", body=REOPENED, at=now)
    )
    return True


async def _thread_by_token(token: str) -> int | None:
    exact = await FeedbackItem.select(FeedbackItem.id).where(FeedbackItem.thread_token == token).first()
    if exact is not None:
        return int(exact["id"])
    # Some mail systems lower-case the address. The token has no "%", and "_" matching any one character only
    # widens the search, which the comparison below narrows again. SQLite's LIKE ignores ASCII case already.
    column = FeedbackItem.thread_token
    pattern = column.ilike(token) if is_postgres(FeedbackItem._meta.db) else column.like(token)
    rows = await FeedbackItem.select(FeedbackItem.id, column).where(pattern)
    matches = [row["id"] for row in rows if row["thread_token"].lower() == token.lower()]
    return int(matches[0]) if len(matches) == 1 else None


async def _erased(feedback_id: int) -> bool:
    row = await FeedbackItem.select(FeedbackItem.email).where(FeedbackItem.id == feedback_id).first()
    return row is None or why_no_reply(row) is not None


async def find_thread(email: InboundEmail, recipient: str | None = None) -> int:
    """The feedback id an emailed answer belongs to: by the plus-address it was sent to (the envelope recipient
    first, when the MTA gives it), else by a reply Message-ID it names. UnknownThread otherwise."""
    for address in ((recipient,) if recipient else ()) + email.recipients:
        local = address.rpartition("@")[0]
        token = local.partition("+")[2]
        if _TOKEN.fullmatch(token):
            found = await _thread_by_token(token)
            if found is not None:
                return found
    if email.references:
        reply = (
            await ThreadEntry.select(ThreadEntry.feedback)
            .where((ThreadEntry.kind == "reply") & ThreadEntry.message_id.is_in(list(email.references)))
            .order_by(ThreadEntry.id, ascending=False)
            .first()
        )
        if reply is not None:
            return int(reply["feedback"])
    raise UnknownThread(
        "no conversation matches this message: it was not sent to a reply address of ours and names none of our replies"
    )


@dataclass(frozen=True)
class Received:
    outcome: str  # attached | duplicate | ignored | dropped (its customer was erased)
    feedback: int | None = None
    entry: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {"outcome": self.outcome, "feedback": self.feedback, "entry": self.entry}


async def receive_email(raw: bytes, now: datetime, recipient: str | None = None) -> Received:
    """Attach an emailed answer (a raw RFC 822 message) to its thread. Auto-replies and bounces are ignored;
    InboundRefused (UnknownThread, AnswerRefused, NotAMessage) when it cannot be attached: nothing is stored."""
    try:
        email = read_email(raw)
    except UnreadableEmail as exc:
        raise NotAMessage(str(exc)) from exc
    if email.automatic:
        return Received("ignored")
    feedback_id = await find_thread(email, recipient)
    if await _erased(feedback_id):
        return Received("dropped")
    if not email.text:
        raise AnswerRefused("the message has no text of its own once quoted text and the signature are removed")
    entry_id, new = await attach_answer(feedback_id, email.text, email.sender, email.message_id, now)
    return Received("attached" if new else "duplicate", feedback_id, entry_id)
