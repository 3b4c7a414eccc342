"""The ingest and public APIs under generated input, on PostgreSQL: no 5xx, nothing refused stored."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from afterglow.settings import get_settings
from app import create_app
from tests.api_fuzz import FUZZ, call_and_check, schema_of

pytestmark = pytest.mark.integration

schema = schema_of(create_app(dataclasses.replace(get_settings(), db_pool_size=0)))


@schema.parametrize()
@FUZZ
def test_no_generated_request_breaks_the_api_or_stores_garbage_on_postgresql(case: Any) -> None:
    call_and_check(case, get_settings().api_key)
