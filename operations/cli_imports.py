"""`afterglow import-orders`: past orders from a CSV file, with a progress bar and the bad rows by line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console(stderr=True)


def register(main: click.Group) -> None:
    main.add_command(import_orders_command)


@click.command("import-orders")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_orders_command(path: Path) -> None:
    """Import past orders (with delivery dates) from a CSV file; bad rows are listed by line."""
    from shop.csv_import import count_rows, import_orders

    total = count_rows(path)
    with Progress(
        TextColumn("[bold]Importing[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("rows", total=total)
        report = asyncio.run(import_orders(path, on_progress=lambda done: progress.update(task, completed=done)))
    for line, message in report.errors:
        console.print(f"[red]line {line}[/red]: {message}")
    click.echo(
        json.dumps(
            {
                "rows": report.rows,
                "orders_created": report.orders_created,
                "orders_existing": report.orders_existing,
                "events_recorded": report.events_recorded,
                "errors": len(report.errors),
            }
        )
    )
    if report.errors:
        sys.exit(1)
