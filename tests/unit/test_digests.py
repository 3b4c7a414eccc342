"""Each team's daily digest: from the digest hour in the shop's time zone, once per team and day, with new items
and every overdue one; no email when there is nothing to say; an interrupted digest is finished once."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from accounts.services import team_id
from afterglow.settings import Settings
from bench.harness import free_port
from bench.mailserver import smtp_server, text_of
from feedback.services.digests import LEASE, digest_day, send_team_digests
from feedback.services.notify_settings import store_notify_settings
from feedback.tables import InboxItem, TeamChannel, TeamDigest
from surveys.tables import SentEmail
from tests.unit.notify_fixtures import routed_review, routing_rules
from tests.unit.staff_fixtures import make_staff

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # items arrive Monday afternoon
TUESDAY_8 = datetime(2026, 3, 10, 8, 0, tzinfo=BERLIN)  # the digest hour on Tuesday, in Berlin (07:00 UTC)


@pytest.fixture
async def teams() -> dict[str, int]:
    ids = await make_staff()
    await routing_rules()
    return ids


def test_the_digest_is_due_from_the_local_hour_in_the_shops_time_zone() -> None:
    # Winter (CET, UTC+1): 08:00 in Berlin is 07:00 UTC.
    assert digest_day(datetime(2026, 3, 10, 6, 59, tzinfo=UTC), BERLIN, 8) is None
    assert digest_day(datetime(2026, 3, 10, 7, 0, tzinfo=UTC), BERLIN, 8) == date(2026, 3, 10)
    # Summer (CEST, UTC+2): 08:00 in Berlin is 06:00 UTC.
    assert digest_day(datetime(2026, 7, 10, 5, 59, tzinfo=UTC), BERLIN, 8) is None
    assert digest_day(datetime(2026, 7, 10, 6, 0, tzinfo=UTC), BERLIN, 8) == date(2026, 7, 10)
    # Late passes still belong to the local day: 23:30 UTC on the 10th is already the 11th in Berlin, before 08:00.
    assert digest_day(datetime(2026, 3, 10, 22, 30, tzinfo=UTC), BERLIN, 8) == date(2026, 3, 10)
    assert digest_day(datetime(2026, 3, 10, 23, 30, tzinfo=UTC), BERLIN, 8) is None


async def test_a_digest_with_an_overdue_item_arrives_once_per_day_and_not_for_an_empty_team(
    teams: dict[str, int], settings: Settings
) -> None:
    (urgent,) = await routed_review(1, "Leaks everywhere.", MONDAY)  # due 4 h later: overdue by Tuesday
    await InboxItem.update({InboxItem.notified_at: MONDAY}).where(InboxItem.id == urgent)  # emailed at once
    (normal,) = await routed_review(3, "Works, but the lid is loose.", MONDAY)  # due in 48 h
    with smtp_server() as (mailbox, port):
        smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        assert await send_team_digests(TUESDAY_8 + timedelta(minutes=5), smtp) == {"sent": 1, "empty": 1}
        assert await send_team_digests(TUESDAY_8 + timedelta(hours=3), smtp) == {}
        # Wednesday: the urgent item is still overdue, so it is listed again; the normal one is no longer new.
        assert await send_team_digests(TUESDAY_8 + timedelta(days=1, minutes=5), smtp) == {"sent": 1, "empty": 1}
    assert mailbox.to() == ["sue@shop.example", "sue@shop.example"]  # Support only: Logistics had nothing
    tuesday, wednesday = (text_of(m) for m in mailbox.messages)
    assert mailbox.messages[0]["Subject"] == "Support daily digest 2026-03-10: 1 new, 1 overdue"
    assert tuesday.index("OVERDUE") < tuesday.index("Leaks everywhere.") < tuesday.index("NEW since the last digest")
    assert tuesday.index("NEW since the last digest") < tuesday.index("Works, but the lid is loose.")
    assert f"{settings.base_url}/app/inbox/{urgent}" in tuesday and f"/app/inbox/{normal}" in tuesday
    assert mailbox.messages[1]["Subject"] == "Support daily digest 2026-03-11: 0 new, 1 overdue"
    assert "Leaks everywhere." in wednesday and "lid is loose" not in wednesday
    keys = {row["key"]: (row["items"], row["overdue"]) for row in await TeamDigest.select()}
    support, logistics = await team_id("support"), await team_id("logistics")
    assert keys == {
        f"{support}:2026-03-10": (1, 1),
        f"{logistics}:2026-03-10": (0, 0),
        f"{support}:2026-03-11": (0, 1),
        f"{logistics}:2026-03-11": (0, 0),
    }


async def test_the_digest_waits_for_the_digest_hour_and_follows_the_setting(
    teams: dict[str, int], settings: Settings
) -> None:
    await routed_review(4, "Good, a bit slow.", MONDAY)
    with smtp_server() as (mailbox, port):
        smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        assert await send_team_digests(TUESDAY_8 - timedelta(minutes=1), smtp) == {}  # 07:59 in Berlin
        assert await TeamDigest.count() == 0
        later = dataclasses.replace(smtp, digest_hour=10)
        assert await send_team_digests(TUESDAY_8 + timedelta(minutes=5), later) == {}
        assert await send_team_digests(TUESDAY_8 + timedelta(hours=2), later) == {"sent": 1, "empty": 1}
    assert len(mailbox.messages) == 1


async def test_a_team_with_the_digest_switched_off_gets_none(teams: dict[str, int], settings: Settings) -> None:
    await routed_review(4, "Good, a bit slow.", MONDAY)
    await store_notify_settings(await team_id("support"), {TeamChannel.digest: False}, MONDAY)
    with smtp_server() as (mailbox, port):
        smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        assert await send_team_digests(TUESDAY_8, smtp) == {"empty": 1}  # Logistics, still on, had nothing
    assert mailbox.messages == []


async def test_two_passes_at_once_send_one_digest(teams: dict[str, int], settings: Settings) -> None:
    await routed_review(3, "Fine.", MONDAY)
    with smtp_server() as (mailbox, port):
        smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        await asyncio.gather(send_team_digests(TUESDAY_8, smtp), send_team_digests(TUESDAY_8, smtp))
    assert len(mailbox.messages) == 1
    assert await SentEmail.count() == 1


async def test_a_digest_interrupted_before_its_email_is_finished_once_by_a_later_pass(
    teams: dict[str, int], settings: Settings
) -> None:
    (item,) = await routed_review(3, "Fine, the handle wobbles.", MONDAY)
    # SMTP is down when the day's row is made: the row stands, the email has not gone (as after a crash).
    down = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=free_port())
    assert await send_team_digests(TUESDAY_8, down) == {"empty": 1, "smtp-failed": 1}  # Logistics had nothing to say
    assert await TeamDigest.count() == 2 and await SentEmail.count() == 0
    with smtp_server() as (mailbox, port):
        up = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)
        # Within the lease the row may still belong to a live sender: nobody touches it.
        assert await send_team_digests(TUESDAY_8 + LEASE - timedelta(minutes=1), up) == {}
        assert mailbox.messages == []
        assert await send_team_digests(TUESDAY_8 + LEASE + timedelta(minutes=1), up) == {"resumed": 1}
        assert await send_team_digests(TUESDAY_8 + 2 * LEASE + timedelta(minutes=2), up) == {}
    assert len(mailbox.messages) == 1
    assert "handle wobbles" in text_of(mailbox.messages[0])
    assert (await InboxItem.select(InboxItem.notified_at).where(InboxItem.id == item).first())["notified_at"]
