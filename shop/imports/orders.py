"""Importing past orders from a CSV file (`afterglow import-orders FILE.csv`): Afterglow's own format, Shopify's
"Export orders" or WooCommerce's order export, recognised by the header row (shop/imports/order_formats.py).

The file is UTF-8 (a BOM is fine) with a header row and one row per order item. Our own format's columns (any order;
unknown columns are ignored):

required  external_id, placed_at, total, email, sku, item_name, price
optional  channel (default "web"), currency ("EUR"), name, locale ("en"), timezone (IANA, e.g. Europe/Berlin),
          category, quantity (1), delivered_at, returned_at, cancelled_at

Rows of one order (same `external_id`; Shopify: same `Name`; WooCommerce: same `order_id`) form it wherever they
are in the file. Times are ISO-8601 (`2026-03-02T10:00:00+01:00`, Shopify's `2026-11-20 10:15:00 +0100`); a time
without an offset is UTC (WooCommerce's: the shop's time zone); one before 2000 or more than a day ahead is an error
(docs/limits.md). Amounts use a decimal point. Order-level values may be repeated on every row of an order or given
once; two different values are an error. An order with any bad row is skipped as a whole and its rows are reported
by line; an order the platform export marks as never bought is left out and counted by reason, one without an email
(point of sale, drafts) is stored and never asked about. Importing the same file again changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from functools import partial
from pathlib import Path
from typing import Any

import msgspec

from afterglow.csvfiles import header_row
from shop.imports.order_formats import OrderFormat, OrderRow, normalise_header, recognise
from shop.policy import ImplausibleDate, check_date
from shop.schemas import EventIn, EventType, OrderIn
from shop.services.orders import ingest_order, record_event

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
#: Our schema's field names where they differ from our columns, for error messages.
_SCHEMA_TO_COLUMN = {"name": "item_name"}
_NAMED = re.compile(r"^`(\w+)`")
_PATH = re.compile(r"^(?P<message>.*) - at `\$(?:\.items\[(?P<item>\d+)\])?(?:\.customer)?(?:\.(?P<field>\w+))?`$")

Lines = list[tuple[int, OrderRow]]


@dataclass
class ImportReport:
    """What an import did; `errors` holds (line, message) for every row of a skipped order; `skipped` counts the
    orders left out on purpose, by reason."""

    format: str = ""
    rows: int = 0
    orders_created: int = 0
    #: Of those, orders the platform had no email for: stored, never asked about.
    without_email: int = 0
    orders_existing: int = 0
    events_recorded: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


class _RowError(ValueError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


class _InvalidOrder(ValueError):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class _LeftOut(ValueError):
    """The order is not imported on purpose; the message is the reason counted in the summary."""


def file_format(path: Path) -> OrderFormat:
    """The format of the file by its header row; ValueError naming the missing columns otherwise."""
    header = header_row(path)
    try:
        return recognise(normalise_header(header))
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None


async def import_orders(
    path: Path,
    on_progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
    shop_zone: tzinfo = UTC,
) -> ImportReport:
    """Import the orders in a CSV file; bad orders are skipped and reported, good ones always land. A time more
    than a day after `now` (default: the clock) or before 2000 is a bad row; `shop_zone` reads WooCommerce's
    times. ValueError (naming the missing columns) when the header is no format we read."""
    now = now or datetime.now(UTC)
    fmt = file_format(path)
    # A first pass finds each order's last row, so the second can import an order as soon as it is complete
    # and hold only unfinished orders in memory, however the rows are sorted.
    last_line: dict[str, int] = {}
    for line, row in _rows(path, fmt):
        last_line[row.group] = line
    report = ImportReport(format=fmt.key)
    pending: dict[str, Lines] = {}
    for line, row in _rows(path, fmt):
        report.rows += 1
        if not row.group:
            report.errors.append((line, f"`{fmt.label(_group_column(fmt))}` is empty"))
        else:
            pending.setdefault(row.group, []).append((line, row))
            if last_line[row.group] == line:
                await _import_order(fmt, pending.pop(row.group), report, now, shop_zone)
        if on_progress is not None:
            on_progress(report.rows)
    return report


def _group_column(fmt: OrderFormat) -> str:
    return {"shopify": "Name", "woocommerce": "order_id"}.get(fmt.key, "external_id")


def _rows(path: Path, fmt: OrderFormat) -> Iterator[tuple[int, OrderRow]]:
    """(line number, row in our terms) with stripped values."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        try:
            reader.fieldnames = normalise_header(reader.fieldnames or [])
            for raw in reader:
                values = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
                yield reader.line_num, fmt.read(values)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path.name}: not UTF-8 text near line {reader.line_num + 1}") from exc


async def _import_order(fmt: OrderFormat, rows: Lines, report: ImportReport, now: datetime, zone: tzinfo) -> None:
    try:
        order, events = _order(fmt, rows, now, zone)
    except _LeftOut as left_out:
        report.skipped[str(left_out)] += 1
        return
    except _InvalidOrder as invalid:
        group = rows[0][1].group
        report.errors.extend((line, f"{message} (order {group!r} skipped)") for line, message in invalid.errors)
        return
    _, created = await ingest_order(order)
    if created:
        report.orders_created += 1
        report.without_email += order.customer is None
    else:
        report.orders_existing += 1
    for event in events:
        if await record_event(order.external_id, event, source="csv"):
            report.events_recorded += 1


def _order(fmt: OrderFormat, rows: Lines, now: datetime, zone: tzinfo) -> tuple[OrderIn, list[EventIn]]:
    """One order and its events from its rows; _LeftOut when it is not imported on purpose, _InvalidOrder listing
    every bad line and column otherwise."""
    skip = next((row.skip for _, row in rows if row.skip), "")
    if skip:
        raise _LeftOut(skip)
    errors: list[tuple[int, str]] = []
    label = fmt.label

    def attempt(parse: Callable[[str, int, str], Any], value: str, line: int, column: str) -> Any:
        try:
            return parse(value, line, label(column))
        except _RowError as bad:
            errors.append((bad.line, bad.message))
            return None

    values: dict[str, tuple[int, str]] = {}
    items = []
    for line, row in rows:
        for column in ORDER_COLUMNS:
            value = row.values.get(column, "")
            if value and column in values and values[column][1] != value:
                first_line, first = values[column]
                errors.append((line, f"`{label(column)}` is {value!r} here but {first!r} on line {first_line}"))
            elif value:
                values.setdefault(column, (line, value))
        empty = [column for column in ("sku", "item_name") if not row.values[column]]
        errors.extend((line, f"`{label(column)}` is empty") for column in empty)
        items.append(
            {
                "sku": row.values["sku"],
                "name": row.values["item_name"],
                "category": row.values.get("category", ""),
                "quantity": attempt(_integer, row.values.get("quantity") or "1", line, "quantity"),
                "price": attempt(_amount, row.values.get("price", ""), line, "price"),
                "product_ref": row.values.get("product_ref", ""),
            }
        )

    def get(column: str, default: str = "") -> str:
        return values[column][1] if column in values else default

    def line_of(column: str) -> int:
        return values[column][0] if column in values else rows[0][0]

    naive_zone = zone if fmt.local_times else UTC
    times = {
        column: attempt(partial(_time, now=now, zone=naive_zone), get(column), line_of(column), column)
        for column in ("placed_at", *EVENT_COLUMNS)
        if column == "placed_at" or get(column)
    }
    total = attempt(_amount, get("total"), line_of("total"), "total")
    if not get("email") and not fmt.email_optional:
        errors.append((rows[0][0], f"`{label('email')}` is empty"))
    if errors:
        raise _InvalidOrder(errors)
    data: dict[str, Any] = {
        # A Shopify export without its `Id` column names orders by `Name` only.
        "external_id": get("external_id") or rows[0][1].group,
        "channel": get("channel", "web"),
        "placed_at": times["placed_at"],
        "currency": get("currency", "EUR").upper(),
        "total": total,
        # A platform's order without an email (point of sale, drafts) is stored and never asked about.
        "customer": {
            "email": get("email"),
            "name": get("name"),
            "locale": get("locale", "en"),
            "timezone": get("timezone"),
        }
        if get("email")
        else None,
        "items": items,
    }
    try:
        order = msgspec.convert(data, OrderIn)
    except msgspec.ValidationError as exc:
        raise _InvalidOrder([_explain(fmt, str(exc), rows, line_of)]) from exc
    events = [
        EventIn(type=event_type, at=times[column]) for column, event_type in EVENT_COLUMNS.items() if column in times
    ]
    return order, events


def _explain(fmt: OrderFormat, error: str, rows: Lines, line_of: Callable[[str], int]) -> tuple[int, str]:
    """Turn msgspec's `... - at `$.items[1].name`` into the file's line and column."""
    match = _PATH.match(error)
    if match is None:
        return rows[0][0], error
    message, item, schema_field = match["message"], match["item"], match["field"]
    if item is not None:
        line = rows[int(item)][0]
        if not schema_field:
            return line, message
        return line, f"`{fmt.label(_SCHEMA_TO_COLUMN.get(schema_field, schema_field))}`: {message}"
    if schema_field:
        return line_of(schema_field), f"`{fmt.label(schema_field)}`: {message}"
    named = _NAMED.search(message)  # a check in __post_init__ names its field: "`email` is not an email address"
    if named is None:
        return rows[0][0], message
    column = named[1]
    return line_of(column), message.replace(f"`{column}`", f"`{fmt.label(column)}`", 1)


def _time(value: str, line: int, column: str, now: datetime, zone: tzinfo) -> datetime:
    if not value:
        raise _RowError(line, f"`{column}` is empty")
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise _RowError(line, f"`{column}` is not an ISO-8601 time: {value!r}") from None
    try:
        return check_date(column, at if at.tzinfo else at.replace(tzinfo=zone), now)
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
