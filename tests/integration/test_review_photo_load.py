"""Large review photos on PostgreSQL: `/healthz` on the real server stays fast while three customers save
7000×7000 JPEGs (`python -m bench.review_photos` against a database of its own)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.integration.conftest import PG_URL
from tests.unit.test_review_photo_load import assert_healthz_stays_fast, photo_load

pytestmark = pytest.mark.integration


def test_healthz_stays_fast_while_customers_save_large_photos_on_postgres(
    report_figure: Callable[[str, str], None],
) -> None:
    figures = photo_load("--database-url", f"{PG_URL}_photos")
    report_figure("bench.review_photos", json.dumps(figures))
    assert figures["database"] == "postgres"
    assert_healthz_stays_fast(figures)
