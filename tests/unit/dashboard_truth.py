"""A month of a shop replayed through the services (orders, deliveries, support contacts, the scheduler every three
hours, survey pages opened, answers, reviews, intake), and every dashboard figure worked out again from the raw
tables with SQL written here, apart from the dashboard's code. Shared by tests/unit (SQLite) and
tests/integration (PostgreSQL).

The shop: 30 orders from 16 March 2026 on (kitchen, garden and lighting; web and app), each delivered two days
after it was placed; every fourth order also had a support contact. Invitations are opened and answered on other
days than they were sent (some a day later, some four days later, one without ever opening the page), some only
opened, some never; two reviews break a content rule and are held."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from accounts.services import team_id
from afterglow.settings import get_settings
from feedback.dashboard.rollup import rebuild
from feedback.policy import Rule
from feedback.services.intake import ingest
from feedback.services.rules import create_rule
from feedback.tables import FeedbackItem, Suggestion
from reviews.services.collect import ReviewInput, reviewable_items, save_review
from shop.schemas import CustomerIn, EventIn, ItemIn, OrderIn
from shop.services.orders import ingest_order, record_event
from surveys.services.answers import Answers, open_survey, save_answers
from surveys.services.dispatch import dispatch_due, send_claimed
from surveys.tables import Invitation
from tests.unit.staff_fixtures import make_staff

TIMEZONE = "Europe/Berlin"
BERLIN = ZoneInfo(TIMEZONE)
START = datetime(2026, 3, 16, 6, 0, tzinfo=UTC)
NOW = datetime(2026, 4, 20, 7, 0, tzinfo=UTC)  # Monday, 09:00 in Berlin
FIRST, LAST = date(2026, 4, 6), date(2026, 4, 19)  # the two weeks shown
BEFORE_FIRST, BEFORE_LAST = date(2026, 3, 23), date(2026, 4, 5)  # the two weeks before
ORDERS = 30
PRODUCTS = {"kitchen": ("K1", "K2"), "garden": ("G1",), "lighting": ("L1",)}


def moments() -> list[datetime]:
    """When the scheduler runs: every three hours from the start to now."""
    found, moment = [], START
    while moment <= NOW:
        found.append(moment)
        moment += timedelta(hours=3)
    return found


def _items(n: int) -> list[ItemIn]:
    category = ("kitchen", "garden", "lighting")[n % 3]
    skus = [(PRODUCTS[category][n % len(PRODUCTS[category])], category)]
    if n % 5 == 0:  # a second category in the same order
        skus.append(("G1", "garden") if category != "garden" else ("L1", "lighting"))
    return [ItemIn(sku=sku, name=f"Product {sku}", category=c, price=Decimal("20.00")) for sku, c in skus]


async def _orders() -> list[tuple[datetime, str, EventIn]]:
    """The orders; their deliveries and support contacts, to be reported as the replay reaches them."""
    events = []
    for n in range(ORDERS):
        placed = START + timedelta(hours=22 * n)
        await ingest_order(
            OrderIn(
                external_id=f"T-{n}",
                placed_at=placed,
                total=Decimal("40.00"),
                channel="app" if n % 5 in (1, 3) else "web",
                customer=CustomerIn(
                    email=f"t{n}@truth.example", name=f"Truth {n}", locale=("en-GB", "de-DE")[n % 2], timezone=TIMEZONE
                ),
                items=_items(n),
            )
        )
        delivered = placed + timedelta(days=2, hours=n % 3)
        events.append((delivered, f"T-{n}", EventIn(type="delivered", at=delivered)))
        if n % 4 == 1:
            helped = delivered + timedelta(days=1)
            events.append((helped, f"T-{n}", EventIn(type="support_resolved", at=helped, agent="Kim")))
    return sorted(events, key=lambda event: event[0])


def _fate(kind: str, n: int) -> tuple[timedelta | None, timedelta | None]:
    """(opened after, answered after) the invitation was sent; None: never."""
    if kind == "support":
        return timedelta(hours=1), timedelta(hours=26)
    return (
        (timedelta(hours=20), timedelta(hours=44)),  # opened the next day, answered the day after
        (timedelta(hours=2), timedelta(hours=3)),  # the same day
        (timedelta(hours=30), None),  # opened only
        (None, None),  # never
        (None, timedelta(hours=60)),  # a score clicked in the email: answered, the page never opened
        (timedelta(hours=1), timedelta(hours=100)),  # answered four days later
    )[n % 6]


async def _answer(invitation_id: int, kind: str, n: int, sent: datetime) -> None:
    opened_after, answered_after = _fate(kind, n)
    if opened_after is not None:
        await open_survey(invitation_id, sent + opened_after)
    if answered_after is None:
        return
    at = sent + answered_after
    comment = ("Fast delivery, lovely box.", "", "The lamp arrived broken.", "Support never called back.")[n % 4]
    answers = Answers(csat=1 + (n * 3) % 5, nps=None if kind == "support" else (n * 7) % 11, comment=comment)
    response = await save_answers(invitation_id, answers, "en", at)
    await ingest("survey", response, at)
    if kind == "order" and n % 2 == 0:
        await _review(invitation_id, n, at + timedelta(hours=1))


async def _review(invitation_id: int, n: int, at: datetime) -> None:
    item = (await reviewable_items(invitation_id))[0]
    text = "Same thing for half the price at www.example.com" if n % 9 == 0 else "Does what it says."
    given = ReviewInput(rating=1 + (n * 2) % 5, title=f"Review {n}", text=text)
    saved = await save_review(invitation_id, item, given, [], at, dataclasses.replace(get_settings(), smtp_host=""))
    assert saved.review_id is not None
    await ingest("review", saved.review_id, at)


async def _replay(events: list[tuple[datetime, str, EventIn]]) -> None:
    """The shop's events as they happen and the scheduler every three hours; each invitation sent is opened and
    answered as its order's fate says."""
    settings = dataclasses.replace(get_settings(), smtp_host="")  # the dev outbox: no mail server needed
    for moment in moments():
        while events and events[0][0] <= moment:
            _, order, event = events.pop(0)
            await record_event(order, event, source="test")
        claimed: list[tuple[int, str]] = []
        await dispatch_due(moment, settings, lambda i, p, into=claimed: into.append((i, p)))
        for invitation_id, purpose in claimed:
            if await send_claimed(invitation_id, purpose, moment, settings) != "sent" or purpose != "invitation":
                continue
            row = await Invitation.select(Invitation.kind, Invitation.order.external_id).where(
                Invitation.id == invitation_id
            )
            n = int(row[0]["order.external_id"].split("-")[1])
            await _answer(invitation_id, row[0]["kind"], n, moment)


async def build_truth_shop() -> None:
    """The shop above, its feedback copied and routed (support answers to Support, the rest to triage), some loops
    closed, and the rollup built as of NOW."""
    await make_staff()
    await create_rule(Rule(0, "Support", kind="support", teams=(await team_id("support"),), sla_hours=24), None, START)
    await _replay(await _orders())
    at = datetime(2026, 4, 9, 10, tzinfo=UTC)
    suggestion = await Suggestion.insert(Suggestion(text="Gift wrapping, please", created_at=at)).returning(
        Suggestion.id
    )
    await ingest("suggestion", int(suggestion[0]["id"]), at)
    # Replies to the customer, as the reply service stamps them (it would send mail): every third item.
    for row in await FeedbackItem.select(FeedbackItem.id, FeedbackItem.created_at).order_by(FeedbackItem.id):
        if row["id"] % 3 == 0:
            replied = row["created_at"] + timedelta(hours=2 + row["id"] % 40)
            await FeedbackItem.update({FeedbackItem.first_reply_at: replied}).where(FeedbackItem.id == row["id"])
    await rebuild(NOW, TIMEZONE)
