"""Reading a customer's emailed answer: the raw message in, the addresses and Message-IDs that find its thread and
the customer's own words out (quoted text, signatures and markup removed). No database here."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

#: An emailed answer longer than this is cut (with a mark) rather than refused: the customer's words are kept.
EMAILED_MAX = 20_000
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


class UnreadableEmail(ValueError):
    """The bytes are not an email message."""


#: Where the quoted earlier message starts, as mail clients write it in English, German and Hungarian. The date in
#: the line (a digit) keeps "On Monday my husband wrote:" in the customer's own words.
_QUOTE_HEADER = re.compile(
    r"^(?:(?=.*\d)on\s.+\swrote:"  # On Fri, 6 Mar 2026 at 14:00, Demo Shop <...> wrote:
    r"|(?=.*\d)am\s.+\sschrieb\s?.*:"  # Am Fr., 6. März 2026 um 14:00 schrieb Demo Shop <...>:
    r"|(?=.*\d).+\sírta\b.*:"  # Demo Shop <...> ezt írta (időpont: 2026. ...):  /  2026. 03. 06. ... Demo Shop írta:
    r"|-{2,}\s*(?:original message|ursprüngliche nachricht|eredeti üzenet)\s*-{2,}"
    r"|_{10,})\s*$",
    re.IGNORECASE,
)
#: Outlook's quoted block: a From: line soon followed by Sent:/Date: (or their German and Hungarian names).
_OUTLOOK_FROM = re.compile(r"^\s*\*?(?:from|von|feladó)\*?:\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(?:sent|date|gesendet|datum|elküldve|dátum|küldve)\*?:\s", re.IGNORECASE)
_WRAPPED_START = re.compile(r"^\s*(?:on|am)\s", re.IGNORECASE)


def _quote_starts(lines: list[str], i: int) -> bool:
    line = lines[i].strip()
    if _QUOTE_HEADER.match(line):
        return True
    following = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if _WRAPPED_START.match(line) and following and _QUOTE_HEADER.match(f"{line} {following}"):
        return True  # "On ... <" / "feedback@shop> wrote:" wrapped over two lines
    return bool(_OUTLOOK_FROM.match(line)) and any(_OUTLOOK_NEXT.match(next_) for next_ in lines[i + 1 : i + 5])


def strip_quoted(text: str) -> str:
    """The customer's own words: everything before the quoted earlier message or the signature, without lines
    quoted with ">" (answers written between quoted lines are kept)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        if line.rstrip() == "--" or _quote_starts(lines, i):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


class _HtmlText(HTMLParser):
    """The text of an HTML email without its quoted parts (blockquotes, Gmail and Thunderbird quote blocks,
    everything after Outlook's reply separator), with line breaks where blocks end."""

    SKIPPED = frozenset({"script", "style", "head", "title", "blockquote"})
    QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted")
    QUOTE_IDS = ("divrplyfwdmsg", "appendonsend")
    BREAKS = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr"})
    VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0  # depth inside a skipped element
        self.done = False  # past Outlook's separator: the rest is the quoted message

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:
            return
        values = {name: (value or "").lower() for name, value in attrs}
        if values.get("id") in self.QUOTE_IDS:
            self.done = True
            return
        if self.skipping:
            self.skipping += tag not in self.VOID
            return
        if tag in self.SKIPPED or any(name in values.get("class", "") for name in self.QUOTE_CLASSES):
            self.skipping = 0 if tag in self.VOID else 1
            return
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if self.skipping:
            self.skipping -= 1
            return
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.done and not self.skipping:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_text(html: str) -> str:
    """Plain text of an HTML email (tags dropped, entities decoded; the templates escape it when shown)."""
    parser = _HtmlText()
    parser.feed(html)
    parser.close()
    lines = [line.strip() for line in "".join(parser.parts).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class InboundEmail:
    sender: str  # "Name <address>", as the thread shows it
    message_id: str  # theirs, or one made from the message's bytes when it has none
    recipients: tuple[str, ...]  # To, Cc, Delivered-To, X-Original-To, Envelope-To
    references: tuple[str, ...]  # In-Reply-To and References
    text: str  # the answer, quoted text and signature removed
    automatic: bool  # an auto-reply or a bounce: never attached


def _automatic(msg: EmailMessage) -> bool:
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (
        auto not in ("", "no")
        or precedence in {"auto_reply", "bulk", "junk"}
        or any(name in msg for name in ("X-Autoreply", "X-Autorespond"))
        or msg.get_content_type() == "multipart/report"  # a delivery status notification
    )


def _answer_text(msg: EmailMessage) -> str:
    part = msg.get_body(preferencelist=("plain",))
    if part is not None:
        return strip_quoted(str(part.get_content()))
    part = msg.get_body(preferencelist=("html",))
    if part is not None:
        return strip_quoted(html_text(str(part.get_content())))
    return ""


def _values(msg: EmailMessage, *names: str) -> list[str]:
    return [str(value) for name in names for value in msg.get_all(name, [])]


def read_email(raw: bytes) -> InboundEmail:
    """The parts of a raw RFC 822 message that attach it to a thread; NotAMessage when it is not one."""
    if not raw.strip():
        raise UnreadableEmail("the body is empty: send the raw email message (RFC 822)")
    msg = message_from_bytes(raw, policy=email_policy.default)
    if not isinstance(msg, EmailMessage) or "From" not in msg:
        raise UnreadableEmail("this is not an email message: it has no From header")
    try:
        name, address = parseaddr(str(msg["From"]))
        addressed = _values(msg, "To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
        recipients = tuple(found for _, found in getaddresses(addressed) if found)
        references = tuple(_MESSAGE_ID.findall(" ".join(_values(msg, "In-Reply-To", "References"))))
        text = _answer_text(msg).replace("\x00", "")  # PostgreSQL cannot store NUL; no person writes one
    except (LookupError, ValueError) as exc:  # an unknown charset, a malformed header
        raise UnreadableEmail(f"the message cannot be read: {exc}") from exc
    found = _MESSAGE_ID.findall(str(msg.get("Message-ID", "")))
    message_id = found[0] if found else f"<sha256.{hashlib.sha256(raw).hexdigest()[:40]}@inbound>"
    if len(message_id) > 200:  # the column's size
        message_id = f"<sha256.{hashlib.sha256(message_id.encode()).hexdigest()[:40]}@inbound>"
    if len(text) > EMAILED_MAX:
        text = text[:EMAILED_MAX].rstrip() + " […]"
    return InboundEmail(
        sender=((f"{name} <{address}>" if name else address) if address else str(msg["From"]))[:200].replace(
            "\x00", ""
        ),
        message_id=message_id,
        recipients=recipients,
        references=references,
        text=text,
        automatic=_automatic(msg),
    )
