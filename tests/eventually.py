"""Waiting in a test for something other tasks do, by turns of the event loop (never by the clock)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(done: Callable[[], bool], turns: int = 1000) -> None:
    """Let the other tasks run until `done()`; fail after `turns` turns of the loop."""
    for _ in range(turns):
        if done():
            return
        await asyncio.sleep(0)
    raise AssertionError("never happened")
