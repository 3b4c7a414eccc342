"""Signed links are checked once and remembered (`surveys.services.links`): what is remembered must never let a
link through that a fresh check would refuse."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from afterglow.settings import Settings
from surveys.services.links import LinkExpired, LinkInvalid, read_dated, sign_dated

ISSUED = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_a_link_read_again_gives_the_same_value(settings: Settings) -> None:
    signed = sign_dated(settings, "survey", "tok-1", ISSUED)

    first = read_dated(settings, "survey", signed, ISSUED + timedelta(days=1))
    again = read_dated(settings, "survey", signed, ISSUED + timedelta(days=2))

    assert first == again == "tok-1"


def test_a_remembered_link_still_expires(settings: Settings) -> None:
    signed = sign_dated(settings, "survey", "tok-2", ISSUED)
    read_dated(settings, "survey", signed, ISSUED + timedelta(days=1))

    with pytest.raises(LinkExpired):
        read_dated(settings, "survey", signed, ISSUED + timedelta(days=settings.link_max_age_days))


def test_a_link_checked_under_one_secret_is_refused_under_another(settings: Settings) -> None:
    signed = sign_dated(settings, "survey", "tok-3", ISSUED)
    read_dated(settings, "survey", signed, ISSUED + timedelta(days=1))
    rotated = replace(settings, secret_key=settings.secret_key + "-rotated")

    with pytest.raises(LinkInvalid):
        read_dated(rotated, "survey", signed, ISSUED + timedelta(days=1))


def test_a_link_checked_for_one_kind_is_refused_for_another(settings: Settings) -> None:
    signed = sign_dated(settings, "survey", "tok-4", ISSUED)
    read_dated(settings, "survey", signed, ISSUED + timedelta(days=1))

    with pytest.raises(LinkInvalid):
        read_dated(settings, "conversation", signed, ISSUED + timedelta(days=1))
