"""Invitation and reminder emails: rendered from templates, sent once, logged."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from typing import Any
from urllib.parse import urlparse

from afterglow import i18n
from afterglow.brand import brand_of
from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.mail import MailNotSent, build_message, hand_over
from afterglow.settings import Settings
from shop.services.catalogue import with_products
from shop.tables import OrderItem
from surveys.services import wording
from surveys.services.links import survey_token, unsubscribe_token
from surveys.tables import Invitation, SentEmail


@dataclass(frozen=True)
class Rendered:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]


def message_id(settings: Settings, invitation_id: int, purpose: str, token: str) -> str:
    """Stable per invitation and purpose, so a retried send can be recognised."""
    domain = urlparse(settings.base_url).hostname or "afterglow.localhost"
    return f"<{purpose}.{invitation_id}.{token[:10]}@{domain}>"


#: The invitation's columns an email needs (Invitation.select(*MAIL_COLUMNS)).
MAIL_COLUMNS = (
    Invitation.id,
    Invitation.kind,
    Invitation.token,
    Invitation.agent,
    Invitation.customer.email,
    Invitation.customer.name,
    Invitation.customer.locale,
    Invitation.order.id,
    Invitation.order.external_id,
)

Renderer = Callable[[dict[str, Any]], Rendered]


async def renderer(rows: list[dict[str, Any]], purpose: str, now: datetime, settings: Settings) -> Renderer:
    """Read what the emails of these invitations (rows of MAIL_COLUMNS) need in a few queries, whatever their
    number: their items, the catalogue's titles and images, the owner's wording. Returns the email of a row."""
    items = await OrderItem.select(
        OrderItem.id, OrderItem.order, OrderItem.sku, OrderItem.name, OrderItem.quantity
    ).where(OrderItem.order.is_in([r["order.id"] for r in rows] or [0]) & OrderItem.returned_at.is_null())
    by_order: dict[int, list[dict[str, Any]]] = {}
    for item in await with_products(sorted(items, key=lambda i: i["id"]), settings.base_url):
        by_order.setdefault(item.pop("order"), []).append(item)
    key = "reminder" if purpose == "reminder" else "invitation"
    languages = {i18n.customer_language(r["customer.locale"], settings) for r in rows}
    wordings = {language: await wording.stored(key, language) for language in languages}
    brand = brand_of(settings)

    def render(inv: dict[str, Any]) -> Rendered:
        language = i18n.customer_language(inv["customer.locale"], settings)
        context = {
            "shop_name": settings.shop_name,
            "brand": brand,
            "logo_url": brand.logo_url(settings.base_url),
            "name": inv["customer.name"],
            "kind": inv["kind"],
            "agent": inv["agent"],
            "reminder": purpose == "reminder",
            "order_number": inv["order.external_id"],
            "items": by_order.get(inv["order.id"], []),
            "survey_url": f"{settings.base_url}/s/{survey_token(settings, inv['token'], now)}",
            "unsubscribe_url": f"{settings.base_url}/u/{unsubscribe_token(settings, inv['token'])}",
        }
        return composed(inv["customer.email"], context, language, wordings[language])

    return render


async def render_invitation(invitation_id: int, purpose: str, now: datetime, settings: Settings) -> Rendered:
    inv = await Invitation.select(*MAIL_COLUMNS).where(Invitation.id == invitation_id).first()
    if inv is None:
        raise LookupError(invitation_id)
    return (await renderer([inv], purpose, now, settings))(inv)


def composed(to: str, context: dict[str, Any], language: str, fields: dict[str, str] | None) -> Rendered:
    """The email from its context: in the owner's wording when `fields` are given, else the default templates."""
    subject, text, html = wording.compose_email(context, language, fields)
    return Rendered(
        to=to,
        subject=subject,
        text=text,
        html=html,
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Content-Language": language,
        },
    )


async def send_once(invitation_id: int, purpose: str, token: str, now: datetime, settings: Settings) -> bool:
    """Send the email unless the log says this Message-ID went out already. True when sent now."""
    mid = message_id(settings, invitation_id, purpose, token)
    if await SentEmail.exists().where(SentEmail.message_id == mid):
        return False
    mail = await render_invitation(invitation_id, purpose, now, settings)
    return await deliver(mail, mid, purpose, invitation_id, now, settings)


def log_row(
    mail: Rendered, mid: str, purpose: str, invitation_id: int | None, now: datetime, status: str = "handing_over"
) -> SentEmail:
    """The mail log's row of an email about to be handed over (`status` "sent" when it goes to the dev outbox)."""
    return SentEmail(
        message_id=mid,
        invitation=invitation_id,
        purpose=purpose,
        to=mail.to,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        headers={"Message-ID": mid, **mail.headers},
        status=status,
        sent_at=now,
    )


async def deliver(
    mail: Rendered,
    mid: str,
    purpose: str,
    invitation_id: int | None,
    now: datetime,
    settings: Settings,
) -> bool:
    """Hand the email to SMTP (in the embedded default, keep it for the dev outbox) at most once per Message-ID:
    the log row is claimed right before the message goes and marked sent after. False when another run has this
    Message-ID already. MailNotSent: nothing was handed over, try later. MailUncertain: the connection broke
    during the handover; the row stays `handing_over` and is never sent again by itself."""
    row = log_row(mail, mid, purpose, invitation_id, now, "sent" if settings.dev_outbox else "handing_over")
    claimed = False

    async def claim() -> bool:
        nonlocal claimed
        try:
            await SentEmail.insert(row)
        except UNIQUE_VIOLATIONS:
            return False
        claimed = True
        return True

    if settings.dev_outbox:
        return await claim()
    msg = build_message(
        settings, to=mail.to, subject=mail.subject, text=mail.text, html=mail.html, message_id=mid, headers=mail.headers
    )
    try:
        if not await hand_over(settings, msg, claim):
            return False
    except MailNotSent:
        if claimed:  # the server refused the message itself: nothing went out, so the claim is given back
            await SentEmail.delete().where((SentEmail.message_id == mid) & (SentEmail.status == "handing_over"))
        raise
    await SentEmail.update({SentEmail.status: "sent"}).where(SentEmail.message_id == mid)
    return True


#: A handover older than this whose row still says `handing_over` was interrupted: its sender died or lost the
#: connection mid-DATA. Nobody knows whether the customer got it; a person decides.
HANDOVER_GRACE = timedelta(minutes=5)


async def interrupted_handovers(now: datetime, limit: int = 100) -> list[dict]:
    """Emails whose handover to SMTP was interrupted, oldest first."""
    return (
        await SentEmail.select(SentEmail.id, SentEmail.to, SentEmail.subject, SentEmail.purpose, SentEmail.sent_at)
        .where((SentEmail.status == "handing_over") & (SentEmail.sent_at < now - HANDOVER_GRACE))
        .order_by(SentEmail.sent_at)
        .limit(limit)
    )


def logged_message(row: dict, settings: Settings) -> Message:
    """The email a SentEmail row (read with `load_json=True`) logged, rebuilt as it was sent: same Message-ID."""
    headers = {k: v for k, v in row["headers"].items() if k != "Message-ID"}
    return build_message(
        settings,
        to=row["to"],
        subject=row["subject"],
        text=row["text"],
        html=row["html"],
        message_id=row["message_id"],
        headers=headers,
    )


async def settle_handover(sent_email_id: int, resend: bool, settings: Settings) -> bool:
    """A person's decision on an interrupted handover: send it again (same Message-ID, so a mail system that has
    it already can tell), or mark it sent after checking the mail provider's log. False if it was settled before."""
    row = (
        await SentEmail.select()
        .where((SentEmail.id == sent_email_id) & (SentEmail.status == "handing_over"))
        .output(load_json=True)
        .first()
    )
    if row is None:
        return False
    if resend and not settings.dev_outbox:
        msg = logged_message(row, settings)

        async def still_undecided() -> bool:
            return await SentEmail.exists().where(
                (SentEmail.id == sent_email_id) & (SentEmail.status == "handing_over")
            )

        if not await hand_over(settings, msg, still_undecided):
            return False
    settled = (
        await SentEmail.update({SentEmail.status: "sent"})
        .where((SentEmail.id == sent_email_id) & (SentEmail.status == "handing_over"))
        .returning(SentEmail.id)
    )
    return bool(settled)


async def outbox(limit: int = 200) -> list[dict]:
    """The newest emails first, as the dev outbox shows them."""
    return (
        await SentEmail.select(
            SentEmail.id,
            SentEmail.to,
            SentEmail.subject,
            SentEmail.text,
            SentEmail.html,
            SentEmail.headers,
            SentEmail.sent_at,
            SentEmail.purpose,
        )
        .order_by(SentEmail.id, ascending=False)
        .limit(limit)
        .output(load_json=True)  # the page lists the headers as a mapping
    )
