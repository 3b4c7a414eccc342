"""How many scored texts the learned model needs before it reads them better than the lexicon (MIN_EXAMPLES in
feedback.services.learning), and how long learning from 100,000 texts takes.

    python -m bench.learning_curve

For each labelled set in tests/data: learn from n texts (several random draws), measure balanced accuracy on texts
not drawn, next to the lexicon's on the same texts. Then time `train` on 100,000 texts made of those sets'
sentences. The sets are measured here, never tuned on."""

from __future__ import annotations

import json
import random
import statistics
import time
from pathlib import Path

from feedback.analysis.learned import Example, balanced_accuracy, evaluate, train
from feedback.services.learning import label_from_score, lexicon_label

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
SIZES = (25, 50, 100, 200, 400, 800)
DRAWS = 5
TEST_MAX = 400


def _read(name: str) -> list[Example]:
    found = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        label = row.get("label") if "stars" not in row else label_from_score(row["stars"], (1, 5))
        if label in ("positive", "neutral", "negative"):
            found.append(Example(row["text"], label, row.get("language", "en")))
    return found


def _sets() -> dict[str, list[Example]]:
    names = {"labelled reviews (stars)": "labelled_reviews.jsonl"}
    names.update({p.stem.removeprefix("corpus_"): p.name for p in sorted(DATA.glob("corpus_*.jsonl"))})
    return {title: _read(name) for title, name in names.items() if (DATA / name).exists()}


def curve(examples: list[Example]) -> list[dict[str, object]]:
    rows = []
    for size in SIZES:
        if size + 50 > len(examples):
            break
        model_scores, lexicon_scores = [], []
        for draw in range(DRAWS):
            shuffled = examples[:]
            random.Random(draw).shuffle(shuffled)
            learn_from, test = shuffled[:size], shuffled[size : size + TEST_MAX]
            if len({e.label for e in learn_from}) < 2:
                continue
            model_scores.append(evaluate(train(learn_from), test))
            lexicon = [lexicon_label(e) for e in test]
            lexicon_scores.append(_balanced([e.label for e in test], lexicon))
        rows.append(
            {
                "n": size,
                "model": round(statistics.mean(model_scores), 3),
                "model_spread": round(max(model_scores) - min(model_scores), 3),
                "lexicon": round(statistics.mean(lexicon_scores), 3),
            }
        )
    return rows


def _balanced(truth: list[str], guessed: list[str]) -> float:
    return balanced_accuracy(truth, guessed)


def timing(sets: dict[str, list[Example]], count: int = 100_000) -> dict[str, float]:
    """Learning from `count` texts, each two to four sentences drawn from the sets (labelled by the first)."""
    pool = [e for examples in sets.values() for e in examples]
    rng = random.Random(1)
    texts = []
    for _ in range(count):
        first = rng.choice(pool)
        extra = " ".join(rng.choice(pool).text for _ in range(rng.randint(1, 3)))
        texts.append(Example(f"{first.text} {extra}", first.label, first.language))
    started = time.perf_counter()
    model = train(texts)
    seconds = time.perf_counter() - started
    return {"texts": count, "seconds": round(seconds, 1), "stored_kb": round(len(json.dumps(model.to_dict())) / 1e3)}


def main() -> None:
    sets = _sets()
    for title, examples in sets.items():
        print(json.dumps({"set": title, "size": len(examples), "curve": curve(examples)}))
    print(json.dumps({"learning": timing(sets)}))


if __name__ == "__main__":
    main()
