"""200 customers answering surveys at once for a minute against the app on PostgreSQL: `python -m bench.load` in a
process of its own (the load comes from a second process on loopback). Zero errors, zero lost or duplicated
answers; the figures are printed."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from bench.harness import clean_env, run_python
from tests.integration.conftest import PG_URL

pytestmark = [pytest.mark.integration, pytest.mark.long]


def test_two_hundred_respondents_for_a_minute_lose_and_repeat_nothing(
    report_figure: Callable[[str, str], None],
) -> None:
    database = PG_URL.rsplit("/", 1)[0] + "/afterglow_load_test"
    proc = run_python("-m", "bench.load", "--database-url", database, env=clean_env(), timeout=600)
    figures = json.loads(proc.stdout.strip().splitlines()[-1])
    report_figure("bench.load", json.dumps(figures))
    assert figures["respondents"] == 200 and figures["seconds"] == 60
    assert figures["answers"] > 0
    assert (figures["errors"], figures["lost"], figures["duplicated"]) == (0, 0, 0)
