"""A hand-made shop whose dashboard figures are worked out by hand below, shared by the dashboard tests on SQLite
(tests/unit) and PostgreSQL (tests/integration). The shop's time zone is Europe/Berlin (tests/conftest.py).

Two weeks matter: the current one (Mon 9 – Sun 15 March 2026) and the one before (2 – 8 March). Answers given
just after midnight in Berlin are still the previous evening in UTC; they must count on the Berlin day.

Current week, 14 feedback items:
- 8 order-survey answers. NPS 10, 9, 9, 8, 7, 6, 3, 10: 4 promoters, 2 passives, 2 detractors → NPS +25.0.
  CSAT 5, 4, 4, 3, 2, 5, 1, 4: 5 of 8 are 4–5 → 62.5%.
- 2 support-survey answers (routed to Support), CSAT 5 and 2 → Support CSAT 50.0% (never part of CSAT).
- 3 reviews rated 5, 4, 2 → average 3.667; 1 suggestion.
- Funnel, each step on its day: 13 planned, 12 sent, 12 opened (O1, sent the week before, among them), 10 answered
  (O1 too). Of the 12 sent this week 11 were opened and 9 answered → response rate 75.0%.
- Loops closed in the week after 4, 10 and 30 hours → median 10 hours.
Week before, 4 items: NPS 10, 6, 9 → +33.3 (n 3); CSAT 4, 2, 5 → 66.7%; one review rated 5. Funnel: 5 planned,
5 sent, 3 opened, 3 answered; of the 5 sent, 4 were opened and answered (O1 on Monday) → 80.0%. One loop closed
after 2 hours.
1 March 00:30 in Berlin (28 February in UTC): one detractor (NPS 0): the week of 23 February holds that single
answer, and February (Berlin) has no answer at all, though its invitation was planned and sent there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from accounts.services import Staff, create_team, team_id
from accounts.tables import Team
from feedback.dashboard.periods import Period
from feedback.dashboard.rollup import rebuild
from feedback.policy import Rule
from feedback.services.intake import ingest
from feedback.services.rules import create_rule
from feedback.services.tagging import correct_topics
from feedback.tables import FeedbackItem, InboxItem, Suggestion
from reviews.tables import Review
from shop.tables import Customer, Order, OrderItem
from surveys.services.answers import Answers, save_answers
from surveys.tables import Invitation, Response

TIMEZONE = "Europe/Berlin"
BERLIN = ZoneInfo(TIMEZONE)
CURRENT = Period(date(2026, 3, 9), date(2026, 3, 15))
PREVIOUS = Period(date(2026, 3, 2), date(2026, 3, 8))
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
EDITOR = Staff(1, "dataset", "admin")


def local(day: str, hour: int = 12, minute: int = 0) -> datetime:
    """A moment given in Berlin time ("03-09" is 9 March 2026), in UTC."""
    return datetime.fromisoformat(f"2026-{day}T{hour:02d}:{minute:02d}").replace(tzinfo=BERLIN).astimezone(UTC)


@dataclass(frozen=True)
class Survey:
    ref: str
    channel: str
    items: tuple[tuple[str, str], ...]  # (sku, category)
    locale: str
    planned: datetime
    sent: datetime | None = None
    opened: datetime | None = None
    answered: datetime | None = None
    csat: int | None = None
    nps: int | None = None
    comment: str = ""
    kind: str = "order"
    topics: tuple[str, ...] = ()
    replied_after: timedelta | None = None  # the first reply to the customer


K1, K2, G1 = ("K1", "kitchen"), ("K2", "kitchen"), ("G1", "garden")
MON, MON_BEFORE = local("03-09", 9), local("03-02", 12)

SURVEYS = (
    # The current week. O1 was planned the week before and answered at 00:30 on Monday (Sunday in UTC).
    Survey(
        "O1", "web", (K1,), "en", MON_BEFORE, MON_BEFORE, local("03-09", 0, 25), local("03-09", 0, 30), 5, 10,
        "Lovely kettle, fast delivery.", topics=("delivery",),
    ),
    Survey("O2", "web", (K1, G1), "en", MON, MON, local("03-10", 8), local("03-10", 8, 5), 4, 9),
    Survey("O3", "app", (G1,), "de", MON, MON, local("03-11"), local("03-11"), 4, 9, "Sehr gut"),
    Survey("O4", "app", (G1,), "de", MON, MON, local("03-11"), local("03-11", 13), 3, 8),
    Survey("O5", "web", (K1,), "en", MON, MON, local("03-12"), local("03-12"), 2, 7),
    Survey(
        "O6", "web", (K2,), "en", MON, MON, local("03-12"), local("03-12", 14), 5, 6,
        "The parcel was late and the box was damaged.", topics=("delivery", "packaging"),
        replied_after=timedelta(hours=10),
    ),
    Survey("O7", "app", (K2,), "de", MON, MON, local("03-13"), local("03-13"), 1, 3, replied_after=timedelta(hours=30)),
    # Sunday 23:30 in Berlin: still the current week.
    Survey("O8", "web", (G1,), "en", MON, MON, local("03-15", 23), local("03-15", 23, 30), 4, 10),
    Survey("O9", "web", (K1,), "en", MON, MON, local("03-10")),  # opened, never answered
    Survey("O10", "web", (K1,), "en", MON, MON),  # sent, never opened
    Survey("O11", "app", (G1,), "de", MON),  # never sent
    Survey("O12", "web", (K1,), "en", MON, MON, local("03-14")),
    Survey(
        "S1", "web", (K1,), "en", MON, MON, local("03-10", 10), local("03-10", 10), 5, kind="support",
        replied_after=timedelta(hours=4),
    ),
    Survey(
        "S2", "app", (G1,), "de", MON, MON, local("03-11"), local("03-11"), 2, kind="support",
        comment="Niemand hat geantwortet", topics=("support",),
    ),
    # The week before. P4 answers at 23:30 on Sunday 8 March in Berlin.
    Survey(
        "P1", "web", (K1,), "en", MON_BEFORE, MON_BEFORE, local("03-03"), local("03-03"), 4, 10, "Great price",
        topics=("price",),
    ),
    Survey(
        "P2", "app", (G1,), "de", MON_BEFORE, MON_BEFORE, local("03-04"), local("03-04"), 2, 6,
        "Paket kam zu spät", topics=("delivery",), replied_after=timedelta(hours=2),
    ),
    Survey("P3", "web", (K1,), "en", MON_BEFORE, MON_BEFORE),
    Survey("P4", "web", (K1,), "en", MON_BEFORE, MON_BEFORE, local("03-08", 23), local("03-08", 23, 30), 5, 9),
    # Planned in February, answered at 00:30 on 1 March in Berlin (28 February, 23:30 UTC).
    Survey(
        "M1", "web", (K2,), "en", local("02-26"), local("02-26"), local("03-01", 0, 25), local("03-01", 0, 30), 1, 0
    ),
)  # fmt: skip


@dataclass(frozen=True)
class WrittenReview:
    ref: str
    item: tuple[str, str]
    rating: int
    locale: str
    at: datetime
    text: str = ""
    topics: tuple[str, ...] = ()


REVIEWS = (
    WrittenReview("R0", K1, 5, "en", local("03-05"), "Good value", topics=("price",)),
    WrittenReview("R1", K1, 5, "en", local("03-10")),
    WrittenReview("R2", G1, 4, "de", local("03-12")),
    WrittenReview("R3", K2, 2, "en", local("03-14"), "Broke after a week", topics=("product quality",)),
)
SUGGESTIONS = ((local("03-13"), "Please add gift wrapping", ("packaging",)),)


async def _customer(ref: str, locale: str) -> int:
    rows = await Customer.insert(Customer(email=f"{ref.lower()}@dataset.example", name=ref, locale=locale)).returning(
        Customer.id
    )
    return int(rows[0]["id"])


async def _order(ref: str, customer: int, channel: str, items: tuple[tuple[str, str], ...], placed: datetime) -> int:
    rows = await Order.insert(
        Order(
            external_id=f"dataset-{ref}", channel=channel, placed_at=placed, total=Decimal("50.00"), customer=customer
        )
    ).returning(Order.id)
    order = int(rows[0]["id"])
    for sku, category in items:
        await OrderItem.insert(
            OrderItem(order=order, sku=sku, name=f"Product {sku}", category=category, price=Decimal("25.00"))
        )
    return order


async def write_survey(s: Survey) -> int | None:
    """The order, its invitation as the scheduler leaves it, and the answer through the survey service."""
    customer = await _customer(s.ref, s.locale)
    order = await _order(s.ref, customer, s.channel, s.items, s.planned - timedelta(days=5))
    rows = await Invitation.insert(
        Invitation(
            order=order,
            customer=customer,
            kind=s.kind,
            dedupe_key=f"dataset:{s.ref}",
            agent="Kim" if s.kind == "support" else "",
            status="sent" if s.sent else "scheduled",
            due_at=s.planned,
            expires_at=s.planned + timedelta(days=30),
            sent_at=s.sent,
            opened_at=s.opened,
            token=f"token-{s.ref}",
            created_at=s.planned,
        )
    ).returning(Invitation.id)
    if s.answered is None:
        return None
    return await save_answers(
        int(rows[0]["id"]), Answers(csat=s.csat, nps=s.nps, comment=s.comment), s.locale, s.answered
    )


async def write_review(r: WrittenReview) -> int:
    customer = await _customer(r.ref, r.locale)
    order = await _order(r.ref, customer, "web", (r.item,), r.at - timedelta(days=7))
    item = await OrderItem.select(OrderItem.id).where(OrderItem.order == order).first()
    rows = await Review.insert(
        Review(
            order_item=item["id"] if item else None,
            customer=customer,
            sku=r.item[0],
            product_name=f"Product {r.item[0]}",
            category=r.item[1],
            rating=r.rating,
            text=r.text,
            language=r.locale,
            verified=True,
            created_at=r.at,
            updated_at=r.at,
        )
    ).returning(Review.id)
    return int(rows[0]["id"])


async def build_dataset() -> dict[str, int]:
    """Write the shop above through the services (answers, intake, topic corrections) and fill the rollup.
    Returns each reference's feedback item id."""
    if not await Team.exists().where(Team.slug == "support"):
        await create_team("Support")
    support = await team_id("support")
    await create_rule(Rule(0, "Support contacts", kind="support", teams=(support,), sla_hours=24), None, NOW)
    feedback: dict[str, int] = {}
    plans: list[tuple[str, tuple[str, ...], timedelta | None]] = []
    for s in SURVEYS:
        response = await write_survey(s)
        if response is not None:
            feedback[s.ref] = (await ingest("survey", response, NOW)).feedback_id or 0
            plans.append((s.ref, s.topics, s.replied_after))
    for r in REVIEWS:
        feedback[r.ref] = (await ingest("review", await write_review(r), NOW)).feedback_id or 0
        plans.append((r.ref, r.topics, None))
    for n, (at, text, topics) in enumerate(SUGGESTIONS, start=1):
        rows = await Suggestion.insert(Suggestion(text=text, created_at=at)).returning(Suggestion.id)
        feedback[f"X{n}"] = (await ingest("suggestion", int(rows[0]["id"]), NOW)).feedback_id or 0
        plans.append((f"X{n}", topics, None))
    for ref, topics, replied_after in plans:
        # Topics as staff set them, so the figures do not hang on the analyser's reading of each comment.
        await correct_topics(feedback[ref], list(topics), EDITOR, NOW)
        if replied_after is not None:
            created = await FeedbackItem.select(FeedbackItem.created_at).where(FeedbackItem.id == feedback[ref]).first()
            assert created is not None
            await FeedbackItem.update({FeedbackItem.first_reply_at: created["created_at"] + replied_after}).where(
                FeedbackItem.id == feedback[ref]
            )
    # Support answered S1 (the first reply above) and resolved it; S2 waits past its 24-hour SLA.
    await InboxItem.update(
        {InboxItem.status: "resolved", InboxItem.responded_at: NOW, InboxItem.resolved_at: NOW}
    ).where(InboxItem.feedback == feedback["S1"])
    await rebuild(NOW, TIMEZONE)
    return feedback


async def test_the_data_set_is_stored_as_described() -> None:
    feedback = await build_dataset()
    assert len(feedback) == 19  # 14 survey answers, 4 reviews, 1 suggestion
    assert await Response.count() == 14
    kinds = {row["kind"] for row in await FeedbackItem.select(FeedbackItem.kind)}
    assert kinds == {"order", "support", "review", "suggestion"}
    support_items = await InboxItem.select(InboxItem.team).where(InboxItem.team.is_not_null())
    assert len(support_items) == 2, "both support answers are routed to Support"
