"""Feedback intake: every response is copied, tagged and routed after it is saved; again after an edit; and the
beat pass catches up on announcements that never arrived."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedback.services.intake import ingest, ingest_pending
from feedback.tables import FeedbackItem
from surveys.services.answers import Answers, save_answers
from surveys.tables import Invitation
from tests.unit.survey_fixtures import invite


async def test_pending_pass_catches_up_on_unannounced_and_edited_comments(client, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await invite(client, api_headers, settings)
    inv = await Invitation.select(Invitation.id).first()
    saved = datetime(2026, 3, 6, 13, 0, tzinfo=UTC)
    response_id = await save_answers(inv["id"], Answers(comment="Terrible packaging, awful."), "en", saved)
    assert [r.feedback_id is not None for r in await ingest_pending()] == [True]
    first = await FeedbackItem.select().where(FeedbackItem.source_key == f"survey:{response_id}").first()
    assert first["label"] == "negative"
    assert await ingest_pending() == []  # nothing left to do: safe to repeat

    await save_answers(
        inv["id"], Answers(comment="Actually it is great."), "en", datetime.now(UTC) + timedelta(hours=1)
    )
    assert len(await ingest_pending()) == 1
    assert await FeedbackItem.count() == 1
    assert (await FeedbackItem.select().first())["label"] == "positive"


async def test_ingesting_twice_changes_nothing(client, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await invite(client, api_headers, settings)
    inv = await Invitation.select(Invitation.id).first()
    now = datetime.now(UTC)
    response_id = await save_answers(inv["id"], Answers(comment="Lovely mug."), "en", now)
    first = await ingest("survey", response_id, now)
    before = await FeedbackItem.select().first()
    again = await ingest("survey", response_id, now + timedelta(minutes=5))
    assert (first.tagged, again.tagged) == (True, False)
    assert again.new_inbox_items == []
    after = await FeedbackItem.select().first()
    assert {k: v for k, v in after.items() if k != "routed_at"} == {k: v for k, v in before.items() if k != "routed_at"}
    assert before["label"] == "positive"


async def test_a_german_comment_is_read_with_the_german_lexicon_and_the_score(client, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await invite(client, api_headers, settings, locale="de")
    inv = await Invitation.select(Invitation.id).first()
    answers = Answers(csat=2, comment="Die Lieferung war leider sehr schlecht verpackt.")
    response_id = await save_answers(inv["id"], answers, "de", datetime.now(UTC))
    await ingest("survey", response_id, datetime.now(UTC))
    row = await FeedbackItem.select().first()
    assert row["label"] == "negative"
    assert row["language"] == "de" and row["polarity"] is not None and row["polarity"] < 0


async def test_a_language_without_a_lexicon_is_labelled_from_the_score_alone(client, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await invite(client, api_headers, settings, locale="hu")
    inv = await Invitation.select(Invitation.id).first()
    answers = Answers(nps=10, comment="Nagyon gyors szállítás, köszönöm!")
    response_id = await save_answers(inv["id"], answers, "hu", datetime.now(UTC))
    await ingest("survey", response_id, datetime.now(UTC))
    row = await FeedbackItem.select().first()
    assert row["label"] == "positive" and row["label_source"] == "score"
    assert row["language"] == "hu" and row["polarity"] is None
