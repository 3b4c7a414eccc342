"""Invitations made the real way for page tests: order and event through the API, then a scheduler pass and
the send. What the customer receives (the logged email) carries the links the tests follow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from surveys.services.dispatch import DispatchReport, dispatch_due, send_claimed
from surveys.tables import Invitation, SentEmail
from tests.factories import event_payload, order_payload

#: Delivered on a Tuesday morning; with the default 3-day delay the invitation is due Friday 11:00 Berlin.
DELIVERED_AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
#: A support contact resolved the day before the send; due three hours later, inside the window.
SUPPORT_RESOLVED_AT = datetime(2026, 3, 5, 10, 0, tzinfo=UTC)
#: The scheduler pass that sends: Friday 13:00 in Berlin, after the due time and inside 09:00–18:00.
SEND_AT = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
#: When the customer opens the mail; tests pin the request clock here.
OPEN_AT = SEND_AT + timedelta(hours=2)

SURVEY_URL = re.compile(r"https?://[^\s/]+(/s/[A-Za-z0-9_.\-]+)")
UNSUBSCRIBE_URL = re.compile(r"https?://[^\s/]+(/u/[A-Za-z0-9_.\-]+)")


@dataclass
class Invited:
    invitation_id: int
    token: str
    survey_path: str  # /s/<signed>
    unsubscribe_path: str  # /u/<signed>
    email: dict[str, Any]  # the SentEmail row

    @property
    def signed(self) -> str:
        return self.survey_path.removeprefix("/s/")


async def run_dispatch(now: datetime, settings: Settings) -> tuple[DispatchReport, list[tuple[int, str]]]:
    """One scheduler pass; sends everything it enqueued. Returns the report and what was enqueued."""
    queued: list[tuple[int, str]] = []
    report = await dispatch_due(now, settings, lambda invitation_id, purpose: queued.append((invitation_id, purpose)))
    for invitation_id, purpose in queued:
        await send_claimed(invitation_id, purpose, now, settings)
    return report, queued


async def invite(
    client: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    *,
    external_id: str = "1001",
    email: str = "anna@example.com",
    locale: str = "en",
    categories: tuple[str, ...] = ("kitchen",),
    support_agent: str | None = None,
    delivered_at: datetime = DELIVERED_AT,
    send_at: datetime = SEND_AT,
) -> Invited:
    """Order → event → scheduler pass → send; the invitation as the customer's email shows it.

    With `support_agent`, the event is a resolved support contact instead of a delivery."""
    order = await client.post(
        "/api/v1/orders",
        json=order_payload(external_id, email=email, locale=locale, categories=categories),
        headers=api_headers,
    )
    assert order.status_code in (200, 201), order.text
    event = (
        event_payload("support_resolved", SUPPORT_RESOLVED_AT, agent=support_agent)
        if support_agent is not None
        else event_payload("delivered", delivered_at)
    )
    accepted = await client.post(f"/api/v1/orders/{external_id}/events", json=event, headers=api_headers)
    assert accepted.status_code == 202, accepted.text

    _, queued = await run_dispatch(send_at, settings)
    assert len(queued) == 1, queued
    invitation_id, purpose = queued[0]
    assert purpose == "invitation"

    inv = await Invitation.select(Invitation.token, Invitation.status).where(Invitation.id == invitation_id).first()
    assert inv is not None and inv["status"] == "sent"
    mail = await SentEmail.select().where(SentEmail.invitation == invitation_id).output(load_json=True).first()
    assert mail is not None
    survey = SURVEY_URL.search(mail["text"])
    unsubscribe = UNSUBSCRIBE_URL.search(mail["text"])
    assert survey and unsubscribe, mail["text"]
    return Invited(
        invitation_id=invitation_id,
        token=inv["token"],
        survey_path=survey.group(1),
        unsubscribe_path=unsubscribe.group(1),
        email=mail,
    )
