"""The free-text analyser: language, sentiment with the score, mixed and contradicting answers, topics, CLI."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from afterglow.cli import main
from feedback.analysis import analyse, as_json
from feedback.analysis.label import normalise_score
from feedback.analysis.language import detect_language
from feedback.analysis.topics import topic_for


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


def test_later_clause_after_but_weighs_more() -> None:
    result = analyse("The colour is nice but the zipper is broken and useless.")
    assert result.polarity is not None and result.polarity < 0


def test_clearly_disagreeing_sentences_are_mixed() -> None:
    result = analyse("The screen is gorgeous. The battery life is terrible.")
    assert result.label == "mixed"
    assert [s.polarity > 0 for s in result.sentences] == [True, False]


def test_a_clear_score_settles_a_mixed_text() -> None:
    assert analyse("The screen is gorgeous. The battery life is terrible.", score=1).label == "negative"


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


def test_language_hint_wins_over_detection() -> None:
    result = analyse("The product is great.", language="hu-HU", score=4)
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


def test_empty_text_with_a_score_is_labelled_from_the_score() -> None:
    result = analyse("  ", score=5)
    assert (result.label, result.label_source, result.polarity, result.sentences) == ("positive", "score", None, ())
    assert analyse("").label == ""


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
        "language", "polarity", "subjectivity", "label", "topics", "label_source", "flagged", "aspects", "sentences"
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
