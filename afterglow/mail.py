"""Building and handing over emails. SMTP when configured; otherwise the caller keeps them (dev outbox)."""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import io
import random
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from email.generator import BytesGenerator
from email.header import Header
from email.message import EmailMessage, Message
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import compat32
from email.utils import formataddr, formatdate, parseaddr
from weakref import WeakKeyDictionary

import aiosmtplib
from aiosmtplib import SMTPStatus
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
    boundary: str | None = None,
) -> Message:
    """A multipart/alternative email (text and HTML, UTF-8), 7-bit clean for any server. Built with the compat32
    classes: the modern EmailMessage parses every header it is given, which made building an email cost more CPU
    than sending it (issue 17's profile); the bytes on the wire are standard MIME either way."""
    msg = MIMEMultipart("alternative", boundary=boundary or _boundary(text, html), policy=_POLICY)
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


def message_bytes(
    settings: Settings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    headers: dict[str, str],
    boundary: str | None = None,
) -> bytes:
    """The email `build_message` builds, as the bytes that go to DATA, written directly: the email package's
    generator folded every header, a fifth of a batch sender's CPU (issue 17's profile). Same bytes."""
    boundary = boundary or _boundary(text, html)
    lines = [
        _folded("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        "MIME-Version: 1.0\n",
        _folded("From", _address(settings.mail_from)),
        _folded("To", _address(to)),
        _folded("Subject", _header(subject)),
        _folded("Date", formatdate(localtime=False, usegmt=True)),
        _folded("Message-ID", message_id),
        *(_folded(name, _header(value)) for name, value in headers.items()),
        f"\n--{boundary}\n",
        _part_text(text, "plain"),
        f"\n--{boundary}\n",
        _part_text(html, "html"),
        f"\n--{boundary}--\n",
    ]
    return "".join(lines).encode("ascii")


def _boundary(*bodies: str) -> str:
    """A random multipart boundary found in none of the bodies (quoted-printable never writes "==")."""
    while True:
        boundary = f"{'=' * 15}{random.randrange(sys.maxsize):019d}=="
        if not any(boundary in body for body in bodies):
            return boundary


def _folded(name: str, value: str | Header) -> str:
    """A header line as compat32 writes it: folded at 78 characters (a short plain value is as it is)."""
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        if len(name) + len(value) < 77:
            return f"{name}: {value}\n"
        if _TOKEN.fullmatch(value):  # one word too long for the line: on a line of its own, unbroken
            return f"{name}: \n {value}\n"
    folded = value if isinstance(value, Header) else Header(value, header_name=name)
    return f"{name}: {folded.encode(linesep=chr(10), maxlinelen=78)}\n"


#: Printable ASCII, single spaces between words: Header leaves such a value as it is.
_PLAIN = re.compile(r"[!-~]+(?: [!-~]+)*")
_TOKEN = re.compile(r"[!-+\--:<-~]+")  # no "," or ";", where Header would break it


def _part_text(body: str, subtype: str) -> str:
    """One text part as `_text_part` builds it and the generator writes it (line ends as "\n")."""
    if body.isascii() and all(len(line) <= 998 for line in body.splitlines()):
        encoding, payload = "7bit", body
    else:
        encoding, payload = "quoted-printable", binascii.b2a_qp(body.encode(), istext=True).decode("ascii")
    payload = _NEWLINES.sub("\n", payload)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\nMIME-Version: 1.0\n'
        f"Content-Transfer-Encoding: {encoding}\n\n{payload}"
    )


_NEWLINES = re.compile(r"\r\n|\r")


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
        self._addressed: aiosmtplib.SMTP | None = None

    async def __aenter__(self) -> SmtpSession:
        return self

    async def __aexit__(self, failed: type[BaseException] | None, *_: object) -> None:
        await self.close(polite=failed is None)

    async def close(self, polite: bool = True) -> None:
        """QUIT and close; not `polite` (the caller failed or was cancelled): close without waiting for anything."""
        smtp, self._smtp, self._used, self._addressed = self._smtp, None, False, None
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

    async def _envelope(self, sender: str, recipients: Sequence[str]) -> aiosmtplib.SMTP:
        """MAIL FROM, RCPT TO and DATA, up to the server's "go ahead" (354): what remains is the message itself.
        A reused connection that fails here is reopened once."""
        for last_try in (not self._used, True):
            try:
                smtp = await self._open()
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self.close()
                raise MailNotSent(f"{self.where}: {exc}") from exc
            try:
                await smtp.mail(sender, options=["BODY=8BITMIME"] if self._eight_bit else [])
                for recipient in recipients:
                    await smtp.rcpt(recipient)
                started = await smtp.execute_command(b"DATA")
                if started.code != SMTPStatus.start_input:
                    raise aiosmtplib.SMTPDataError(started.code, started.message)
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
        """RSET after an envelope refused before DATA's "go ahead"; False (and closed) if that fails."""
        try:
            if self._smtp is not None:
                await self._smtp.rset()
                return True
        except (aiosmtplib.SMTPException, OSError):
            pass
        await self.close()
        return False

    async def hand_over(self, msg: Message, claim: Claim) -> bool:
        """Send `msg`, calling `claim()` once the server has accepted the sender and the recipients and is waiting
        for the message (DATA), just before it goes, so the window in which a dying sender leaves it unknown whether
        the mail arrived is the message's own transfer. False, and nothing sent, when `claim()` says another run has
        it.

        MailRefused: the server said no to this message; MailNotSent: nothing was handed over (unreachable);
        MailUncertain: the connection broke during DATA."""
        await self.address(extract_sender(msg) or "", extract_recipients(msg))
        if not await claim():
            await self.abandon()
            return False
        await self.transfer(_wire(msg, self._eight_bit))
        return True

    async def address(self, sender: str, recipients: Sequence[str]) -> None:
        """MAIL FROM, RCPT TO and DATA for a message, up to the server's "go ahead": then either `transfer` the
        message or `abandon` it (see `hand_over`)."""
        self._addressed = await self._envelope(sender, recipients)

    async def abandon(self) -> None:
        """Leave the addressed message unsent: the connection is closed, and the server drops what it has."""
        self._addressed = None
        await self.close(polite=False)

    async def transfer(self, data: bytes) -> None:
        """The addressed message itself, ended by "." MailRefused: the server answered "no" (it did not take it);
        MailNotSent: the connection was gone before it; MailUncertain: it broke meanwhile."""
        smtp, self._addressed = self._addressed, None
        if smtp is None:
            raise RuntimeError("transfer() without address()")
        try:
            if smtp.protocol is None:
                raise aiosmtplib.SMTPServerDisconnected("connection lost")
            smtp.protocol.write(_dot_stuffed(data))
        except (aiosmtplib.SMTPException, OSError) as exc:  # closed while the message waited: nothing went out
            await self.close()
            raise MailNotSent(f"{self.where}: {exc}") from exc
        try:
            answer = await smtp.protocol.read_response(timeout=smtp.timeout)
        except (aiosmtplib.SMTPException, OSError) as exc:
            await self.close()
            raise MailUncertain(f"{self.where}: connection lost during DATA: {exc}") from exc
        if answer.code != SMTPStatus.completed:  # the server answered "no": it did not take the message
            raise MailRefused(f"{self.where} refused the message: ({answer.code}, {answer.message})", answer.code)
        self._used = True


def _dot_stuffed(data: bytes) -> bytes:
    """The message as DATA carries it: CRLF line ends, a leading "." doubled, ended by a line with "." alone."""
    data = _LINE_ENDS.sub(b"\r\n", data) if b"\r" in data else data.replace(b"\n", b"\r\n")
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    return data + b".\r\n"


_LINE_ENDS = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"(?m)^\.")


#: Sessions a block of `kept_session` gave back, by event loop and server: a worker keeps its connections open
#: from one batch to the next.
_idle: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[object, ...], list[SmtpSession]]] = WeakKeyDictionary()


def _server(settings: Settings) -> tuple[object, ...]:
    return (settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password, settings.smtp_tls)


@contextlib.asynccontextmanager
async def kept_session(settings: Settings) -> AsyncIterator[SmtpSession]:
    """An SMTP session of this event loop's, open from an earlier block if one is idle: given back for the next
    block when this one ends without error, else closed. A kept connection the server has closed meanwhile is
    reopened on its next message."""
    idle = _idle.setdefault(asyncio.get_running_loop(), {}).setdefault(_server(settings), [])
    session = idle.pop() if idle else SmtpSession(settings)
    session.settings = settings
    try:
        yield session
    except BaseException:
        await session.close(polite=False)
        raise
    if session._smtp is not None and session._smtp.is_connected and session._addressed is None:
        session._used = True  # a failure before its next DATA may be the server's idle timeout: reopened once
        idle.append(session)
    else:
        await session.close()


async def close_kept_sessions() -> None:
    """Close this event loop's kept sessions."""
    for sessions in _idle.pop(asyncio.get_running_loop(), {}).values():
        for session in sessions:
            await session.close()


async def hand_over(settings: Settings, msg: Message, claim: Claim) -> bool:
    """One message over a connection of its own (see `SmtpSession.hand_over`)."""
    async with SmtpSession(settings) as smtp:
        return await smtp.hand_over(msg, claim)
