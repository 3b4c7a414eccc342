"""Learning from the shop's own scored texts: examples from the database (corrections win over scores), versions
stored and switched on only when they earn it, the beat's retraining, the `afterglow learn` round trip, and the
admin page."""

from __future__ import annotations

import asyncio
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from accounts.tables import AuditEvent
from feedback.services import learning
from feedback.tables import FeedbackItem, SentimentModel
from feedback.tasks import learn_sentiment
from operations.cli import main
from tests.unit.learning_fixtures import scored_texts
from tests.unit.staff_fixtures import make_staff, sign_in

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
PAGE = "/app/admin/learning"


@pytest.fixture(autouse=True)
def few_examples_suffice(monkeypatch: pytest.MonkeyPatch) -> None:
    # The production minimum (hundreds) is measured on real corpora; these tests learn from a hundred-odd texts.
    monkeypatch.setattr(learning, "MIN_EXAMPLES", 60)
    monkeypatch.setattr(learning, "RETRAIN_AFTER", 30)


async def add_reviews(count: int, seed: int = 7, first_id: int = 1) -> list[int]:
    rows = [
        FeedbackItem(
            source="review",
            source_id=first_id + i,
            source_key=f"review:{first_id + i}",
            kind="review",
            rating=stars,
            text=text,
            language="en",
            thread_token=secrets.token_urlsafe(16)[:22],
        )
        for i, (text, stars, _) in enumerate(scored_texts(count, seed))
    ]
    inserted = await FeedbackItem.insert(*rows).returning(FeedbackItem.id)
    return [r["id"] for r in inserted]


async def test_examples_come_from_scores_and_a_correction_wins_over_the_score() -> None:
    ids = await add_reviews(3)
    await FeedbackItem.update({FeedbackItem.text: "The lamp is lovely.", FeedbackItem.rating: 1}).where(
        FeedbackItem.id == ids[0]
    )
    await FeedbackItem.update(
        {FeedbackItem.label: "positive", FeedbackItem.label_corrected_by: "ada", FeedbackItem.label_corrected_at: NOW}
    ).where(FeedbackItem.id == ids[0])
    nps = FeedbackItem(
        source="survey", source_id=99, source_key="survey:99", kind="order", nps=8, text="Okay.", language="en"
    )
    nps.thread_token = "t" * 22
    await nps.save()
    await FeedbackItem.insert(  # no score, no correction: nothing to learn from
        FeedbackItem(source="suggestion", source_id=5, source_key="suggestion:5", kind="suggestion", text="Hi.")
    )
    examples, newest = await learning.training_examples()
    by_text = {e.text: e.label for e in examples}
    assert by_text["The lamp is lovely."] == "positive"  # one star, but staff said positive
    assert by_text["Okay."] == "neutral"  # NPS 8 is a passive
    assert len(examples) == 4 and newest == nps.id


async def test_learning_stores_a_version_and_uses_it_once_it_beats_the_lexicon() -> None:
    await add_reviews(150)
    learned = await learning.learn([], NOW)
    assert learned.version == 1 and learned.n == 120 and learned.heldout_n == 30
    assert learned.accuracy_model >= learned.accuracy_lexicon and learned.active
    model = await learning.active_model()
    assert model is not None and model.version == 1
    assert model.predict("I am still waiting for my refund.", "en")[0] == "negative"
    row = await SentimentModel.select().first().output(load_json=True)
    assert row["data"]["format"] == 1 and row["languages"] == {"en": 120}


async def test_too_few_texts_are_stored_but_the_lexicon_keeps_deciding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(learning, "MIN_EXAMPLES", 500)
    await add_reviews(150)
    learned = await learning.learn([], NOW)
    assert not learned.active and "500" in learned.note
    assert await learning.active_model() is None


async def test_the_beat_learns_again_only_once_enough_new_scored_texts_arrived() -> None:
    await add_reviews(29)
    assert await asyncio.to_thread(lambda: learn_sentiment.delay(NOW.isoformat()).get()) is None
    assert await SentimentModel.count() == 0
    await add_reviews(1, seed=8, first_id=100)
    first = await asyncio.to_thread(lambda: learn_sentiment.delay(NOW.isoformat()).get())
    assert first is not None and first["version"] == 1 and first["n"] == 24
    assert await asyncio.to_thread(lambda: learn_sentiment.delay(NOW.isoformat()).get()) is None  # nothing new
    await add_reviews(30, seed=9, first_id=200)
    assert (await asyncio.to_thread(lambda: learn_sentiment.delay(NOW.isoformat()).get()))["version"] == 2


async def test_a_model_switched_off_stays_off_when_the_beat_learns_again() -> None:
    await add_reviews(150)
    await learning.learn([], NOW)
    assert await learning.forget() == 1
    await add_reviews(30, seed=9, first_id=500)
    again = await learning.learn_when_due(NOW)
    assert again is not None and not again.active and again.note == "Switched off by staff."
    assert await learning.active_model() is None


def test_learn_then_analyse_uses_the_model_and_forget_goes_back_to_the_lexicon(tmp_path: Path) -> None:
    history = tmp_path / "history.jsonl"
    lines = [{"text": text, "score": stars} for text, stars, _ in scored_texts(150)]
    lines += [{"text": "Nicht schlecht.", "score": 8, "scale": [0, 10], "language": "de"}]
    history.write_text("\n".join(json.dumps(line) for line in lines) + '\n{"text": "no score"}\n')
    learned = CliRunner().invoke(main, ["learn", str(history), "--now", NOW.isoformat()])
    assert learned.exit_code == 0, learned.output
    summary = json.loads(learned.stdout.strip().splitlines()[-1])
    assert summary["n"] == 121 and summary["active"] and summary["skipped_lines"] == 1
    assert summary["accuracy_model"] >= summary["accuracy_lexicon"]
    assert "line 152" in learned.stderr

    comment = json.dumps({"text": "The toaster stopped working after 3 days.", "language": "en"}) + "\n"
    with_model = json.loads(CliRunner().invoke(main, ["analyse", "-"], input=comment).stdout)
    assert with_model["label"] == "negative" and with_model["source"] == "model" and with_model["confidence"] > 0.5

    forgot = CliRunner().invoke(main, ["learn", "--forget"])
    assert json.loads(forgot.stdout) == {"forgotten": 1}
    lexicon = json.loads(CliRunner().invoke(main, ["analyse", "-"], input=comment).stdout)
    assert lexicon["source"] == "lexicon"
    assert SentimentModel.count().where(SentimentModel.active.eq(True)).run_sync() == 0


def test_learn_with_nothing_to_learn_from_says_so() -> None:
    result = CliRunner().invoke(main, ["learn", "-"], input='{"text": "Fine.", "score": 5}\n')
    assert result.exit_code == 1 and "nothing to learn from" in result.stderr


# The admin page -------------------------------------------------------------------------------------------------


async def post(client: AsyncTestClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(
        path, data={**data, "_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False
    )


async def test_only_admins_see_the_learned_model_page(client: AsyncTestClient) -> None:
    await make_staff()
    anonymous = await client.get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for who in ("max", "sue"):
        assert await sign_in(client, who) == 303
        assert (await client.get(PAGE)).status_code == 403
        assert (await post(client, f"{PAGE}/switch", {"on": "0"})).status_code == 403
        client.cookies.clear()
    assert await sign_in(client, "ada") == 303
    page = await client.get(PAGE)
    assert page.status_code == 200 and "Nothing learned yet" in page.text


async def test_the_page_shows_what_was_learned_and_the_switch_turns_it_off_and_on(client: AsyncTestClient) -> None:
    await make_staff()
    await add_reviews(150)
    await learning.learn([], NOW)
    assert await sign_in(client, "ada") == 303
    page = (await client.get(PAGE)).text
    assert "In use:" in page and "from 120 texts" in page and "Towards unhappy" in page
    assert any(term in page for term in ("refund", "hold", "missing", "late", "dented"))

    off = await post(client, f"{PAGE}/switch", {"on": "0"})
    assert off.status_code == 303
    assert "lexicon labels feedback" in (await client.get(off.headers["location"])).text
    assert await learning.active_model() is None
    on = await post(client, f"{PAGE}/switch", {"on": "1"})
    assert "labels feedback again" in (await client.get(on.headers["location"])).text
    assert (await learning.active_model()) is not None
    actions = [r["action"] for r in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)]
    assert actions[-2:] == ["learning.switched_off", "learning.switched_on"]


async def test_the_switch_needs_the_csrf_token(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    refused = await client.post(f"{PAGE}/switch", data={"on": "0"}, follow_redirects=False)
    assert refused.status_code == 403


async def test_intake_tags_with_the_model_in_use_and_retags_when_a_new_version_is_used() -> None:
    from feedback.services.intake import ingest, reanalyse
    from feedback.tables import Suggestion

    saved = await Suggestion.insert(Suggestion(text="The kettle stopped working after 4 days.")).returning(
        Suggestion.id
    )
    first = await ingest("suggestion", saved[0]["id"], NOW)
    lexicon_hash = await FeedbackItem.select(FeedbackItem.analysed_hash).where(FeedbackItem.id == first.feedback_id)
    await add_reviews(150, first_id=1000)
    assert (await learning.learn([], NOW)).active
    assert (await ingest("suggestion", saved[0]["id"], NOW)).tagged  # the model changed: tagged again
    await reanalyse(NOW)
    item = (
        await FeedbackItem.select(FeedbackItem.label, FeedbackItem.analysed_hash)
        .where(FeedbackItem.id == first.feedback_id)
        .first()
    )
    assert item["label"] == "negative" and item["analysed_hash"] != lexicon_hash[0]["analysed_hash"]
