"""A customer's rights over what we hold about them: a full export (GDPR art. 15/20) and erasure (art. 17).

Erasure removes what identifies the person or what they wrote, and keeps the numbers (scores, ratings, order
totals and dates) under an anonymous placeholder, so trends and response rates stay true."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from piccolo.columns import Column

from afterglow.settings import get_settings
from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem, Suggestion, ThreadEntry
from operations.services.traces import (
    clear_review_reasons,
    clear_task_errors,
    clear_team_emails,
    clear_webhook_payloads,
    compact_database,
)
from reviews.services.photos import remove_photo_file
from reviews.tables import Review, ReviewPhoto
from shop.tables import Customer, Order, OrderEvent, OrderItem
from surveys.tables import Invitation, Response, SentEmail

CENT = Decimal("0.01")
ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): nothing can be delivered there


class UnknownCustomer(LookupError):
    """Nothing is held under this email address: no customer has it and no suggestion names it (or they were
    erased already)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"nothing held under the email {email!r}")
        self.email = email


def placeholder_email(customer_id: int | None) -> str:
    """The anonymous, unique address an erased customer keeps (the column is unique and required); without a
    customer record (only the suggestion box was used), one shared address stands in for theirs."""
    return f"erased-{customer_id}@{ERASED_DOMAIN}" if customer_id is not None else f"erased@{ERASED_DOMAIN}"


def _plain(value: Any) -> Any:
    """Rows as JSON-ready values: times in ISO 8601, money as exact strings."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):  # the only decimals held are money (SQLite drops trailing zeros)
        return str(value.quantize(CENT))
    return value


async def _suggestion_ids(address: str) -> list[int]:
    """The suggestions left with this address, including any whose inbox copy alone still has it."""
    if not address:  # anonymous suggestions have no address: an empty one names nobody
        return []
    left = await Suggestion.select(Suggestion.id).where(Suggestion.email == address)
    copied = await FeedbackItem.select(FeedbackItem.source_id).where(
        (FeedbackItem.source == "suggestion") & (FeedbackItem.email == address)
    )
    return sorted({row["id"] for row in left} | {row["source_id"] for row in copied})


async def _person(email: str) -> tuple[dict[str, Any] | None, str]:
    """The customer with this email (None for someone who only used the suggestion box) and the address.
    UnknownCustomer if nothing is held under it."""
    address = email.strip().lower()
    customer = await Customer.select().where(Customer.email == address).first()
    if customer is None and not await _suggestion_ids(address):
        raise UnknownCustomer(email.strip())
    return customer, address


async def subject_of(email: str) -> str:
    """How the audit log names whoever has this email, never by the address: `customer:<id>`, or
    `suggestions:<ids>` without a customer record. UnknownCustomer if nothing is held."""
    customer, address = await _person(email)
    if customer is not None:
        return f"customer:{customer['id']}"
    return "suggestions:" + ",".join(str(n) for n in await _suggestion_ids(address))


async def _ids(column: Column, values: list[int]) -> list[int]:
    """Ids of the rows whose `column` is one of `values` (an empty list asks nothing)."""
    if not values:
        return []
    table = column._meta.table
    return [row["id"] for row in await table.select(table.id).where(column.is_in(values))]


async def _held(customer_id: int) -> dict[str, list[int]]:
    """The ids of everything linked to a customer."""
    orders = [r["id"] for r in await Order.select(Order.id).where(Order.customer == customer_id)]
    invitations = [r["id"] for r in await Invitation.select(Invitation.id).where(Invitation.customer == customer_id)]
    responses = await _ids(Response.invitation, invitations)
    return {"orders": orders, "invitations": invitations, "responses": responses}


async def _select(*columns: Column, where: Column, values: list[int], order: Column) -> list[dict[str, Any]]:
    if not values:
        return []
    table = where._meta.table
    return await table.select(*columns).where(where.is_in(values)).order_by(order).output(load_json=True)


async def export_customer(email: str) -> dict[str, Any]:
    """Everything held under this email, as plain JSON-ready values: a customer's, or (with `customer` None)
    what someone who only used the suggestion box left. UnknownCustomer if nothing is held."""
    customer, address = await _person(email)
    if customer is None:
        nothing: list[Any] = []
        by_address = await _by_address(address, None, [])
        return _plain(
            {
                "customer": None,
                "orders": nothing,
                "invitations": nothing,
                "responses": nothing,
                **by_address,
                "reviews": nothing,
                "review_photos": nothing,
            }
        )
    held = await _held(customer["id"])
    orders = await Order.select().where(Order.customer == customer["id"]).order_by(Order.placed_at)
    items = await _select(where=OrderItem.order, values=held["orders"], order=OrderItem.id)
    events = await _select(where=OrderEvent.order, values=held["orders"], order=OrderEvent.id)
    for order in orders:
        order["items"] = [item for item in items if item["order"] == order["id"]]
        order["events"] = [event for event in events if event["order"] == order["id"]]
    # The invitation token is a credential for the survey link, not information about the person.
    invitation_columns = Invitation.all_columns(exclude=[Invitation.token])
    return _plain(
        {
            "customer": customer,
            "orders": orders,
            "invitations": await _select(
                *invitation_columns, where=Invitation.id, values=held["invitations"], order=Invitation.id
            ),
            "responses": await _select(where=Response.id, values=held["responses"], order=Response.id),
            **await _by_address(customer["email"], customer["id"], held["invitations"]),
            "reviews": await Review.select().where(Review.customer == customer["id"]).order_by(Review.id),
            "review_photos": await ReviewPhoto.select(
                ReviewPhoto.review, ReviewPhoto.file_name, ReviewPhoto.content_type, ReviewPhoto.created_at
            )
            .where(ReviewPhoto.review.customer == customer["id"])
            .order_by(ReviewPhoto.id),
        }
    )


async def _by_address(email: str, customer_id: int | None, invitations: list[int]) -> dict[str, Any]:
    """What is held under an address with or without a customer record: emails, feedback, suggestions."""
    sent_email_columns = SentEmail.all_columns(exclude=[SentEmail.headers])
    emails = await SentEmail.select(*sent_email_columns).where(_mail_to(email, invitations))
    feedback = await _feedback_of(email, customer_id)
    return {
        "sent_emails": sorted(emails, key=lambda mail: mail["id"]),
        "feedback": await _select(
            *FeedbackItem.all_columns(exclude=[FeedbackItem.thread_token]),
            where=FeedbackItem.id,
            values=feedback,
            order=FeedbackItem.id,
        ),
        "feedback_topics": await _select(
            FeedbackTopic.feedback,
            FeedbackTopic.topic,
            FeedbackTopic.phrase,
            FeedbackTopic.polarity,
            where=FeedbackTopic.feedback,
            values=feedback,
            order=FeedbackTopic.id,
        ),
        "inbox_items": await _select(
            InboxItem.id,
            InboxItem.feedback,
            InboxItem.team.name.as_alias("team"),
            InboxItem.status,
            InboxItem.created_at,
            where=InboxItem.feedback,
            values=feedback,
            order=InboxItem.id,
        ),
        # Staff's internal notes are the shop's working papers, not the customer's data.
        "conversation": await ThreadEntry.select(
            ThreadEntry.feedback, ThreadEntry.kind, ThreadEntry.author_name, ThreadEntry.body, ThreadEntry.at
        )
        .where(ThreadEntry.feedback.is_in(feedback or [-1]) & (ThreadEntry.kind.is_in(["reply", "customer"])))
        .order_by(ThreadEntry.id),
        "suggestions": await Suggestion.select().where(Suggestion.email == email).order_by(Suggestion.id),
    }


def _mail_to(email: str, invitation_ids: list[int]) -> Any:
    """The customer's emails: those of their invitations, and any other addressed to them."""
    to_them = SentEmail.to == email
    return (SentEmail.invitation.is_in(invitation_ids) | to_them) if invitation_ids else to_them


async def _feedback_of(email: str, customer_id: int | None) -> list[int]:
    """Feedback items of the customer (if there is one), and of suggestions left with the address."""
    theirs = (FeedbackItem.source == "suggestion") & (FeedbackItem.email == email)
    if customer_id is not None:
        theirs = (FeedbackItem.customer == customer_id) | theirs
    return [row["id"] for row in await FeedbackItem.select(FeedbackItem.id).where(theirs)]


ERASURE_COUNTS = (
    "customer",
    "comments_cleared",
    "sent_emails_deleted",
    "feedback_cleared",
    "suggestions_cleared",
    "reviews_cleared",
    "review_photos_deleted",
    "invitations_stopped",
)


async def erase_customer(email: str, now: datetime, compact: bool = True) -> dict[str, int]:
    """Erase the personal data held under this email (a customer's, or what someone who only used the suggestion
    box left); what changed, counted. UnknownCustomer if nothing is held. `compact=False` leaves compacting
    SQLite to the caller (who erases many and compacts once).

    Running it again (by the placeholder address) changes nothing and counts zeros."""
    customer, address = await _person(email)
    photos: list[str] = []
    if customer is not None:
        theirs = ReviewPhoto.review.customer == customer["id"]
        photos = [row["file_name"] for row in await ReviewPhoto.select(ReviewPhoto.file_name).where(theirs)]
    async with Customer._meta.db.transaction():
        if customer is None:
            counts = dict.fromkeys(ERASURE_COUNTS, 0) | await _erase_address(address, None, [], now)
        else:
            counts = await _erase(customer, now)
    settings = get_settings()
    for name in photos:  # after the commit: a rolled-back erasure keeps its files
        remove_photo_file(name, settings)
    if compact:
        await compact_database(Customer._meta.db)
    return counts


async def _erase(customer: dict[str, Any], now: datetime) -> dict[str, int]:
    counts = dict.fromkeys(ERASURE_COUNTS, 0)
    held = await _held(customer["id"])
    counts |= await _erase_address(customer["email"], customer["id"], held["invitations"], now)

    if held["responses"]:
        written = Response.id.is_in(held["responses"]) & (Response.comment != "")
        counts["comments_cleared"] = await Response.count().where(written)
        await Response.update({Response.comment: ""}).where(written)

    # The stars stay (anonymous, and the product's average must not move); words, name and photos go, and so
    # do the shop's public reply and the moderator's reason, which quote or address the person.
    titled = (Review.customer == customer["id"]) & (
        (Review.title != "") | (Review.text != "") | (Review.author_name != "") | (Review.reply_text != "")
    )
    counts["reviews_cleared"] = await Review.count().where(titled)
    await Review.update(
        {
            Review.title: "",
            Review.text: "",
            Review.author_name: "",
            Review.reply_text: "",
            Review.reject_reason: "",
            Review.photo_urls: [],  # an imported review's links to its photos
            Review.updated_at: now,
        }
    ).where(titled)
    await clear_review_reasons(
        [row["id"] for row in await Review.select(Review.id).where(Review.customer == customer["id"])]
    )
    theirs = ReviewPhoto.review.customer == customer["id"]
    counts["review_photos_deleted"] = await ReviewPhoto.count().where(theirs)
    photo_ids = [row["id"] for row in await ReviewPhoto.select(ReviewPhoto.id).where(theirs)]
    if photo_ids:
        await ReviewPhoto.delete().where(ReviewPhoto.id.is_in(photo_ids))

    counts["invitations_stopped"] = await _stop_invitations(held["invitations"])

    placeholder = placeholder_email(customer["id"])
    if customer["email"] != placeholder or customer["name"] or customer["timezone"]:
        counts["customer"] = 1
        # Locale stays (a language, shared by millions, and what per-language trends group by); the time zone
        # goes: it hints at where someone lives and only served the send window, and nothing is sent any more.
        await Customer.update(
            {
                Customer.email: placeholder,
                Customer.name: "",
                Customer.timezone: "",
                Customer.unsubscribed_at: customer["unsubscribed_at"] or now,
            }
        ).where(Customer.id == customer["id"])
        # New tokens make the links in the emails they received dead: answering through them later would
        # attach new personal text to the anonymous record.
        for invitation_id in held["invitations"]:
            await Invitation.update({Invitation.token: secrets.token_urlsafe(18)}).where(Invitation.id == invitation_id)
    return counts


async def _erase_address(email: str, customer_id: int | None, invitations: list[int], now: datetime) -> dict[str, int]:
    """The part of an erasure found by address, with or without a customer record; what changed, counted."""
    counts = {"sent_emails_deleted": 0, "feedback_cleared": 0, "suggestions_cleared": 0}
    # Emails repeat the name, the address and the survey links: the log of them goes entirely.
    mails = [r["id"] for r in await SentEmail.select(SentEmail.id).where(_mail_to(email, invitations))]
    if mails:
        await SentEmail.delete().where(SentEmail.id.is_in(mails))
    counts["sent_emails_deleted"] = len(mails)

    # Feedback keeps its scores, label and topics (numbers for the trends); the words and the person go.
    feedback = await _feedback_of(email, customer_id)
    if feedback:
        worded = FeedbackItem.id.is_in(feedback) & (
            (FeedbackItem.text != "") | (FeedbackItem.title != "") | (FeedbackItem.email != "")
        )
        counts["feedback_cleared"] = await FeedbackItem.count().where(worded)
        await FeedbackItem.update(
            {
                FeedbackItem.text: "",
                FeedbackItem.title: "",
                FeedbackItem.email: "",
                FeedbackItem.name: "",
                FeedbackItem.sentences: [],
                FeedbackItem.aspects: [],
                FeedbackItem.updated_at: now,
            }
        ).where(worded)
        await FeedbackTopic.update({FeedbackTopic.phrase: ""}).where(FeedbackTopic.feedback.is_in(feedback))
        await _clear_thread(feedback)
    suggested = Suggestion.email == email
    counts["suggestions_cleared"] = await Suggestion.count().where(suggested)
    await Suggestion.update(
        {Suggestion.text: "", Suggestion.email: "", Suggestion.name: "", Suggestion.page: ""}
    ).where(suggested)
    inbox_items = await _ids(InboxItem.feedback, feedback)
    await clear_team_emails(email, inbox_items)
    await clear_webhook_payloads(inbox_items, now, get_settings())
    await clear_task_errors(email, placeholder_email(customer_id))
    return counts


async def _clear_thread(feedback: list[int]) -> None:
    """Notes, replies and the customer's answers lose their text; their answers also the sender (`Name <address>`)
    and the Message-ID their mail system gave. Events (status, assignee, team) are the product's words and stay."""
    thread = ThreadEntry.feedback.is_in(feedback)
    await ThreadEntry.update({ThreadEntry.body: ""}).where(thread & (ThreadEntry.kind != "event"))
    await ThreadEntry.update({ThreadEntry.author_name: "", ThreadEntry.message_id: ""}).where(
        thread & (ThreadEntry.kind == "customer")
    )


async def _stop_invitations(invitation_ids: list[int]) -> int:
    """Nothing more goes out: unsent invitations are skipped, claimed sends released, reminders dropped.

    Being unsubscribed already stops the scheduler; this also stops sends a worker has claimed, whose
    "sent once" check relied on the mail log just deleted."""
    if not invitation_ids:
        return 0
    ours = Invitation.id.is_in(invitation_ids)
    unsent = ours & Invitation.status.is_in(["scheduled", "sending"])
    reminder = ours & (
        (Invitation.status == "reminding") | ((Invitation.status == "sent") & Invitation.reminder_due_at.is_not_null())
    )
    stopped = await Invitation.count().where(unsent) + await Invitation.count().where(reminder)
    await Invitation.update(
        {Invitation.status: "skipped", Invitation.skip_reason: "erased", Invitation.hold_reason: ""}
    ).where(unsent)
    await Invitation.update(
        {Invitation.status: "sent", Invitation.reminder_due_at: None, Invitation.hold_reason: "no reminder: erased"}
    ).where(reminder)
    return int(stopped)
