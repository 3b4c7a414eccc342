"""The responses behind a number as CSV, for a spreadsheet: written with the csv module, streamed in batches, and
every cell that a spreadsheet would run as a formula defused."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from feedback.dashboard.responses import COLUMNS, SOURCE, Drill, decorate, drill_where
from feedback.tables import FeedbackItem

CSV_BATCH = 1000
#: The header, and how each column is read from a decorated row. Lists are joined with ";" (team and status in the
#: same order: one per inbox item).
CSV_COLUMNS: dict[str, Any] = {
    "id": lambda row: row["id"],
    "created_at": lambda row: row["local_time"].isoformat(),
    "kind": lambda row: row["kind"],
    "order": lambda row: row["order_ref"],
    "customer": lambda row: row["name"],
    "email": lambda row: row["email"],
    "channel": lambda row: row["channel"],
    "language": lambda row: row["language"],
    "categories": lambda row: ";".join(row["categories"]),
    "sku": lambda row: row["sku"],
    "product": lambda row: row["product_name"],
    "nps": lambda row: row["nps"],
    # CSAT and Support CSAT apart, as the dashboard counts them
    "csat": lambda row: row["csat"] if row["kind"] == "order" else None,
    "support_csat": lambda row: row["csat"] if row["kind"] == "support" else None,
    "rating": lambda row: row["rating"],
    "review_status": lambda row: row["review_status"],  # only published reviews count in the rating
    "label": lambda row: row["label"],
    "topics": lambda row: ";".join(row["topics"]),
    "team": lambda row: ";".join(row["teams"]),
    "status": lambda row: ";".join(row["statuses"]),
    "title": lambda row: row["title"],
    "text": lambda row: row["text"],
}
#: What a spreadsheet may read as the start of a formula (tab and carriage return too, which some strip first).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> str:
    """A spreadsheet must not read a customer's text as a formula: such a cell gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_line(values: list[object]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([cell(v) for v in values])
    return out.getvalue()


async def response_csv(drill: Drill, timezone: str, now: datetime) -> AsyncIterator[str]:
    """Every response behind the number as CSV lines (header first), read in batches, oldest first."""
    where = drill_where(drill, timezone, now)
    yield csv_line(list(CSV_COLUMNS))
    last = 0
    while True:
        rows = await FeedbackItem.raw(
            f"SELECT {COLUMNS} FROM {SOURCE} WHERE {{}} AND f.id > {{}} ORDER BY f.id LIMIT {{}}",
            where,
            last,
            CSV_BATCH,
        )
        if not rows:
            return
        for row in await decorate(rows, timezone):
            yield csv_line([read(row) for read in CSV_COLUMNS.values()])
        last = int(rows[-1]["id"])
