"""Building and handing over emails. SMTP when configured; otherwise the caller keeps them (dev outbox)."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib
from aiosmtplib.email import extract_recipients, extract_sender, flatten_message

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
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    # After the body: set_content drops every Content-* header already set (Content-Language among them).
    for name, value in headers.items():
        msg[name] = value
    return msg


Claim = Callable[[], Awaitable[bool]]


class MailUncertain(RuntimeError):
    """The connection broke while the message itself was being handed over: the server may or may not have it.
    Sending it again could mean a second copy, so it is left for a person to decide."""


async def _goodbye(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        if smtp.is_connected:
            await smtp.quit()
    smtp.close()


async def hand_over(settings: Settings, msg: EmailMessage, claim: Claim) -> bool:
    """Send `msg` over SMTP, calling `claim()` after the server has accepted the sender and the recipients and just
    before the message itself goes (DATA), so the window in which a dying sender leaves it unknown whether the mail
    arrived is that one command. False, and nothing sent, when `claim()` says another run has it.

    MailNotSent: nothing was handed over (refused, unreachable); MailUncertain: the connection broke during DATA."""
    smtp = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_user or None,
        password=settings.smtp_password or None,
        start_tls=settings.smtp_tls,
        timeout=30,
    )
    where = f"SMTP {settings.smtp_host}:{settings.smtp_port}"
    try:
        await smtp.connect()
        await smtp.ehlo()
        eight_bit = smtp.supports_extension("8BITMIME")
        await smtp.mail(extract_sender(msg) or "", options=["BODY=8BITMIME"] if eight_bit else [])
        for recipient in extract_recipients(msg):
            await smtp.rcpt(recipient)
    except (aiosmtplib.SMTPException, OSError) as exc:
        await _goodbye(smtp)
        raise MailNotSent(f"{where}: {exc}") from exc
    if not await claim():
        await _goodbye(smtp)
        return False
    try:
        await smtp.data(flatten_message(msg, cte_type="8bit" if eight_bit else "7bit"))
    except aiosmtplib.SMTPResponseException as exc:  # the server answered "no": it did not take the message
        await _goodbye(smtp)
        raise MailNotSent(f"{where} refused the message: {exc}") from exc
    except (aiosmtplib.SMTPException, OSError) as exc:
        await _goodbye(smtp)
        raise MailUncertain(f"{where}: connection lost during DATA: {exc}") from exc
    await _goodbye(smtp)
    return True
