"""Comment sentiment: analysed after saving, re-analysed after an edit, and caught up when an announcement was lost."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedback.services import analyse_pending, analyse_response
from feedback.tables import CommentAnalysis
from surveys.services.answers import Answers, save_answers
from surveys.tables import Invitation
from tests.unit.survey_fixtures import invite


async def test_pending_pass_catches_up_on_unannounced_and_edited_comments(client, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await invite(client, api_headers, settings)
    inv = await Invitation.select(Invitation.id).first()
    saved = datetime(2026, 3, 6, 13, 0, tzinfo=UTC)
    response_id = await save_answers(inv["id"], Answers(comment="Terrible packaging, awful."), "en", saved)
    assert await analyse_pending() == 1
    first = await CommentAnalysis.select().where(CommentAnalysis.response == response_id).first()
    assert first["label"] == "negative"
    assert await analyse_pending() == 0  # nothing left to do: safe to repeat

    await save_answers(
        inv["id"], Answers(comment="Actually it is great."), "en", datetime.now(UTC) + timedelta(hours=1)
    )
    assert await analyse_pending() == 1
    assert await CommentAnalysis.count() == 1
    assert (await CommentAnalysis.select().first())["label"] == "positive"


async def test_analysis_is_idempotent(client, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await invite(client, api_headers, settings)
    inv = await Invitation.select(Invitation.id).first()
    response_id = await save_answers(inv["id"], Answers(comment="Lovely mug."), "en", datetime.now(UTC))
    assert await analyse_response(response_id) == await analyse_response(response_id) == "positive"
    assert await CommentAnalysis.count() == 1


async def test_a_german_comment_is_read_with_the_german_lexicon_and_the_score(client, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await invite(client, api_headers, settings, locale="de")
    inv = await Invitation.select(Invitation.id).first()
    answers = Answers(csat=2, comment="Die Lieferung war leider sehr schlecht verpackt.")
    response_id = await save_answers(inv["id"], answers, "de", datetime.now(UTC))
    assert await analyse_response(response_id) == "negative"
    row = await CommentAnalysis.select().first()
    assert row["language"] == "de" and row["polarity"] is not None and row["polarity"] < 0


async def test_a_language_without_a_lexicon_is_labelled_from_the_score_alone(client, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await invite(client, api_headers, settings, locale="hu")
    inv = await Invitation.select(Invitation.id).first()
    answers = Answers(nps=10, comment="Nagyon gyors szállítás, köszönöm!")
    response_id = await save_answers(inv["id"], answers, "hu", datetime.now(UTC))
    assert await analyse_response(response_id) == "positive"
    row = await CommentAnalysis.select().first()
    assert row["language"] == "hu" and row["polarity"] is None
