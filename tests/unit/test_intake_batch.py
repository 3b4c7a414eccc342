"""Intake in sets: every source of a batch becomes exactly one tagged, routed feedback item; a bad row is recorded
and left out while the others go on; running a batch again duplicates nothing; routing a set gives the inboxes
routing one by one gives; an announcement takes what else is pending along, and a second one does nothing."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from accounts.services import create_team, team_id
from afterglow.settings import Settings
from afterglow.tables import TaskFailure
from feedback.analysis import Analysis
from feedback.policy import Rule
from feedback.services import intake_batch
from feedback.services.intake import ingest_announced, is_current, reanalyse
from feedback.services.intake_batch import ingest_batch
from feedback.services.routing import route
from feedback.services.rules import create_rule
from feedback.services.sources import Snapshot
from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem, Suggestion
from feedback.tasks import ingest_source
from operations.cli import main
from surveys.services.answers import Answers, save_answers
from tests.unit.survey_fixtures import OPEN_AT, invite

NOW = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
TEXTS = [
    "The parcel arrived late and the box was crushed.",
    "Lovely mug, great quality, thank you!",
    "The website checkout kept failing when I paid.",
    "Customer service was rude on the hotline.",
    "Too expensive for what it is.",
    "Die Lieferung kam zu spät und das Paket war beschädigt.",
    "",
]


async def _rules() -> None:
    for name in ("Support", "Logistics", "Product"):
        await create_team(name)
    support, logistics = await team_id("support"), await team_id("logistics")
    await create_rule(
        Rule(0, "Unhappy", labels=frozenset({"negative"}), teams=(support,), priority="urgent", continue_after=True),
        None,
        NOW,
    )
    await create_rule(
        Rule(0, "Late parcels", topics=frozenset({"delivery"}), teams=(logistics,), priority="high", sla_hours=24),
        None,
        NOW,
    )


async def _suggestions(texts: list[str]) -> list[int]:
    rows = await Suggestion.insert(
        *(Suggestion(text=text, locale="en", created_at=NOW - timedelta(minutes=n)) for n, text in enumerate(texts))
    ).returning(Suggestion.id)
    return sorted(int(row["id"]) for row in rows)


async def _state() -> dict[str, Any]:
    """Everything intake writes, without the ids and tokens it makes up."""
    items = await FeedbackItem.select().order_by(FeedbackItem.source_key).output(load_json=True)
    topics = await FeedbackTopic.select(FeedbackTopic.feedback.source_key, FeedbackTopic.topic, FeedbackTopic.origin)
    inbox = await InboxItem.select(
        InboxItem.feedback.source_key, InboxItem.team, InboxItem.rule_name, InboxItem.priority, InboxItem.due_at
    )
    return {
        "items": [{k: v for k, v in item.items() if k not in {"id", "thread_token"}} for item in items],
        "topics": sorted(json.dumps(t, sort_keys=True) for t in topics),
        "inbox": sorted(json.dumps(i, sort_keys=True, default=str) for i in inbox),
    }


async def test_every_source_of_a_batch_becomes_one_tagged_routed_item() -> None:
    await _rules()
    ids = await _suggestions(TEXTS)

    done = await ingest_batch([("suggestion", i) for i in ids], NOW, task_name="feedback.ingest")

    assert sorted(done) == [("suggestion", i) for i in ids]
    items = await FeedbackItem.select(
        FeedbackItem.source_id, FeedbackItem.text, FeedbackItem.analysed_hash, FeedbackItem.routed_at
    ).order_by(FeedbackItem.source_id)
    assert [(i["source_id"], i["text"]) for i in items] == list(zip(ids, TEXTS, strict=True))
    assert all(i["analysed_hash"] and i["routed_at"] == NOW for i in items)
    late = (
        await FeedbackItem.select(FeedbackItem.id, FeedbackItem.label, FeedbackItem.auto_topics)
        .where(FeedbackItem.source_id == ids[0])
        .output(load_json=True)
        .first()
    )
    assert late["label"] == "negative" and "delivery" in late["auto_topics"]
    inboxes = await InboxItem.select(InboxItem.team.name, InboxItem.priority).where(InboxItem.feedback == late["id"])
    assert sorted((i["team.name"], i["priority"]) for i in inboxes) == [("Logistics", "high"), ("Support", "urgent")]
    made = sorted(item for result in done.values() for item in result.new_inbox_items)
    assert made == sorted(row["id"] for row in await InboxItem.select(InboxItem.id))
    # Every item reached an inbox: the rules' teams, or triage.
    assert {row["feedback"] for row in await InboxItem.select(InboxItem.feedback)} == {
        row["id"] for row in await FeedbackItem.select(FeedbackItem.id)
    }


async def test_running_a_batch_again_duplicates_nothing_and_makes_no_new_inbox_items() -> None:
    await _rules()
    keys = [("suggestion", i) for i in await _suggestions(TEXTS)]
    await ingest_batch(keys, NOW)
    before = await _state()

    again = await ingest_batch(keys, NOW)
    retagged = await ingest_batch(keys, NOW, retag=True)

    assert await _state() == before
    assert not any(r.new_inbox_items for r in [*again.values(), *retagged.values()])
    assert not any(r.tagged for r in again.values()) and all(r.tagged for r in retagged.values())


async def test_a_text_the_analyser_fails_on_is_recorded_and_the_others_are_stored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = await _suggestions(TEXTS[:4])
    real = intake_batch.analyse_snapshot

    def analyse(snapshot: Snapshot, model: Any = None) -> Analysis:
        if snapshot.source_id == ids[1]:
            raise ValueError("no analyser can read this")
        return real(snapshot, model)

    monkeypatch.setattr(intake_batch, "analyse_snapshot", analyse)
    done = await ingest_batch([("suggestion", i) for i in ids], NOW, task_name="feedback.ingest")

    assert sorted(key[1] for key in done) == [ids[0], ids[2], ids[3]]
    stored = await FeedbackItem.select(FeedbackItem.source_id)
    assert sorted(row["source_id"] for row in stored) == [ids[0], ids[2], ids[3]]
    [failure] = await TaskFailure.select(TaskFailure.task_id, TaskFailure.error)
    assert failure["task_id"] == f"feedback.ingest:suggestion {ids[1]}"
    assert "ValueError: no analyser can read this" in failure["error"]


async def test_a_row_the_database_refuses_fails_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _suggestions(TEXTS[:4])
    real = intake_batch._write

    async def write(work: list[Any], now: datetime) -> dict[Any, Any]:
        if any(w.snapshot.source_id == ids[2] for w in work):
            raise RuntimeError("value refused by the database")
        return await real(work, now)

    monkeypatch.setattr(intake_batch, "_write", write)
    done = await ingest_batch([("suggestion", i) for i in ids], NOW, task_name="feedback.ingest_pending")

    assert sorted(key[1] for key in done) == [ids[0], ids[1], ids[3]]
    assert sorted(r["source_id"] for r in await FeedbackItem.select(FeedbackItem.source_id)) == [
        ids[0],
        ids[1],
        ids[3],
    ]
    [failure] = await TaskFailure.select(TaskFailure.task_id)
    assert failure["task_id"] == f"feedback.ingest_pending:suggestion {ids[2]}"


async def test_without_a_task_name_the_failure_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    ids = await _suggestions(TEXTS[:2])
    monkeypatch.setattr(intake_batch, "analyse_snapshot", lambda snapshot, model=None: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        await ingest_batch([("suggestion", i) for i in ids], NOW)
    assert await FeedbackItem.count() == 0


async def test_routing_a_set_gives_the_inboxes_routing_one_by_one_gives() -> None:
    await _rules()
    await ingest_batch([("suggestion", i) for i in await _suggestions(TEXTS)], NOW)
    in_a_set = await _state()

    await InboxItem.delete(force=True)
    await FeedbackItem.update({FeedbackItem.routing: [], FeedbackItem.routed_at: None}, force=True)
    for row in await FeedbackItem.select(FeedbackItem.id).order_by(FeedbackItem.id):
        await route(row["id"], NOW)

    assert await _state() == in_a_set


async def test_an_announcement_takes_the_pending_sources_along_and_a_second_does_nothing() -> None:
    await _rules()
    ids = await _suggestions(TEXTS[:5])

    first = await ingest_announced("suggestion", ids[0], NOW)

    assert sorted(r.feedback_id is not None for r in first) == [True] * 5
    assert await FeedbackItem.count() == 5 and all([await is_current("suggestion", i) for i in ids])
    inbox = await InboxItem.count()
    assert [await ingest_announced("suggestion", i, NOW) for i in ids] == [[]] * 5
    # The task body, as a worker runs it on a second delivery: nothing new, nobody notified again.
    twice = await asyncio.to_thread(ingest_source, "suggestion", ids[3], NOW.isoformat())
    assert twice == {"feedback": 0, "tagged": 0, "new_inbox_items": 0}
    assert await InboxItem.count() == inbox


async def test_an_edited_source_is_not_current_until_its_announcement_copies_it() -> None:
    [suggestion] = await _suggestions(["Lovely mug."])
    await ingest_announced("suggestion", suggestion, NOW)
    await Suggestion.update({Suggestion.text: "The parcel never arrived."}).where(Suggestion.id == suggestion)

    assert not await is_current("suggestion", suggestion)
    [again] = await ingest_announced("suggestion", suggestion, NOW)

    item = await FeedbackItem.select(FeedbackItem.id, FeedbackItem.text, FeedbackItem.label).first()
    assert (again.feedback_id, item["text"]) == (item["id"], "The parcel never arrived.")
    assert await FeedbackItem.count() == 1 and await is_current("suggestion", suggestion)


async def test_reanalyse_over_worker_processes_matches_reanalysing_in_one() -> None:
    await _rules()
    await ingest_batch([("suggestion", i) for i in await _suggestions(TEXTS)], NOW)
    await FeedbackItem.update(
        {FeedbackItem.auto_label: "", FeedbackItem.label: "", FeedbackItem.analysed_hash: ""}, force=True
    )
    later = NOW + timedelta(days=1)

    command = ["reanalyse", "--workers", "2", "--part-size", "2", "--now", later.isoformat()]
    result = await asyncio.to_thread(CliRunner().invoke, main, command)

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "reanalysed": len(TEXTS),
        "labels_changed": len(TEXTS),
        "sources_gone": 0,
    }
    in_processes = await _state()
    assert all(item["analysed_at"] == later for item in in_processes["items"])
    assert await reanalyse(later) == {"reanalysed": len(TEXTS), "labels_changed": 0, "sources_gone": 0}
    assert await _state() == in_processes


async def test_a_survey_answered_again_in_the_same_instant_is_copied_again(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    invited = await invite(client, api_headers, settings)
    response_id = await save_answers(invited.invitation_id, Answers(csat=2, comment="Lid leaks."), "en", OPEN_AT)
    [first] = await ingest_announced("survey", response_id, OPEN_AT)
    assert await is_current("survey", response_id)
    assert await ingest_announced("survey", response_id, OPEN_AT) == []

    await save_answers(invited.invitation_id, Answers(comment="Lid leaks, and the handle broke."), "en", OPEN_AT)

    assert not await is_current("survey", response_id)
    [again] = await ingest_announced("survey", response_id, OPEN_AT)
    item = await FeedbackItem.select(FeedbackItem.text, FeedbackItem.csat).first()
    assert again.feedback_id == first.feedback_id and await FeedbackItem.count() == 1
    assert item == {"text": "Lid leaks, and the handle broke.", "csat": 2}


async def test_sources_announced_together_are_all_taken_even_when_the_first_is_current() -> None:
    ids = await _suggestions(TEXTS[:3])
    await ingest_announced("suggestion", ids[0], NOW, limit=1)
    assert await is_current("suggestion", ids[0]) and await FeedbackItem.count() == 1

    taken = await ingest_announced("suggestion", ids[0], NOW, limit=1, more=[("suggestion", ids[2])])

    assert [result.feedback_id is not None for result in taken] == [True]
    assert await is_current("suggestion", ids[2])  # announced with a current one, and taken before the pending
    assert not await is_current("suggestion", ids[1])  # past the limit: the catch-up pass takes it
