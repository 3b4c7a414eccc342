"""Request bodies read one way: what cannot be read or stored is a 400, never a 500.

JSON, whatever its Content-Type, is decoded by `read_json` (through `BodyRequest.json()` for handlers that take
`data`, directly by the shop webhooks): not UTF-8, or nested deeper than MAX_JSON_DEPTH (decoding it would
exhaust the stack), is refused. A form or JSON body carrying a NUL character (PostgreSQL cannot store it, and
no person types it) is refused before any handler runs. A multipart form streams on to its handler (photos are
large); each text field is checked as it passes, and one that is not text in its declared charset is a 400."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.exceptions import ClientException
from litestar.plugins.htmx import HTMXRequest
from litestar.types import Empty, Message, Scope
from multipart import (  # type: ignore[import-untyped]
    MultipartSegment,
    ParserError,
    PushMultipartParser,
    parse_options_header,
)

#: Deeper than any shop's order; far below the interpreter's recursion limit wherever the body is decoded.
MAX_JSON_DEPTH = 64
_FORM = b"application/x-www-form-urlencoded"
_JSON = b"application/json"
_MULTIPART = b"multipart/form-data"


class UnreadableBody(ValueError):
    """A request body that is not what it claims to be; the message says why."""


def read_json(body: bytes) -> Any:
    """The body's JSON value; UnreadableBody when it is not JSON, not UTF-8 or nested too deeply."""
    too_deep = f"the JSON body is nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        value = msgspec.json.decode(body)
    except UnicodeDecodeError:
        raise UnreadableBody("the JSON body is not UTF-8 text") from None
    except RecursionError:
        raise UnreadableBody(too_deep) from None
    except msgspec.DecodeError as exc:
        raise UnreadableBody(f"the body is not valid JSON: {exc}") from None
    # Only a body with that many brackets can be that deep; most are not walked.
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise UnreadableBody(too_deep)
    return value


class BodyRequest(HTMXRequest):
    """The request every handler gets (htmx-aware): its JSON is read by `read_json`, so bad JSON is a 400."""

    async def json(self) -> Any:
        if self._json is Empty:
            try:
                self._json = read_json(await self.body() or b"null")
            except UnreadableBody as exc:
                raise ClientException(detail=str(exc)) from None
        return self._json


def _depth(value: Any) -> int:
    deepest, pending = 0, [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def has_nul(body: bytes) -> bool:
    """A NUL character in a form or JSON body, raw or escaped (`%00`, `\\u0000`)."""
    lowered = body.lower()
    return b"\x00" in body or b"%00" in lowered or b"\\u0000" in lowered


class MultipartText:
    """Follows a multipart body as it streams past: a text field (a part without a file name) must decode in its
    charset, as the form parser will decode it. Malformed framing is left to the form parser, which answers 400."""

    def __init__(self, boundary: bytes) -> None:
        self.parser: Any = PushMultipartParser(boundary) if boundary else None
        self.segment: Any = None
        self.text = bytearray()

    def feed(self, chunk: bytes) -> str:
        """The problem found in this chunk, or ""."""
        if self.parser is None or self.parser.closed:
            return ""
        try:
            for part in self.parser.parse(chunk):
                if isinstance(part, MultipartSegment):
                    self.segment, self.text = part, bytearray()
                elif part:
                    if not self.segment.filename:
                        self.text.extend(part)
                elif self.segment is not None and not self.segment.filename:
                    try:
                        bytes(self.text).decode(self.segment.charset or "utf-8")
                    except (UnicodeDecodeError, LookupError):
                        return f"the form field {self.segment.name!r} is not text in its charset"
        except ParserError:
            self.parser = None
        return ""


class RefuseUnreadableBodies:
    """ASGI middleware: a 400 for a form or JSON body with a NUL character, or a multipart text field that
    cannot be decoded (the framework's form parser would answer 500), before a handler meets it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        header = next((value for name, value in scope.get("headers", []) if name == b"content-type"), b"")
        content_type = header.split(b";")[0].strip().lower()
        if content_type == _MULTIPART:
            await self.app(scope, _checked(receive, MultipartText(_boundary(header))), send)
            return
        if content_type not in (_FORM, _JSON):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if has_nul(body):
            detail = b'{"status_code":400,"detail":"the request contains a NUL character, which cannot be stored"}'
            await send(
                {"type": "http.response.start", "status": 400, "headers": [(b"content-type", b"application/json")]}
            )
            await send({"type": "http.response.body", "body": detail})
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body, "more_body": False}]), send)


def _boundary(header: bytes) -> bytes:
    """The boundary as the form parser reads it from the header."""
    return str(parse_options_header(header.decode("latin-1"))[1].get("boundary", "")).encode()


def _checked(receive: Any, text: MultipartText) -> Any:
    async def checked_receive() -> Message:
        message: Message = await receive()
        if message["type"] == "http.request" and (problem := text.feed(message.get("body", b""))):
            # Raised inside the form parser's read, so the handler never runs; Litestar answers 400.
            raise ClientException(detail=problem)
        return message

    return checked_receive


def _replay(messages: list[Message]) -> Any:
    pending = list(messages)

    async def receive() -> Message:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    return receive
