"""Whole numbers as they arrive in paths, forms and query strings.

`str.isdigit()` is true for "²" and "٣", which `int()` refuses or reads as 3, and a digit string can be longer
than any database integer; every such number is read here instead."""

from __future__ import annotations

#: The largest id a row can have (a PostgreSQL `integer`); the largest page or count we accept as well.
MAX_ROW_ID = 2**31 - 1


def whole_number(raw: str, maximum: int = MAX_ROW_ID) -> int | None:
    """`raw` as a whole number from 0 to `maximum` written in ASCII digits (surrounding spaces allowed); None
    for anything else."""
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(maximum)):
        return None
    number = int(raw)
    return number if number <= maximum else None
