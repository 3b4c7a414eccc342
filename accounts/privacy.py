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
from reviews.services.photos import remove_photo_file
from reviews.tables import Review, ReviewPhoto
from shop.tables import Customer, Order, OrderEvent, OrderItem
from surveys.tables import Invitation, Response, SentEmail

CENT = Decimal("0.01")
ERASED_DOMAIN = "erased.invalid"  # .invalid never resolves (RFC 2606): nothing can be delivered there


class UnknownCustomer(LookupError):
    """No customer has this email address (or they were erased already)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"no customer with the email {email!r}")
        self.email = email


def placeholder_email(customer_id: int) -> str:
    """The anonymous, unique address an erased customer keeps (the column is unique and required)."""
    return f"erased-{customer_id}@{ERASED_DOMAIN}"


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


async def _customer(email: str) -> dict[str, Any]:
    row = await Customer.select().where(Customer.email == email.strip().lower()).first()
    if row is None:
        raise UnknownCustomer(email.strip())
    return row


async def find_customer(email: str) -> int:
    """The id of the customer with this email; UnknownCustomer if none."""
    return int((await _customer(email))["id"])


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
    """Everything held about the customer with this email, as plain JSON-ready values; UnknownCustomer if none."""
    customer = await _customer(email)
    held = await _held(customer["id"])
    orders = await Order.select().where(Order.customer == customer["id"]).order_by(Order.placed_at)
    items = await _select(where=OrderItem.order, values=held["orders"], order=OrderItem.id)
    events = await _select(where=OrderEvent.order, values=held["orders"], order=OrderEvent.id)
    for order in orders:
        order["items"] = [item for item in items if item["order"] == order["id"]]
        order["events"] = [event for event in events if event["order"] == order["id"]]
    # The invitation token is a credential for the survey link, not information about the person.
    invitation_columns = Invitation.all_columns(exclude=[Invitation.token])
    sent_email_columns = SentEmail.all_columns(exclude=[SentEmail.headers])
    emails = await SentEmail.select(*sent_email_columns).where(_mail_to(customer["email"], held["invitations"]))
    feedback = await _feedback_of(customer)
    return _plain(
        {
            "customer": customer,
            "orders": orders,
            "invitations": await _select(
                *invitation_columns, where=Invitation.id, values=held["invitations"], order=Invitation.id
            ),
            "responses": await _select(where=Response.id, values=held["responses"], order=Response.id),
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
            "suggestions": await Suggestion.select()
            .where(Suggestion.email == customer["email"])
            .order_by(Suggestion.id),
            "reviews": await Review.select().where(Review.customer == customer["id"]).order_by(Review.id),
            "review_photos": await ReviewPhoto.select(
                ReviewPhoto.review, ReviewPhoto.file_name, ReviewPhoto.content_type, ReviewPhoto.created_at
            )
            .where(ReviewPhoto.review.customer == customer["id"])
            .order_by(ReviewPhoto.id),
        }
    )


def _mail_to(email: str, invitation_ids: list[int]) -> Any:
    """The customer's emails: those of their invitations, and any other addressed to them."""
    to_them = SentEmail.to == email
    return (SentEmail.invitation.is_in(invitation_ids) | to_them) if invitation_ids else to_them


async def _feedback_of(customer: dict[str, Any]) -> list[int]:
    """Feedback items of the customer, and of suggestions they left with their address."""
    theirs = (FeedbackItem.customer == customer["id"]) | (
        (FeedbackItem.source == "suggestion") & (FeedbackItem.email == customer["email"])
    )
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


async def erase_customer(email: str, now: datetime) -> dict[str, int]:
    """Erase the personal data of the customer with this email; what changed, counted. UnknownCustomer if none.

    Running it again (by the placeholder address) changes nothing and counts zeros."""
    customer = await _customer(email)
    photos = [
        row["file_name"]
        for row in await ReviewPhoto.select(ReviewPhoto.file_name).where(ReviewPhoto.review.customer == customer["id"])
    ]
    async with Customer._meta.db.transaction():
        counts = await _erase(customer, now)
    settings = get_settings()
    for name in photos:  # after the commit: a rolled-back erasure keeps its files
        remove_photo_file(name, settings)
    return counts


async def _erase(customer: dict[str, Any], now: datetime) -> dict[str, int]:
    counts = dict.fromkeys(ERASURE_COUNTS, 0)
    held = await _held(customer["id"])

    # Emails repeat the name, the address and the survey links: the log of them goes entirely.
    mails = [
        r["id"] for r in await SentEmail.select(SentEmail.id).where(_mail_to(customer["email"], held["invitations"]))
    ]
    if mails:
        await SentEmail.delete().where(SentEmail.id.is_in(mails))
    counts["sent_emails_deleted"] = len(mails)

    # Feedback keeps its scores, label and topics (numbers for the trends); the words and the person go.
    feedback = await _feedback_of(customer)
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
        await ThreadEntry.update({ThreadEntry.body: ""}).where(ThreadEntry.feedback.is_in(feedback))
    suggested = Suggestion.email == customer["email"]
    counts["suggestions_cleared"] = await Suggestion.count().where(suggested)
    await Suggestion.update({Suggestion.text: "", Suggestion.email: "", Suggestion.name: ""}).where(suggested)

    if held["responses"]:
        written = Response.id.is_in(held["responses"]) & (Response.comment != "")
        counts["comments_cleared"] = await Response.count().where(written)
        await Response.update({Response.comment: ""}).where(written)

    # The stars stay (anonymous, and the product's average must not move); words, name and photos go.
    titled = (Review.customer == customer["id"]) & (
        (Review.title != "") | (Review.text != "") | (Review.author_name != "")
    )
    counts["reviews_cleared"] = await Review.count().where(titled)
    await Review.update({Review.title: "", Review.text: "", Review.author_name: "", Review.updated_at: now}).where(
        titled
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
