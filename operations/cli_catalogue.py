"""Catalogue commands of `afterglow`: `import-products`, the shop's products from a CSV file, with a progress bar
and the bad rows by line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import click

from afterglow.csvfiles import count_rows
from operations.cli_common import console, progress_bar


def register(main: click.Group) -> None:
    """Adds this module's commands to `main`."""
    main.add_command(import_products_command)


@click.command("import-products")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_products_command(path: Path) -> None:
    """Import or update products (sku,title,category,image_url,url,gtin,mpn,brand) from a CSV file; bad rows are
    listed by line and the others imported."""
    from shop.imports.products import import_products

    try:
        total = count_rows(path)
    except UnicodeDecodeError:
        raise click.ClickException(f"{path.name}: not UTF-8 text") from None
    with progress_bar() as progress:
        task = progress.add_task("Importing", total=total)
        try:
            report = asyncio.run(import_products(path, on_progress=lambda done: progress.update(task, completed=done)))
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    for line, message in report.errors:
        console.print(f"[red]line {line}[/red]: {message}")
    click.echo(
        json.dumps(
            {
                "rows": report.rows,
                "products_created": report.created,
                "products_updated": report.updated,
                "items_recategorised": report.recategorised,
                "errors": len(report.errors),
            }
        )
    )
    if report.errors:
        sys.exit(1)
