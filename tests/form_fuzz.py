"""Hypothesis against every form and JSON endpoint: whatever a browser, a bot or a broken shop sends (NUL characters,
huge or empty values, numbers out of range, markup, other fields), the answer is never a server error and nothing
stored breaks the rules the forms enforce. tests/unit (SQLite) and tests/integration (PostgreSQL) run the same
cases; PostgreSQL refuses text that SQLite takes (a NUL character), which is why both do."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import secrets
from base64 import b64encode
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from accounts.services import create_staff, create_team, team_id
from accounts.tables import Team
from afterglow.settings import Settings
from feedback.policy import Rule, check_rule
from feedback.services.intake import ingest
from feedback.services.replies import conversation_token
from feedback.services.routing import rule_from_row
from feedback.services.rules import create_rule
from feedback.services.suggestions import form_token
from feedback.tables import FeedbackItem, RoutingRule, Suggestion, ThreadEntry
from reviews.tables import Review
from shop.tables import Customer, Order, OrderItem
from surveys.services.answers import Answers, save_answers
from surveys.services.links import survey_token, unsubscribe_token
from surveys.tables import Invitation, Response

NOW = datetime.now(UTC).replace(microsecond=0)
PASSWORD = "fuzz-password-123"
FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

#: Text as it arrives from the world: any Unicode (no lone surrogates, which HTTP cannot carry), the nasty
#: classics, and values just over the limits.
TEXT = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "<script>alert(1)</script>",
            "0",
            "-1",
            "11",
            "5.5",
            "1e309",
            "NaN",
            "٣",
            "²",
            "\u202e",
        ]
    ),
    st.integers(-(10**20), 10**20).map(str),
    st.integers(1, 80).map(lambda n: "9" * n),
    st.text(alphabet="ab \n", min_size=4990, max_size=5100),
)


def fields(*names: str) -> st.SearchStrategy[dict[str, str]]:
    """Some of these fields (and sometimes a stranger), each with a value from TEXT."""
    return st.dictionaries(st.sampled_from([*names, "unexpected"]), TEXT, max_size=len(names) + 1)


def raw_fields(*names: str) -> st.SearchStrategy[dict[str, bytes]]:
    """Multipart fields as bytes, valid UTF-8 or not, some declaring a charset (`name;charset`)."""
    named = st.sampled_from([*names, "unexpected"]).flatmap(
        lambda name: st.sampled_from([name, f"{name};utf-8", f"{name};latin-1", f"{name};nope"])
    )
    return st.dictionaries(named, st.binary(max_size=40) | TEXT.map(str.encode), max_size=len(names) + 1)


@dataclass
class World:
    """One customer with an answered, routed survey; an admin; a suggestion form token."""

    survey: str
    unsubscribe: str
    item: int
    inbox_item: int
    conversation: str
    team: str
    suggestion_token: str


async def build_world(settings: Settings) -> World:
    customer = await Customer.insert(
        Customer(email="fuzz@example.com", name="Fuzz Tester", locale="en", timezone="Europe/Berlin")
    ).returning(Customer.id)
    order = await Order.insert(
        Order(
            external_id="FUZZ-1", placed_at=NOW - timedelta(days=6), total=Decimal("20.00"), customer=customer[0]["id"]
        )
    ).returning(Order.id)
    item = await OrderItem.insert(
        OrderItem(order=order[0]["id"], sku="MUG", name="Mug", category="kitchen", price=Decimal("20.00"))
    ).returning(OrderItem.id)
    token = secrets.token_urlsafe(18)
    invitation = await Invitation.insert(
        Invitation(
            order=order[0]["id"],
            customer=customer[0]["id"],
            dedupe_key="order:FUZZ-1",
            status="sent",
            due_at=NOW - timedelta(days=1),
            expires_at=NOW + timedelta(days=29),
            sent_at=NOW - timedelta(days=1),
            token=token,
        )
    ).returning(Invitation.id)
    await create_team("Support")
    await create_staff("fuzz-admin", PASSWORD, "admin", email="fuzz-admin@shop.example")
    await create_rule(Rule(0, "Detractors", kind="nps", score_max=6, teams=(await team_id("support"),)), None, NOW)
    response = await save_answers(invitation[0]["id"], Answers(csat=2, nps=3, comment="It came late."), "en", NOW)
    routed = await ingest("survey", response, NOW)
    thread = await FeedbackItem.select(FeedbackItem.thread_token).where(FeedbackItem.id == routed.feedback_id).first()
    return World(
        survey=f"/s/{survey_token(settings, token, NOW)}",
        unsubscribe=f"/u/{unsubscribe_token(settings, token)}",
        item=int(item[0]["id"]),
        inbox_item=routed.new_inbox_items[0],
        conversation=f"/r/{conversation_token(settings, thread['thread_token'], NOW)}",
        team="support",
        suggestion_token=form_token(settings.secret_key, NOW - timedelta(minutes=5)),
    )


def signed_in(client: TestClient) -> str:
    """Sign the admin in; returns the CSRF token for the forms."""
    page = client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token, "the sign-in form carries a CSRF token"
    answer = client.post(
        "/login",
        data={"username": "fuzz-admin", "password": PASSWORD, "_csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return token.group(1)


@dataclass(frozen=True)
class Form:
    """One form: where it posts (from the world), which fields it knows, whether a signed-in admin sends it."""

    name: str
    path: Callable[[World], str]
    values: st.SearchStrategy[dict[str, str]] | st.SearchStrategy[dict[str, bytes]]
    staff: bool = False
    fixed: Callable[[World], dict[str, str]] = lambda world: {}
    headers: tuple[tuple[str, str], ...] = ()
    multipart: bool = False


FORMS = [
    Form("survey", lambda w: w.survey, fields("csat", "nps", "comment")),
    Form(
        "survey answer (htmx)",
        lambda w: f"{w.survey}/answer",
        fields("csat", "nps", "comment"),
        headers=(("HX-Request", "true"),),
    ),
    Form(
        "review",
        lambda w: f"{w.survey}/items/{w.item}",
        fields("rating", "title", "text", "remove_photo"),
        multipart=True,
    ),
    Form(
        "review, raw bytes",
        lambda w: f"{w.survey}/items/{w.item}",
        raw_fields("rating", "title", "text", "remove_photo"),
        multipart=True,
    ),
    Form("unsubscribe", lambda w: w.unsubscribe, fields("List-Unsubscribe")),
    Form(
        "suggestion box",
        lambda w: "/feedback",
        fields("text", "name", "email", "page", "website"),
        fixed=lambda w: {"token": w.suggestion_token},
    ),
    Form("suggestion box, forged token", lambda w: "/feedback/embed", fields("text", "email", "token")),
    Form("conversation answer", lambda w: w.conversation, fields("body")),
    Form("sign-in", lambda w: "/login", fields("username", "password", "next")),
    Form("reply", lambda w: f"/app/inbox/{w.inbox_item}/reply", fields("body"), staff=True),
    Form("note", lambda w: f"/app/inbox/{w.inbox_item}/notes", fields("body", "note"), staff=True),
    Form("status", lambda w: f"/app/inbox/{w.inbox_item}/status", fields("status"), staff=True),
    Form("assign", lambda w: f"/app/inbox/{w.inbox_item}/assign", fields("assignee"), staff=True),
    Form("label", lambda w: f"/app/inbox/{w.inbox_item}/label", fields("label"), staff=True),
    Form("topics", lambda w: f"/app/inbox/{w.inbox_item}/topics", fields("topics"), staff=True),
    Form(
        "routing rule",
        lambda w: "/app/admin/routing/",
        fields(
            "name",
            "kind",
            "score_min",
            "score_max",
            "labels",
            "topics",
            "categories",
            "channels",
            "languages",
            "teams",
            "action",
            "priority",
            "sla_hours",
            "continue_after",
            "flagged_only",
        ),
        staff=True,
    ),
    Form(
        "routing preview",
        lambda w: "/app/admin/routing/preview",
        fields("name", "kind", "score_min", "labels"),
        staff=True,
    ),
    Form(
        "team notifications",
        lambda w: f"/app/admin/notifications/teams/{w.team}",
        fields("email", "digest", "webhook_url"),
        staff=True,
    ),
    Form("invite staff", lambda w: "/app/admin/users", fields("username", "email", "role", "teams"), staff=True),
    Form("new team", lambda w: "/app/admin/teams", fields("name"), staff=True),
]


def post_form(client: TestClient, form: Form, world: World, values: dict[str, Any], csrf: str) -> Any:
    data = {**values, **form.fixed(world), **({"_csrf_token": csrf} if form.staff else {})}
    headers = dict(form.headers)
    if form.multipart:
        return client.post(form.path(world), content=multipart_body(data), headers=headers | MULTIPART)
    return client.post(form.path(world), data=data, headers=headers, follow_redirects=False)


MULTIPART = {"Content-Type": "multipart/form-data; boundary=fuzz-boundary"}


def multipart_body(data: dict[str, str | bytes]) -> bytes:
    """A multipart form with each value as given; a name `title;latin-1` declares that part's charset."""
    parts = []
    for key, value in data.items():
        name, _, charset = key.partition(";")
        content_type = f"Content-Type: text/plain; charset={charset}\r\n" if charset else ""
        raw = value if isinstance(value, bytes) else value.encode()
        head = f'--fuzz-boundary\r\nContent-Disposition: form-data; name="{name}"\r\n{content_type}\r\n'
        parts.append(head.encode() + raw.replace(b"--fuzz-boundary", b"") + b"\r\n")
    return b"".join(parts) + b"--fuzz-boundary--\r\n"


# JSON and raw endpoints --------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)
SHOP_JSON = st.fixed_dictionaries(
    {},
    optional={
        "id": JSON_VALUES,
        "order_id": JSON_VALUES,
        "email": JSON_VALUES,
        "customer": JSON_VALUES,
        "line_items": JSON_VALUES,
        "fulfillments": JSON_VALUES,
        "status": JSON_VALUES,
        "date_completed_gmt": JSON_VALUES,
    },
)


#: Bodies a JSON parser chokes on: nesting past the stack, bytes that are not UTF-8.
UNREADABLE_JSON = st.one_of(
    st.integers(50, 3000).flatmap(
        lambda n: st.sampled_from([b"[" * n + b"]" * n, b'{"id":' * n + b"1" + b"}" * n, b'{"a":[' * n])
    ),
    st.binary(max_size=200).map(lambda raw: b'{"id": "' + raw + b'"}'),
)


def shopify_post(client: TestClient, settings: Settings, body: bytes) -> Any:
    """A webhook with a valid signature, so the body itself is what gets tested."""
    signature = b64encode(hmac.new(settings.shopify_secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "X-Shopify-Hmac-Sha256": signature,
        "X-Shopify-Topic": "orders/fulfilled",
        "X-Shopify-Webhook-Id": secrets.token_hex(8),
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/shopify", content=body, headers=headers)


def woocommerce_post(client: TestClient, settings: Settings, body: bytes) -> Any:
    signature = b64encode(hmac.new(settings.woocommerce_secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "X-WC-Webhook-Signature": signature,
        "X-WC-Webhook-Topic": "order.updated",
        "X-WC-Webhook-Delivery-ID": secrets.token_hex(8),
        "Content-Type": "application/json",
    }
    return client.post("/webhooks/woocommerce", content=body, headers=headers)


def inbound_post(client: TestClient, settings: Settings, body: bytes) -> Any:
    headers = {"Authorization": f"Bearer {settings.inbound_secret}", "Content-Type": "message/rfc822"}
    return client.post("/webhooks/inbound-email", content=body, headers=headers)


RAW_EMAIL = st.one_of(
    st.binary(max_size=2000),
    st.builds(
        lambda to, subject, body: (
            f"From: fuzz@example.com\r\nTo: {to}\r\nSubject: {subject}\r\n"
            f"Message-ID: <{secrets.token_hex(6)}@x>\r\n\r\n{body}"
        ).encode("utf-8", "surrogatepass"),
        TEXT,
        TEXT,
        TEXT,
    ),
)


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()


# What must hold whatever was sent ----------------------------------------------------------------------------


async def stored_rules_broken() -> list[str]:
    """Everything the forms refuse, looked for in what was stored."""
    problems: list[str] = []
    for row in await Response.select(Response.csat, Response.nps, Response.comment):
        if row["csat"] is not None and not 1 <= row["csat"] <= 5:
            problems.append(f"csat {row['csat']}")
        if row["nps"] is not None and not 0 <= row["nps"] <= 10:
            problems.append(f"nps {row['nps']}")
        if len(row["comment"]) > 5000 or "\x00" in row["comment"]:
            problems.append(f"comment of {len(row['comment'])} characters")
    for row in await Review.select(Review.rating, Review.title, Review.text):
        if not 1 <= row["rating"] <= 5 or len(row["title"]) > 150 or len(row["text"]) > 5000:
            problems.append(f"review {row['rating']} / {len(row['title'])} / {len(row['text'])}")
    for row in await Suggestion.select(Suggestion.text, Suggestion.email):
        if not row["text"].strip() or "\x00" in row["text"] or (row["email"] and "@" not in row["email"]):
            problems.append(f"suggestion {row['text'][:40]!r} from {row['email']!r}")
    for row in await ThreadEntry.select(ThreadEntry.kind, ThreadEntry.body):
        if len(row["body"]) > 5000 or "\x00" in row["body"]:
            problems.append(f"{row['kind']} of {len(row['body'])} characters")
    teams = [row["id"] for row in await Team.select(Team.id)]
    for row in await RoutingRule.select().output(load_json=True):
        try:
            check_rule(rule_from_row(row), teams)
        except ValueError as exc:
            problems.append(f"rule {row['name']!r}: {exc}")
    return problems


def nothing_broken() -> None:
    problems = asyncio.run(stored_rules_broken())
    assert not problems, problems


#: Every per-minute limit off: the fuzzer sends hundreds of requests from one address.
NO_LIMITS = {
    "rate_sign_in_failures": 0,
    "rate_sign_in_per_address": 0,
    "rate_link_per_link": 0,
    "rate_link_per_address": 0,
    "rate_webhooks_per_address": 0,
    "rate_public_per_address": 0,
    "rate_suggestions_per_address": 0,
    "rate_answers_per_link": 0,
    "inbound_secret": "fuzz-inbound-secret",
}
