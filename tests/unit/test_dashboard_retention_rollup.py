"""The retention tab from the rollup equals the same figures computed straight from the answers and orders: after
a rebuild, and after the sweep has taken in a new order, a new answer, a cancellation and an erasure.

Six customers answer between March 2025 and May 2026 (Berlin; web and app; kitchen and garden; one answer routed
to a team) and order before and after, some more than a year apart (a customer who stops being one and comes
back), one order cancelled, one exactly 365 days after an answer. Two answers fall on the day a year before now,
one before that moment and one after, so the answers that have had their full year are cut inside a day."""

from __future__ import annotations

from dataclasses import astuple
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.tables import Team
from feedback.dashboard.periods import Period
from feedback.dashboard.retention import Retention, retention, retention_from_facts, retention_from_rollup
from feedback.dashboard.rollup import rebuild, sweep
from feedback.dashboard.segments import Segment
from feedback.services.intake import ingest
from feedback.tables import FeedbackItem, InboxItem
from operations.services.privacy import erase_customer
from shop.schemas import EventIn
from shop.services.orders import record_event
from shop.tables import Customer, Order
from tests.unit.test_dashboard_dataset import G1, K1, TIMEZONE, Survey, write_survey

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
PERIODS = (
    Period(date(2025, 1, 1), date(2026, 6, 1)),  # everything
    Period(date(2025, 3, 1), date(2025, 3, 31)),
    Period(date(2025, 5, 20), date(2025, 6, 10)),  # the day a year before now inside
    Period(date(2026, 5, 1), date(2026, 6, 4)),  # the months now is in
)
SEGMENTS = (
    Segment(),
    Segment(kind="order"),
    Segment(channel="app"),
    Segment(language="de"),
    Segment(category="kitchen"),
    Segment(kind="order", channel="web", category="garden"),
)


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment if "T" in moment else f"{moment}T12:00:00").replace(tzinfo=UTC)


async def answer(
    ref: str,
    moment: str,
    nps: int | None,
    csat: int | None,
    channel: str = "web",
    items: tuple[tuple[str, str], ...] = (K1,),
    locale: str = "en",
) -> tuple[int, int]:
    """An order survey answered at `moment` (UTC), through intake: (customer id, feedback id)."""
    answered = at(moment)
    survey = Survey(ref, channel, items, locale, answered - timedelta(days=1), answered - timedelta(days=1), answered,
                    answered, csat, nps)  # fmt: skip
    response = await write_survey(survey)
    assert response is not None
    ingested = await ingest("survey", response, answered)
    row = await FeedbackItem.select(FeedbackItem.customer).where(FeedbackItem.id == ingested.feedback_id).first()
    assert row is not None and ingested.feedback_id is not None
    return int(row["customer"]), ingested.feedback_id


async def order(customer_id: int, moment: str, total: str, *, cancelled: bool = False) -> str:
    placed = at(moment)
    external_id = f"later-{customer_id}-{moment}"
    await Order.insert(
        Order(
            external_id=external_id,
            placed_at=placed,
            total=Decimal(total),
            customer=customer_id,
            cancelled_at=placed + timedelta(hours=1) if cancelled else None,
        )
    )
    return external_id


def figures(found: Retention) -> list[tuple[object, ...]]:
    """Every figure of the tab, revenue to the cent (SQLite sums money as floats)."""
    groups = [(*astuple(g)[:4], g.revenue.quantize(Decimal("0.01")), g.full_year) for g in found.by_nps + found.by_csat]
    return [*groups, *(astuple(m) for m in found.months)]


async def assert_rollup_equals_facts(now: datetime) -> None:
    for period in PERIODS:
        for segment in SEGMENTS:
            expected = figures(await retention_from_facts(segment, period, now, TIMEZONE))
            assert figures(await retention_from_rollup(segment, period, now, TIMEZONE)) == expected, (period, segment)
            assert figures(await retention(segment, period, now, TIMEZONE)) == expected


@pytest.fixture
async def shop(time_machine: object) -> dict[str, int]:
    time_machine.move_to(NOW - timedelta(days=1), tick=False)  # type: ignore[attr-defined]
    a, a_item = await answer("A", "2025-03-10", 10, 5, items=(K1, G1))
    b, _ = await answer("B", "2025-03-11", 3, 1, channel="app", locale="de-DE")
    c, _ = await answer("C", "2025-03-30T00:30:00", 5, 2)  # the night the clocks go forward
    d, _ = await answer("D", "2025-06-01T09:00:00", 8, 4, items=(G1,))  # a year before now, earlier in the day
    e, _ = await answer("E", "2025-06-01T15:00:00", 9, 3, channel="app")  # later that day
    f, _ = await answer("F", "2026-05-20", None, 5)
    await order(a, "2024-12-01", "10.00")
    await order(a, "2025-05-01", "100.00")
    await order(a, "2025-09-01", "50.00")
    await order(a, "2026-04-01", "70.00")
    await order(b, "2025-03-11T13:00:00", "45.50")
    await order(c, "2025-03-20", "99.00", cancelled=True)
    await order(c, "2026-03-30T00:30:00", "30.00")  # exactly 365 days after the answer: counts
    await order(d, "2025-12-24", "12.34")
    await order(e, "2024-01-15", "8.00")  # more than a year before their next: a second run
    team = await Team.insert(Team(name="Kitchen", slug="kitchen"))
    await InboxItem.insert(InboxItem(feedback=a_item, team=team[0]["id"], key=f"{a_item}:{team[0]['id']}"))
    return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "team": int(team[0]["id"])}


async def test_the_rollup_gives_the_figures_of_the_facts(shop: dict[str, int]) -> None:
    await rebuild(NOW, TIMEZONE)
    await assert_rollup_equals_facts(NOW)
    for period in PERIODS:  # and a team, which the rollup holds too
        team = Segment(team=shop["team"])
        expected = figures(await retention_from_facts(team, period, NOW, TIMEZONE))
        assert figures(await retention_from_rollup(team, period, NOW, TIMEZONE)) == expected
    year = await retention(Segment(), PERIODS[2], NOW, TIMEZONE)
    full = {g.name: (g.answers, g.full_year) for g in year.by_nps}
    assert full == {"promoters": (1, 0), "passives": (1, 1), "detractors": (0, 0)}, "D at 09:00 had its year, E not"


async def test_the_sweep_keeps_the_rollup_exact(shop: dict[str, int], time_machine: object) -> None:
    assert (await sweep(NOW, TIMEZONE))["status"] == "rebuilt"
    time_machine.move_to(NOW + timedelta(days=1), tick=False)  # type: ignore[attr-defined]
    # a new order after B's answer, a late answer of a new customer, a cancellation, and an erasure
    await order(shop["b"], "2026-02-10", "25.00")
    await order(shop["e"], "2026-06-01T18:00:00", "5.00")
    g, _ = await answer("G", "2026-06-02", 0, 1, channel="app")
    await order(g, "2025-06-05", "17.00")  # an order from before, imported late
    await record_event(f"later-{shop['d']}-2025-12-24", EventIn(type="cancelled", at=at("2025-12-25")))
    email = await Customer.select(Customer.email).where(Customer.id == shop["a"]).first()
    assert email is not None
    await erase_customer(email["email"], NOW + timedelta(days=1))
    assert (await sweep(LATER, TIMEZONE))["status"] == "swept"
    await assert_rollup_equals_facts(LATER)
    march = await retention(Segment(), PERIODS[1], LATER, TIMEZONE)
    assert march.by_nps[2].orders == 3, "B's new order followed the answer"


async def test_an_order_placed_after_now_is_read_from_the_facts(shop: dict[str, int]) -> None:
    await rebuild(NOW, TIMEZONE)
    await order(shop["f"], "2026-07-01", "40.00")
    found = await retention(Segment(), PERIODS[0], NOW, TIMEZONE)
    assert figures(found) == figures(await retention_from_facts(Segment(), PERIODS[0], NOW, TIMEZONE))
    assert found.by_csat[0].orders == 2, "A's two orders; F's July order has not happened yet"
