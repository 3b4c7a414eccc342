"""Keeping the dashboard's rollup in step with the feedback: the beat sweep, its claim, and recomputing a day."""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta

from click.testing import CliRunner

from accounts.services import Staff
from feedback.dashboard.periods import Period
from feedback.dashboard.rollup import CLAIM, refresh_day, sweep
from feedback.dashboard.segments import Segment
from feedback.dashboard.totals import totals_of_periods
from feedback.services.intake import ingest
from feedback.services.tagging import correct_label
from feedback.tables import DashboardDay, DashboardSweep, DashboardTopicDay, FeedbackItem
from feedback.tasks import dashboard_sweep
from operations.cli import main
from reviews.services.moderation import approve
from reviews.tables import Review
from surveys.services.answers import Answers, save_answers
from surveys.tables import Invitation
from tests.unit.staff_fixtures import make_staff
from tests.unit.test_dashboard_dataset import K1, TIMEZONE, Survey, WrittenReview, local, write_review, write_survey

MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))
EDITOR = Staff(1, "editor", "manager")


async def answer(ref: str, day: str, nps: int, comment: str = "") -> int:
    """An order survey answered at noon (Berlin) on `day`, copied into feedback as intake does at that moment."""
    at = local(day)
    response = await write_survey(Survey(ref, "web", (K1,), "en", at - timedelta(days=1), at - timedelta(days=1),
                                         at, at, 4, nps, comment))  # fmt: skip
    assert response is not None
    ingested = await ingest("survey", response, at + timedelta(seconds=30))
    assert ingested.feedback_id is not None
    return ingested.feedback_id


async def march() -> tuple[int, int, int]:
    (totals,) = await totals_of_periods(Segment(), [MARCH], TIMEZONE)
    return totals.nps_n, totals.promoters, totals.negative


async def test_first_sweep_builds_the_rollup_and_later_ones_add_what_changed() -> None:
    await answer("A1", "03-02", 10)
    first = await sweep(local("03-02", 13), TIMEZONE)
    assert first["status"] == "rebuilt"
    assert await march() == (1, 1, 0)
    await answer("A2", "03-10", 9)
    later = await sweep(local("03-10", 13), TIMEZONE)
    assert later == {"refreshed": 2, "status": "swept"}, "the answer's day and its invitation's day"
    assert await march() == (2, 2, 0)


async def test_a_day_without_changes_is_left_alone() -> None:
    await answer("A1", "03-02", 10)
    await sweep(local("03-02", 13), TIMEZONE)
    assert await sweep(local("03-05", 12), TIMEZONE) == {"refreshed": 0, "status": "swept"}


async def test_a_staff_correction_of_the_label_reaches_the_next_sweep() -> None:
    feedback_id = await answer("A1", "03-02", 10, "Lovely kettle")
    await sweep(local("03-02", 13), TIMEZONE)
    assert (await march())[2] == 0
    await correct_label(feedback_id, "negative", EDITOR, local("03-20"))
    await sweep(local("03-20", 0, 1), TIMEZONE)
    assert (await march())[2] == 1


async def test_a_sweep_finding_another_at_work_does_nothing() -> None:
    await answer("A1", "03-02", 10)
    now = local("03-02", 13)
    await DashboardSweep.insert(DashboardSweep(name="rollup", claimed_until=now + timedelta(minutes=5)))
    assert await sweep(now, TIMEZONE) == {"refreshed": 0, "status": "busy"}
    assert await DashboardDay.count() == 0
    after_the_claim = await sweep(now + CLAIM, TIMEZONE)
    assert after_the_claim["status"] == "rebuilt", "a claim left by a pass that died runs out"


async def test_recomputing_a_day_twice_leaves_the_same_rows() -> None:
    await answer("A1", "03-02", 10, "Fast delivery")
    await refresh_day(date(2026, 3, 2), TIMEZONE)
    once = await DashboardDay.select().order_by(DashboardDay.id)
    topics = await DashboardTopicDay.count()
    await refresh_day(date(2026, 3, 2), TIMEZONE)
    twice = await DashboardDay.select().order_by(DashboardDay.id)
    assert [{k: v for k, v in row.items() if k != "id"} for row in once] == [
        {k: v for k, v in row.items() if k != "id"} for row in twice
    ]
    assert await DashboardTopicDay.count() == topics


async def test_an_answer_days_later_counts_for_the_day_its_invitation_was_sent() -> None:
    await write_survey(Survey("L1", "web", (K1,), "en", local("03-02", 9), local("03-02", 10)))
    await sweep(local("03-02", 13), TIMEZONE)
    (before,) = await totals_of_periods(Segment(), [Period(date(2026, 3, 2), date(2026, 3, 2))], TIMEZONE)
    assert (before.sent, before.sent_answered, before.response_rate) == (1, 0, 0.0)
    invitation = await Invitation.select(Invitation.id).where(Invitation.dedupe_key == "dataset:L1").first()
    assert invitation is not None
    response = await save_answers(invitation["id"], Answers(csat=5, nps=9), "en", local("03-06"))
    await ingest("survey", response, local("03-06", 12, 1))
    assert (await sweep(local("03-06", 13), TIMEZONE))["refreshed"] == 2, "the day it was sent and the day answered"
    sent_day, answer_day = await totals_of_periods(
        Segment(), [Period(date(2026, 3, 2), date(2026, 3, 5)), Period(date(2026, 3, 6), date(2026, 3, 6))], TIMEZONE
    )
    assert (sent_day.sent, sent_day.sent_answered, sent_day.answered) == (1, 1, 0)
    assert (answer_day.sent, answer_day.answered, answer_day.nps_n) == (0, 1, 1)


async def test_a_review_a_moderator_publishes_enters_the_rating_at_the_next_sweep() -> None:
    ids = await make_staff()
    review_id = await write_review(WrittenReview("H1", K1, 2, "en", local("03-03")))
    await Review.update({Review.status: "held", Review.held_rule: "link"}).where(Review.id == review_id)
    await ingest("review", review_id, local("03-03", 12, 1))
    await sweep(local("03-03", 13), TIMEZONE)
    assert (await march_rating()) == (0, 0, 1), "held: feedback, but not in the rating"
    await approve(review_id, Staff(ids["admin"], "ada", "admin"), local("03-20"))
    await sweep(local("03-20", 0, 1), TIMEZONE)
    assert (await march_rating()) == (1, 2, 1)


async def march_rating() -> tuple[int, int, int]:
    (totals,) = await totals_of_periods(Segment(), [MARCH], TIMEZONE)
    return totals.rating_n, totals.rating_sum, totals.items


async def test_the_beat_task_runs_the_sweep() -> None:
    await answer("A1", "03-02", 10)
    # an eager task runs its own event loop: give it a thread, as a worker would
    result = await asyncio.to_thread(lambda: dashboard_sweep.delay(local("03-02", 13).isoformat()).get())
    assert result["status"] == "rebuilt"
    assert await march() == (1, 1, 0)
    assert await FeedbackItem.count() == 1


def test_the_rebuild_command_recomputes_every_day_and_says_how_many() -> None:
    asyncio.run(answer("A1", "03-02", 10))
    asyncio.run(answer("A2", "03-04", 9))
    result = CliRunner().invoke(main, ["rebuild-dashboard", "--now", local("03-05").isoformat()])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"days": 4}, "1 to 4 March: from the first invitation to the last answer"
    assert asyncio.run(march()) == (2, 2, 0)
