"""The retention tab's rollup against the facts on PostgreSQL (the unit tests' checks, collected here again)."""

from __future__ import annotations

import pytest

from tests.unit.test_dashboard_retention_rollup import (  # noqa: F401 - collected here again, to run on PostgreSQL
    shop,
    test_an_order_placed_after_now_is_read_from_the_facts,
    test_the_rollup_gives_the_figures_of_the_facts,
    test_the_sweep_keeps_the_rollup_exact,
)

pytestmark = pytest.mark.integration
