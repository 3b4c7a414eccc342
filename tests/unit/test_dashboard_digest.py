"""The weekly digest: when it is due, who gets it (once), what it says, and the switch that turns it off."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from accounts.services import staff
from accounts.tables import AuditEvent, StaffProfile
from afterglow.settings import Settings
from feedback.dashboard.digest import CLAIM, claim_due_digests, due_week, send_manager_digest
from feedback.tables import WeeklyDigest
from feedback.tasks import weekly_digests
from surveys.tables import SentEmail
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.test_dashboard_dataset import NOW, TIMEZONE, build_dataset

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("moment", "week"),
    [
        ("2026-03-16T07:59:00+01:00", date(2026, 3, 2)),  # Monday before 08:00 Berlin: the week before last
        ("2026-03-16T08:00:00+01:00", date(2026, 3, 9)),  # from 08:00 on Monday: last week
        ("2026-03-22T23:59:00+01:00", date(2026, 3, 9)),  # all week long
        ("2026-03-30T08:30:00+02:00", date(2026, 3, 23)),  # summer time: still 08:00 local
    ],
)
def test_the_due_week_turns_over_at_eight_on_monday_in_the_shops_zone(moment: str, week: date) -> None:
    assert due_week(datetime.fromisoformat(moment), TIMEZONE) == week


async def digests() -> list[dict[str, Any]]:
    return await SentEmail.select().where(SentEmail.purpose == "weekly-digest").order_by(SentEmail.to)


def run_pass(now: datetime) -> int:
    """The beat pass as a worker runs it (eagerly here: the email tasks it queues run at once)."""
    return int(weekly_digests.delay(now.isoformat()).get())


async def test_managers_and_admins_get_last_weeks_figures_once() -> None:
    await make_staff()
    await build_dataset()
    assert await asyncio.to_thread(run_pass, NOW) == 2
    mails = await digests()
    assert [m["to"] for m in mails] == ["ada@shop.example", "max@shop.example"], "members get none"
    text = mails[0]["text"]
    assert "NPS +25" in mails[0]["subject"] and "CSAT 62%" in mails[0]["subject"]
    assert "week of 9 Mar 2026" in mails[0]["subject"]
    assert "4 promoters, 2 passives, 2 detractors" in text
    assert "within noise" in text
    assert "Support CSAT   50% (2 answers" in text
    assert "Response rate  75% (9 of 12 sent that week answered)" in text
    assert "Topics rising:  packaging (+14.3 pts)" in text
    trend = re.findall(r"^  (\d+ \w+)\s+([+-]\d+|–)\s+\(n=(\d+)\)$", text, re.M)
    assert len(trend) == 8 and trend[-2:] == [("2 Mar", "+33", "3"), ("9 Mar", "+25", "8")]
    assert "/app/dashboard?from=2026-03-09&to=2026-03-15" in text
    assert await asyncio.to_thread(run_pass, NOW + timedelta(minutes=15)) == 0
    assert len(await digests()) == 2, "the next pass sends nothing again"


async def test_sending_a_digest_twice_sends_it_once(settings: Settings) -> None:
    await make_staff()
    (first, _) = await claim_due_digests(NOW, TIMEZONE)
    assert await send_manager_digest(first, NOW, settings) == "sent"
    assert await send_manager_digest(first, NOW, settings) == "sent-before"
    assert len(await digests()) == 1


async def test_a_claim_is_taken_again_only_after_an_hour() -> None:
    await make_staff()
    claimed = await claim_due_digests(NOW, TIMEZONE)
    assert len(claimed) == 2
    assert await claim_due_digests(NOW + timedelta(minutes=30), TIMEZONE) == [], "a twin pass gets none"
    assert await claim_due_digests(NOW + CLAIM + timedelta(seconds=1), TIMEZONE) == claimed, "the worker died"


async def test_a_digest_planned_before_it_was_switched_off_is_skipped(settings: Settings) -> None:
    ids = await make_staff()
    (first, _) = await claim_due_digests(NOW, TIMEZONE)
    row = await WeeklyDigest.select(WeeklyDigest.user).where(WeeklyDigest.id == first).first()
    assert row is not None
    await StaffProfile.update({StaffProfile.weekly_digest: False}).where(StaffProfile.user == row["user"])
    assert await send_manager_digest(first, NOW, settings) == "switched-off"
    assert await digests() == []
    assert row["user"] in (ids["admin"], ids["manager"])


async def sign_in_manager(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "max") == 303


async def switch(client: AsyncTestClient, on: str, *, htmx: bool = False, token: bool = True) -> Any:
    form = {"on": on, **({"_csrf_token": client.cookies.get("csrftoken")} if token else {})}
    return await client.post("/app/dashboard/digest", data=form, headers=HTMX if htmx else {}, follow_redirects=False)


async def test_a_manager_switches_the_digest_off_and_gets_none(client: AsyncTestClient) -> None:
    await sign_in_manager(client)
    answer = await switch(client, "0")
    assert answer.status_code == 303 and answer.headers["location"].endswith("/app/dashboard#weekly-digest")
    page = await client.get("/app/dashboard")
    assert "Weekly digest email (Mondays, 08:00): <strong>off</strong>" in page.text
    assert await asyncio.to_thread(run_pass, NOW) == 1
    assert [m["to"] for m in await digests()] == ["ada@shop.example"]
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action)]
    assert "weekly_digest_off" in actions


async def test_the_switch_with_htmx_swaps_itself_and_turns_back_on(client: AsyncTestClient) -> None:
    await sign_in_manager(client)
    await switch(client, "0")
    answer = await switch(client, "1", htmx=True)
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<form id="weekly-digest"')
    assert "<strong>on</strong>" in answer.text and "saved" in answer.text
    me = await StaffProfile.select(StaffProfile.weekly_digest, StaffProfile.user.username).output(as_list=False)
    assert {r["user.username"]: r["weekly_digest"] for r in me}["max"] is True


async def test_the_switch_needs_the_csrf_token(client: AsyncTestClient) -> None:
    await sign_in_manager(client)
    assert (await switch(client, "0", token=False)).status_code == 403
    max_id = await StaffProfile.select(StaffProfile.user).where(StaffProfile.user.username == "max").first()
    assert max_id is not None
    found = await staff(max_id["user"])
    assert found is not None
    assert (await StaffProfile.select(StaffProfile.weekly_digest).where(StaffProfile.user == found.id).first()) == {
        "weekly_digest": True
    }


def test_the_due_week_is_a_monday() -> None:
    for day in range(14):
        assert due_week(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(days=day, hours=9), TIMEZONE).weekday() == 0
