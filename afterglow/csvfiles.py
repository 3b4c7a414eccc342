"""What every CSV import reads first: how many rows a file has (for a progress bar) and its header row."""

from __future__ import annotations

import csv
from pathlib import Path


def count_rows(path: Path) -> int:
    """The number of data rows (records after the header), for a progress bar's total."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        return max(0, sum(1 for record in csv.reader(file) if record) - 1)


def header_row(path: Path) -> list[str]:
    """The file's first record; ValueError naming the file when it is not UTF-8 text."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        try:
            return next(csv.reader(file), [])
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path.name}: not UTF-8 text") from exc
