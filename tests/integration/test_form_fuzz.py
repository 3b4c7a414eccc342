"""Every form and JSON endpoint under Hypothesis, on PostgreSQL (the cases: tests/fuzz_cases.py)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from afterglow.settings import Settings
from app import create_app
from tests.form_fuzz import NO_LIMITS, build_world
from tests.fuzz_cases import (  # noqa: F401 - collected here
    test_no_form_input_breaks_the_page_or_what_is_stored,
    test_no_id_in_a_path_breaks_the_page,
    test_no_inbound_email_breaks_the_endpoint_or_what_is_stored,
    test_no_signed_webhook_body_breaks_the_endpoint_or_what_is_stored,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def fuzzed(settings: Settings) -> Iterator[tuple[TestClient[Any], Any, Settings]]:
    # No pool: the test client serves the app from a loop of its own (see tests/integration/conftest.py).
    fuzz = dataclasses.replace(settings, db_pool_size=0, **NO_LIMITS)
    world = asyncio.run(build_world(fuzz))
    with TestClient(app=create_app(fuzz)) as client:
        yield client, world, fuzz
