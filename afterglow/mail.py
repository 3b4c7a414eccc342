"""Building and handing over emails. SMTP when configured; otherwise the caller keeps them (dev outbox)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from afterglow.settings import Settings


class MailNotSent(RuntimeError):
    """SMTP refused or could not be reached; the caller may try again later."""


def build_message(
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    headers: dict[str, str],
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name] = value
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


async def send_smtp(settings: Settings, msg: EmailMessage) -> None:
    try:
        await aiosmtplib.send(
            msg,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user or None,
            password=settings.smtp_password or None,
            start_tls=settings.smtp_tls,
            timeout=30,
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailNotSent(f"SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from exc
