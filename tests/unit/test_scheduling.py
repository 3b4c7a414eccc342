"""The scheduler pass over a real (SQLite) database: what is due, what is skipped and why, reminders."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest

from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from shop.schemas import EventIn, OrderIn
from shop.services.orders import ingest_order, record_event, unsubscribe_customer
from shop.tables import Customer
from surveys.services.answers import Answers, save_answers
from surveys.services.dispatch import CLAIM_LEASE, dispatch_due, send_claimed
from surveys.tables import Invitation, SentEmail
from tests.factories import order_payload

BERLIN = ZoneInfo("Europe/Berlin")
DELIVERED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # a Monday afternoon
DUE = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)  # delivery + 3 days, inside 09:00–18:00 Berlin


async def deliver(external_id: str = "1001", at: datetime = DELIVERED, **payload: object) -> None:
    body = order_payload(external_id, **payload)  # type: ignore[arg-type]
    await ingest_order(msgspec.convert(body, OrderIn))
    await record_event(external_id, EventIn(type="delivered", at=at))


async def event(external_id: str, type_: str, at: datetime, agent: str = "") -> None:
    await record_event(external_id, EventIn(type=type_, at=at, agent=agent))  # type: ignore[arg-type]


async def run(now: datetime, settings: Settings) -> list[str]:
    """One pass plus the sends it hands out, as a worker would do them."""
    queued: list[tuple[int, str]] = []
    await dispatch_due(now, settings, lambda i, p: queued.append((i, p)))
    return [await send_claimed(i, p, now, settings) for i, p in queued]


async def invitation() -> dict:
    row = await Invitation.select().first()
    assert row is not None
    return row


async def test_delivery_schedules_an_invitation_after_the_delay(settings: Settings) -> None:
    await deliver()
    assert await run(DELIVERED + timedelta(hours=1), settings) == []
    inv = await invitation()
    assert inv["status"] == "scheduled"
    assert inv["due_at"] == DUE
    assert await SentEmail.count() == 0


async def test_nothing_is_sent_before_the_delay(settings: Settings) -> None:
    await deliver()
    assert await run(DUE - timedelta(minutes=1), settings) == []
    assert await run(DUE, settings) == ["sent"]
    assert await SentEmail.count() == 1


async def test_evening_delivery_is_asked_at_nine_local_time(settings: Settings) -> None:
    await deliver(at=datetime(2026, 3, 2, 20, 0, tzinfo=UTC))
    await run(datetime(2026, 3, 2, 21, 0, tzinfo=UTC), settings)
    inv = await invitation()
    assert inv["due_at"].astimezone(BERLIN) == datetime(2026, 3, 6, 9, 0, tzinfo=BERLIN)


async def test_customer_timezone_decides_the_send_hour(settings: Settings) -> None:
    await deliver(timezone="America/New_York")
    await run(DELIVERED, settings)
    inv = await invitation()
    # 14:00 UTC + 3 days is 09:00 in New York: inside the window.
    assert inv["due_at"].astimezone(ZoneInfo("America/New_York")).hour == 9


async def test_category_delay_applies(settings: Settings) -> None:
    slow = dataclasses.replace(settings, category_delays={"furniture": 14})
    await deliver(categories=("kitchen", "furniture"))
    await run(DELIVERED, slow)
    inv = await invitation()
    assert inv["due_at"] == DELIVERED + timedelta(days=14)


@pytest.mark.parametrize(("type_", "reason"), [("returned", "returned"), ("cancelled", "cancelled")])
async def test_returned_or_cancelled_order_is_not_surveyed(settings: Settings, type_: str, reason: str) -> None:
    await deliver()
    await run(DELIVERED, settings)
    await event("1001", type_, DELIVERED + timedelta(days=1))
    assert await run(DUE, settings) == []
    inv = await invitation()
    assert (inv["status"], inv["skip_reason"]) == ("skipped", reason)
    assert await SentEmail.count() == 0


async def test_unsubscribed_customer_is_not_asked(settings: Settings) -> None:
    await deliver()
    customer = await Customer.select(Customer.id).first()
    await unsubscribe_customer(customer["id"], DELIVERED)
    await run(DUE, settings)
    inv = await invitation()
    assert (inv["status"], inv["skip_reason"]) == ("skipped", "unsubscribed")


async def test_survey_fatigue_skips_a_second_order_within_sixty_days(settings: Settings) -> None:
    await deliver("1001")
    await run(DUE, settings)
    await deliver("1002", at=DELIVERED + timedelta(days=10))
    later = DUE + timedelta(days=10)
    assert "sent" not in await run(later, settings)  # (the first order's reminder may go out)
    second = await Invitation.select().where(Invitation.order.external_id == "1002").first()
    assert (second["status"], second["skip_reason"]) == ("skipped", "fatigue")


async def test_fatigue_ends_after_sixty_days(settings: Settings) -> None:
    await deliver("1001")
    await run(DUE, settings)
    await deliver("1002", at=DELIVERED + timedelta(days=61))
    assert await run(DUE + timedelta(days=61), settings) == ["sent"]


async def test_open_complaint_holds_until_it_closes(settings: Settings) -> None:
    await deliver()
    await event("1001", "complaint_opened", DELIVERED + timedelta(hours=2))
    assert await run(DUE, settings) == []
    inv = await invitation()
    assert (inv["status"], inv["hold_reason"]) == ("scheduled", "complaint_open")
    await event("1001", "complaint_closed", DUE + timedelta(days=2))
    assert await run(DUE + timedelta(days=2, hours=1), settings) == ["sent"]


async def test_complaint_open_past_expiry_skips_with_that_reason(settings: Settings) -> None:
    await deliver()
    await event("1001", "complaint_opened", DELIVERED + timedelta(hours=2))
    await run(DUE, settings)
    await run(DUE + timedelta(days=settings.expiry_days), settings)
    inv = await invitation()
    assert (inv["status"], inv["skip_reason"]) == ("skipped", "complaint_open")


async def test_invitation_not_sent_in_time_expires(settings: Settings) -> None:
    await deliver()
    await run(DELIVERED, settings)
    await run(DUE + timedelta(days=settings.expiry_days, hours=1), settings)
    inv = await invitation()
    assert (inv["status"], inv["skip_reason"]) == ("skipped", "expired")


async def test_long_past_delivery_from_an_import_is_never_invited(settings: Settings) -> None:
    await deliver(at=DELIVERED - timedelta(days=200))
    await run(DUE, settings)
    assert await Invitation.count() == 0


async def test_one_reminder_when_unanswered(settings: Settings) -> None:
    await deliver()
    await run(DUE, settings)
    assert await run(DUE + timedelta(days=4) - timedelta(minutes=1), settings) == []
    assert await run(DUE + timedelta(days=4), settings) == ["reminded"]
    assert await run(DUE + timedelta(days=9), settings) == []
    purposes = [r["purpose"] for r in await SentEmail.select(SentEmail.purpose).order_by(SentEmail.id)]
    assert purposes == ["invitation", "reminder"]


async def test_answered_invitation_gets_no_reminder(settings: Settings) -> None:
    await deliver()
    await run(DUE, settings)
    inv = await invitation()
    await save_answers(inv["id"], Answers(nps=9), "en", DUE + timedelta(hours=2))
    assert await run(DUE + timedelta(days=5), settings) == []
    assert await SentEmail.count() == 1


async def test_no_reminder_after_a_return(settings: Settings) -> None:
    await deliver()
    await run(DUE, settings)
    await event("1001", "returned", DUE + timedelta(days=1))
    assert await run(DUE + timedelta(days=5), settings) == []
    inv = await invitation()
    assert inv["reminder_due_at"] is None
    assert inv["hold_reason"] == "no reminder: returned"


async def test_passes_and_sends_are_safe_to_repeat(settings: Settings) -> None:
    await deliver()
    queued: list[tuple[int, str]] = []
    for _ in range(3):
        await dispatch_due(DUE, settings, lambda i, p: queued.append((i, p)))
    assert len(queued) == 1
    first = await send_claimed(*queued[0], DUE, settings)
    again = await send_claimed(*queued[0], DUE, settings)
    assert (first, again) == ("sent", "not-claimed")
    assert await SentEmail.count() == 1
    assert await Invitation.count() == 1


async def test_support_contact_asks_a_short_csat_hours_later(settings: Settings) -> None:
    await ingest_order(msgspec.convert(order_payload("2001"), OrderIn))
    resolved = datetime(2026, 3, 3, 9, 30, tzinfo=UTC)
    await event("2001", "support_resolved", resolved, agent="Kim")
    await run(resolved, settings)
    inv = await invitation()
    assert (inv["kind"], inv["agent"]) == ("support", "Kim")
    assert inv["due_at"] == resolved + timedelta(hours=settings.support_delay_hours)
    assert await run(inv["due_at"], settings) == ["sent"]
    mail = await SentEmail.select().first()
    assert "?csat=" in mail["html"] and "?nps=" not in mail["html"]


async def test_dead_smtp_server_keeps_the_claim_and_loses_nothing(settings: Settings) -> None:
    dead = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=9)  # nothing listens on port 9
    await deliver()
    queued: list[tuple[int, str]] = []
    await dispatch_due(DUE, dead, lambda i, p: queued.append((i, p)))
    with pytest.raises(MailNotSent):
        await send_claimed(*queued[0], DUE, dead)
    inv = await invitation()
    assert inv["status"] == "sending"
    assert await SentEmail.count() == 0
    # A pass after the claim lease hands the send out again; with the outbox it now goes through.
    requeued: list[tuple[int, str]] = []
    later = DUE + CLAIM_LEASE + timedelta(minutes=1)
    report = await dispatch_due(later, settings, lambda i, p: requeued.append((i, p)))
    assert report.requeued == 1
    assert await send_claimed(*requeued[0], later, settings) == "sent"
    assert await SentEmail.count() == 1
