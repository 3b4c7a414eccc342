"""Demo data: a small shop's last year, replayed through the real services so every screen has content and the
dashboard's trends tell a story (operations/demo_story.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from afterglow.kinds import DETRACTOR_UP_TO, NPS_GROUPS
from afterglow.settings import Settings, get_settings
from operations.demo_story import (
    COMMENTS,
    DEFECT_SKU,
    KETTLE_COMMENTS,
    KETTLE_DEFECT,
    KETTLE_FIXED,
    NEW_COURIER,
    OLD_COURIER,
    REPLIES,
    REVIEWS,
    SEASON,
    Story,
)
from reviews.services.collect import ReviewInput, reviewable_items, save_review
from reviews.services.photos import CheckedPhoto, check_photo
from shop.schemas import CustomerIn, EventIn, ItemIn, OrderIn
from shop.services.orders import ingest_order, record_event
from shop.tables import Order
from surveys.services.answers import Answers, open_survey, save_answers
from surveys.services.dispatch import dispatch_due, send_claimed
from surveys.tables import Invitation

PEOPLE = [
    ("Anna Schmidt", "anna.schmidt@example.de", "de-DE", "Europe/Berlin"),
    ("Lukas Weber", "lukas.weber@example.de", "de-AT", "Europe/Vienna"),
    ("Eszter Nagy", "eszter.nagy@example.hu", "hu-HU", "Europe/Budapest"),
    ("Bence Kovács", "bence.kovacs@example.hu", "hu", "Europe/Budapest"),
    ("Emily Clarke", "emily.clarke@example.co.uk", "en-GB", "Europe/London"),
    ("Jordan Lee", "jordan.lee@example.com", "en-US", "America/New_York"),
    ("Maya Patel", "maya.patel@example.com", "en-US", "America/Los_Angeles"),
    ("Sophie Martin", "sophie.martin@example.fr", "fr-FR", "Europe/Paris"),
    ("Jonas Becker", "jonas.becker@example.de", "de", ""),
    ("Olivia Brown", "olivia.brown@example.com.au", "en-AU", "Australia/Sydney"),
]
#: (sku, name, the shop's own category, price, picture under static/demo/products/). Orders carry no category:
#: each item gets its category from the catalogue, through the mapping below.
PRODUCTS = [
    ("KETTLE-1", "Stone kettle 1.5 l", "Kettles & Teapots", "49.00", "kettle.png"),
    ("MUG-SET", "Glazed mug set (4)", "Cups & Mugs", "32.00", "mug-set.png"),
    ("CHAIR-OAK", "Oak dining chair", "Dining Chairs", "189.00", "oak-chair.png"),
    ("LAMP-ARC", "Arc floor lamp", "Floor Lamps", "129.00", "arc-lamp.png"),
    ("TEE-ORG", "Organic cotton tee", "T-Shirts", "24.00", "organic-tee.png"),
    ("COFFEE-1K", "Single-origin beans 1 kg", "Coffee", "28.50", "coffee-beans.png"),
]
#: The shop categories mapped onto the categories delays and dashboard segments use (/app/admin/catalogue).
CATEGORY_MAP = {
    "Kettles & Teapots": "kitchen",
    "Cups & Mugs": "kitchen",
    "Dining Chairs": "furniture",
    "Floor Lamps": "lighting",
    "T-Shirts": "apparel",
    "Coffee": "food",
}


async def seed(now: datetime, scale: float = 1.0) -> dict[str, int]:
    """Create staff and a year of orders (more before Christmas, fewer in summer), deliver most, run the scheduler
    and answer surveys as the days pass, then analyse, reply and roll the dashboard up. `scale` thins the orders
    (a test seeds a smaller year with the same story)."""
    from feedback.dashboard.rollup import rebuild
    from feedback.services.intake import ingest_pending

    rng = random.Random(7)
    story = Story(now)
    await seed_staff()
    await seed_catalogue(now)
    settings = get_settings()
    events: list[tuple[str, EventIn]] = []
    placed_orders: dict[str, datetime] = {}
    # One transaction: the embedded SQLite then keeps one connection instead of opening one per query.
    async with Order._meta.db.transaction():
        for n, placed in enumerate(_order_times(story, rng, scale)):
            external_id = f"DEMO-{1000 + n}"
            placed_orders[external_id] = placed
            events += await _order(n, external_id, placed, story, rng, now)
        events.sort(key=lambda event: event[1].at)
        answered = await _replay(events, story, rng, settings)
        for external_id, event in events:  # a support contact after now
            await record_event(external_id, event, source="demo")
        await _suggestions(now - timedelta(days=2))
        analysed = len(await ingest_pending(now, limit=100_000))
        await _replies(story, settings)
        await rebuild(now, settings.shop_timezone)
    return {
        "orders": len(placed_orders),
        "invitations": await Invitation.count(),
        "answered": answered,
        "analysed": analysed,
    }


def _order_times(story: Story, rng: random.Random, scale: float) -> list[datetime]:
    """When the year's orders were placed: about one or two a day, weighted by the month's season."""
    times = []
    day = story.start
    while day < story.now - timedelta(hours=12):
        expected = 1.3 * scale * SEASON[day.month]
        count = int(expected) + (rng.random() < expected - int(expected))
        times += [day + timedelta(minutes=rng.randint(0, 24 * 60 - 1)) for _ in range(count)]
        day += timedelta(days=1)
    return sorted(time for time in times if time < story.now)


async def _order(
    n: int, external_id: str, placed: datetime, story: Story, rng: random.Random, now: datetime
) -> list[tuple[str, EventIn]]:
    """Ingest one order; returns what happens to it afterwards (delivery, return, complaint, support)."""
    name, email, locale, tz = PEOPLE[n % len(PEOPLE)]
    if n >= len(PEOPLE) and n % 4:  # most customers order once; some come back
        email = email.replace("@", f".{n}@")
    picks = rng.sample(PRODUCTS, rng.randint(1, 3))
    if rng.random() < 0.35 and all(p[0] != DEFECT_SKU for p in picks):  # the shop's best seller
        picks[0] = next(p for p in PRODUCTS if p[0] == DEFECT_SKU)
    total = sum(Decimal(p[3]) for p in picks)
    await ingest_order(
        OrderIn(
            external_id=external_id,
            placed_at=placed,
            total=total,
            channel=rng.choice(["web", "web", "app"]),
            customer=CustomerIn(email=email, name=name, locale=locale, timezone=tz),
            items=[ItemIn(sku=sku, name=title, price=Decimal(price)) for sku, title, _, price, _ in picks],
        )
    )
    fastest, slowest = story.delivery_days(placed)
    delivered = placed + timedelta(days=rng.randint(fastest, slowest), hours=rng.randint(0, 8))
    if delivered >= now or n % 9 == 8:
        return []
    events = [(external_id, EventIn(type="delivered", at=delivered))]
    if n % 11 == 3:
        events.append((external_id, EventIn(type="returned", at=delivered + timedelta(days=2))))
    if n % 13 == 5:
        events.append((external_id, EventIn(type="complaint_opened", at=delivered + timedelta(hours=5))))
    if n % 7 == 2:
        agent = rng.choice(["Kim", "Ali"])
        events.append((external_id, EventIn(type="support_resolved", at=delivered + timedelta(days=1), agent=agent)))
    return events


async def _replay(events: list[tuple[str, EventIn]], story: Story, rng: random.Random, settings: Settings) -> int:
    """Report deliveries and support contacts as they happen, so the scheduler plans, sends, reminds and records
    answers in order (and the dashboard's funnel has real dates): every 19 hours for the older months (a pass
    lands in every customer's sending hours within two days), every three hours for the last four weeks. Events
    left after now stay in `events`."""
    answered = 0
    moment = story.start
    recent = story.now - timedelta(days=28)
    while moment <= story.now:
        while events and events[0][1].at <= moment:
            external_id, event = events.pop(0)
            await record_event(external_id, event, source="demo")
        claimed: list[tuple[int, str]] = []
        await dispatch_due(moment, settings, lambda i, p, into=claimed: into.append((i, p)))
        for invitation_id, purpose in claimed:
            await send_claimed(invitation_id, purpose, moment, settings)
            if rng.random() < (0.55 if purpose == "invitation" else 0.3):
                # never after now: the dashboard counts answers on the day they were given
                at = min(moment + timedelta(hours=rng.randint(1, 30)), story.now)
                answered += await _answer(invitation_id, at, story, rng)
        moment += timedelta(hours=3 if moment >= recent else 19)
    return answered


async def seed_catalogue(now: datetime) -> None:
    """The demo shop's products with their pictures, and its categories mapped."""
    from shop.platforms.products import ProductData
    from shop.services.catalogue import store_product
    from shop.services.categories import save_category_map

    for sku, name, shop_category, _, picture in PRODUCTS:
        product = ProductData(
            "demo",
            (f"sku:{sku}",),
            sku=sku,
            title=name,
            shop_category=shop_category,
            image_url=f"/static/demo/products/{picture}",
            brand="Afterglow Demo",
        )
        await store_product(product, now)
    await save_category_map(CATEGORY_MAP, None, now)


#: Notes left in the open suggestion box (`/feedback`).
SUGGESTIONS = [
    ("Please offer gift wrapping at checkout, the website has no option for it.", "gift@example.com", "en"),
    ("Die Versandkosten sind leider viel zu hoch für kleine Bestellungen.", "", "de"),
]


async def _suggestions(at: datetime) -> None:
    from feedback.tables import Suggestion

    for text, email, locale in SUGGESTIONS:
        await Suggestion.insert(Suggestion(text=text, email=email, locale=locale, created_at=at))


async def _answer(invitation_id: int, at: datetime, story: Story, rng: random.Random) -> int:
    """Answer a survey as a customer of that time would: the courier of the day, the kettle of that batch."""
    row = (
        await Invitation.select(Invitation.kind, Invitation.customer.locale, Invitation.order.placed_at)
        .where(Invitation.id == invitation_id)
        .first()
    )
    lang = (row["customer.locale"] or "en")[:2]
    placed = _as_utc(row["order.placed_at"])
    items = await reviewable_items(invitation_id)
    leaking = story.defective(placed) and any(item.sku == DEFECT_SKU for item in items)
    late = not story.new_courier(placed)
    comment, csat, nps = _comment(lang, late, leaking, rng)
    if row["kind"] == "support":
        nps = None
    await open_survey(invitation_id, at - timedelta(minutes=4))  # the survey page, opened just before answering
    await save_answers(invitation_id, Answers(csat=csat, nps=nps, comment=comment), lang, at)
    settings = get_settings()
    for item in items:
        if rng.random() < 0.7:
            stars, title, text = _review(item.sku, lang, story, placed, rng)
            photos = [_demo_photo(rng, settings)] if rng.random() < 0.15 else []
            await save_review(invitation_id, item, ReviewInput(stars, title, text), photos, at, settings, lang)
    return 1


def _as_utc(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _comment(lang: str, late: bool, leaking: bool, rng: random.Random) -> tuple[str, int, int]:
    """A survey comment with its CSAT and NPS: the leaking kettle first, then the courier, else anything."""
    texts = "de" if lang == "de" else "en"
    if leaking and rng.random() < 0.7:
        return rng.choice(KETTLE_COMMENTS[texts]), rng.choice([1, 2, 2, 3]), rng.choice([1, 3, 4, 5, 6])
    if rng.random() < 0.45:
        if late:
            return rng.choice(OLD_COURIER[texts]), rng.choice([2, 2, 3, 4]), rng.choice([3, 5, 6, 7, 8])
        return rng.choice(NEW_COURIER[texts]), rng.choice([4, 5, 5]), rng.choice([8, 9, 10, 10])
    comment = rng.choice(COMMENTS.get(lang, COMMENTS["en"])) if rng.random() < 0.5 else ""
    return comment, rng.choice([3, 4, 4, 5, 5]), rng.choice([6, 7, 8, 9, 9, 10, 10])


def _review(sku: str, lang: str, story: Story, placed: datetime, rng: random.Random) -> tuple[int, str, str]:
    """A review of this product as bought then: the kettle's leaking batch, its fixed one, or any product."""
    texts = "de" if lang == "de" else "en"
    if sku == DEFECT_SKU and story.defective(placed):
        return rng.choice(KETTLE_DEFECT[texts])
    if sku == DEFECT_SKU and placed.date() >= story.defect_fixed:
        return rng.choice(KETTLE_FIXED[texts])
    return rng.choice(REVIEWS.get(lang, REVIEWS["en"]))


async def _replies(story: Story, settings: Settings) -> None:
    """The admin answers every other routed piece of feedback that can be answered, sooner as the months pass
    (spread around that month's typical wait), so the dashboard's time to first reply falls; the rest, and what came
    in during the last hours, stays open for the inbox."""
    from accounts.services import staff
    from accounts.tables import StaffProfile
    from feedback.services.replies import ReplyRefused, reply_area, send_reply, write_reply
    from feedback.tables import InboxItem

    member = await StaffProfile.select(StaffProfile.user).where(StaffProfile.user.username == "admin").first()
    user = await staff(member["user"]) if member else None
    if user is None:
        return
    rows = (
        await InboxItem.select(InboxItem.id, InboxItem.feedback.created_at)
        .where((InboxItem.feedback.email != "") & (InboxItem.feedback.first_reply_at.is_null()))
        .order_by(InboxItem.id)
    )
    for n, row in enumerate(rows):
        asked = _as_utc(row["feedback.created_at"])
        at = asked + timedelta(hours=story.reply_hours(asked) * (0.6 + (n % 5) / 5))
        area = await reply_area(user, row["id"]) if at < story.now - timedelta(hours=6) and n % 2 else None
        if area is None:
            continue
        try:
            entry = await write_reply(user, area, REPLIES[n % len(REPLIES)], at, settings)
        except ReplyRefused:
            continue
        await send_reply(entry, at, settings)


def _demo_photo(rng: random.Random, settings: Settings) -> CheckedPhoto:
    """A plain picture standing in for a customer's photo."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), tuple(rng.randint(120, 230) for _ in range(3)))
    ImageDraw.Draw(image).ellipse((200, 120, 440, 360), fill=tuple(rng.randint(20, 120) for _ in range(3)))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return check_photo(out.getvalue(), settings, "demo.jpg")


#: Dev-only demo accounts (documented in the README); never created in production.
DEMO_USERS = [
    ("admin", "admin", []),
    ("manager", "manager", []),
    ("support", "member", ["Support"]),
    ("logistics", "member", ["Logistics"]),
]
DEMO_PASSWORD = "afterglow-demo"


async def seed_staff() -> None:
    from accounts.services import add_member, create_staff, create_team, slugify

    for team in ("Support", "Logistics", "Product"):
        await create_team(team)
    for username, role, teams in DEMO_USERS:
        user_id = await create_staff(username, DEMO_PASSWORD, role, email=f"{username}@demo.localhost")
        for team in teams:
            await add_member(slugify(team), user_id)
    await seed_rules()


async def seed_rules() -> None:
    """Routing rules a shop typically starts with (admins change them at /app/admin/routing)."""
    from accounts.services import team_id
    from feedback.policy import Rule
    from feedback.services.rules import create_rule

    support, logistics, product = [await team_id(slug) for slug in ("support", "logistics", "product")]
    rules = [
        Rule(0, "Support contacts → Support", kind="support", teams=(support,), sla_hours=48),
        Rule(
            0,
            f"Detractors (NPS {NPS_GROUPS['detractors'].text}) → Support, reply within 24 h",
            kind="nps",
            score_max=DETRACTOR_UP_TO,
            teams=(support,),
            priority="urgent",
            sla_hours=24,
            continue_after=True,
        ),
        Rule(
            0,
            "Reviews of 1–2 stars about quality → Product",
            kind="review",
            score_max=2,
            topics=frozenset({"product quality"}),
            teams=(product,),
            priority="high",
            sla_hours=72,
        ),
        Rule(
            0,
            "Unhappy about product quality → Product",
            labels=frozenset({"negative", "mixed"}),
            topics=frozenset({"product quality"}),
            teams=(product,),
            sla_hours=72,
        ),
        Rule(
            0,
            "Unhappy about delivery or packaging → Logistics",
            labels=frozenset({"negative", "mixed"}),
            topics=frozenset({"delivery", "packaging"}),
            teams=(logistics,),
            sla_hours=72,
        ),
        Rule(0, "Happy customers: no follow-up", labels=frozenset({"positive"}), archive=True),
    ]
    for rule in rules:
        await create_rule(rule, None, datetime.now(UTC))


async def seed_if_empty(now: datetime) -> bool:
    if await Order.count():
        return False
    await seed(now)
    return True
