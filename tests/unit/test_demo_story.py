"""The demo's year tells its story through the dashboard's own figures: the kettle's leaking lid (March–April) and
its fix (May), the courier change (July), a team that replies sooner as the months pass, and the Christmas rush.
Seeded once for the module, at a smaller scale than `afterglow demo`, with the same generator."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import pytest_asyncio
from piccolo.conf.apps import Finder

from afterglow.settings import get_settings
from feedback.dashboard.figures import Totals
from feedback.dashboard.handling import median_hours_to_close
from feedback.dashboard.periods import Period
from feedback.dashboard.rollup import rebuild
from feedback.dashboard.segments import Segment
from feedback.dashboard.topics import topic_mentions
from feedback.dashboard.totals import totals_by_bucket, totals_of_periods
from feedback.tables import DashboardCloseDay, DashboardDay, DashboardTopicDay
from operations.demo import seed
from operations.demo_story import DEFECT_SKU
from shop.tables import Order

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TZ = get_settings().shop_timezone  # the seed rolls the dashboard up in it

pytestmark = [pytest.mark.usefixtures("seeded"), pytest.mark.asyncio(loop_scope="module")]


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """These tests only read the year seeded once for the module (`seeded`)."""


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def seeded(migrated: None) -> dict[str, int]:
    for table in reversed(Finder().get_table_classes()):
        await table.delete(force=True)
    return await seed(NOW, scale=0.4)


def _stars(totals: Totals) -> float:
    assert totals.rating_n >= 3, totals
    return totals.rating_sum / totals.rating_n


async def test_the_kettles_rating_dips_in_march_and_april_and_recovers_after_may() -> None:
    before, trouble, after = await totals_of_periods(
        Segment(product=DEFECT_SKU),
        [
            Period(date(2025, 12, 5), date(2026, 2, 28)),
            Period(date(2026, 3, 1), date(2026, 4, 30)),
            Period(date(2026, 6, 1), date(2026, 12, 5)),
        ],
        TZ,
    )
    assert _stars(trouble) < 3.0
    assert _stars(before) > 3.5
    assert _stars(after) > 4.2
    assert trouble.negative > trouble.positive


def _polarity(rows: list[dict], topic: str, bucket: int) -> float:
    row = next(r for r in rows if r["topic"] == topic and int(r["bucket"]) == bucket)
    assert row["polarity_n"] >= 5, row
    return row["polarity_sum"] / row["polarity_n"]


async def test_delivery_sentiment_turns_at_the_courier_switch() -> None:
    rows = await topic_mentions(Segment(), Period(date(2026, 7, 8), date(2026, 12, 5)), TZ)
    assert _polarity(rows, "delivery", 0) < 0 < _polarity(rows, "delivery", 1)


async def test_the_median_time_to_a_first_reply_falls_over_the_year() -> None:
    quarters = [
        Period(date(2026, 1, 1), date(2026, 3, 31)),
        Period(date(2026, 4, 1), date(2026, 6, 30)),
        Period(date(2026, 7, 1), date(2026, 9, 30)),
        Period(date(2026, 10, 1), date(2026, 12, 4)),
    ]
    medians = [median for median, closed in await median_hours_to_close(Segment(), quarters, TZ) if closed]
    assert len(medians) == 4
    assert medians == sorted(medians, reverse=True)
    assert medians[0] > 2 * medians[-1]


async def test_the_christmas_rush_brings_more_than_august() -> None:
    months = await totals_by_bucket(Segment(), Period(date(2025, 12, 1), date(2026, 11, 30)), "month", TZ)
    assert months[date(2025, 12, 1)].scheduled > 1.5 * months[date(2026, 8, 1)].scheduled
    placed = [o["placed_at"] for o in await Order.select(Order.placed_at)]
    december = sum(1 for p in placed if (p.year, p.month) == (2025, 12))
    august = sum(1 for p in placed if (p.year, p.month) == (2026, 8))
    assert december > 1.5 * august


async def test_the_seeded_rollup_is_what_a_fresh_rebuild_makes() -> None:
    """The demo ends by rolling the dashboard up: rebuilding it again from the raw rows changes nothing."""
    tables = (DashboardDay, DashboardTopicDay, DashboardCloseDay)

    async def rows() -> list[list[tuple]]:
        found = []
        for table in tables:
            found.append(sorted(tuple((k, str(v)) for k, v in r.items() if k != "id") for r in await table.select()))
        return found

    seeded = await rows()
    assert all(seeded)
    await rebuild(NOW, TZ)
    assert await rows() == seeded
