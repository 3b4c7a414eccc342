"""The README's figures table from one `make bench` run: `python -m bench.table var/bench.jsonl`.

Each line of the file is the closing JSON line of one bench; the table shows every figure it printed, its ratio
first, so what the README says is copied from the run and not retyped."""

from __future__ import annotations

import json
import sys
from pathlib import Path

#: Fields that say how a bench ran rather than what it measured; shown in the first column.
SETUP = ("bench", "database", "web_workers", "concurrency", "seconds", "workers")


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return json.dumps(value, separators=(",", ":"))


def _nested(value: object) -> bool:
    """Per-set results (the sentiment bench's) have a table of their own in the README."""
    return isinstance(value, dict) and any(isinstance(inner, dict) for inner in value.values())


def rows(lines: list[str]) -> list[str]:
    table = ["| bench | ratio | figures |", "| --- | --- | --- |"]
    for line in lines:
        if not line.strip():
            continue
        figures = json.loads(line)
        setup = ", ".join(f"{key} {figures[key]}" for key in SETUP[1:] if key in figures)
        name = f"`{figures.get('bench', '?')}`" + (f" ({setup})" if setup else "")
        rest = [
            f"`{key}` {_value(value)}"
            for key, value in figures.items()
            if key not in SETUP and key != "ratio" and not _nested(value)
        ]
        table.append(f"| {name} | {_value(figures.get('ratio', '–'))} | {', '.join(rest)} |")
    return table


def main(argv: list[str] | None = None) -> None:
    path = Path((argv or sys.argv[1:] or ["var/bench.jsonl"])[0])
    print("\n".join(rows(path.read_text().splitlines())))


if __name__ == "__main__":
    main()
