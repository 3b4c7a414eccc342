"""The hand-labelled review set that `bench.sentiment_eval` measures against is whole and well-formed."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "labelled_reviews.jsonl"
LABELS = {"positive", "neutral", "negative", "mixed"}
LANGUAGES = {"en", "de"}


@pytest.fixture(scope="module")
def reviews() -> list[dict[str, Any]]:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_every_line_is_a_complete_review(reviews: list[dict[str, Any]]) -> None:
    for review in reviews:
        assert set(review) == {"id", "language", "text", "stars", "label"}, review
        assert review["language"] in LANGUAGES, review
        assert review["label"] in LABELS, review
        assert isinstance(review["stars"], int) and 1 <= review["stars"] <= 5, review
        assert isinstance(review["text"], str) and review["text"].strip(), review
        assert review["id"].startswith(f"{review['language']}-"), review


def test_set_has_at_least_300_reviews(reviews: list[dict[str, Any]]) -> None:
    assert len(reviews) >= 300


def test_ids_and_texts_are_unique(reviews: list[dict[str, Any]]) -> None:
    ids = [review["id"] for review in reviews]
    assert len(ids) == len(set(ids))
    keys = [(review["language"], review["text"]) for review in reviews]
    assert len(keys) == len(set(keys))


def test_both_languages_have_at_least_100_reviews(reviews: list[dict[str, Any]]) -> None:
    counts = Counter(review["language"] for review in reviews)
    assert all(counts[language] >= 100 for language in LANGUAGES), counts


def test_every_label_and_star_count_is_present(reviews: list[dict[str, Any]]) -> None:
    assert {review["label"] for review in reviews} == LABELS
    assert {review["stars"] for review in reviews} == {1, 2, 3, 4, 5}


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_each_language_has_all_four_labels(reviews: list[dict[str, Any]], language: str) -> None:
    assert {review["label"] for review in reviews if review["language"] == language} == LABELS


def test_sentiment_eval_reports_every_labeller_overall_and_per_language() -> None:
    from bench.sentiment_eval import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["--data", str(DATA)])
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    keys = ("textblob_acc", "ours_text_acc", "ours_combined_acc")
    assert report["bench"] == "sentiment_eval" and report["n"] >= 300
    assert set(report["per_language"]) == LANGUAGES
    assert sum(part["n"] for part in report["per_language"].values()) == report["n"]
    assert all(0 <= report["per_language"][lang][key] <= 1 for lang in LANGUAGES for key in keys)
    assert report["ratio"] == pytest.approx(report["ours_combined_acc"] / report["textblob_acc"], abs=0.01)
    # Regression bars: the words alone beat plain TextBlob, and text with stars beats the stars alone.
    assert report["ours_text_acc"] > report["textblob_acc"] + 0.2
    assert report["ours_combined_acc"] > report["stars_acc"]
    assert report["ours_combined_macro_f1"] > report["stars_macro_f1"]


def test_accuracy_and_macro_f1_count_what_they_should() -> None:
    from bench.sentiment_eval import accuracy, macro_f1

    gold = ["positive", "negative", "mixed", "neutral"]
    assert accuracy(gold, gold) == 1.0 and macro_f1(gold, gold) == 1.0
    assert accuracy(gold, ["positive", "positive", "positive", "positive"]) == 0.25
    assert macro_f1(gold, ["positive", "positive", "positive", "positive"]) == (2 / 5) / 4
    assert accuracy([], []) == 0.0
