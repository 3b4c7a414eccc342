"""Team notification tests: a real SMTP server (aiosmtpd), a webhook receiver on 127.0.0.1 that checks the HMAC
signature and timestamp of every request, and urgent or normal feedback made the real way (a review, ingested and
routed by rules)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from accounts.services import team_id
from bench.harness import free_port
from feedback.policy import Rule
from feedback.services.intake import ingest
from feedback.services.rules import create_rule
from tests.unit.review_fixtures import add_review

#: A review of one or two stars goes to Support as urgent (reply within 4 hours); three stars as normal (2 days).
URGENT_STARS = 2


# SMTP ---------------------------------------------------------------------------------------------------------------


# Webhook receiver -----------------------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    signed: bool  # signature and timestamp both checked out

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP server that answers each POST with the next of `answers` (then 200), after checking its signature
    with `secret` and its timestamp against `clock()` (±5 minutes), as a shop's receiver would."""

    secret: str = ""
    answers: list[int] = field(default_factory=list)
    clock: Callable[[], datetime] | None = None
    received: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/afterglow"

    def verify(self, headers: dict[str, str], body: bytes) -> bool:
        timestamp = headers.get("X-Afterglow-Timestamp", "")
        if not timestamp.isdigit() or self.clock is None:
            return False
        if abs(self.clock().timestamp() - int(timestamp)) > 300:
            return False
        expected = hmac.new(self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(headers.get("X-Afterglow-Signature", ""), "sha256=" + expected)


@contextmanager
def webhook_receiver(clock: Callable[[], datetime] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(clock=clock, port=free_port())
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's hook name
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {name: value for name, value in self.headers.items()}
            with lock:
                receiver.received.append(Received(headers, body, receiver.verify(headers, body)))
                status = receiver.answers.pop(0) if receiver.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_: Any) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", receiver.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


# Feedback -----------------------------------------------------------------------------------------------------------


async def routing_rules() -> None:
    """Bad reviews are urgent for Support (4 h); middling ones normal (48 h); teams made by `make_staff`."""
    support = await team_id("support")
    await create_rule(
        Rule(0, "Bad reviews", kind="review", score_max=URGENT_STARS, teams=(support,), priority="urgent", sla_hours=4),
        None,
        datetime.now().astimezone(),
    )
    await create_rule(
        Rule(0, "Other reviews", kind="review", score_min=3, teams=(support,), priority="normal", sla_hours=48),
        None,
        datetime.now().astimezone(),
    )


async def routed_review(rating: int, text: str, now: datetime, **review: Any) -> list[int]:
    """A review written at `now`, ingested (copied, tagged, routed) at `now`; returns the new inbox items."""
    review_id = await add_review(rating=rating, text=text, created_at=now, **review)
    return (await ingest("review", review_id, now)).new_inbox_items
