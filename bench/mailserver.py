"""A real SMTP server for tests and benchmarks: aiosmtpd on a free port of 127.0.0.1, recording what it received,
and able to misbehave the ways real servers do (refuse a message, drop the connection during DATA, stall)."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from bench.harness import free_port

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


class Mailbox:
    """What the server received, in arrival order. Set `refuse` to an SMTP reply ("554 5.7.1 no") to refuse
    messages, `refuse_to` (address → reply) to refuse some recipients, `drop` to close the connection after
    receiving a message without answering (every message, or only the `drop_at`-th), `down` to answer every new
    connection "421" (out of service; `down_after`: from the N-th message on), or `hold` to make the server wait
    (in DATA, after the message arrived, before answering) until the event is set: every message, or only the
    `hold_at`-th. `peers` has the client address (host, port) of every message: one per connection it came over."""

    def __init__(self) -> None:
        self.raw: list[bytes] = []  # as received; parsed only when a test reads `messages`
        self._parsed: list[EmailMessage] = []
        self.envelopes: list[list[str]] = []
        self.peers: list[tuple[str, int]] = []
        self.refuse: str | None = None
        self.refuse_to: dict[str, str] = {}
        self.drop = False
        self.drop_at: int | None = None
        self.down = False
        self.down_after: int | None = None
        self.hold: threading.Event | None = None
        self.hold_at: int | None = None
        self.arrived = threading.Event()
        self._lock = threading.RLock()

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]) -> Any:
        if self.down:
            return ["421 4.3.2 Service not available"]
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address in self.refuse_to:
            return self.refuse_to[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd hook
        if self.refuse:
            return self.refuse
        with self._lock:
            self.raw.append(bytes(envelope.content))
            self.envelopes.append(list(envelope.rcpt_tos))
            self.peers.append(tuple(session.peer[:2]))
            held = self.hold is not None and self.hold_at in (None, len(self.raw))
            dropped = self.drop and self.drop_at in (None, len(self.raw))
            self.down = self.down or self.down_after == len(self.raw)
        self.arrived.set()
        if held and self.hold is not None:
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 30)
        if dropped:
            server.transport.close()
        return "250 OK"

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received, parsed."""
        with self._lock:
            for content in self.raw[len(self._parsed) :]:
                self._parsed.append(message_from_bytes(content, policy=email_policy.default))  # type: ignore[arg-type]
            return list(self._parsed)

    def count(self) -> int:
        with self._lock:
            return len(self.raw)

    def message_ids(self) -> list[str]:
        """The Message-ID of every message, read from the raw headers (cheap enough for thousands)."""
        with self._lock:
            raw = list(self.raw)
        return [found.group(1).decode() if (found := _MESSAGE_ID.search(r)) else "" for r in raw]

    def to(self) -> list[str]:
        with self._lock:
            return [str(m["To"]) for m in self.messages]

    def clear(self) -> None:
        with self._lock:
            self.raw.clear()
            self._parsed.clear()
            self.envelopes.clear()
            self.peers.clear()
        self.arrived.clear()


class _Hooks:
    """The mailbox's hooks alone, as the server's handler: aiosmtpd reads every attribute of its handler on each
    new connection, which on the mailbox itself would parse every message received (`messages`)."""

    def __init__(self, box: Mailbox) -> None:
        self.handle_EHLO = box.handle_EHLO
        self.handle_RCPT = box.handle_RCPT
        self.handle_DATA = box.handle_DATA


@contextmanager
def smtp_server(box: Mailbox | None = None, port: int | None = None) -> Iterator[tuple[Mailbox, int]]:
    """Run a server until the block ends; yields its mailbox and port."""
    box, port = box or Mailbox(), port or free_port()
    controller = Controller(_Hooks(box), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def text_of(message: EmailMessage) -> str:
    return message.get_body(("plain",)).get_content()  # type: ignore[union-attr]


def html_of(message: EmailMessage) -> str:
    return message.get_body(("html",)).get_content()  # type: ignore[union-attr]
