"""Importing past orders, with their delivery dates, from a CSV file (`afterglow import-orders FILE.csv`).

The file is UTF-8 (a BOM is fine) with a header row and one row per order item; rows sharing an `external_id`
form one order, wherever they are in the file. Columns (any order; unknown columns are ignored):

required  external_id, placed_at, total, email, sku, item_name, price
optional  channel (default "web"), currency ("EUR"), name, locale ("en"), timezone (IANA, e.g. Europe/Berlin),
          category, quantity (1), delivered_at, returned_at, cancelled_at

Times are ISO-8601 (`2026-03-02T10:00:00+01:00`); a time without an offset is UTC; one before 2000 or more
than a day ahead is an error (docs/limits.md). Amounts use a decimal point.
Order-level columns (all but sku, item_name, category, quantity, price) may be repeated on every row of an order
or given once; two different values are an error. An order with any bad row is skipped as a whole and its rows are
reported by line; importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from shop.policy import ImplausibleDate, check_date
from shop.schemas import EventIn, EventType, OrderIn
from shop.services.orders import ingest_order, record_event

REQUIRED_COLUMNS = ("external_id", "placed_at", "total", "email", "sku", "item_name", "price")
ORDER_COLUMNS = (
    "external_id",
    "channel",
    "placed_at",
    "currency",
    "total",
    "email",
    "name",
    "locale",
    "timezone",
    "delivered_at",
    "returned_at",
    "cancelled_at",
)
EVENT_COLUMNS: dict[str, EventType] = {
    "delivered_at": "delivered",
    "returned_at": "returned",
    "cancelled_at": "cancelled",
}
# Our schema's field names where they differ from the file's columns, for error messages.
_SCHEMA_TO_COLUMN = {"name": "item_name"}
_NAMED = re.compile(r"^`(\w+)`")
_PATH = re.compile(r"^(?P<message>.*) - at `\$(?:\.items\[(?P<item>\d+)\])?(?:\.customer)?(?:\.(?P<field>\w+))?`$")


@dataclass
class ImportReport:
    """What an import did; `errors` holds (line, message) for every row of a skipped order."""

    rows: int = 0
    orders_created: int = 0
    orders_existing: int = 0
    events_recorded: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


class _RowError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _InvalidOrder(ValueError):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def count_rows(path: Path) -> int:
    """The number of data rows (records after the header), for a progress bar's total."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        return max(0, sum(1 for record in csv.reader(file) if record) - 1)


async def import_orders(
    path: Path, on_progress: Callable[[int], None] | None = None, now: datetime | None = None
) -> ImportReport:
    """Import the orders in a CSV file; bad orders are skipped and reported, good ones always land. A time more
    than a day after `now` (default: the clock) or before 2000 is a bad row."""
    now = now or datetime.now(UTC)
    # A first pass finds each order's last row, so the second can import an order as soon as it is complete
    # and hold only unfinished orders in memory, however the rows are sorted.
    last_line: dict[str, int] = {}
    for line, row in _rows(path):
        last_line[row["external_id"]] = line
    report = ImportReport()
    pending: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in _rows(path):
        report.rows += 1
        external_id = row["external_id"]
        if not external_id:
            report.errors.append((line, "`external_id` is empty"))
        else:
            pending.setdefault(external_id, []).append((line, row))
            if last_line[external_id] == line:
                await _import_order(pending.pop(external_id), report, now)
        if on_progress is not None:
            on_progress(report.rows)
    return report


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) with stripped values; raises ValueError for a missing header or columns."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        try:
            header = reader.fieldnames
            columns = [name.strip().lower() for name in header or []]
            missing = [c for c in REQUIRED_COLUMNS if c not in columns]
            if missing:
                raise ValueError(f"{path.name}: the header row lacks the column(s) {', '.join(missing)}")
            reader.fieldnames = columns
            for row in reader:
                yield reader.line_num, {k: (v or "").strip() for k, v in row.items() if isinstance(k, str)}
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path.name}: not UTF-8 text near line {reader.line_num + 1}") from exc


async def _import_order(rows: list[tuple[int, dict[str, str]]], report: ImportReport, now: datetime) -> None:
    try:
        order, events = _order(rows, now)
    except _InvalidOrder as invalid:
        external_id = rows[0][1]["external_id"]
        report.errors.extend((line, f"{message} (order {external_id!r} skipped)") for line, message in invalid.errors)
        return
    _, created = await ingest_order(order)
    if created:
        report.orders_created += 1
    else:
        report.orders_existing += 1
    for event in events:
        if await record_event(order.external_id, event, source="csv"):
            report.events_recorded += 1


def _order(rows: list[tuple[int, dict[str, str]]], now: datetime) -> tuple[OrderIn, list[EventIn]]:
    """One order and its events from its rows, or _InvalidOrder listing every bad line and column."""
    errors: list[tuple[int, str]] = []

    def attempt(parse: Callable[[str, int, str], Any], value: str, line: int, column: str) -> Any:
        try:
            return parse(value, line, column)
        except _RowError as bad:
            errors.append((bad.line, bad.message))
            return None

    values: dict[str, tuple[int, str]] = {}
    items = []
    for line, row in rows:
        for column in ORDER_COLUMNS:
            value = row.get(column, "")
            if value and column in values and values[column][1] != value:
                errors.append(
                    (line, f"`{column}` is {value!r} here but {values[column][1]!r} on line {values[column][0]}")
                )
            elif value:
                values.setdefault(column, (line, value))
        errors.extend((line, f"`{column}` is empty") for column in ("sku", "item_name") if not row.get(column))
        items.append(
            {
                "sku": row.get("sku", ""),
                "name": row.get("item_name", ""),
                "category": row.get("category", ""),
                "quantity": attempt(_integer, row.get("quantity") or "1", line, "quantity"),
                "price": attempt(_amount, row.get("price", ""), line, "price"),
            }
        )

    def get(column: str, default: str = "") -> str:
        return values[column][1] if column in values else default

    def line_of(column: str) -> int:
        return values[column][0] if column in values else rows[0][0]

    times = {
        column: attempt(partial(_time, now=now), get(column), line_of(column), column)
        for column in ("placed_at", *EVENT_COLUMNS)
        if column == "placed_at" or get(column)
    }
    total = attempt(_amount, get("total"), line_of("total"), "total")
    if not get("email"):
        errors.append((rows[0][0], "`email` is empty"))
    if errors:
        raise _InvalidOrder(errors)
    data: dict[str, Any] = {
        "external_id": get("external_id"),
        "channel": get("channel", "web"),
        "placed_at": times["placed_at"],
        "currency": get("currency", "EUR").upper(),
        "total": total,
        "customer": {
            "email": get("email"),
            "name": get("name"),
            "locale": get("locale", "en"),
            "timezone": get("timezone"),
        },
        "items": items,
    }
    try:
        order = msgspec.convert(data, OrderIn)
    except msgspec.ValidationError as exc:
        raise _InvalidOrder([_explain(str(exc), rows, line_of)]) from exc
    events = [
        EventIn(type=event_type, at=times[column]) for column, event_type in EVENT_COLUMNS.items() if column in times
    ]
    return order, events


def _explain(error: str, rows: list[tuple[int, dict[str, str]]], line_of: Callable[[str], int]) -> tuple[int, str]:
    """Turn msgspec's `... - at `$.items[1].name`` into the file's line and column."""
    match = _PATH.match(error)
    if match is None:
        return rows[0][0], error
    message, item, schema_field = match["message"], match["item"], match["field"]
    if item is not None:
        line = rows[int(item)][0]
        return line, f"`{_SCHEMA_TO_COLUMN.get(schema_field, schema_field)}`: {message}" if schema_field else message
    if schema_field:
        return line_of(schema_field), f"`{schema_field}`: {message}"
    named = _NAMED.search(message)  # a check in __post_init__ names its field: "`email` is not an email address"
    return (line_of(named[1]) if named else rows[0][0]), message


def _time(value: str, line: int, column: str, now: datetime) -> datetime:
    if not value:
        raise _RowError(line, f"`{column}` is empty")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _RowError(line, f"`{column}` is not an ISO-8601 time: {value!r}") from None
    try:
        return check_date(column, at if at.tzinfo else at.replace(tzinfo=UTC), now)
    except ImplausibleDate as exc:
        raise _RowError(line, exc.message) from None


def _amount(value: str, line: int, column: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise _RowError(line, f"`{column}` is not an amount such as 12.50: {value!r}") from None
    if not amount.is_finite():
        raise _RowError(line, f"`{column}` is not an amount such as 12.50: {value!r}")
    return amount


def _integer(value: str, line: int, column: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise _RowError(line, f"`{column}` is not a whole number: {value!r}") from None
