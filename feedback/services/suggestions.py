"""The open suggestion box (`/feedback`): a note from anyone, no sign-in; an email address only if they want an
answer. Saved as a Suggestion row; intake (in a worker) tags and routes it like all other feedback.

Bots are kept out without asking people to solve puzzles: a form token signed with its issue time (a form older
than a day, or never issued by us, is refused) that sends one note only, a honeypot field people never see, and a
rate limit per address."""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, TimestampSigner
from litestar.stores.base import Store

from afterglow import i18n
from afterglow.celery_app import announce_saved
from afterglow.errors import FieldError
from afterglow.ratelimit import claim_once, digest
from feedback.tables import Suggestion
from shop.schemas import EMAIL_RE

#: How long a form handed out stays good to send.
FORM_MAX_AGE = timedelta(days=1)
#: Clocks of several web hosts may differ a little; a token "from the future" within this is accepted.
CLOCK_SKEW = timedelta(minutes=5)
NAME_MAX = 100
EMAIL_MAX = 320
PAGE_MAX = 500
#: The honeypot's field name: a word bots like to fill in.
HONEYPOT = "website"
_SALT = "suggestion-form"


class InvalidSuggestion(FieldError):
    """A suggestion that cannot be saved as sent: `field` names the input, `message` says why (translated)."""


@dataclass(frozen=True)
class SuggestionInput:
    text: str
    name: str
    email: str
    page: str  # the page the form was on, as the browser reported it ("" when unknown)


def form_token(secret: str, now: datetime) -> str:
    """A token for a form handed out at `now`: signed, so only our own forms carry one; random, so each is
    one of its own and can be spent once."""
    signer = TimestampSigner(secret, salt=_SALT)
    # itsdangerous stamps with the wall clock; pin it to `now` so tests and the request clock agree.
    signer.get_timestamp = lambda: int(now.timestamp())  # type: ignore[method-assign]
    return signer.sign(f"form-{secrets.token_urlsafe(12)}").decode()


def check_form_token(secret: str, token: str, now: datetime, language: str) -> datetime:
    """When the token's form was handed out; InvalidSuggestion("token") unless the token is ours and that was within
    the last day."""
    expired = InvalidSuggestion(
        "token",
        i18n.translate(
            language,
            "This form was too old to send, or it was changed. We have reloaded it with your text: "
            "please send it again.",
        ),
    )
    try:
        _value, issued = TimestampSigner(secret, salt=_SALT).unsign(token, return_timestamp=True)
    except BadSignature:
        raise expired from None
    if not now - FORM_MAX_AGE <= issued <= now + CLOCK_SKEW:
        raise expired
    return issued


async def spend_form_token(store: Store, token: str, issued: datetime, now: datetime, language: str) -> None:
    """Mark the form as sent; InvalidSuggestion("token") if it was sent before (a resent page, a replayed post).
    The mark is kept until the form would be refused as too old anyway; claiming it is atomic."""
    keep = math.ceil((issued + FORM_MAX_AGE - now).total_seconds()) + 1
    if not await claim_once(store, f"suggestion-form:{digest(token)}", keep, now=now):
        sent = i18n.translate(
            language, "This form was sent already. Your text is still here: send it again if it is a new note."
        )
        raise InvalidSuggestion("token", sent)


def honeypot_filled(form: Mapping[str, Any]) -> bool:
    """True when the field people never see was filled in: a bot."""
    return bool(str(form.get(HONEYPOT) or "").strip())


def _page(raw: str) -> str:
    page = raw.strip()
    return page if page.startswith(("https://", "http://")) and len(page) <= PAGE_MAX else ""


def parse_suggestion(form: Mapping[str, Any], language: str, max_chars: int) -> SuggestionInput:
    """Read the form strictly: a text within `max_chars`, and a name and an email address that fit if given."""
    # Browsers send line breaks as CRLF but count them as one character against `maxlength`.
    text = str(form.get("text") or "").replace("\r\n", "\n").strip()
    if not text:
        raise InvalidSuggestion("text", i18n.translate(language, "Please write your suggestion."))
    if len(text) > max_chars:
        message = i18n.translate(language, "Please keep your suggestion under %(max)s characters.")
        raise InvalidSuggestion("text", message % {"max": max_chars})
    name = " ".join(str(form.get("name") or "").split())
    if len(name) > NAME_MAX:
        message = i18n.translate(language, "Please keep your name under %(max)s characters.")
        raise InvalidSuggestion("name", message % {"max": NAME_MAX})
    email = str(form.get("email") or "").strip().lower()
    if email and (len(email) > EMAIL_MAX or not EMAIL_RE.match(email)):
        message = i18n.translate(language, "Please check the email address, or leave it empty.")
        raise InvalidSuggestion("email", message)
    return SuggestionInput(text, name, email, _page(str(form.get("page") or "")))


async def save_suggestion(given: SuggestionInput, language: str, now: datetime) -> int:
    """Store the note; returns its id (`submit_suggestion` also announces it to feedback intake)."""
    row = Suggestion(
        text=given.text, name=given.name, email=given.email, page=given.page, locale=language, created_at=now
    )
    return int((await Suggestion.insert(row).returning(Suggestion.id))[0]["id"])


async def submit_suggestion(given: SuggestionInput, language: str, now: datetime) -> int:
    """Save the note (`save_suggestion`), then announce it to feedback intake like a survey response or review."""
    suggestion_id = await save_suggestion(given, language, now)
    await announce_saved("suggestion", suggestion_id)
    return suggestion_id
