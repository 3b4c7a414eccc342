"""Feedback against retention on four customers whose later orders are known.

A promoter (NPS 10, CSAT 5) orders twice in the following year (100.00, 50.00) and once more after it; a passive
(8, CSAT 4) orders once, 358 days later (20.00); one detractor (3, CSAT 1) never again; another (5, CSAT 2) cancels
an order and places one (30.00). Promoters: 100% came back; detractors: 50% → promoters came back 2.0 times as often.
The figures are read from the dashboard's rollup, built once the shop is written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from feedback.dashboard.periods import Period
from feedback.dashboard.retention import retention
from feedback.dashboard.rollup import rebuild
from feedback.dashboard.segments import Segment
from feedback.services.intake import ingest
from feedback.tables import FeedbackItem
from shop.tables import Order
from tests.unit.test_dashboard_dataset import K1, TIMEZONE, Survey, write_survey

MARCH = Period(date(2025, 3, 1), date(2025, 3, 31))
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T12:00:00+00:00")


async def customer(ref: str, day: str, nps: int, csat: int) -> int:
    """A customer who answered on `day` (their surveyed order was placed days before)."""
    answered = at(day)
    survey = Survey(ref, "web", (K1,), "en", answered - timedelta(days=1), answered - timedelta(days=1), answered,
                    answered, csat, nps)  # fmt: skip
    response = await write_survey(survey)
    assert response is not None
    ingested = await ingest("survey", response, answered)
    row = await FeedbackItem.select(FeedbackItem.customer).where(FeedbackItem.id == ingested.feedback_id).first()
    assert row is not None
    return int(row["customer"])


async def order(customer_id: int, day: str, total: str, *, cancelled: bool = False) -> None:
    placed = at(day)
    await Order.insert(
        Order(
            external_id=f"later-{customer_id}-{day}",
            placed_at=placed,
            total=Decimal(total),
            customer=customer_id,
            cancelled_at=placed + timedelta(hours=1) if cancelled else None,
        )
    )


@pytest.fixture
async def shop() -> None:
    promoter = await customer("A", "2025-03-10", 10, 5)
    detractor = await customer("B", "2025-03-11", 3, 1)
    unhappy = await customer("C", "2025-03-12", 5, 2)
    passive = await customer("D", "2025-03-12", 8, 4)
    await order(promoter, "2024-12-01", "10.00")  # before: a customer at the start of March
    await order(promoter, "2025-05-01", "100.00")
    await order(promoter, "2025-09-01", "50.00")
    await order(promoter, "2026-04-01", "70.00")  # more than a year after the answer
    await order(unhappy, "2025-03-20", "99.00", cancelled=True)
    await order(unhappy, "2025-12-01", "30.00")
    await order(passive, "2026-03-05", "20.00")
    assert detractor
    await rebuild(NOW, TIMEZONE)


async def test_promoters_came_back_twice_as_often_as_detractors(shop: None) -> None:
    found = await retention(Segment(), MARCH, NOW, TIMEZONE)
    promoters, passives, detractors = found.by_nps
    assert (promoters.name, promoters.answers, promoters.returned, promoters.orders) == ("promoters", 1, 1, 2)
    assert promoters.revenue_per_customer == Decimal("150.00")
    assert (passives.answers, passives.returned, passives.revenue_per_customer) == (1, 1, Decimal("20.00"))
    assert (detractors.answers, detractors.returned, detractors.orders) == (2, 1, 1)
    assert detractors.repeat_rate == pytest.approx(50.0)
    assert detractors.revenue_per_customer == Decimal("15.00")
    assert found.promoter_multiple == pytest.approx(2.0)
    assert all(g.full_year == g.answers for g in found.by_nps), "a year has passed for every answer"


async def test_by_csat_answer(shop: None) -> None:
    found = await retention(Segment(), MARCH, NOW, TIMEZONE)
    rates = {g.name: (g.answers, g.repeat_rate) for g in found.by_csat}
    assert rates == {"5": (1, 100.0), "4": (1, 100.0), "3": (0, None), "2": (1, 100.0), "1": (1, 0.0)}


async def test_an_answer_younger_than_a_year_is_followed_up_to_now(shop: None) -> None:
    found = await retention(Segment(), MARCH, datetime(2025, 6, 1, tzinfo=UTC), TIMEZONE)
    promoters = found.by_nps[0]
    assert (promoters.orders, promoters.full_year) == (1, 0), "only the May order has happened by June"


async def test_the_retention_rate_of_a_month(shop: None) -> None:
    found = await retention(Segment(), MARCH, NOW, TIMEZONE)
    (march,) = found.months
    # at the start: A (ordered in December); new in March: B, C, D; at the end: all four
    assert (march.start, march.at_start, march.new, march.at_end) == (date(2025, 3, 1), 1, 3, 4)
    assert march.rate == pytest.approx(100.0)


async def test_no_answers_gives_empty_groups_and_no_multiple() -> None:
    await rebuild(NOW, TIMEZONE)
    found = await retention(Segment(), MARCH, NOW, TIMEZONE)
    assert [g.answers for g in found.by_nps] == [0, 0, 0]
    assert found.promoter_multiple is None
    assert [(m.at_start, m.rate) for m in found.months] == [(0, None)]
