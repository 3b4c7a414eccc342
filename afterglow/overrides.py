"""Settings changed in the browser, stored in the database over the environment's: every pass reads them afresh
(one small query), so a change applies from the next one on without a restart. Web requests reuse what their
process read within the last `WEB_MAX_AGE` seconds; a save in this process is seen at once, in others within it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, TypeVar

from afterglow import editable
from afterglow.settings import Settings, get_settings
from afterglow.tables import SettingOverride

T = TypeVar("T")
#: How long a web process reuses the stored settings it read: a survey page does not pay a query for them.
WEB_MAX_AGE = 2.0
_read: tuple[float, dict[str, Any]] | None = None  # (monotonic time, values) of this process's last read
_overlaid: tuple[Settings, dict[str, Any], Settings] | None = None  # (base, the read's values, the result)


async def stored() -> dict[str, Any]:
    """Every stored setting (key → value), as saved."""
    rows = await SettingOverride.select(SettingOverride.key, SettingOverride.value).output(load_json=True)
    values = {row["key"]: _unwrapped(row["value"]) for row in rows if row["key"] in editable.KEYS}
    return {key: value for key, value in values.items() if value is not None}


def _unwrapped(stored_value: Any) -> Any:
    return stored_value.get("value") if isinstance(stored_value, dict) else None


async def effective_settings(base: Settings, max_age: float = 0.0) -> Settings:
    """`base` (the environment's settings) with the stored values on top, as read at most `max_age` seconds ago."""
    global _read
    if max_age <= 0:
        _read = (time.monotonic(), await stored())
    elif _read is None or time.monotonic() - _read[0] > max_age:
        generation = _generation
        fresh = await _shared_read()
        if generation != _generation:  # a save here while reading: that read may predate it
            return _overlay(base, fresh[1])
        _read = fresh
    return _overlay(base, _read[1])


_generation = 0  # moves on with every save in this process
_reading: dict[asyncio.AbstractEventLoop, asyncio.Future[tuple[float, dict[str, Any]]]] = {}


async def _shared_read() -> tuple[float, dict[str, Any]]:
    """One read for all the requests that find the kept one too old at the same moment, not one each."""
    loop = asyncio.get_running_loop()
    reading = _reading.get(loop)
    if reading is None:

        async def read() -> tuple[float, dict[str, Any]]:
            try:
                return (time.monotonic(), await stored())
            finally:
                _reading.pop(loop, None)

        reading = _reading[loop] = asyncio.ensure_future(read())
    return await asyncio.shield(reading)


def _overlay(base: Settings, values: dict[str, Any]) -> Settings:
    """`editable.overlay`, kept for as long as the same base and the same read are asked for again."""
    global _overlaid
    if _overlaid is None or _overlaid[0] is not base or _overlaid[1] is not values:
        _overlaid = (base, values, editable.overlay(base, values))
    return _overlaid[2]


def drop_cached_read() -> None:
    global _read, _overlaid, _generation
    _read = _overlaid = None
    _generation += 1
    _reading.clear()


async def current_settings() -> Settings:
    """What a background pass works with: the environment's settings and the browser's changes."""
    return await effective_settings(get_settings())


async def with_settings(work: Callable[[Settings], Awaitable[T]]) -> T:
    """Run a pass with the settings as they are now: `run_async(with_settings(lambda s: dispatch_due(now, s)))`."""
    return await work(await current_settings())


async def store(values: dict[str, Any], by: str, now: datetime) -> None:
    """Save these values (checked by `editable`) over the environment's."""
    for key, plain in values.items():
        assert key in editable.KEYS, key
        # Wrapped: Piccolo takes a bare string for JSON text, and SQLite would read "10" back as a number.
        value = json.dumps({"value": plain})
        updated = (
            await SettingOverride.update(
                {SettingOverride.value: value, SettingOverride.updated_at: now, SettingOverride.updated_by: by}
            )
            .where(SettingOverride.key == key)
            .returning(SettingOverride.id)
        )
        if not updated:
            await SettingOverride.insert(SettingOverride(key=key, value=value, updated_at=now, updated_by=by))
    drop_cached_read()


async def forget(key: str) -> Any:
    """Back to the environment's value; returns the value that was stored (None if none was)."""
    query = SettingOverride.select(SettingOverride.value).where(SettingOverride.key == key)
    row = await query.output(load_json=True).first()
    await SettingOverride.delete().where(SettingOverride.key == key)
    drop_cached_read()
    return _unwrapped(row["value"]) if row else None
