"""What the `afterglow` command modules share: the console on stderr and reading `--now`."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console(stderr=True)


def parse_now(value: str | None) -> datetime:
    """`--now` as an aware moment (UTC where no offset is given); now when not given."""
    if not value:
        return datetime.now(UTC)
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def progress_bar() -> Progress:
    """A bar with done/total and time left, on stderr; each task's description is its label."""
    return Progress(
        TextColumn("[bold]{task.description}[/bold]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
