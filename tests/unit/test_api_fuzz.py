"""The ingest and public APIs under generated input, on SQLite: no 5xx, nothing refused stored (tests/api_fuzz.py)."""

from __future__ import annotations

from typing import Any

from afterglow.settings import get_settings
from app import create_app
from tests.api_fuzz import FUZZ, call_and_check, schema_of

schema = schema_of(create_app(get_settings()))


@schema.parametrize()
@FUZZ
def test_no_generated_request_breaks_the_api_or_stores_garbage(case: Any) -> None:
    call_and_check(case, get_settings().api_key)
