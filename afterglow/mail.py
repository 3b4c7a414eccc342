"""Building and handing over emails. SMTP when configured; otherwise the caller keeps them (dev outbox)."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import io
from collections.abc import Awaitable, Callable
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr

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
) -> Message:
    """A multipart/alternative email (text and HTML, UTF-8), 7-bit clean for any server. Built with the compat32
    classes: the modern EmailMessage parses every header it is given, which made building an email cost more CPU
    than sending it (issue 17's profile); the bytes on the wire are standard MIME either way."""
    msg = MIMEMultipart("alternative", policy=_POLICY)
    msg["From"] = _address(settings.mail_from)
    msg["To"] = _address(to)
    msg["Subject"] = _header(subject)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = message_id
    msg.attach(_text_part(text, "plain"))
    msg.attach(_text_part(html, "html"))
    for name, value in headers.items():
        msg[name] = _header(value)
    return msg


#: A line of the body that starts with "From " stays as it is (compat32 would write ">From ", for mbox files).
_POLICY = compat32.clone(mangle_from_=False)


def _wire(msg: Message, eight_bit: bool) -> bytes:
    """The message as it goes to DATA. aiosmtplib's own flattening would write ">From " into a body line."""
    if isinstance(msg, EmailMessage):
        return flatten_message(msg, cte_type="8bit" if eight_bit else "7bit")
    out = io.BytesIO()
    BytesGenerator(out, policy=_POLICY).flatten(msg)
    return out.getvalue()


def _header(value: str) -> str | Header:
    return value if value.isascii() else Header(value, "utf-8")


def _address(value: str) -> str:
    """`Name <address>` with a non-ASCII name encoded (RFC 2047); the address itself is left as it is."""
    if value.isascii():
        return value
    name, address = parseaddr(value)
    return formataddr((name, address), "utf-8") if address.isascii() and "<" in value else value


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    """UTF-8 text as is when it is plain ASCII in short lines, else quoted-printable (binascii's, in C)."""
    part = MIMENonMultipart("text", subtype, policy=_POLICY, charset="utf-8")
    if body.isascii() and all(len(line) <= 998 for line in body.splitlines()):
        part["Content-Transfer-Encoding"] = "7bit"
        part.set_payload(body)
    else:
        part["Content-Transfer-Encoding"] = "quoted-printable"
        part.set_payload(binascii.b2a_qp(body.encode(), istext=True).decode("ascii"))
    return part


Claim = Callable[[], Awaitable[bool]]


class MailRefused(MailNotSent):
    """The server answered "no" to this message (its sender, a recipient, or the message itself); the connection
    is still good for the next one. `code` is the server's reply code (5xx: permanent, 4xx: try later)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class MailUncertain(RuntimeError):
    """The connection broke while the message itself was being handed over: the server may or may not have it.
    Sending it again could mean a second copy, so it is left for a person to decide."""


class SmtpSession:
    """One SMTP connection for many messages, opened on the first and reopened after a failure:
    `async with SmtpSession(settings) as smtp: await smtp.hand_over(msg, claim)`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.where = f"SMTP {settings.smtp_host}:{settings.smtp_port}"
        self._smtp: aiosmtplib.SMTP | None = None
        self._eight_bit = False
        self._used = False  # a message went over this connection: a failure before DATA may be a stale connection
        self._pending: Awaitable[object] | None = None

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, failed: type[BaseException] | None, *_: object) -> None:
        try:
            if failed is not asyncio.CancelledError:
                await self._settle()
        finally:
            await self.close(polite=failed is None)

    def after_sent(self, work: Awaitable[object]) -> None:
        """Run `work` (recording the message just sent) while the next message's envelope goes out; it is done
        before that message is claimed, and before the session ends."""
        self._pending = asyncio.ensure_future(work)

    async def _settle(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    async def close(self, polite: bool = True) -> None:
        """QUIT and close; not `polite` (the caller failed or was cancelled): close without waiting for anything."""
        smtp, self._smtp, self._used = self._smtp, None, False
        if smtp is not None:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                if polite and smtp.is_connected:
                    await smtp.quit()
            smtp.close()

    async def _open(self) -> aiosmtplib.SMTP:
        if self._smtp is None or not self._smtp.is_connected:
            await self.close()
            s = self.settings
            smtp = aiosmtplib.SMTP(
                hostname=s.smtp_host,
                port=s.smtp_port,
                username=s.smtp_user or None,
                password=s.smtp_password or None,
                start_tls=s.smtp_tls,
                timeout=30,
            )
            await smtp.connect()
            self._smtp = smtp
            await smtp.ehlo()
            self._eight_bit = smtp.supports_extension("8BITMIME")
        return self._smtp

    async def _envelope(self, msg: Message) -> aiosmtplib.SMTP:
        """MAIL FROM and RCPT TO; a reused connection that fails here is reopened once."""
        for last_try in (not self._used, True):
            try:
                smtp = await self._open()
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self.close()
                raise MailNotSent(f"{self.where}: {exc}") from exc
            try:
                await smtp.mail(extract_sender(msg) or "", options=["BODY=8BITMIME"] if self._eight_bit else [])
                for recipient in extract_recipients(msg):
                    await smtp.rcpt(recipient)
                return smtp
            except aiosmtplib.SMTPResponseException as exc:
                if await self._reset():  # the server said no to this message, and is still listening
                    raise MailRefused(f"{self.where} refused the message: {exc}", exc.code) from exc
                error: Exception = exc
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self.close()
                error = exc
            if last_try:
                raise MailNotSent(f"{self.where}: {error}") from error
        raise AssertionError("unreachable")

    async def _reset(self) -> bool:
        """RSET after an envelope that is not followed by a message; False (and closed) if that fails."""
        try:
            if self._smtp is not None:
                await self._smtp.rset()
                return True
        except (aiosmtplib.SMTPException, OSError):
            pass
        await self.close()
        return False

    async def hand_over(self, msg: Message, claim: Claim) -> bool:
        """Send `msg`, calling `claim()` after the server has accepted the sender and the recipients and just
        before the message itself goes (DATA), so the window in which a dying sender leaves it unknown whether the
        mail arrived is that one command. False, and nothing sent, when `claim()` says another run has it.

        MailRefused: the server said no to this message; MailNotSent: nothing was handed over (unreachable);
        MailUncertain: the connection broke during DATA."""
        try:
            smtp = await self._envelope(msg)
        finally:
            await self._settle()
        if not await claim():
            await self._reset()
            return False
        try:
            await smtp.data(_wire(msg, self._eight_bit))
        except aiosmtplib.SMTPResponseException as exc:  # the server answered "no": it did not take the message
            raise MailRefused(f"{self.where} refused the message: {exc}", exc.code) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self.close()
            raise MailUncertain(f"{self.where}: connection lost during DATA: {exc}") from exc
        self._used = True
        return True


async def hand_over(settings: Settings, msg: Message, claim: Claim) -> bool:
    """One message over a connection of its own (see `SmtpSession.hand_over`)."""
    async with SmtpSession(settings) as smtp:
        return await smtp.hand_over(msg, claim)
