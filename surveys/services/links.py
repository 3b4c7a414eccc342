"""Signed links in emails: survey pages and unsubscribe. The signature proves we sent the link."""

from __future__ import annotations

from datetime import datetime

from itsdangerous import BadSignature, SignatureExpired, Signer, TimestampSigner

from afterglow.settings import Settings


class LinkInvalid(ValueError):
    """The link was altered or never issued."""


class LinkExpired(ValueError):
    """The link was genuine but is too old to use."""


def survey_token(settings: Settings, invitation_token: str, issued_at: datetime) -> str:
    signer = TimestampSigner(settings.secret_key, salt="survey")
    # itsdangerous stamps with the wall clock; pin it to the send time so tests and retries agree.
    signer.get_timestamp = lambda: int(issued_at.timestamp())  # type: ignore[method-assign]
    return signer.sign(invitation_token).decode()


def read_survey_token(settings: Settings, signed: str, now: datetime) -> str:
    """The invitation token inside a survey link, or LinkInvalid / LinkExpired."""
    signer = TimestampSigner(settings.secret_key, salt="survey")
    try:
        value, stamp = signer.unsign(signed, return_timestamp=True)
    except SignatureExpired as exc:  # pragma: no cover - max_age is not passed
        raise LinkExpired(str(exc)) from exc
    except BadSignature as exc:
        raise LinkInvalid(str(exc)) from exc
    age = now - stamp
    if age.days >= settings.link_max_age_days:
        raise LinkExpired(f"link issued {age.days} days ago")
    return value.decode()


def unsubscribe_token(settings: Settings, invitation_token: str) -> str:
    return Signer(settings.secret_key, salt="unsubscribe").sign(invitation_token).decode()


def read_unsubscribe_token(settings: Settings, signed: str) -> str:
    try:
        return Signer(settings.secret_key, salt="unsubscribe").unsign(signed).decode()
    except BadSignature as exc:
        raise LinkInvalid(str(exc)) from exc
