"""Importing the product catalogue from a CSV file (`afterglow import-products FILE.csv`).

The file is UTF-8 (a BOM is fine) with a header row and one row per product. Columns (any order, any case; unknown
columns are ignored):

required  sku
optional  title, category (the shop's own category), image_url (http(s), or a path under /static/), url, gtin
          (8, 12, 13 or 14 digits with a valid check digit), mpn, brand

A product is found by its SKU, so importing a file again updates its products and never duplicates them. An empty
cell leaves what is stored as it is. A bad row is reported by its line and skipped; the other rows are imported.
Order items of the imported SKUs, also those stored before, are categorised again.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from shop.platforms.products import FIELDS, ProductData, field_problem
from shop.services.catalogue import store_product

COLUMNS = ("sku", *FIELDS)


@dataclass
class ProductImportReport:
    """What an import did; `errors` holds (line, message) for every row that was skipped."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    recategorised: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


async def import_products(
    path: Path, on_progress: Callable[[int], None] | None = None, now: datetime | None = None
) -> ProductImportReport:
    """Import the products of a CSV file; ValueError when the file has no `sku` column or is not UTF-8."""
    now = now or datetime.now(UTC)
    report = ProductImportReport()
    for line, row in _rows(path):
        report.rows += 1
        problems = [problem for name, value in row.items() if (problem := field_problem(name, value))]
        if problems:
            report.errors.append((line, "; ".join(problems)))
        else:
            stored = await store_product(_product(row), now)
            report.created += stored.created
            report.updated += not stored.created
            report.recategorised += stored.recategorised
        if on_progress is not None:
            on_progress(report.rows)
    return report


def _product(row: dict[str, str]) -> ProductData:
    """The row as a product; an empty cell says nothing (the stored value stays)."""
    given = {FIELDS[name]: value.strip() for name, value in row.items() if name in FIELDS and value.strip()}
    return ProductData(source="csv", keys=(f"sku:{row['sku']}",), sku=row["sku"], **given)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row of our columns) with the SKU stripped; ValueError for a missing `sku` column."""
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        try:
            columns = [(name or "").strip().lower() for name in reader.fieldnames or []]
            if "sku" not in columns:
                raise ValueError(f"{path.name}: the header row lacks the column sku")
            reader.fieldnames = columns
            for row in reader:
                values = {k: (v or "") for k, v in row.items() if k in COLUMNS}
                values["sku"] = values.get("sku", "").strip()
                yield reader.line_num, values
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path.name}: not UTF-8 text near line {reader.line_num + 1}") from exc
