"""The dashboard's figures on the hand-made shop (see test_dashboard_dataset.py for how each one is worked out)."""

from __future__ import annotations

from datetime import date

import pytest
import pytest_asyncio
from piccolo.conf.apps import Finder

from accounts.services import team_id
from feedback.dashboard.figures import Totals
from feedback.dashboard.handling import handling, median_hours_to_close
from feedback.dashboard.overview import headline, trend
from feedback.dashboard.periods import Period, day_start, utc_bounds
from feedback.dashboard.segments import Segment
from feedback.dashboard.topics import topic_mentions, topic_moves
from feedback.dashboard.totals import _from_facts, _from_rollup, edges_bucket, totals_of_periods
from feedback.tables import FeedbackTopic
from tests.unit.test_dashboard_dataset import CURRENT, NOW, PREVIOUS, TIMEZONE, build_dataset

pytestmark = [pytest.mark.usefixtures("dataset"), pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """These tests only read: the shop is built once for the module (`dataset`), not emptied before each test."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dataset(migrated: None) -> dict[str, int]:
    for table in reversed(Finder().get_table_classes()):
        await table.delete(force=True)
    return await build_dataset()


async def test_headline_of_the_current_week_has_the_hand_worked_figures() -> None:
    top = await headline(Segment(), CURRENT, TIMEZONE)
    now = top.now
    assert (now.items, now.nps_n, now.promoters, now.passives, now.detractors) == (14, 8, 4, 2, 2)
    assert now.nps == pytest.approx(25.0)
    assert (now.csat_ok, now.csat_n) == (5, 8) and now.csat == pytest.approx(62.5), "order surveys only"
    assert (now.support_csat_ok, now.support_csat_n) == (1, 2) and now.support_csat == pytest.approx(50.0)
    assert now.rating_n == 3 and now.rating == pytest.approx(11 / 3)
    assert (now.scheduled, now.sent, now.opened, now.answered) == (13, 12, 12, 10), "each step on its own day"
    assert (now.sent_opened, now.sent_answered) == (11, 9), "what became of the 12 sent this week"
    assert now.response_rate == pytest.approx(75.0)


async def test_previous_week_and_the_change_against_it() -> None:
    top = await headline(Segment(), CURRENT, TIMEZONE)
    before = top.before
    assert (before.items, before.nps_n, before.promoters, before.detractors) == (4, 3, 2, 1)
    assert before.nps == pytest.approx(100 / 3)
    assert before.csat == pytest.approx(200 / 3)
    assert before.rating == pytest.approx(5.0)
    assert (before.scheduled, before.sent, before.opened, before.answered) == (5, 5, 3, 3), "O1 opened on Monday"
    assert (before.sent_opened, before.sent_answered) == (4, 4), "O1 was sent the week before"
    assert top.nps.delta == pytest.approx(25.0 - 100 / 3)
    assert not top.nps.clear, "8 answers against 3 cannot tell an 8-point drop from noise"
    assert top.response_rate.delta == pytest.approx(75.0 - 80.0)


async def test_answers_after_midnight_in_berlin_count_on_the_berlin_day() -> None:
    by_day = dict(await trend(Segment(), Period(date(2026, 3, 8), date(2026, 3, 9)), "day", TIMEZONE))
    sunday, monday = (totals for _, totals in sorted(by_day.items(), key=lambda kv: kv[0].start))
    assert (sunday.nps_n, sunday.promoters) == (1, 1), "P4 at 23:30 Sunday Berlin"
    assert (monday.nps_n, monday.promoters) == (1, 1), "O1 at 00:30 Monday Berlin is still Sunday in UTC"


async def test_weekly_trend_has_empty_weeks_as_gaps_and_a_single_answer_week() -> None:
    weeks = await trend(Segment(), Period(date(2026, 2, 9), date(2026, 3, 15)), "week", TIMEZONE)
    assert [b.start for b, _ in weeks] == [date(2026, 2, 9), date(2026, 2, 16), date(2026, 2, 23), date(2026, 3, 2),
                                           date(2026, 3, 9)]  # fmt: skip
    empty, _, single, before, now = (totals for _, totals in weeks)
    assert empty == Totals() and empty.nps is None and empty.nps_interval is None
    assert (single.nps_n, single.nps) == (1, -100.0)
    low, high = single.nps_interval or (0, 0)
    assert low == -100.0 and high > 0, "one answer gives a band wide enough to hold almost anything"
    assert before.nps == pytest.approx(100 / 3) and now.nps == pytest.approx(25.0)
    assert single.scheduled == 1, "M1's invitation was planned on 26 February"


async def test_monthly_trend_follows_the_berlin_calendar() -> None:
    months = await trend(Segment(), Period(date(2026, 2, 1), date(2026, 3, 31)), "month", TIMEZONE)
    (february, feb), (march, mar) = months
    assert (february.start, march.start) == (date(2026, 2, 1), date(2026, 3, 1))
    assert feb.nps_n == 0, "M1 answered at 00:30 on 1 March Berlin, 28 February UTC"
    assert (feb.scheduled, feb.sent, feb.answered, feb.sent_answered) == (1, 1, 0, 1), "sent in February"
    assert mar.answered == 14, "M1 and the 13 survey answers after it, each on the day it was given"
    assert (mar.nps_n, mar.promoters, mar.detractors) == (12, 6, 4)
    assert mar.nps == pytest.approx(100 * 2 / 12)


async def test_a_partial_week_counts_only_the_days_inside_the_period() -> None:
    weeks = await trend(Segment(), Period(date(2026, 3, 11), date(2026, 3, 15)), "week", TIMEZONE)
    ((bucket, totals),) = weeks
    assert bucket.partial and bucket.first == date(2026, 3, 11)
    # O3, O4, O5, O6, O7, O8 (Wednesday to Sunday): 9, 8, 7, 6, 3, 10
    assert (totals.nps_n, totals.promoters, totals.detractors) == (6, 2, 2)


def maybe(value: float | None) -> object:
    return pytest.approx(value) if value is not None else None


@pytest.mark.parametrize(
    ("segment", "nps_n", "nps", "csat", "support", "rating"),
    [
        (Segment(channel="app"), 3, 0.0, 100 / 3, 0.0, None),  # O3 9, O4 8, O7 3; CSAT O3 4, O4 3, O7 1; S2 2
        (Segment(category="garden"), 4, 75.0, 75.0, None, 4.0),  # O2, O3, O4, O8; R2; support has no category
        (Segment(category="kitchen"), 5, 0.0, 60.0, None, 3.5),  # O1, O2, O5, O6, O7; R1, R3
        (Segment(kind="support"), 0, None, None, 50.0, None),  # S1 5, S2 2
        (Segment(product="G1"), 4, 75.0, 75.0, None, 4.0),  # reviews of G1, orders that held it
        (Segment(language="de"), 3, 0.0, 100 / 3, 0.0, 4.0),  # the German-speaking customers (S2 in German)
        (Segment(channel="web", category="kitchen"), 4, 25.0, 75.0, None, 3.5),  # O1 10, O2 9, O5 7, O6 6
    ],
)
async def test_segments_of_the_current_week(
    segment: Segment, nps_n: int, nps: float | None, csat: float | None, support: float | None, rating: float | None
) -> None:
    (now,) = await totals_of_periods(segment, [CURRENT], TIMEZONE)
    assert now.nps_n == nps_n
    assert now.nps == maybe(nps)
    assert now.csat == maybe(csat)
    assert now.support_csat == maybe(support)
    assert now.rating == maybe(rating)


async def test_team_segment_is_the_feedback_routed_to_that_team() -> None:
    support = await team_id("support")
    (now,) = await totals_of_periods(Segment(team=support), [CURRENT], TIMEZONE)
    assert (now.items, now.csat_n, now.support_csat_n, now.support_csat_ok) == (2, 0, 2, 1)
    assert now.scheduled == 0, "invitations are not routed: no funnel for a team"


async def test_the_funnel_of_a_product_counts_the_orders_that_held_it() -> None:
    (now,) = await totals_of_periods(Segment(product="G1"), [CURRENT], TIMEZONE)
    # O2, O3, O4, O8 answered; O11 never sent
    assert (now.scheduled, now.sent, now.opened, now.answered) == (5, 4, 4, 4)


@pytest.mark.parametrize(
    "segment",
    [
        Segment(),
        Segment(kind="order"),
        Segment(channel="web"),
        Segment(language="de"),
        Segment(category="kitchen"),
        Segment(category="garden", kind="review"),
        "support team",
    ],
)
async def test_the_rollup_holds_the_same_sums_as_the_feedback_itself(segment: Segment | str) -> None:
    if segment == "support team":
        segment = Segment(team=await team_id("support"))
    assert isinstance(segment, Segment)
    everything = Period(date(2026, 2, 1), date(2026, 3, 31))
    edges = [date(2026, 3, 1), date(2026, 3, 9)]
    rolled = await _from_rollup(segment, everything.start, everything.end, edges_bucket("day", edges))
    lo, hi = utc_bounds(everything, TIMEZONE)
    direct = await _from_facts(segment, lo, hi, [day_start(d, TIMEZONE) for d in edges])
    assert {int(k): v for k, v in rolled.items()} == direct
    assert sum((v for v in direct.values()), Totals()).items > 0, "each segment has feedback to compare"


async def test_topics_rising_and_falling_against_the_week_before() -> None:
    top = await headline(Segment(), CURRENT, TIMEZONE)
    moves = topic_moves(await topic_mentions(Segment(), CURRENT, TIMEZONE), top.now, top.before)
    by_topic = {m.topic: m for m in moves.all}
    assert (by_topic["delivery"].mentions, by_topic["delivery"].before) == (2, 1)
    assert by_topic["delivery"].share == pytest.approx(100 * 2 / 14)
    assert by_topic["delivery"].share_before == pytest.approx(100 * 1 / 4)
    assert [m.topic for m in moves.rising] == ["packaging", "product quality", "support"]
    assert [m.topic for m in moves.falling] == ["price", "delivery"]
    # the mean sentiment is that of the mentions the analyser found an opinion in
    rows = await FeedbackTopic.select(FeedbackTopic.polarity).where(FeedbackTopic.topic == "packaging")
    opinions = [r["polarity"] for r in rows if r["polarity"]]
    expected = sum(opinions) / len(opinions) if opinions else None
    assert by_topic["packaging"].polarity == (pytest.approx(expected) if expected is not None else None)


async def test_topics_of_a_channel_are_read_from_the_feedback() -> None:
    top = await headline(Segment(channel="web"), CURRENT, TIMEZONE)
    moves = topic_moves(await topic_mentions(Segment(channel="web"), CURRENT, TIMEZONE), top.now, top.before)
    assert {m.topic: m.mentions for m in moves.all} == {"delivery": 2, "packaging": 1, "price": 0, "product quality": 1}


async def test_open_and_overdue_inbox_items_now() -> None:
    everything = await handling(Segment(), NOW)
    assert (everything.open, everything.overdue) == (18, 1), "all triage items wait; S2 is past its SLA"
    support = await handling(Segment(team=await team_id("support")), NOW)
    assert (support.open, support.overdue) == (1, 1)


async def test_median_time_to_close_the_loop_from_the_rollup_is_within_ten_percent() -> None:
    """S1 after 4 h, O6 after 10 h, O7 after 30 h this week; P2 after 2 h the week before."""
    (before, before_n), (now, now_n) = await median_hours_to_close(Segment(), [PREVIOUS, CURRENT], TIMEZONE)
    assert (before_n, now_n) == (1, 3)
    assert now == pytest.approx(10.0, rel=0.1) and before == pytest.approx(2.0, rel=0.1)
    february = await median_hours_to_close(Segment(), [Period(date(2026, 2, 1), date(2026, 2, 28))], TIMEZONE)
    assert february == [(None, 0)]


async def test_median_time_to_close_for_a_channel_is_exact() -> None:
    app = await median_hours_to_close(Segment(channel="app"), [Period(date(2026, 3, 1), date(2026, 3, 15))], TIMEZONE)
    assert app == [(pytest.approx(16.0), 2)], "P2 after 2 h, O7 after 30 h: the mean of the middle two"
    web = await median_hours_to_close(Segment(channel="web"), [PREVIOUS, CURRENT], TIMEZONE)
    assert web == [(None, 0), (pytest.approx(7.0), 2)], "S1 after 4 h, O6 after 10 h"
