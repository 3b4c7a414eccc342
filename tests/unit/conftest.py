"""Unit tests: a real SQLite database, migrated once per run and emptied before each test."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest

from tests.conftest import _RUN_DIR

os.environ["AFTERGLOW_DATABASE_URL"] = f"sqlite:///{_RUN_DIR / 'unit.sqlite3'}"

from litestar.testing import AsyncTestClient  # noqa: E402
from piccolo.apps.migrations.commands.forwards import run_forwards  # noqa: E402
from piccolo.apps.user.tables import BaseUser  # noqa: E402
from piccolo.conf.apps import Finder  # noqa: E402

from afterglow import overrides  # noqa: E402
from afterglow.celery_app import celery_app  # noqa: E402
from afterglow.settings import Settings, get_settings  # noqa: E402
from app import create_app  # noqa: E402
from feedback.analysis import topics  # noqa: E402

celery_app.conf.task_always_eager = True
# Real PBKDF2 hashing, with fewer rounds than production's 600,000 (~0.2 s each): the unit suite signs in
# hundreds of times. Hashes record their own round count, so verification is unchanged.
BaseUser._pbkdf2_iteration_count = 1_000


@pytest.fixture(scope="session", autouse=True)
def migrated() -> None:
    result = asyncio.run(run_forwards(app_name="all"))
    assert result.success, result.message


@pytest.fixture(autouse=True)
async def empty_tables(migrated: None) -> None:
    for table in reversed(Finder().get_table_classes()):
        await table.delete(force=True)
    overrides.drop_cached_read()
    topics.use_keywords(topics.TOPIC_KEYWORDS)  # the environment's topics, whatever a test saved


@pytest.fixture
def settings() -> Settings:
    return get_settings()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


@pytest.fixture
def api_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.api_key}"}
