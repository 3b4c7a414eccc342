"""`make bench` runs every bench, and the README's table is made from their closing JSON lines."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

from bench.table import rows

ROOT = Path(__file__).resolve().parents[2]
#: Modules in bench/ that are plumbing or data for the benches, not benches.
NOT_BENCHES = {"harness", "bare_app", "mailserver", "table", "corpus_samples", "sentiment_sets", "learning_curve"}


def _bench_target() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nbench: setup\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"-m bench\.(\w+)", recipe)


def test_make_bench_runs_every_bench_and_each_has_a_main() -> None:
    listed = set(_bench_target())
    scripts = {path.stem for path in (ROOT / "bench").glob("*.py")} - NOT_BENCHES - {"__init__"}
    helpers = {name for name in scripts if not hasattr(importlib.import_module(f"bench.{name}"), "main")}
    assert listed - {"table"} == scripts - helpers, (listed, scripts, helpers)
    for name in listed:
        assert callable(importlib.import_module(f"bench.{name}").main)


def test_the_table_shows_each_benchs_ratio_and_figures() -> None:
    line = {"bench": "survey_page", "database": "postgres", "page_rps": 1234.5, "bare_rps": 9000.0, "ratio": 0.137}
    table = rows([json.dumps(line), ""])
    assert len(table) == 3
    assert table[2].startswith("| `survey_page` (database postgres) | 0.137 |")
    assert "`page_rps` 1,234.5" in table[2] and "`bare_rps` 9,000.0" in table[2]
