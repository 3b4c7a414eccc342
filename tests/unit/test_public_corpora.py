"""The public corpus samples and the held-out set in tests/data are whole, well-formed, apart, and as the README
says; the measuring bench reads them all."""

from __future__ import annotations

import contextlib
import io
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
LABELS = {"positive", "neutral", "negative", "mixed"}
REQUIRED = {"id", "language", "text", "label", "source"}
#: file → (id prefix, the source field, counts per (language, label)): the figures in tests/data/README.md.
FILES: dict[str, tuple[str, set[str], dict[tuple[str, str], int]]] = {
    "corpus_uci_yelp.jsonl": ("uci-yelp-", {"uci-yelp"}, {("en", "positive"): 499, ("en", "negative"): 497}),
    "corpus_uci_amazon.jsonl": ("uci-amazon-", {"uci-amazon"}, {("en", "positive"): 491, ("en", "negative"): 496}),
    "corpus_vader_amazon.jsonl": (
        "vader-amazon-",
        {"vader-amazon"},
        {("en", "positive"): 300, ("en", "neutral"): 300, ("en", "negative"): 300},
    ),
    "heldout_labelled.jsonl": (
        "ho-",
        {"vader-amazon-unsampled", "written-here"},
        {
            ("en", "positive"): 38,
            ("en", "neutral"): 19,
            ("en", "negative"): 43,
            ("en", "mixed"): 5,
            ("de", "positive"): 32,
            ("de", "neutral"): 16,
            ("de", "negative"): 48,
            ("de", "mixed"): 10,
        },
    ),
}


def rows(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_line_is_a_complete_labelled_text(name: str) -> None:
    prefix, sources, _ = FILES[name]
    for row in rows(name):
        assert REQUIRED <= set(row) <= REQUIRED | {"score"}, row
        assert row["id"].startswith(prefix), row
        assert row["language"] in {"en", "de"} and row["label"] in LABELS and row["source"] in sources, row
        assert isinstance(row["text"], str) and row["text"].strip() == row["text"] and row["text"], row


@pytest.mark.parametrize("name", sorted(FILES))
def test_ids_and_texts_are_unique(name: str) -> None:
    found = rows(name)
    assert len({row["id"] for row in found}) == len(found)
    assert len({row["text"].lower() for row in found}) == len(found)


@pytest.mark.parametrize("name", sorted(FILES))
def test_counts_are_what_the_readme_says(name: str) -> None:
    counts = Counter((row["language"], row["label"]) for row in rows(name))
    assert counts == FILES[name][2]
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    assert f"`{name}`" in readme and f"| {sum(counts.values())} |" in readme


def test_vader_scores_agree_with_their_labels() -> None:
    from bench.corpus_samples import vader_label

    for row in rows("corpus_vader_amazon.jsonl"):
        assert -4 <= row["score"] <= 4 and vader_label(row["score"]) == row["label"], row


def test_heldout_set_is_both_languages_and_shares_no_text_with_the_measuring_sets() -> None:
    heldout = rows("heldout_labelled.jsonl")
    counts = Counter(row["language"] for row in heldout)
    assert len(heldout) >= 200 and all(90 <= counts[language] <= 120 for language in ("en", "de")), counts
    assert all("score" not in row and "stars" not in row for row in heldout)
    measured = {row["text"].lower() for name in FILES if name != "heldout_labelled.jsonl" for row in rows(name)}
    measured |= {row["text"].lower() for row in rows("labelled_reviews.jsonl")}
    assert not measured & {row["text"].lower() for row in heldout}


def test_halves_are_fixed_stratified_and_disjoint() -> None:
    from bench.sentiment_sets import read_jsonl, split_halves

    texts = read_jsonl(DATA / "heldout_labelled.jsonl")
    train, test = split_halves(texts)
    assert (train, test) == split_halves(texts)
    assert not {t.id for t in train} & {t.id for t in test} and len(train) + len(test) == len(texts)
    for key, count in Counter((t.label, t.language) for t in texts).items():
        assert sum((t.label, t.language) == key for t in train) == count // 2


def test_bench_reports_every_labeller_on_each_set_it_can_read(tmp_path: Path) -> None:
    from bench.sentiment_eval import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["--sets", "heldout", "pattern_de", "--pattern-de", str(tmp_path / "absent.csv")])
    report = json.loads(out.getvalue().strip().splitlines()[-1])
    assert list(report["sets"]) == ["heldout"] and report["unavailable"]["pattern_de"].startswith("not available")
    heldout = report["sets"]["heldout"]
    assert heldout["n"] == len(rows("heldout_labelled.jsonl")) and heldout["classes"] == [
        "positive",
        "neutral",
        "negative",
        "mixed",
    ]
    model = heldout["model"]  # a string saying why where feedback.analysis.learned cannot be imported
    if isinstance(model, dict):
        assert model["n"] + model["n_train"] == heldout["n"] and 0 <= model["balanced_accuracy"] <= 1
    else:
        assert model.startswith("not available")
    assert report["ratio"] == pytest.approx(
        heldout["lexicon"]["balanced_accuracy"] / heldout["textblob"]["balanced_accuracy"], abs=0.01
    )
