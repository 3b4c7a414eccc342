"""How often does our review label agree with a person's, next to plain TextBlob?

    python -m bench.sentiment_eval [--data tests/data/labelled_reviews.jsonl]

Reads the hand-labelled review set (English and German, one JSON object a line: id, language, text, stars, label)
and labels every review twice:

- `textblob`: `TextBlob(text).sentiment.polarity` > 0.1 positive, < -0.1 negative, else neutral (never mixed),
  with the English lexicon on German text too, as a naive user would do it. This is the baseline.
- `combined`: `feedback.analysis.analyse(text, score=stars, scale=(1, 5), language=language).label`.

It also reports `stars_accuracy`: the stars alone (1–2 negative, 3 neutral, 4–5 positive). The people who
labelled the set read the stars too, so this shows how much of the combined label's agreement the text adds.

Reports accuracy, macro-F1 over the four labels and per-language accuracy; confusion matrices go to stderr. If
`feedback.analysis` cannot be imported, says so on stderr and reports the combined figures as null. Nothing here
downloads data: `.sentiment` needs no NLTK corpora. The last line on stdout is one JSON object; `ratio` is combined
accuracy over baseline accuracy.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from textblob import TextBlob

from bench.harness import ROOT, log

LABELS = ("positive", "neutral", "negative", "mixed")
LANGUAGES = ("en", "de")
DEFAULT_DATA = ROOT / "tests" / "data" / "labelled_reviews.jsonl"
#: Polarity beyond which the baseline calls a text positive or negative.
POLARITY_THRESHOLD = 0.1


@dataclass(frozen=True, slots=True)
class Review:
    id: str
    language: str
    text: str
    stars: int
    label: str


Labeller = Callable[[Review], str]


def load_reviews(path: Path) -> list[Review]:
    """The labelled reviews in `path`, in file order."""
    reviews = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["label"] not in LABELS:
                raise ValueError(f"{path}:{number}: unknown label {row['label']!r}")
            reviews.append(Review(row["id"], row["language"], row["text"], int(row["stars"]), row["label"]))
    return reviews


def textblob_label(review: Review) -> str:
    """The baseline: TextBlob's (English) polarity, thresholded, whatever the language."""
    polarity = TextBlob(review.text).sentiment.polarity
    if polarity > POLARITY_THRESHOLD:
        return "positive"
    if polarity < -POLARITY_THRESHOLD:
        return "negative"
    return "neutral"


def stars_label(review: Review) -> str:
    """What the stars alone say; a reader's label takes them into account, so this is the bar the text must clear."""
    return "negative" if review.stars <= 2 else "neutral" if review.stars == 3 else "positive"


def combined_labeller() -> Labeller | None:
    """Our analyser's label from text, stars and language; None (and why, on stderr) when it cannot be imported."""
    try:
        from feedback.analysis import analyse
    except Exception as exc:  # noqa: BLE001 - any import failure means "not available yet", reported below
        log(f"feedback.analysis is not importable ({type(exc).__name__}: {exc}); reporting the baseline only")
        return None

    def label(review: Review) -> str:
        return str(analyse(review.text, score=review.stars, scale=(1, 5), language=review.language).label)

    return label


# --------------------------------------------------------------------------------------------------------------
# Metrics


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Share of predictions equal to the gold label (0.0 for no reviews)."""
    if not gold:
        return 0.0
    return sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)


def macro_f1(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> float:
    """Unweighted mean of per-label F1 over `labels`; a label never predicted nor present scores 0."""
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def confusion_table(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str] = LABELS) -> str:
    """Rows: the person's label; columns: the predicted one."""
    counts = Counter(zip(gold, predicted, strict=True))
    width = max(len(label) for label in labels) + 2
    lines = ["gold \\ predicted".ljust(width + 8) + "".join(label.rjust(width) for label in labels)]
    for g in labels:
        lines.append(g.ljust(width + 8) + "".join(str(counts[(g, p)]).rjust(width) for p in labels))
    return "\n".join(lines)


def evaluate(name: str, reviews: Sequence[Review], labeller: Labeller) -> dict[str, float]:
    """Label every review, log the confusion matrix and per-language figures, and return the summary numbers."""
    gold = [review.label for review in reviews]
    predicted = [labeller(review) for review in reviews]
    figures = {"accuracy": accuracy(gold, predicted), "macro_f1": macro_f1(gold, predicted)}
    log(f"\n== {name}: accuracy {figures['accuracy']:.3f}, macro-F1 {figures['macro_f1']:.3f}")
    log(confusion_table(gold, predicted))
    for language in LANGUAGES:
        pairs = [(g, p) for review, g, p in zip(reviews, gold, predicted, strict=True) if review.language == language]
        lang_gold = [g for g, _ in pairs]
        lang_predicted = [p for _, p in pairs]
        figures[f"{language}_accuracy"] = accuracy(lang_gold, lang_predicted)
        figures[f"{language}_macro_f1"] = macro_f1(lang_gold, lang_predicted)
        log(
            f"   {language}: {len(pairs)} reviews, accuracy {figures[f'{language}_accuracy']:.3f}, "
            f"macro-F1 {figures[f'{language}_macro_f1']:.3f}"
        )
    return figures


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def run(args: argparse.Namespace) -> dict[str, object]:
    reviews = load_reviews(args.data)
    by_language = Counter(review.language for review in reviews)
    log(f"{len(reviews)} labelled reviews from {args.data} ({dict(by_language)})")
    baseline = evaluate("plain TextBlob", reviews, textblob_label)
    stars = evaluate("stars alone", reviews, stars_label)
    labeller = combined_labeller()
    combined = evaluate("combined (feedback.analysis)", reviews, labeller) if labeller else {}
    ratio = combined["accuracy"] / baseline["accuracy"] if combined and baseline["accuracy"] else None
    return {
        "bench": "sentiment_eval",
        "reviews": len(reviews),
        "textblob_accuracy": rounded(baseline["accuracy"]),
        "combined_accuracy": rounded(combined.get("accuracy")),
        "textblob_macro_f1": rounded(baseline["macro_f1"]),
        "combined_macro_f1": rounded(combined.get("macro_f1")),
        "stars_accuracy": rounded(stars["accuracy"]),
        "stars_macro_f1": rounded(stars["macro_f1"]),
        "en_textblob_accuracy": rounded(baseline["en_accuracy"]),
        "de_textblob_accuracy": rounded(baseline["de_accuracy"]),
        "en_combined_accuracy": rounded(combined.get("en_accuracy")),
        "de_combined_accuracy": rounded(combined.get("de_accuracy")),
        "ratio": rounded(ratio),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sentiment_eval", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="labelled reviews, one JSON object a line")
    args = parser.parse_args(argv)
    print(json.dumps(run(args)), flush=True)


if __name__ == "__main__":
    main()
