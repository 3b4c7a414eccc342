"""The learned text classifier on its own: it learns, it is stored as plain data and comes back the same, and it
explains itself."""

from __future__ import annotations

import json

from feedback.analysis import analyse
from feedback.analysis.learned import Example, LearnedModel, evaluate, train
from tests.unit.learning_fixtures import examples


def test_a_model_learned_from_scored_texts_reads_complaints_without_opinion_words() -> None:
    model = train(examples(300))
    label, confidence = model.predict("My refund never came and I was on hold for an hour.", "en")
    assert label == "negative" and confidence > 0.5
    assert model.predict("Lovely mug, works perfectly.", "en")[0] == "positive"
    assert evaluate(model, examples(90, seed=99)) >= 0.9


def test_the_stored_model_is_plain_json_and_predicts_exactly_as_before() -> None:
    model = train(examples(300))
    stored = json.loads(json.dumps(model.to_dict()))  # what the database holds: no pickle anywhere
    again = LearnedModel.from_dict(stored)
    texts = ["The lamp arrived dented.", "Great kettle!", "The rug is blue.", "Ich warte noch auf mein Geld."]
    for text in texts:
        before, after = model.predict_proba(text, "en"), again.predict_proba(text, "en")
        assert before.keys() == after.keys() == {"negative", "neutral", "positive"}
        assert all(abs(before[c] - after[c]) < 1e-6 for c in before)
    assert stored["n"] == 300 and stored["classes"] == ["negative", "neutral", "positive"]
    assert all(isinstance(pair, list) and len(pair) == 2 for row in stored["coefficients"] for pair in row)


def test_a_model_of_another_format_is_refused() -> None:
    stored = train(examples(60)).to_dict()
    stored["format"] = 99
    try:
        LearnedModel.from_dict(stored)
    except ValueError as exc:
        assert "format" in str(exc)
    else:
        raise AssertionError("a model of an unknown format was read")


def test_top_terms_name_what_weighs_towards_unhappy_and_happy_per_language() -> None:
    model = train(examples(300))
    terms = model.top_terms("en", 10)
    unhappy = {t for t, _ in terms["unhappy"]}
    happy = {t for t, _ in terms["happy"]}
    assert unhappy & {"late", "missing", "waiting", "hold", "twice", "stopped", "dented", "cancelled"}
    assert happy & {"wonderful", "lovely", "love", "perfectly", "great", "exceeded"}
    assert all(w < 0 for _, w in terms["unhappy"]) and all(w > 0 for _, w in terms["happy"])
    assert model.top_terms("de", 10) == {"unhappy": [], "happy": []}  # no German texts seen


def test_two_labels_are_enough_to_learn_from() -> None:
    model = train([e for e in examples(200) if e.label != "neutral"])
    proba = model.predict_proba("The chair arrived dented.", "en")
    assert set(proba) == {"negative", "positive"} and abs(sum(proba.values()) - 1) < 1e-9
    assert max(proba, key=lambda c: proba[c]) == "negative"


def test_the_analyser_labels_with_the_model_and_keeps_the_lexicon_without_one() -> None:
    model = train(examples(300))
    text = "I spent an hour on hold and my refund is still missing."
    with_model = analyse(text, language="en", model=model)
    assert with_model.label == "negative" and with_model.label_source == "text"
    assert with_model.source == "model" and with_model.confidence > 0.5
    assert analyse(text, language="en") == analyse(text, language="en", model=None)
    # A five-star score against a clear complaint is flagged for a person to look at: the model's reading decides.
    flagged = analyse("The kettle arrived dented and stopped working after 3 days.", score=5, model=model)
    assert flagged.flagged and flagged.label == "positive"
    # A language the model never saw stays with the lexicon.
    german = "Die Lampe kam verbeult an."
    assert analyse(german, language="de", model=model) == analyse(german, language="de")


def test_balanced_accuracy_of_examples_learned_from_a_training_set() -> None:
    learned = examples(240)
    held = [Example(e.text, e.label, e.language) for e in examples(60, seed=3)]
    assert evaluate(learned, held) >= 0.9


def test_the_model_reads_each_clause_for_aspect_sentiment() -> None:
    model = train(examples(300))
    # "arrived dented" carries no opinion word the lexicon knows in this clause; the model learned it is a complaint.
    text = "The blender is wonderful, but the lamp arrived dented."
    lexicon, learned = analyse(text, language="en"), analyse(text, language="en", model=model)
    by_phrase = {a.phrase: a.polarity for a in learned.aspects}
    assert by_phrase["blender"] > 0.3 and by_phrase["lamp"] < -0.3
    assert [a.phrase for a in learned.aspects] == [a.phrase for a in lexicon.aspects]
    assert learned.source == "model" and lexicon.source == "lexicon"
    plain = analyse("The lamp arrived dented and the refund is still missing.", language="en", model=model)
    assert plain.label == "negative" and all(a.polarity < 0 for a in plain.aspects)
