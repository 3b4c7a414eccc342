"""How often does our review label agree with a person's, next to plain TextBlob and the stars alone?

    python -m bench.sentiment_eval [--data tests/data/labelled_reviews.jsonl]

Reads the hand-labelled review set (English and German, one JSON object a line: id, language, text, stars, label)
and labels every review four ways in one run:

- `textblob`: `TextBlob(text).sentiment.polarity` > 0.1 positive, < -0.1 negative, else neutral (never mixed),
  with the English lexicon on German text too, as a naive user would do it. This is the baseline.
- `ours_text`: `feedback.analysis.analyse(text, language=language).label`, from the text alone (no stars): what
  the analyser reads in the words. An empty label (no opinion word found) counts as wrong.
- `ours_combined`: `analyse(text, score=stars, scale=(1, 5), language=language).label`, the label staff see.
- `stars`: the stars alone (1–2 negative, 3 neutral, 4–5 positive, never mixed).

The people who labelled the set read the stars too (tests/data/README.md), so `stars` agrees with them most of the
time by construction and is the bar the combined label must clear; `ours_text` is the fair comparison with
`textblob`, since neither sees the stars.

Reports accuracy and macro-F1 over the four labels, overall and per language with `n`; confusion matrices go to
stderr. Nothing here downloads data: `.sentiment` needs no NLTK corpora. The last line on stdout is one JSON
object; `ratio` is ours_combined accuracy over textblob accuracy.
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
from feedback.analysis import analyse

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


def text_label(review: Review) -> str:
    """Our analyser from the words alone, with the language as a hint (a survey page knows it)."""
    return analyse(review.text, language=review.language).label


def combined_label(review: Review) -> str:
    """Our analyser's label from text, stars and language: what staff see."""
    return analyse(review.text, score=review.stars, scale=(1, 5), language=review.language).label


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
    """Rows: the person's label; columns: the predicted one ("none": no label, when there was nothing to go on)."""
    counts = Counter(zip(gold, predicted, strict=True))
    columns = [*labels, ""] if "" in predicted else list(labels)
    width = max(len(label) for label in labels) + 2
    head = "".join((label or "none").rjust(width) for label in columns)
    lines = ["gold \\ predicted".ljust(width + 8) + head]
    for g in labels:
        lines.append(g.ljust(width + 8) + "".join(str(counts[(g, p)]).rjust(width) for p in columns))
    return "\n".join(lines)


def evaluate(name: str, reviews: Sequence[Review], labeller: Labeller) -> dict[str, dict[str, float]]:
    """Label every review, log the confusion matrix, and return accuracy, macro-F1 and `n`, overall ("all") and
    per language."""
    predicted = [labeller(review) for review in reviews]
    figures: dict[str, dict[str, float]] = {}
    for language in ("all", *LANGUAGES):
        pairs = [(r.label, p) for r, p in zip(reviews, predicted, strict=True) if language in ("all", r.language)]
        gold, guessed = [g for g, _ in pairs], [p for _, p in pairs]
        figures[language] = {"n": len(pairs), "acc": accuracy(gold, guessed), "macro_f1": macro_f1(gold, guessed)}
    overall = figures["all"]
    log(f"\n== {name}: accuracy {overall['acc']:.3f}, macro-F1 {overall['macro_f1']:.3f}")
    log(confusion_table([r.label for r in reviews], predicted))
    for language in LANGUAGES:
        part = figures[language]
        log(f"   {language}: {part['n']} reviews, accuracy {part['acc']:.3f}, macro-F1 {part['macro_f1']:.3f}")
    return figures


def run(args: argparse.Namespace) -> dict[str, object]:
    reviews = load_reviews(args.data)
    log(f"{len(reviews)} labelled reviews from {args.data} ({dict(Counter(review.language for review in reviews))})")
    labellers = {"textblob": textblob_label, "ours_text": text_label, "ours_combined": combined_label}
    names = {"textblob": "plain TextBlob", "ours_text": "ours, text alone", "ours_combined": "ours, text + stars"}
    found = {key: evaluate(names[key], reviews, labeller) for key, labeller in labellers.items()}
    stars = evaluate("stars alone", reviews, stars_label)
    per_language = {
        language: {"n": found["textblob"][language]["n"]}
        | {f"{key}_acc": round(found[key][language]["acc"], 3) for key in labellers}
        | {f"{key}_macro_f1": round(found[key][language]["macro_f1"], 3) for key in labellers}
        | {"stars_acc": round(stars[language]["acc"], 3)}
        for language in LANGUAGES
    }
    baseline = found["textblob"]["all"]["acc"]
    return {
        "bench": "sentiment_eval",
        "n": len(reviews),
        **{f"{key}_acc": round(found[key]["all"]["acc"], 3) for key in labellers},
        "stars_acc": round(stars["all"]["acc"], 3),
        **{f"{key}_macro_f1": round(found[key]["all"]["macro_f1"], 3) for key in labellers},
        "stars_macro_f1": round(stars["all"]["macro_f1"], 3),
        "per_language": per_language,
        "ratio": round(found["ours_combined"]["all"]["acc"] / baseline, 3) if baseline else None,
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
