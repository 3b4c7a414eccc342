"""The dashboard on PostgreSQL: the hand-made shop's figures (the same checks as on SQLite, imported from the unit
tests), the pages over HTTP, and the weekly digest emailed by real Celery workers over SMTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient
from piccolo.conf.apps import Finder

from accounts.services import create_staff
from afterglow.celery_app import celery_app
from afterglow.settings import Settings
from feedback.dashboard.digest import claim_due_digests, send_manager_digest
from feedback.tables import WeeklyDigest
from tests.integration.conftest import Mailbox, Workers, wait_for
from tests.unit.test_dashboard_dataset import CURRENT, NOW, build_dataset
from tests.unit.test_dashboard_figures import (  # noqa: F401 - collected here again, to run on PostgreSQL
    test_a_partial_week_counts_only_the_days_inside_the_period,
    test_answers_after_midnight_in_berlin_count_on_the_berlin_day,
    test_headline_of_the_current_week_has_the_hand_worked_figures,
    test_median_time_to_close_for_a_channel_is_exact,
    test_median_time_to_close_the_loop_from_the_rollup_is_within_ten_percent,
    test_monthly_trend_follows_the_berlin_calendar,
    test_open_and_overdue_inbox_items_now,
    test_previous_week_and_the_change_against_it,
    test_segments_of_the_current_week,
    test_team_segment_is_the_feedback_routed_to_that_team,
    test_the_funnel_of_a_product_counts_the_orders_that_held_it,
    test_the_rollup_holds_the_same_sums_as_the_feedback_itself,
    test_topics_of_a_channel_are_read_from_the_feedback,
    test_topics_rising_and_falling_against_the_week_before,
    test_weekly_trend_has_empty_weeks_as_gaps_and_a_single_answer_week,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("dataset"), pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(autouse=True)
async def empty_tables() -> None:
    """The shop is built once for the module (`dataset`); these tests only read it (the digest adds its own)."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dataset(database: None) -> dict[str, int]:
    tables = Finder().get_table_classes()
    names = ", ".join(f'"{t._meta.tablename}"' for t in tables)
    await tables[0].raw(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    await create_staff("max", "manager-pass-1", "manager", email="max@shop.example")
    return await build_dataset()


async def test_the_overview_page_on_postgresql(client: AsyncTestClient) -> None:
    form = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    signed_in = await client.post(
        "/login", data={"username": "max", "password": "manager-pass-1", "_csrf_token": token.group(1)}
    )
    assert signed_in.status_code == 200
    page = await client.get(f"/app/dashboard?from={CURRENT.start}&to={CURRENT.end}")
    assert page.status_code == 200
    assert ">+25<" in page.text[page.text.index('id="tile-nps"') :][:400]
    trend = await client.get(f"/app/dashboard/trend/nps?from=2026-02-09&to={CURRENT.end}&grain=week")
    assert "Week of 23 Feb 2026" in trend.text and "n=1" in trend.text
    exported = await client.get(f"/app/dashboard/responses.csv?from={CURRENT.start}&to={CURRENT.end}&measure=nps")
    assert len(exported.text.strip().splitlines()) == 1 + 8


async def test_the_weekly_digest_is_emailed_by_a_worker_once(
    mailbox: Mailbox, workers: Workers, settings: Settings
) -> None:
    celery_app.send_task("feedback.weekly_digests", args=[NOW.isoformat()])
    wait_for(lambda: mailbox.count() == 1, what="the manager's weekly digest")
    (message,) = mailbox.messages
    assert message["To"] == "max@shop.example"
    assert message["Subject"].startswith("Demo Shop weekly: NPS +25, CSAT 62%")
    assert "4 promoters, 2 passives, 2 detractors" in message.get_body(("plain",)).get_content()
    # what a twin pass or a retried task finds: nothing left to claim, and the digest in the mail log
    assert await claim_due_digests(NOW + timedelta(minutes=15), settings.shop_timezone) == []
    (digest,) = await WeeklyDigest.select(WeeklyDigest.id, WeeklyDigest.status)
    assert digest["status"] == "sent"
    assert await send_manager_digest(digest["id"], NOW, settings) == "sent-before"
    assert mailbox.count() == 1
