"""Demo data: a small shop's last month, replayed through the real services so every screen has content."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from afterglow.kinds import DETRACTOR_UP_TO, NPS_GROUPS
from afterglow.settings import Settings, get_settings
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
COMMENTS = {
    "en": [
        "Fast delivery and lovely packaging.",
        "The lamp arrived with a cracked shade, very disappointing.",
        "Great quality, but the chair was hard to assemble.",
        "Support was quick and friendly.",
    ],
    "de": ["Schnelle Lieferung, alles bestens.", "Die Tasse kam leider zerbrochen an."],
    "hu": ["Gyors szállítás, nagyon elégedett vagyok.", "A csomagolás sérült volt."],
}

#: (stars, title, text) per language; one breaks a content rule so the moderation queue has work.
REVIEWS = {
    "en": [
        (5, "Exactly as pictured", "Solid, well made and it arrived quickly."),
        (4, "Good, one small flaw", "Love it, though the finish has a small scratch."),
        (2, "Not great", "Broke after two weeks of daily use."),
        (5, "", "Would buy again."),
        (1, "Cheaper elsewhere", "Same thing for half the price at www.example.com"),
    ],
    "de": [(5, "Sehr gut", "Top Qualität, gerne wieder."), (3, "Geht so", "Farbe anders als auf dem Foto.")],
    "hu": [(5, "Kiváló", "Nagyon jó minőség, ajánlom."), (2, "Csalódás", "Gyorsan tönkrement.")],
}


async def seed(now: datetime, orders: int = 40) -> dict[str, int]:
    """Create staff, orders over the last 40 days, deliver most, run the scheduler day by day, answer surveys."""
    rng = random.Random(7)
    await seed_staff()
    await seed_catalogue(now)
    settings = get_settings()
    start = now - timedelta(days=40)
    events: list[tuple[str, EventIn]] = []
    for n in range(orders):
        name, email, locale, tz = PEOPLE[n % len(PEOPLE)]
        if n >= len(PEOPLE) and n % 4:  # most customers order once; some come back
            email = email.replace("@", f".{n}@")
        placed = start + timedelta(hours=rng.randint(0, 24 * 35))
        picks = rng.sample(PRODUCTS, rng.randint(1, 3))
        total = sum(Decimal(p[3]) for p in picks)
        external_id = f"DEMO-{1000 + n}"
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
        delivered = placed + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 8))
        if delivered < now and n % 9 != 8:
            events.append((external_id, EventIn(type="delivered", at=delivered)))
            if n % 11 == 3:
                events.append((external_id, EventIn(type="returned", at=delivered + timedelta(days=2))))
            if n % 13 == 5:
                events.append((external_id, EventIn(type="complaint_opened", at=delivered + timedelta(hours=5))))
            if n % 7 == 2:
                agent = rng.choice(["Kim", "Ali"])
                events.append(
                    (external_id, EventIn(type="support_resolved", at=delivered + timedelta(days=1), agent=agent))
                )
    # Replay the past weeks every few hours: deliveries and support contacts are reported as they happen, so the
    # scheduler plans, sends, reminds and records answers in order (and the dashboard's funnel has real dates).
    events.sort(key=lambda event: event[1].at)
    answered = 0
    moment = start
    while moment <= now:
        while events and events[0][1].at <= moment:
            external_id, event = events.pop(0)
            await record_event(external_id, event, source="demo")
        claimed: list[tuple[int, str]] = []
        await dispatch_due(moment, settings, lambda i, p, into=claimed: into.append((i, p)))
        for invitation_id, purpose in claimed:
            await send_claimed(invitation_id, purpose, moment, settings)
            if rng.random() < (0.55 if purpose == "invitation" else 0.3):
                # never after now: the dashboard counts answers on the day they were given
                answered += await _answer(invitation_id, min(moment + timedelta(hours=rng.randint(1, 30)), now), rng)
        moment += timedelta(hours=3)
    for external_id, event in events:  # a support contact after now
        await record_event(external_id, event, source="demo")
    from feedback.dashboard.rollup import rebuild
    from feedback.services.intake import ingest_pending

    await _suggestions(now - timedelta(days=2))
    analysed = len(await ingest_pending(now, limit=100_000))
    await _a_reply(now, settings)
    await rebuild(now, settings.shop_timezone)
    return {"orders": orders, "invitations": await Invitation.count(), "answered": answered, "analysed": analysed}


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


async def _a_reply(now: datetime, settings: Settings) -> None:
    """The Support member answers the oldest detractor routed to Support, so the inbox shows a closed loop."""
    from accounts.services import staff
    from accounts.tables import StaffProfile
    from feedback.services.replies import reply_area, send_reply, write_reply
    from feedback.tables import InboxItem

    member = await StaffProfile.select(StaffProfile.user).where(StaffProfile.user.username == "support").first()
    item = (
        await InboxItem.select(InboxItem.id)
        .where(
            (InboxItem.team.slug == "support")
            & (InboxItem.feedback.email != "")
            & (InboxItem.feedback.nps <= DETRACTOR_UP_TO)
        )
        .order_by(InboxItem.id)
        .first()
    )
    user = await staff(member["user"]) if member else None
    area = await reply_area(user, item["id"]) if user and item else None
    if area is None:
        return
    body = "Thank you for telling us. I am sorry it went wrong: I have looked into it and will make it right."
    entry = await write_reply(user, area, body, now - timedelta(hours=20), settings)
    await send_reply(entry, now - timedelta(hours=20), settings)


async def _answer(invitation_id: int, at: datetime, rng: random.Random) -> int:
    row = (
        await Invitation.select(Invitation.kind, Invitation.customer.locale)
        .where(Invitation.id == invitation_id)
        .first()
    )
    lang = (row["customer.locale"] or "en")[:2]
    comment = rng.choice(COMMENTS.get(lang, COMMENTS["en"])) if rng.random() < 0.6 else ""
    nps = None if row["kind"] == "support" else rng.choice([3, 6, 7, 8, 9, 9, 10, 10])
    await open_survey(invitation_id, at - timedelta(minutes=4))  # the survey page, opened just before answering
    await save_answers(invitation_id, Answers(csat=rng.choice([2, 3, 4, 4, 5, 5]), nps=nps, comment=comment), lang, at)
    settings = get_settings()
    for item in await reviewable_items(invitation_id):
        if rng.random() < 0.7:
            stars, title, text = rng.choice(REVIEWS.get(lang, REVIEWS["en"]))
            photos = [_demo_photo(rng, settings)] if rng.random() < 0.25 else []
            await save_review(invitation_id, item, ReviewInput(stars, title, text), photos, at, settings, lang)
    return 1


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
