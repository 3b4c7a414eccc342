"""Every dashboard tile against the raw tables, on PostgreSQL: the unit tests' shop and checks, collected here again
(the figures' own SQL in tests/unit/dashboard_truth_sql.py runs on both engines)."""

from __future__ import annotations

import pytest
import pytest_asyncio
from piccolo.conf.apps import Finder

from tests.unit.dashboard_truth import build_truth_shop
from tests.unit.test_dashboard_truth import (  # noqa: F401 - fixtures and tests, collected here again
    clock,
    manager,
    test_every_tile_matches_the_raw_tables,
    test_held_reviews_are_left_out_of_the_rating,
    test_the_csv_adds_up_to_the_tiles,
    test_the_funnel_counts_each_step_on_the_day_it_happened,
    test_the_list_behind_a_tile_has_as_many_rows_as_it_counts,
    test_the_scheduler_stamps_each_invitation_with_the_moment_of_its_pass,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("shop"), pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(autouse=True)
async def empty_tables() -> None:
    """The shop is built once for the module (`shop`); these tests only read it."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shop(database: None) -> None:
    tables = Finder().get_table_classes()
    names = ", ".join(f'"{t._meta.tablename}"' for t in tables)
    await tables[0].raw(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    await build_truth_shop()
