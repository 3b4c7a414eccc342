"""The settings admins may change in the browser: each field's rules, the checks of a submitted form, and the
overlay of stored values on the environment's settings. Pure: no database, no clock."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from afterglow.brand import parse_colour
from afterglow.i18n import LANGUAGES
from afterglow.settings import Settings
from afterglow.topic_list import TopicsInvalid, parse_topics


@dataclass(frozen=True)
class Field:
    key: str  # the Settings attribute
    label: str
    section: str
    kind: str  # text | url | timezone | colour | mailbox | email | int | delays | rules | languages | language
    low: int = 0
    high: int = 0
    optional: bool = False
    help: str = ""


FIELDS: tuple[Field, ...] = (
    Field("shop_name", "Shop name", "Shop", "text", high=100),
    Field("base_url", "Public URL", "Shop", "url", help="The address links in emails start with."),
    Field("shop_timezone", "Time zone", "Shop", "timezone", help="e.g. Europe/Berlin: when a customer's is unknown."),
    Field("shop_languages", "Languages", "Shop", "languages", help="Customers are served in these languages."),
    Field("default_language", "Default language", "Shop", "language", help="For a customer whose is not among them."),
    Field("brand_colour", "Brand colour", "Shop", "colour", optional=True, help="e.g. #2d5bd7; empty: the default."),
    Field("mail_from", "Sender", "Emails", "mailbox", help="Name and address, e.g. Demo Shop <hello@shop.example>."),
    Field("reply_address", "Reply-to address", "Emails", "email", optional=True),
    Field("default_delay_days", "Days after delivery before asking", "Timing", "int", 0, 365),
    Field("category_delays", "Days per category", "Timing", "delays", optional=True, help="e.g. furniture=14, food=1"),
    Field("send_window_start", "Send window from (hour)", "Timing", "int", 0, 23),
    Field("send_window_end", "Send window until (hour)", "Timing", "int", 1, 24),
    Field("reminder_days", "Reminder after (days)", "Timing", "int", 1, 60),
    Field("fatigue_days", "No second survey within (days)", "Timing", "int", 0, 365),
    Field("expiry_days", "Drop an unsent invitation after (days)", "Timing", "int", 1, 365),
    Field("link_max_age_days", "Links expire after (days)", "Timing", "int", 1, 3650),
    Field("support_delay_hours", "Support CSAT after (hours)", "Timing", "int", 0, 720),
    Field("review_photo_max_bytes", "Largest review photo (bytes)", "Reviews", "int", 100_000, 10_000_000),
    Field("review_photo_max_pixels", "Most pixels per review photo", "Reviews", "int", 1_000_000, 200_000_000),
    Field("review_hold_rules", "Hold a review for a person when it contains", "Reviews", "rules", optional=True),
    Field("suggestion_max_chars", "Longest suggestion box note (characters)", "Reviews", "int", 100, 20_000),
)
BY_KEY = {f.key: f for f in FIELDS}
#: The content rules of reviews/policy.py, as admins read them.
HOLD_RULES = {
    "profanity": "strong language",
    "email": "an email address",
    "link": "a link",
    "phone": "a phone number",
    "all_caps": "long text in capitals",
}
SECTIONS = tuple(dict.fromkeys(f.section for f in FIELDS))
#: Stored beside the fields: the logo's file name under the data folder (set by upload, not by the form).
LOGO = "logo_file"
#: Stored beside the fields: the topic list (afterglow.topic_list), edited on its own page.
TOPICS = "topic_keywords"
KEYS = frozenset(BY_KEY) | {LOGO, TOPICS}


def _int(f: Field, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError("Enter a whole number.") from None
    if not f.low <= value <= f.high:
        raise ValueError(f"Enter a number from {f.low} to {f.high}.")
    return value


def _delays(raw: str) -> dict[str, int]:
    delays: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.replace("\n", ",").split(","))):
        name, sep, days = part.partition("=")
        name = name.strip().lower()
        if not sep or not name:
            raise ValueError(f"Write each category as name=days, not {part!r}.")
        try:
            delays[name] = int(days.strip())
        except ValueError:
            raise ValueError(f"{name}: the days must be a whole number.") from None
        if not 0 <= delays[name] <= 365:
            raise ValueError(f"{name}: the days must be from 0 to 365.")
    return delays


def _address(raw: str) -> str:
    local, _, domain = raw.rpartition("@")
    if not local or "." not in domain or any(ch in raw for ch in ' <>,;"\r\n'):
        raise ValueError("Enter an email address like name@shop.example.")
    return raw


def parse(f: Field, raw: str) -> Any:
    """The stored value of one field from what the form sent; ValueError (its message for the admin) if wrong."""
    raw = raw.strip()
    if f.kind in ("rules", "languages"):
        names = tuple(dict.fromkeys(filter(None, (p.strip().lower() for p in raw.split(",")))))
        allowed = HOLD_RULES if f.kind == "rules" else LANGUAGES
        if unknown := [n for n in names if n not in allowed]:
            raise ValueError(f"Unknown {'rule' if f.kind == 'rules' else 'language'}: {', '.join(unknown)}.")
        if f.kind == "languages" and not names:
            raise ValueError("Choose at least one language.")
        return names
    if f.kind == "language":
        if raw.lower() not in LANGUAGES:
            raise ValueError(f"Choose one of {', '.join(LANGUAGES)}.")
        return raw.lower()
    if not raw and f.optional:
        return {} if f.kind == "delays" else ""
    if not raw:
        raise ValueError("This cannot be empty.")
    if f.kind == "int":
        return _int(f, raw)
    if f.kind == "delays":
        return _delays(raw)
    if f.kind == "text":
        if len(raw) > f.high or any(ord(ch) < 32 for ch in raw):
            raise ValueError(f"Use at most {f.high} characters on one line.")
        return raw
    if f.kind == "url":
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError("Enter an address starting with https:// (or http://).")
        return raw.rstrip("/")
    if f.kind == "timezone":
        try:
            ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("Enter a time zone like Europe/Berlin.") from None
        return raw
    if f.kind == "colour":
        if parse_colour(raw) is None:
            raise ValueError("Enter a colour like #2d5bd7.")
        return raw.lower()
    if f.kind == "email":
        return _address(raw)
    if f.kind == "mailbox":
        name, address = parseaddr(raw)
        if not address or any(ch in raw for ch in "\r\n"):
            raise ValueError("Enter a name and address like Demo Shop <hello@shop.example>.")
        _address(address)
        return raw
    raise AssertionError(f.kind)


def check(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Every submitted field parsed: (values, errors by key). Fields the form did not send are left out."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for key, raw in form.items():
        if key not in BY_KEY:
            continue
        try:
            values[key] = parse(BY_KEY[key], raw)
        except ValueError as exc:
            errors[key] = str(exc)
    start, end = values.get("send_window_start"), values.get("send_window_end")
    if isinstance(start, int) and isinstance(end, int) and start >= end:
        errors["send_window_end"] = "The window must end after it starts."
    languages, default = values.get("shop_languages"), values.get("default_language")
    if isinstance(languages, tuple) and isinstance(default, str) and default not in languages:
        errors["default_language"] = "The default language must be one of the shop's languages."
    return values, errors


def overlay(base: Settings, stored: dict[str, Any]) -> Settings:
    """The environment's settings with the stored values on top; a stored value that no longer passes its checks
    (or that would break the send window) is ignored, so a bad row can never stop the passes."""
    changes: dict[str, Any] = {}
    for key, value in stored.items():
        if key == LOGO and isinstance(value, str):
            changes[key] = value
        elif key == TOPICS:
            try:
                changes[key] = parse_topics(value)
            except TopicsInvalid:
                continue
        elif key in BY_KEY:
            try:
                changes[key] = parse(BY_KEY[key], shown(key, value))
            except ValueError:
                continue
    result = dataclasses.replace(base, **changes)
    if result.send_window_start >= result.send_window_end:
        window = {"send_window_start": base.send_window_start, "send_window_end": base.send_window_end}
        result = dataclasses.replace(result, **window)
    if result.default_language not in result.shop_languages:
        result = dataclasses.replace(result, default_language=result.shop_languages[0])
    return result


def shown(key: str, value: Any) -> str:
    """A value as the form shows it."""
    if isinstance(value, dict):
        return ", ".join(f"{name}={days}" for name, days in value.items())
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)
