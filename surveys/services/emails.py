"""Invitation and reminder emails: rendered from templates, sent once, logged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

from afterglow import i18n
from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.mail import build_message, send_smtp
from afterglow.settings import Settings
from afterglow.templating import render
from surveys.services.invitations import invitation_with_items
from surveys.services.links import survey_token, unsubscribe_token
from surveys.tables import SentEmail


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


async def render_invitation(invitation_id: int, purpose: str, now: datetime, settings: Settings) -> Rendered:
    found = await invitation_with_items(invitation_id)
    if found is None:
        raise LookupError(invitation_id)
    inv, items = found
    language = i18n.language_for(inv["customer.locale"])
    signed = survey_token(settings, inv["token"], now)
    survey_url = f"{settings.base_url}/s/{signed}"
    unsubscribe_url = f"{settings.base_url}/u/{unsubscribe_token(settings, inv['token'])}"
    context = {
        "shop_name": settings.shop_name,
        "name": inv["customer.name"],
        "kind": inv["kind"],
        "agent": inv["agent"],
        "reminder": purpose == "reminder",
        "order_number": inv["order.external_id"],
        "items": items,
        "survey_url": survey_url,
        "unsubscribe_url": unsubscribe_url,
    }
    subject = render("surveys/email/subject.txt", language, **context).strip()
    return Rendered(
        to=inv["customer.email"],
        subject=subject,
        text=render("surveys/email/invitation.txt", language, **context),
        html=render("surveys/email/invitation.html", language, **context),
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
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


async def deliver(
    mail: Rendered, mid: str, purpose: str, invitation_id: int | None, now: datetime, settings: Settings
) -> bool:
    """Hand the email to SMTP (in the embedded default, keep it for the dev outbox) and log it under its
    Message-ID. False when a twin run logged the same Message-ID first. MailNotSent when SMTP refuses."""
    if not settings.dev_outbox:
        msg = build_message(
            settings,
            to=mail.to,
            subject=mail.subject,
            text=mail.text,
            html=mail.html,
            message_id=mid,
            headers=mail.headers,
        )
        await send_smtp(settings, msg)
    try:
        await SentEmail.insert(
            SentEmail(
                message_id=mid,
                invitation=invitation_id,
                purpose=purpose,
                to=mail.to,
                subject=mail.subject,
                text=mail.text,
                html=mail.html,
                headers={"Message-ID": mid, **mail.headers},
                sent_at=now,
            )
        )
    except UNIQUE_VIOLATIONS:
        return False
    return True


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
