"""Tags stored on a feedback item by intake: topics with the sentiment where they were named, one item per source
however often (and however concurrently) it is ingested, and its identity kept when the source changes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from feedback.services.intake import ingest
from feedback.tables import FeedbackItem, FeedbackTopic, Suggestion

SAVED = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)


async def _suggestion(text: str, locale: str = "en") -> int:
    rows = await Suggestion.insert(Suggestion(text=text, locale=locale, created_at=SAVED)).returning(Suggestion.id)
    return int(rows[0]["id"])


async def test_topics_are_stored_with_the_sentiment_of_the_clauses_that_named_them() -> None:
    source = await _suggestion("The parcel arrived late, but the screen is gorgeous.")
    result = await ingest("suggestion", source, SAVED)
    rows = await FeedbackTopic.select(FeedbackTopic.topic, FeedbackTopic.phrase, FeedbackTopic.polarity).where(
        FeedbackTopic.feedback == result.feedback_id
    )
    by_topic = {row["topic"]: row for row in rows}
    assert set(by_topic) == {"delivery", "product quality"}
    assert by_topic["delivery"]["phrase"] == "parcel" and by_topic["delivery"]["polarity"] < 0
    assert by_topic["product quality"]["phrase"] == "screen" and by_topic["product quality"]["polarity"] > 0


async def test_a_topic_named_twice_keeps_the_mean_sentiment_and_the_first_phrase() -> None:
    source = await _suggestion("The battery life is terrible but the screen is gorgeous.")
    result = await ingest("suggestion", source, SAVED)
    item = (
        await FeedbackItem.select(FeedbackItem.aspects)
        .where(FeedbackItem.id == result.feedback_id)
        .output(load_json=True)
        .first()
    )
    polarities = [a["polarity"] for a in item["aspects"] if a["topic"] == "product quality"]
    assert len(polarities) == 2 and min(polarities) < 0 < max(polarities)
    topic = await FeedbackTopic.select().where(FeedbackTopic.feedback == result.feedback_id).first()
    assert (topic["topic"], topic["phrase"], topic["origin"]) == ("product quality", "battery life", "auto")
    assert topic["polarity"] == round(sum(polarities) / 2, 4)


async def test_twin_ingests_of_one_source_make_one_item() -> None:
    source = await _suggestion("Lovely mug, quick delivery.")
    first, second = await asyncio.gather(
        ingest("suggestion", source, SAVED), ingest("suggestion", source, SAVED + timedelta(seconds=1))
    )
    assert first.feedback_id == second.feedback_id
    assert await FeedbackItem.count() == 1
    assert [first.tagged, second.tagged].count(True) >= 1
    assert await FeedbackTopic.count().where(FeedbackTopic.topic == "delivery") == 1


async def test_a_changed_source_updates_its_item_in_place_and_is_tagged_again() -> None:
    source = await _suggestion("Lovely mug.")
    first = await ingest("suggestion", source, SAVED)
    before = await FeedbackItem.select().where(FeedbackItem.id == first.feedback_id).first()
    await Suggestion.update({Suggestion.text: "The mug arrived broken."}).where(Suggestion.id == source)

    again = await ingest("suggestion", source, SAVED + timedelta(hours=1))

    after = await FeedbackItem.select().where(FeedbackItem.id == first.feedback_id).first()
    assert (again.feedback_id, again.tagged) == (first.feedback_id, True)
    assert (after["thread_token"], after["created_at"]) == (before["thread_token"], before["created_at"])
    assert (before["label"], after["label"]) == ("positive", "negative")
    assert after["text"] == "The mug arrived broken." and after["analysed_hash"] != before["analysed_hash"]


async def test_a_source_that_does_not_exist_leaves_nothing_behind() -> None:
    result = await ingest("suggestion", 4242, SAVED)
    assert (result.feedback_id, result.tagged, result.new_inbox_items) == (None, False, [])
    assert await FeedbackItem.count() == 0


async def test_a_suggestion_is_read_in_the_language_it_is_written_in_not_the_browsers() -> None:
    german = await _suggestion("Die Lieferung war leider sehr spät und der Karton war kaputt.", locale="en")
    short = await _suggestion("Super!", locale="de")
    now = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    for source_id in (german, short):
        await ingest("suggestion", source_id, now)
    rows = await FeedbackItem.select(FeedbackItem.source_id, FeedbackItem.language, FeedbackItem.label)
    found = {row["source_id"]: (row["language"], row["label"]) for row in rows}
    assert found[german] == ("de", "negative")
    assert found[short][0] == "de", "too short for function words: the browser's language decides"
