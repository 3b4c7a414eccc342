"""`afterglow import-orders` and `afterglow import-reviews`: what a shop already has, from the files its platform
and its review tool export, with a progress bar, the bad rows by line and a summary of what was left out and why.

Each command ends with one JSON line of counts. Exit status: 0 when every row was read, 1 when some rows were bad
(the others are imported), 2 when the file is not one we read (its header names what is missing)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from rich.markup import escape

from afterglow.csvfiles import count_rows
from operations.cli_common import console, progress_bar


def register(main: click.Group) -> None:
    main.add_command(import_orders_command)
    main.add_command(import_reviews_command)


def _refuse(message: str) -> None:
    """The file is not one we read: say why, without a traceback."""
    console.print(f"[red]{escape(message)}[/red]", soft_wrap=True)
    sys.exit(2)


def _finish(errors: list[tuple[int, str]], skipped: Counter[str], what: str, summary: dict[str, object]) -> None:
    for line, message in errors:
        console.print(f"[red]line {line}[/red]: {escape(message)}", soft_wrap=True)
    for reason, count in sorted(skipped.items()):
        console.print(f"left out {count} {what}: {escape(reason)}", soft_wrap=True)
    click.echo(json.dumps({**summary, "errors": len(errors), "skipped": dict(sorted(skipped.items()))}))
    if errors:
        sys.exit(1)


@click.command("import-orders")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_orders_command(path: Path) -> None:
    """Import past orders from a CSV file: Afterglow's own format, Shopify's "Export orders" or WooCommerce's order
    export, as they are. Bad rows are listed by line; orders left out are counted by reason."""
    from afterglow.settings import get_settings
    from shop.imports.orders import file_format, import_orders

    try:
        fmt = file_format(path)
    except ValueError as exc:
        _refuse(str(exc))
    zone = ZoneInfo(get_settings().shop_timezone)
    with progress_bar() as progress:
        task = progress.add_task(f"Importing {fmt.title}", total=count_rows(path))
        report = asyncio.run(
            import_orders(path, on_progress=lambda done: progress.update(task, completed=done), shop_zone=zone)
        )
    summary = {
        "format": report.format,
        "rows": report.rows,
        "orders_created": report.orders_created,
        "orders_without_email": report.without_email,
        "orders_existing": report.orders_existing,
        "events_recorded": report.events_recorded,
    }
    _finish(report.errors, report.skipped, "order(s)", summary)


@click.command("import-reviews")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_reviews_command(path: Path) -> None:
    """Import the reviews exported from Judge.me, Yotpo, Stamped, Shopify Product Reviews or Trustpilot, then tag
    them as collected reviews are. Nobody is emailed; a second run imports nothing twice."""
    from feedback.analysis.language import detect_language
    from reviews.services.imports import ReviewImportReport, file_format, import_reviews

    try:
        fmt = file_format(path)
    except ValueError as exc:
        _refuse(str(exc))
    with progress_bar() as progress:
        task = progress.add_task(f"Importing {fmt.title} reviews", total=count_rows(path))
        tagging = progress.add_task("Tagging", total=None, visible=False)

        async def run() -> tuple[ReviewImportReport, int]:
            report = await import_reviews(
                path, on_progress=lambda done: progress.update(task, completed=done), language_of=detect_language
            )
            progress.update(tagging, total=len(report.new_ids), visible=True)
            tagged = await _tag(report.new_ids, lambda done: progress.update(tagging, completed=done))
            return report, tagged

        report, tagged = asyncio.run(run())
    summary = {
        "source": report.source,
        "rows": report.rows,
        "imported": report.imported,
        "verified": report.verified,
        "held": report.held,
        "already_imported": report.already_imported,
        "tagged": tagged,
    }
    _finish(report.errors, report.skipped, "review(s)", summary)


async def _tag(review_ids: list[int], on_progress: Callable[[int], None]) -> int:
    """Tag each new review the way a collected one is (feedback intake), so it also teaches the learned model. A
    review that fails here is tagged by the intake's catch-up pass later."""
    from afterglow.failures import skip_bad_row
    from feedback.services.intake import ingest

    now, tagged = datetime.now(UTC), 0
    for done, review_id in enumerate(review_ids, start=1):
        async with skip_bad_row("import-reviews", f"review {review_id}", now):
            tagged += (await ingest("review", review_id, now)).tagged
        on_progress(done)
    return tagged
