"""Re-tagging all feedback after an analyser or keyword change: the analyser's own fields are refreshed, what people
corrected stays, a second run changes nothing, and an item whose source is gone is kept as it was."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from accounts.services import Staff
from feedback.services.intake import ingest, reanalyse
from feedback.services.tagging import correct_label, correct_topics
from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem, Suggestion

SAVED = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
LATER = SAVED + timedelta(days=30)
MANAGER = Staff(id=1, username="mara", role="manager")
COMPLAINT = "The delivery driver was rude and the parcel was late."


async def _suggestion(text: str, locale: str = "en") -> int:
    rows = await Suggestion.insert(Suggestion(text=text, locale=locale, created_at=SAVED)).returning(Suggestion.id)
    return int(rows[0]["id"])


async def _ingested(text: str, locale: str = "en") -> int:
    result = await ingest("suggestion", await _suggestion(text, locale), SAVED)
    assert result.feedback_id is not None
    return result.feedback_id


async def _item(feedback_id: int) -> dict[str, Any]:
    row = await FeedbackItem.select().where(FeedbackItem.id == feedback_id).output(load_json=True).first()
    assert row is not None
    return row


async def _topics(feedback_id: int) -> list[tuple[str, str]]:
    rows = await FeedbackTopic.select(FeedbackTopic.topic, FeedbackTopic.origin).where(
        FeedbackTopic.feedback == feedback_id
    )
    return sorted((r["topic"], r["origin"]) for r in rows)


async def _as_an_older_analyser_left_it(feedback_id: int) -> None:
    await FeedbackItem.update(
        {
            FeedbackItem.auto_label: "positive",
            FeedbackItem.polarity: 0.9,
            FeedbackItem.aspects: [],
            FeedbackItem.auto_topics: [],
            FeedbackItem.analysed_hash: "tagged-by-an-older-analyser",
        }
    ).where(FeedbackItem.id == feedback_id)


async def test_reanalyse_refreshes_the_analysers_tags_and_the_label_nobody_corrected() -> None:
    feedback_id = await _ingested(COMPLAINT)
    await _as_an_older_analyser_left_it(feedback_id)
    await FeedbackItem.update({FeedbackItem.label: "positive"}).where(FeedbackItem.id == feedback_id)
    await FeedbackTopic.delete().where(FeedbackTopic.feedback == feedback_id)

    summary = await reanalyse(LATER)

    assert summary == {"reanalysed": 1, "labels_changed": 1, "sources_gone": 0}
    item = await _item(feedback_id)
    assert (item["auto_label"], item["label"]) == ("negative", "negative")
    assert item["polarity"] < 0 and item["auto_topics"] == ["delivery"]
    assert item["analysed_hash"] != "tagged-by-an-older-analyser" and item["analysed_at"] == LATER
    assert await _topics(feedback_id) == [("delivery", "auto")]


async def test_reanalyse_keeps_a_persons_label_and_topics() -> None:
    feedback_id = await _ingested(COMPLAINT)
    await correct_label(feedback_id, "mixed", MANAGER, SAVED + timedelta(hours=1))
    await correct_topics(feedback_id, ["packaging", "support"], MANAGER, SAVED + timedelta(hours=1))
    await _as_an_older_analyser_left_it(feedback_id)

    summary = await reanalyse(LATER)

    assert summary["labels_changed"] == 0
    item = await _item(feedback_id)
    assert (item["label"], item["label_corrected_by"]) == ("mixed", "mara")
    assert item["auto_label"] == "negative"  # the analyser's own opinion is still refreshed beside it
    assert item["auto_topics"] == ["delivery"]
    assert await _topics(feedback_id) == [("packaging", "staff"), ("support", "staff")]


async def test_giving_the_label_back_after_reanalyse_shows_the_fresh_analysis() -> None:
    feedback_id = await _ingested(COMPLAINT)
    await correct_label(feedback_id, "positive", MANAGER, SAVED)
    await _as_an_older_analyser_left_it(feedback_id)
    await reanalyse(LATER)
    await correct_label(feedback_id, "", MANAGER, LATER)
    assert (await _item(feedback_id))["label"] == "negative"


async def test_reanalysing_twice_changes_nothing_the_second_time() -> None:
    ids = [
        await _ingested(COMPLAINT),
        await _ingested("Die Lieferzeit war zu lang, aber der Preis ist gut.", "de"),
        await _ingested("Nagyon jó, köszönöm!", "hu"),
    ]
    first = await reanalyse(LATER)
    items = [await _item(i) for i in ids]
    topics = [await _topics(i) for i in ids]
    inbox = await InboxItem.count()

    second = await reanalyse(LATER)

    assert first["reanalysed"] == second["reanalysed"] == 3
    assert second["labels_changed"] == 0
    assert [await _item(i) for i in ids] == items
    assert [await _topics(i) for i in ids] == topics
    assert await InboxItem.count() == inbox


async def test_an_item_whose_source_is_gone_is_kept_and_counted() -> None:
    feedback_id = await _ingested(COMPLAINT)
    before = await _item(feedback_id)
    await Suggestion.delete(force=True)

    progress: list[tuple[int, int]] = []
    summary = await reanalyse(LATER, on_progress=lambda done, total: progress.append((done, total)))

    assert summary == {"reanalysed": 0, "labels_changed": 0, "sources_gone": 1}
    assert progress == [(1, 1)]
    assert await _item(feedback_id) == before


async def test_reanalyse_reports_progress_over_batches() -> None:
    for n in range(5):
        await _ingested(f"Great mug number {n}, love it.")
    progress: list[tuple[int, int]] = []
    summary = await reanalyse(LATER, on_progress=lambda done, total: progress.append((done, total)), batch=2)
    assert summary["reanalysed"] == 5
    assert progress == [(n, 5) for n in range(1, 6)]
