"""A bad row stops nobody's email: the scheduler pass skips it, records it for admins and goes on."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from afterglow.tables import TaskFailure
from feedback.analysis import Analysis
from feedback.services import intake, intake_batch
from feedback.services.sources import Snapshot
from feedback.tables import FeedbackItem
from surveys.policy import NEVER
from surveys.services.answers import Answers, save_answers
from surveys.tables import Invitation, SentEmail
from tests.bad_rows import DUE, deliver_good_orders, expected_failures, plant_poison
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.survey_fixtures import OPEN_AT, invite, run_dispatch


async def test_poisoned_rows_are_skipped_and_every_other_invitation_is_sent(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    planted = await plant_poison()
    await deliver_good_orders(client, api_headers)

    report, queued = await run_dispatch(DUE, settings)

    assert report.planned == 4  # three good orders and the far-future one
    assert [purpose for _, purpose in queued] == ["invitation"] * 3
    sent = await SentEmail.select(SentEmail.to).where(SentEmail.purpose == "invitation")
    assert sorted(row["to"] for row in sent) == ["good0@example.com", "good1@example.com", "good2@example.com"]
    far = await Invitation.select(Invitation.status, Invitation.due_at).where(
        Invitation.order == planted.far_future_order
    )
    assert far == [{"status": "scheduled", "due_at": NEVER}]

    failures = await TaskFailure.select(TaskFailure.task_id, TaskFailure.task_name, TaskFailure.state)
    assert {row["task_id"] for row in failures} == expected_failures(planted)
    assert {(row["task_name"], row["state"]) for row in failures} == {("surveys.dispatch", "dead")}
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert f"order {planted.unplannable_order}" in {str(r.args[-1]) for r in logged}


async def test_a_bad_row_met_again_updates_its_record_and_sends_nothing_twice(settings: Settings) -> None:
    planted = await plant_poison()
    await run_dispatch(DUE, settings)
    await run_dispatch(DUE, settings)
    rows = await TaskFailure.select(TaskFailure.task_id, TaskFailure.attempts)
    assert {row["task_id"]: row["attempts"] for row in rows} == dict.fromkeys(expected_failures(planted), 2)
    assert await SentEmail.count() == 0


async def test_admins_see_which_task_skipped_which_row(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    planted = await plant_poison()
    await run_dispatch(DUE, settings)
    await make_staff()
    await sign_in(client, "ada")
    page = await client.get("/app/admin/tasks")
    assert page.status_code == 200
    assert "surveys.dispatch" in page.text
    assert f"order {planted.unplannable_order}: ZoneInfoNotFoundError" in page.text
    assert f"invitation {planted.undecidable_invitation}: ZoneInfoNotFoundError" in page.text


async def test_feedback_catch_up_skips_a_source_that_fails_and_ingests_the_others(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    responses = []
    for n in range(2):
        invited = await invite(client, api_headers, settings, external_id=f"F-{n}", email=f"f{n}@example.com")
        responses.append(await save_answers(invited.invitation_id, Answers(comment="Lovely mug."), "en", OPEN_AT))
    real_analyse = intake_batch.analyse_snapshot

    def analyse(snapshot: Snapshot, model: Any = None) -> Analysis:
        if snapshot.source_id == responses[0]:
            raise ValueError("a source no analyser can read")
        return real_analyse(snapshot, model)

    monkeypatch.setattr(intake_batch, "analyse_snapshot", analyse)
    results = await intake.ingest_pending(OPEN_AT)
    assert [r.feedback_id is not None for r in results] == [True]
    assert await FeedbackItem.exists().where(FeedbackItem.source_key == f"survey:{responses[1]}")
    [failure] = await TaskFailure.select(TaskFailure.task_id, TaskFailure.error)
    assert failure["task_id"] == f"feedback.ingest_pending:survey {responses[0]}"
    assert failure["error"] == f"survey {responses[0]}: ValueError: a source no analyser can read"
