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


def test_sentiment_eval_reports_each_labeller_on_the_set() -> None:
    from bench.sentiment_eval import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["--sets", "labelled_reviews"])
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    figures = report["sets"]["labelled_reviews"]
    assert report["bench"] == "sentiment_eval" and figures["n"] == len(DATA.read_text(encoding="utf-8").splitlines())
    assert figures["classes"] == ["positive", "neutral", "negative", "mixed"]
    for labeller in ("textblob", "vader", "lexicon"):
        assert 0 <= figures[labeller]["balanced_accuracy"] <= 1 and 0 <= figures[labeller]["macro_f1"] <= 1
    assert report["ratio"] == pytest.approx(
        figures["lexicon"]["balanced_accuracy"] / figures["textblob"]["balanced_accuracy"], abs=0.01
    )
    # A regression bar on the set the vocabulary was written for: the words alone beat plain TextBlob.
    assert figures["lexicon"]["balanced_accuracy"] > figures["textblob"]["balanced_accuracy"]


def test_balanced_accuracy_and_macro_f1_count_what_they_should() -> None:
    from bench.sentiment_eval import balanced_accuracy, macro_f1

    classes = ["positive", "negative"]
    gold = ["positive", "positive", "positive", "negative"]
    assert balanced_accuracy(gold, gold, classes) == 1.0 and macro_f1(gold, gold, classes) == 1.0
    # Always "positive": every positive found, no negative: half, however many positives there are.
    assert balanced_accuracy(gold, ["positive"] * 4, classes) == 0.5
    assert macro_f1(gold, ["positive"] * 4, classes) == pytest.approx((6 / 7) / 2)
    # A label outside the set's classes ("mixed", or "" for none) is a miss, never a hit.
    assert balanced_accuracy(gold, ["mixed", "", "positive", "negative"], classes) == pytest.approx((1 / 3 + 1) / 2)
    assert balanced_accuracy([], [], classes) == 0.0


def test_metrics_agree_with_scikit_learn() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    from bench.sentiment_eval import balanced_accuracy, macro_f1

    gold = ["positive", "negative", "neutral", "positive", "negative", "neutral", "positive"]
    guess = ["positive", "neutral", "neutral", "negative", "negative", "positive", "mixed"]
    classes = ["positive", "neutral", "negative"]
    assert balanced_accuracy(gold, guess, classes) == pytest.approx(
        metrics.recall_score(gold, guess, labels=classes, average="macro")
    )
    assert macro_f1(gold, guess, classes) == pytest.approx(
        metrics.f1_score(gold, guess, labels=classes, average="macro")
    )
