"""The free-text analyser: language, sentiment with the score, mixed and contradicting answers, topics, CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from textblob import TextBlob

from feedback.analysis import analyse, as_json
from feedback.analysis.label import normalise_score
from feedback.analysis.language import detect_language
from feedback.analysis.topics import topic_for
from operations.cli import main


def test_negation_turns_good_into_negative() -> None:
    result = analyse("The product is not good.")
    assert result.language == "en"
    assert result.polarity is not None and result.polarity < 0
    assert (result.label, result.label_source) == ("negative", "text")


def test_text_praising_against_one_star_is_flagged_and_follows_the_score() -> None:
    result = analyse("I love it, absolutely perfect!", score=1)
    assert result.flagged
    assert (result.label, result.label_source) == ("negative", "text+score")


def test_praise_that_breaks_after_a_day_with_one_star_is_negative() -> None:
    result = analyse("great, it broke after a day", score=1)
    assert result.label == "negative"
    assert result.label_source == "text+score"


def test_not_bad_is_mild_praise() -> None:
    result = analyse("Not bad at all.")
    assert result.polarity is not None and 0 < result.polarity < 0.5
    assert result.label == "positive"


def test_no_complaints_is_praise() -> None:
    assert analyse("No complaints.").label == "positive"
    assert analyse("I can't complain.").label == "positive"


def test_a_contraction_negates_like_not() -> None:
    # TextBlob's tokeniser spaces the apostrophe off ("is n ' t") and reads "isn't good" as praise.
    assert TextBlob("It isn't good.").sentiment.polarity > 0
    result = analyse("It isn't good.")
    assert (result.label, result.sentences[0].text) == ("negative", "It isn't good.")
    assert analyse("Doesn't work.").label == "negative"
    assert analyse("I'm sure we'll love it, it's great.").sentences[0].text == "I'm sure we'll love it, it's great."


def test_a_negation_reaches_past_small_words_to_its_opinion_word() -> None:
    assert analyse("Never had a problem with this shop.").label == "positive"


def test_german_nicht_gut_is_negative_and_nicht_schlecht_positive() -> None:
    assert analyse("Nicht gut.", language="de").label == "negative"
    assert analyse("Nicht schlecht!", language="de").label == "positive"


def test_german_negation_at_the_end_of_a_clause_turns_the_verb_before_it() -> None:
    assert analyse("Gefällt mir nicht.", language="de").label == "negative"
    assert analyse("Funktioniert leider nicht.", language="de").label == "negative"
    assert analyse("Passt perfekt.", language="de").label == "positive"


def test_german_inflected_adjectives_are_read_by_their_base_form() -> None:
    for text in ("Mieser Service.", "Schlechtester Einkauf überhaupt.", "Ein kaputtes Gerät."):
        result = analyse(text, language="de")
        assert result.polarity is not None and result.polarity < 0, text
    assert analyse("Tolles Display, schnelle Lieferung.", language="de").label == "positive"


def test_too_long_is_a_complaint_in_either_language() -> None:
    assert analyse("The sleeves are far too long.").label == "negative"
    assert analyse("Die Ärmel sind viel zu lang.", language="de").label == "negative"


def test_text_complaining_against_five_stars_is_flagged_and_follows_the_score() -> None:
    result = analyse("Terrible quality, it broke after a day.", score=5)
    assert result.flagged
    assert (result.label, result.label_source) == ("positive", "text+score")


def test_text_and_score_that_agree_are_not_flagged() -> None:
    result = analyse("Terrible quality, it broke after a day.", score=1)
    assert (result.label, result.flagged) == ("negative", False)


def test_later_clause_after_but_weighs_more() -> None:
    result = analyse("The colour is nice but the zipper is broken and useless.")
    assert result.polarity is not None and result.polarity < 0


def test_clearly_disagreeing_sentences_are_mixed() -> None:
    result = analyse("The screen is gorgeous. The battery life is terrible.")
    assert result.label == "mixed"
    assert [s.polarity > 0 for s in result.sentences] == [True, False]


def test_a_clear_score_settles_a_mixed_text() -> None:
    assert analyse("The screen is gorgeous. The battery life is terrible.", score=1).label == "negative"


def test_a_middle_score_leaves_a_mixed_text_mixed() -> None:
    for score in (2, 3, 4):
        result = analyse("The screen is gorgeous. The battery life is terrible.", score=score)
        assert (result.label, result.flagged) == ("mixed", False), score
    assert analyse("The screen is gorgeous. The battery life is terrible.", score=5).label == "positive"


def test_german_positive_text_is_scored_with_the_german_lexicon() -> None:
    result = analyse("Die Lieferung war sehr schnell und das Produkt ist toll.")
    assert result.language == "de"
    assert result.polarity is not None and result.polarity > 0.1
    assert result.label == "positive"


def test_german_negative_and_negated_text_is_negative() -> None:
    assert analyse("Das Produkt ist schlecht.").label == "negative"
    assert analyse("Die Qualität ist nicht gut.", language="de").label == "negative"


def test_hungarian_text_gets_the_score_label_and_no_polarity() -> None:
    result = analyse("A szállítás nagyon lassú volt, és a termék sérült.", score=2)
    assert result.language == "hu"
    assert (result.polarity, result.subjectivity) == (None, None)
    assert (result.label, result.label_source) == ("negative", "score")


def test_french_text_is_labelled_from_the_score_never_with_the_english_lexicon() -> None:
    # "super" and "horrible" are English lexicon words too; French text must not be read with it.
    text = "Produit super, mais la livraison était horrible et le colis est arrivé très tard."
    result = analyse(text, score=2)
    assert result.language == "fr"
    assert (result.polarity, result.subjectivity, result.sentences, result.aspects) == (None, None, (), ())
    assert (result.label, result.label_source, result.flagged) == ("negative", "score", False)
    # No score, no lexicon: "neutral" with no confidence rather than a guess (never an empty label).
    nothing = analyse(text)
    assert (nothing.label, nothing.source, nothing.confidence) == ("neutral", "score", 0.0)


def test_hungarian_text_without_a_score_is_neutral_with_no_confidence() -> None:
    result = analyse("A termék szuper, nagyon jó minőség.", language="hu")
    assert (result.language, result.polarity, result.label, result.label_source) == ("hu", None, "neutral", "")
    assert result.confidence == 0.0


def test_the_texts_own_language_wins_over_the_locale_where_it_is_clear() -> None:
    result = analyse("The product is great.", language="hu-HU", score=4)
    assert result.language == "en"
    assert result.polarity is not None and result.label_source == "text+score"


def test_the_locale_decides_where_the_text_is_too_short_to_tell() -> None:
    result = analyse("Nagyon jó!", language="hu-HU", score=4)
    assert result.language == "hu"
    assert result.polarity is None and result.label_source == "score"


def test_detects_english_german_and_hungarian() -> None:
    assert detect_language("The parcel was on time and the box was fine.") == "en"
    assert detect_language("Das Paket kam pünktlich und die Verpackung war gut.") == "de"
    assert detect_language("Nagyon jó volt a termék, és gyors a szállítás.") == "hu"
    assert detect_language("12345") == ""


def test_late_delivery_driver_is_a_negative_delivery_aspect() -> None:
    result = analyse("The delivery driver was late and rude!")
    assert result.topics == ("delivery",)
    aspect = result.aspects[0]
    assert (aspect.phrase, aspect.topic) == ("delivery driver", "delivery")
    assert aspect.polarity < 0


def test_terrible_battery_life_is_negative_product_quality() -> None:
    result = analyse("The battery life is terrible.")
    assert [(a.phrase, a.topic) for a in result.aspects] == [("battery life", "product quality")]
    assert result.aspects[0].polarity < 0


def test_each_aspect_takes_the_sentiment_of_its_own_clause() -> None:
    result = analyse("The battery life is terrible but the screen is gorgeous.")
    assert result.topics == ("product quality",)
    by_phrase = {a.phrase: a for a in result.aspects}
    assert set(by_phrase) == {"battery life", "screen"}
    assert by_phrase["battery life"].topic == by_phrase["screen"].topic == "product quality"
    assert by_phrase["battery life"].polarity < 0 < by_phrase["screen"].polarity


def test_rude_delivery_driver_is_negative_delivery() -> None:
    result = analyse("The delivery driver was rude.")
    assert [(a.phrase, a.topic) for a in result.aspects] == [("delivery driver", "delivery")]
    assert result.aspects[0].polarity < 0
    assert result.label == "negative"


def test_a_long_german_delivery_time_is_negative_delivery() -> None:
    result = analyse("Die Lieferzeit war zu lang.")
    assert (result.language, result.topics, result.label) == ("de", ("delivery",), "negative")
    assert [(a.phrase, a.topic) for a in result.aspects] == [("Lieferzeit", "delivery")]
    assert result.aspects[0].polarity < 0


def test_a_german_compound_noun_takes_the_opinion_of_its_last_part() -> None:
    assert analyse("Klare Kaufempfehlung!", language="de").label == "positive"
    assert analyse("Totales Lieferchaos.", language="de").label == "negative"


def test_german_compounds_and_participles_match_delivery_by_stem() -> None:
    for word in ("Lieferung", "Lieferzeit", "geliefert"):
        assert topic_for(word, "de") == "delivery"
    result = analyse("Die Lieferzeit war zu lang. Der Preis ist gut.")
    assert result.topics == ("delivery", "price")


def test_short_english_keywords_do_not_match_longer_words() -> None:
    assert topic_for("apparently", "en") is None
    assert topic_for("app", "en") == "website/checkout"


def test_same_input_gives_the_same_analysis() -> None:
    text = "Great shoes, but the size runs small. Refund was quick."
    assert as_json(analyse(text, score=3)) == as_json(analyse(text, score=3))


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("The battery life is terrible but the screen is gorgeous.", 3),
        ("Die Lieferzeit war zu lang. Der Preis ist gut.", 4),
        ("Nagyon jó", 5),
        ("Great, it broke after a day.", None),
    ],
)
def test_analysing_twice_gives_identical_tags(text: str, score: int | None) -> None:
    assert analyse(text, score=score) == analyse(text, score=score)


def test_empty_text_with_a_score_is_labelled_from_the_score() -> None:
    result = analyse("  ", score=5)
    assert (result.label, result.label_source, result.polarity, result.sentences) == ("positive", "score", None, ())
    assert (analyse("").label, analyse("").confidence) == ("neutral", 0.0)


def test_scores_normalise_for_stars_and_nps() -> None:
    assert [normalise_score(s, (1, 5)) for s in range(1, 6)] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert normalise_score(0, (0, 10)) == -1.0
    assert normalise_score(6, (0, 10)) < 0
    assert normalise_score(7, (0, 10)) == normalise_score(8, (0, 10)) == 0.0
    assert normalise_score(9, (0, 10)) > 0
    with pytest.raises(ValueError):
        normalise_score(6, (1, 5))


def test_nps_passive_answer_with_neutral_text_is_neutral() -> None:
    assert analyse("", score=7, scale=(0, 10)).label == "neutral"


def test_as_json_has_the_agreed_keys() -> None:
    data = as_json(analyse("The delivery was fast.", score=5))
    assert set(data) == {
        "language", "polarity", "subjectivity", "label", "topics", "label_source", "flagged", "aspects", "sentences",
        "source", "confidence",
    }  # fmt: skip
    assert data["aspects"][0] == {
        "phrase": "delivery",
        "topic": "delivery",
        "polarity": data["sentences"][0]["polarity"],
    }
    json.dumps(data)


def test_nothing_is_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the analyser tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert analyse("Das Paket war beschädigt. The refund was slow.").sentences


def test_cli_analyses_a_file_of_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "comments.jsonl"
    lines = [
        {"text": "The battery life is terrible.", "score": 1},
        {"text": "Super Qualität, schnelle Lieferung", "score": 10, "scale": [0, 10]},
        {"text": "Nagyon jó", "score": 5, "language": "hu"},
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["analyse", str(path)])
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["language"], o["label"]) for o in out] == [("en", "negative"), ("de", "positive"), ("hu", "positive")]
    assert out[0]["topics"] == ["product quality"]
    assert out[2]["polarity"] is None


def test_cli_reads_stdin_and_names_bad_lines(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        '{"text": "Great product!", "score": 5}\nnot json\n{"text": 3}\n{"text": "ok", "score": 11, "scale": [0, 10]}\n'
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    with pytest.raises(SystemExit) as exit_info:
        main(["analyse", "-"])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert [json.loads(line)["label"] for line in captured.out.splitlines()] == ["positive"]
    assert "line 2" in captured.err and "line 3" in captured.err and "line 4" in captured.err


@pytest.mark.parametrize(
    "text",
    [
        "The shipping costs are far too high for small orders.",
        "Too many emails after the order.",
        "Die Versandkosten sind leider viel zu hoch für kleine Bestellungen.",
    ],
)
def test_too_much_of_a_plain_quantity_is_a_complaint(text: str) -> None:
    assert analyse(text).label == "negative"


def test_too_good_stays_praise() -> None:
    assert analyse("Honestly too good to be true, love it.").label == "positive"
