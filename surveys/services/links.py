"""Signed links in emails: survey pages and unsubscribe. The signature proves we sent the link."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, Signer, TimestampSigner

from afterglow.lru import Recent
from afterglow.settings import Settings


class _KeptKeySigner(TimestampSigner):
    """A TimestampSigner that derives each secret's key once (itsdangerous derives it on every call)."""

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        kept: dict[str | bytes | None, bytes] = self.__dict__.setdefault("_keys", {})
        if secret_key not in kept:
            kept[secret_key] = super().derive_key(secret_key)
        return kept[secret_key]


@lru_cache(maxsize=16)
def _reader(secret_key: str, salt: str) -> TimestampSigner:
    return _KeptKeySigner(secret_key, salt=salt)


class LinkInvalid(ValueError):
    """The link was altered or never issued."""


class LinkExpired(ValueError):
    """The link was genuine but is too old to use."""


def sign_dated(settings: Settings, salt: str, value: str, issued_at: datetime) -> str:
    """`value` signed for links of kind `salt`, stamped with `issued_at` (not the wall clock, which itsdangerous
    would use) so every send of the same link is the same, in tests and retries alike."""
    signer = TimestampSigner(settings.secret_key, salt=salt)
    signer.get_timestamp = lambda: int(issued_at.timestamp())  # type: ignore[method-assign]
    return signer.sign(value).decode()


#: Links whose signature was checked, by (secret, kind, link): a link opened again is not verified again. The
#: signature is a function of exactly these, so a hit is the same check's answer; its age is still judged each time.
_verified: Recent[tuple[str, datetime]] = Recent(4096)


def _unsigned(secret_key: str, salt: str, signed: str) -> tuple[str, datetime]:
    key = (secret_key, salt, signed)
    found = _verified.get(key)
    if found is None:
        try:
            value, stamp = _reader(secret_key, salt).unsign(signed, return_timestamp=True)
        except SignatureExpired as exc:  # pragma: no cover - max_age is not passed
            raise LinkExpired(str(exc)) from exc
        except BadSignature as exc:
            raise LinkInvalid(str(exc)) from exc
        found = (value.decode(), stamp)
        _verified.put(key, found)
    return found


def read_dated(settings: Settings, salt: str, signed: str, now: datetime) -> str:
    """The value inside a link made by `sign_dated`, or LinkInvalid (altered) / LinkExpired (too old)."""
    value, stamp = _unsigned(settings.secret_key, salt, signed)
    age = now - stamp
    if age.days >= settings.link_max_age_days:
        raise LinkExpired(f"link issued {age.days} days ago")
    return value


def survey_token(settings: Settings, invitation_token: str, issued_at: datetime) -> str:
    return sign_dated(settings, "survey", invitation_token, issued_at)


def read_survey_token(settings: Settings, signed: str, now: datetime) -> str:
    """The invitation token inside a survey link, or LinkInvalid / LinkExpired."""
    return read_dated(settings, "survey", signed, now)


def unsubscribe_token(settings: Settings, invitation_token: str) -> str:
    return Signer(settings.secret_key, salt="unsubscribe").sign(invitation_token).decode()


def read_unsubscribe_token(settings: Settings, signed: str) -> str:
    try:
        return Signer(settings.secret_key, salt="unsubscribe").unsign(signed).decode()
    except BadSignature as exc:
        raise LinkInvalid(str(exc)) from exc
