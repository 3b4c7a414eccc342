"""Large review photos on PostgreSQL: every save of three customers sending 7000×7000 JPEGs is taken while
`/healthz` is asked throughout (`python -m bench.review_photos` against a database of its own). Its timings are
reported, not asserted; `tests/unit/test_review_photo_load.py` shows the decoding leaves the event loop free."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bench.harness import clean_env, run_python
from tests.integration.conftest import PG_URL

pytestmark = pytest.mark.integration


def photo_load(*args: str) -> dict[str, object]:
    proc = run_python("-m", "bench.review_photos", "--seconds", "5", *args, env=clean_env(), timeout=300)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_large_photos_are_all_saved_while_the_server_answers_on_postgres(
    report_figure: Callable[[str, str], None],
) -> None:
    figures = photo_load("--database-url", f"{PG_URL}_photos")
    report_figure("bench.review_photos", json.dumps(figures))
    assert figures["database"] == "postgres"
    saves = figures["upload_statuses"]
    assert set(saves) == {"200"} and saves["200"] >= figures["uploaders"], figures
