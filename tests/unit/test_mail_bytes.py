"""The batch sender writes an email's bytes directly; they are the bytes the email package's generator writes for
the message `build_message` builds: same headers (folded alike), same parts, same encodings."""

from __future__ import annotations

import dataclasses
import email
import re
from email import policy

import pytest
from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

from afterglow.mail import _dot_stuffed, _wire, build_message, message_bytes
from afterglow.settings import Settings

BOUNDARY = "===============1234567890123456789=="
LONG_URL = f"<https://shop.example/u/{'Zk-_9' * 30}>"
UNSUBSCRIBE = {"List-Unsubscribe-Post": "List-Unsubscribe=One-Click", "Content-Language": "en"}

CASES = [
    ("anna@example.com", "How was your order?", "Tell us, please.\n", "<p>Tell us, please.</p>\n", UNSUBSCRIBE),
    ("Anna Muster <anna@example.com>", "Wie war Ihre Bestellung? Ünïcode", "Grüße\r\nvon uns\r", "<p>Hällo</p>", {}),
    ("Ännä Müller <anna@example.com>", "x" * 120, "From here on\n." + "y" * 1200, "", {"X-Long": "z " * 60}),
    ("bob@example.com", "two  spaces and a trailing one ", "", "line\rcarriage", {"List-Unsubscribe": "<" + "a" * 90}),
    ("c@example.com", ".dot first", ".\n..\n", "a\n.b", {"List-Unsubscribe": LONG_URL}),
    ("bob@example.com", "Ein Betreff, der sehr lang ist und Umlaute hat: äöü " * 3, "ok", "ok", {"Tab": "a\tb"}),
]


def _without_date(data: bytes) -> bytes:
    return re.sub(rb"^Date: .*\n", b"", data, flags=re.MULTILINE)


@pytest.mark.parametrize(("to", "subject", "text", "html", "headers"), CASES)
def test_the_bytes_are_those_of_the_built_message(
    settings: Settings, to: str, subject: str, text: str, html: str, headers: dict[str, str]
) -> None:
    fields = dict(to=to, subject=subject, text=text, html=html, message_id="<invitation.7.abc@x.test>")
    written = message_bytes(settings, **fields, headers=headers, boundary=BOUNDARY)  # type: ignore[arg-type]
    built = _wire(build_message(settings, **fields, headers=headers, boundary=BOUNDARY), False)  # type: ignore[arg-type]
    assert _without_date(written) == _without_date(built)
    assert written.isascii()


def test_a_non_ascii_sender_name_is_encoded_and_the_parts_read_back(settings: Settings) -> None:
    shop = dataclasses.replace(settings, mail_from="Café Müller <shop@example.com>")
    data = message_bytes(
        shop, to="anna@example.com", subject="Grüße", text="Hallo ä", html="<p>ä</p>", message_id="<m@x>", headers={}
    )
    parsed = email.message_from_bytes(data, policy=policy.default)
    assert str(parsed["From"]) == "Café Müller <shop@example.com>" and str(parsed["Subject"]) == "Grüße"
    assert parsed.get_body(("plain",)).get_content() == "Hallo ä"  # type: ignore[union-attr]
    assert parsed.get_body(("html",)).get_content() == "<p>ä</p>"  # type: ignore[union-attr]


def test_a_boundary_found_in_the_text_is_drawn_again(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    draws = iter([1, 1, 2])
    monkeypatch.setattr("afterglow.mail.random.randrange", lambda _: next(draws))
    fields = dict(to="a@example.com", subject="s", html="", message_id="<m@x>", headers={})
    first = email.message_from_bytes(message_bytes(settings, text="a", **fields))  # type: ignore[arg-type]
    boundary = first.get_boundary()
    assert boundary == "===============0000000000000000001=="
    again = email.message_from_bytes(message_bytes(settings, text=f"--{boundary}\n", **fields))  # type: ignore[arg-type]
    assert again.get_boundary() == "===============0000000000000000002=="
    assert again.get_payload(0).get_payload() == f"--{boundary}\n"


@pytest.mark.parametrize("data", [b"a\nb\n", b".a\n..b\r\nc", b"x\r\n.\r\n", b"\r.\r", b"", b"no end", b"a\n.\n."])
def test_the_message_is_dot_stuffed_as_the_smtp_library_does_it(data: bytes) -> None:
    assert _dot_stuffed(data) == PERIOD_REGEX.sub(b"..", normalize_message_line_endings(data)) + b".\r\n"
