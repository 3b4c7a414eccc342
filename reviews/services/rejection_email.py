"""The email that tells a customer their review was not published, why, and where to change it. Sent once per
rejection: the Message-ID is made of the review and the moment it was rejected, and the log is checked first.
In the owner's wording when they wrote one for the customer's language (Admin → Templates, "review_rejected")."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

from afterglow import i18n
from afterglow.brand import brand_of
from afterglow.settings import Settings
from reviews.services.moderation import PRESET_REASONS, reason_in
from reviews.tables import Review
from surveys.services import wording
from surveys.services.emails import Rendered, deliver
from surveys.services.links import survey_token
from surveys.services.wording_preview import DEMO_CUSTOMERS
from surveys.tables import SentEmail

PURPOSE = "review-rejected"
#: Nothing can be delivered under .invalid (RFC 2606): an erased customer keeps such a placeholder address.
UNDELIVERABLE = ".invalid"


def rejection_message_id(settings: Settings, review_id: int, moderated_at: datetime) -> str:
    """Stable per rejection: a retried task finds it in the log; a later rejection (after an edit) gets its own."""
    domain = urlparse(settings.base_url).hostname or "afterglow.localhost"
    stamp = moderated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"<{PURPOSE}.{review_id}.{stamp}@{domain}>"


async def rejected_review(review_id: int) -> dict[str, Any] | None:
    """The review with what the email needs, while it is rejected; None otherwise (edited or approved since)."""
    row = (
        await Review.select(
            Review.id,
            Review.order_item,
            Review.invitation,
            Review.invitation.token.as_alias("invitation_token"),
            Review.product_name,
            Review.title,
            Review.reject_reason,
            Review.moderated_at,
            Review.source,
            Review.customer.email.as_alias("email"),
            Review.customer.name.as_alias("name"),
            Review.customer.locale.as_alias("locale"),
        )
        .where((Review.id == review_id) & (Review.status == "rejected"))
        .first()
    )
    if row is None or row["moderated_at"] is None:
        return None
    return row


def rejection_language(review: dict[str, Any], settings: Settings) -> str:
    """The language the email is written in; its wording is looked up for the same one."""
    return i18n.customer_language(review["locale"], settings)


def render_rejection(
    review: dict[str, Any], now: datetime, settings: Settings, fields: Mapping[str, str] | None = None
) -> Rendered:
    """Subject, text and HTML in the customer's language; the edit link only when the review came by invitation.
    `fields`: the owner's wording for that language (None: the default templates)."""
    language = rejection_language(review, settings)
    edit_url = ""
    if review["invitation"] is not None and review["invitation_token"]:
        signed = survey_token(settings, review["invitation_token"], now)
        edit_url = f"{settings.base_url}/s/{signed}/items/{review['order_item']}"
    context = {
        "shop_name": settings.shop_name,
        "brand": brand_of(settings),
        "logo_url": brand_of(settings).logo_url(settings.base_url),
        "name": review["name"],
        "product": review["product_name"],
        "title": review["title"],
        "reason": reason_in(review["reject_reason"], language),
        "edit_url": edit_url,
    }
    values = {
        "customer_name": review["name"] or "",
        "shop_name": settings.shop_name,
        "product_name": review["product_name"],
        "review_title": review["title"] or "",
        "reason": context["reason"],
        "edit_link": edit_url,
    }
    defaults = ("reviews/email/rejected_subject.txt", "reviews/email/rejected.txt", "reviews/email/rejected.html")
    subject, text, html = wording.email_or_default("review_rejected", language, fields, values, context, defaults)
    return Rendered(
        to=review["email"],
        subject=subject,
        text=text,
        html=html,
        headers={"Content-Language": language, "Auto-Submitted": "auto-generated"},
    )


def preview_rejection(
    language: str, settings: Settings, fields: Mapping[str, str] | None, to: str, now: datetime
) -> Rendered:
    """The template editor's preview: a demo customer's rejected review, rendered as a real one is."""
    review = {
        "locale": language,
        "invitation": 0,
        "invitation_token": "preview",
        "order_item": 1,
        "name": DEMO_CUSTOMERS.get(language, DEMO_CUSTOMERS["en"]),
        "product_name": "Electric kettle",
        "title": "Great kettle, see my blog",
        "reject_reason": PRESET_REASONS[1],
        "email": to,
    }
    return render_rejection(review, now, settings, fields)


async def send_rejection_email(review_id: int, now: datetime, settings: Settings) -> str:
    """Send the rejection email unless this rejection's email went out already. Returns what happened:
    "sent", "sent-before", "not-rejected" (edited or approved in the meantime), "no-address" (erased) or
    "imported" (the review came from another tool: its reviewer was never asked here, so is never emailed)."""
    review = await rejected_review(review_id)
    if review is None:
        return "not-rejected"
    if review["source"]:
        return "imported"
    if review["email"].endswith(UNDELIVERABLE):
        return "no-address"
    mid = rejection_message_id(settings, review_id, review["moderated_at"])
    if await SentEmail.exists().where(SentEmail.message_id == mid):
        return "sent-before"
    fields = await wording.stored("review_rejected", rejection_language(review, settings))
    mail = render_rejection(review, now, settings, fields)
    if not await deliver(mail, mid, PURPOSE, review["invitation"], now, settings):
        return "sent-before"  # a twin run logged it first
    return "sent"


#: How far back the catch-up pass looks for a rejection whose email never went out.
CATCH_UP = timedelta(days=7)


async def unsent_rejections(now: datetime, settings: Settings) -> list[int]:
    """Rejected reviews of the last week whose email is not in the log: queued while the broker was down, or
    lost with a worker. The beat pass sends them, so a broker outage delays a rejection email but loses none."""
    rows = await Review.select(Review.id, Review.moderated_at).where(
        (Review.status == "rejected") & (Review.moderated_at >= now - CATCH_UP) & (Review.source == "")
    )
    if not rows:
        return []
    wanted = {rejection_message_id(settings, row["id"], row["moderated_at"]): row["id"] for row in rows}
    logged = await SentEmail.select(SentEmail.message_id).where(SentEmail.message_id.is_in(list(wanted)))
    sent = {row["message_id"] for row in logged}
    return sorted(review_id for mid, review_id in wanted.items() if mid not in sent)
