"""What every CSV import reads first: how many rows a file has (for a progress bar), its header row, and which
format that header names."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, TypeVar


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


class UnknownHeader(ValueError):
    """The header row is no format we read; the message names the columns missing for the closest one."""


class HeaderFormat(Protocol):
    """A file format known by its header: `signature` columns tell it apart, `required` ones must be there."""

    @property
    def title(self) -> str: ...
    @property
    def signature(self) -> tuple[str, ...]: ...
    @property
    def required(self) -> tuple[str, ...]: ...


F = TypeVar("F", bound=HeaderFormat)


def normalise_header(header: Sequence[str]) -> list[str]:
    return [name.strip().lower() for name in header]


def recognise_header(
    header: Sequence[str], formats: Sequence[F], *, signatures_first: Sequence[F] = (), separator: str = ", "
) -> F:
    """The format of a file with this header row (as `normalise_header` gives it): the first whose signature
    columns are all there (`signatures_first` tried in that order, then `formats`), with its required columns;
    UnknownHeader naming the columns missing for the closest format (the first of `formats` on a tie) otherwise."""
    names = set(header)

    def missing(fmt: F) -> list[str]:
        return [column for column in fmt.required if column.lower() not in names]

    def complete(fmt: F) -> F:
        if lacking := missing(fmt):
            known = separator.join(f.title for f in formats)
            columns = ", ".join(lacking)
            raise UnknownHeader(f"the header row lacks the column(s) {columns} of {fmt.title} (read: {known})")
        return fmt

    for fmt in [*signatures_first, *formats]:
        if all(column.lower() in names for column in fmt.signature):
            return complete(fmt)
    return complete(min(formats, key=lambda fmt: len(missing(fmt))))
