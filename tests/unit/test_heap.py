"""The web app keeps what start-up built out of the collector's full passes while it serves, and hands it back."""

from __future__ import annotations

import gc

from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from app import create_app


async def test_serving_freezes_the_start_up_heap_and_shutting_down_releases_it(settings: Settings) -> None:
    gc.unfreeze()
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert gc.get_freeze_count() > 0
        assert (await client.get("/healthz")).status_code == 200
    assert gc.get_freeze_count() == 0
