"""Labels people can trust (never empty; "mixed" only when neither side outweighs the other; the conclusion counts
more; where the label came from and how sure it is) and the language read from the text, not the locale."""

from __future__ import annotations

import json

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.analysis import analyse
from feedback.analysis.label import combine
from feedback.policy import LABELS
from operations.cli import main


def test_an_english_text_from_a_german_locale_customer_is_read_as_english() -> None:
    result = analyse("The lamp arrived quickly but the box was dented.", language="de-DE")
    assert result.language == "en"
    assert result.label in {"negative", "mixed"}
    assert "packaging" in result.topics and result.source == "lexicon"


def test_a_german_text_from_an_english_locale_customer_is_read_as_german() -> None:
    result = analyse("Die Lieferung war leider sehr spät und der Karton war kaputt.", language="en")
    assert (result.language, result.label) == ("de", "negative")


def test_a_text_too_short_to_tell_takes_the_locale() -> None:
    assert analyse("Super!", language="de").language == "de"
    assert analyse("Klare Kaufempfehlung!", language="de").label == "positive"


def test_a_text_in_a_language_without_a_lexicon_is_recognised_and_labelled_from_the_score() -> None:
    result = analyse("Il prodotto è arrivato rotto e la scatola era danneggiata, molto deluso.", score=1)
    assert (result.language, result.polarity, result.label_source) == ("it", None, "score")
    assert (result.label, result.source) == ("negative", "score")


def test_the_clause_after_but_outweighs_praise_before_it() -> None:
    # Both sides are strong; the complaint after "but" weighs more, yet not so much that the praise is nothing.
    result = analyse("Great quality, but the chair was hard to assemble.")
    assert result.label == "mixed"
    assert result.polarity is not None and result.polarity < 0


def test_a_long_review_that_lists_drawbacks_and_ends_with_a_verdict_takes_the_verdict() -> None:
    text = (
        "The cable is too short. The lid is a bit flimsy and the manual is useless. Setup took forever. "
        "But it works, I'd buy it again."
    )
    assert analyse(text).label == "positive"


def test_two_sentences_of_equal_weight_on_opposite_sides_stay_mixed() -> None:
    assert analyse("The screen is gorgeous. The battery life is terrible.").label == "mixed"


def test_a_text_that_leans_clearly_is_not_mixed() -> None:
    assert analyse("The colour is nice but the zipper is broken and useless.").label == "negative"


def test_source_and_confidence_say_where_a_label_came_from() -> None:
    read = analyse("The delivery was terribly slow.")
    assert read.source == "lexicon" and 0.5 <= read.confidence <= 1
    unsure = analyse("I ordered a lamp.")
    assert (unsure.label, unsure.source) == ("neutral", "lexicon") and unsure.confidence < 0.5
    scored = analyse("", score=1)
    assert (scored.label, scored.source) == ("negative", "score") and 0 < scored.confidence <= 1


def test_cli_lines_carry_source_and_confidence() -> None:
    lines = "\n".join(json.dumps(x) for x in ({"text": "Where is my order?"}, {"text": "", "score": 5}))
    result = CliRunner().invoke(main, ["analyse", "-"], input=lines + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["label"], o["source"]) for o in out] == [("negative", "lexicon"), ("positive", "score")]
    assert all(0 <= o["confidence"] <= 1 for o in out)


EDGE_CASES = ["", "   ", "😀😀😀", "👍", "12345", "5/5", "!!!", "Gyors szállítás.", "Très bien", "ok", "???", "-"]


def test_edge_cases_get_a_label() -> None:
    for text in EDGE_CASES:
        for score in (None, 1, 3, 5):
            result = analyse(text, score=score)
            assert result.label in LABELS, (text, score)
            assert 0 <= result.confidence <= 1


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(max_size=120),
    score=st.one_of(st.none(), st.integers(min_value=1, max_value=5)),
    language=st.sampled_from([None, "en", "de", "hu", "fr-FR", "xx"]),
)
def test_no_label_is_ever_empty(text: str, score: int | None, language: str | None) -> None:
    result = analyse(text, score=score, language=language)
    assert result.label in LABELS
    assert result.source in {"lexicon", "model", "score"} and 0 <= result.confidence <= 1


@settings(max_examples=150, deadline=None)
@given(
    polarity=st.one_of(st.none(), st.floats(min_value=-1, max_value=1)),
    mixed=st.booleans(),
    torn=st.booleans(),
    score=st.one_of(st.none(), st.floats(min_value=-1, max_value=1)),
)
def test_combine_never_returns_an_empty_label(
    polarity: float | None, mixed: bool, torn: bool, score: float | None
) -> None:
    verdict = combine(polarity, mixed, score, torn=torn)
    assert verdict.label in LABELS and 0 <= verdict.confidence <= 1
