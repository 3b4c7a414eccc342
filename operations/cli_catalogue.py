"""Catalogue commands of `afterglow`."""

from __future__ import annotations

import click


def register(main: click.Group) -> None:
    """Adds this module's commands to `main`."""
