"""The inbox search box (`q`): each field it reads, every word needed, `%` and `_` taken literally, capitals of
any alphabet, the other filters and htmx, team scoping, and an erased customer no longer found by name or address."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from litestar.testing import AsyncTestClient

from feedback.services.inbox_search import escape_like, query_words
from feedback.tables import FeedbackItem
from operations.services.privacy import erase_customer
from shop.tables import Customer, Order
from tests.unit.inbox_fixtures import ANSWERED_AT, HTMX, inbox_item, post, reviewed, rule
from tests.unit.staff_fixtures import make_staff, sign_in

ROW_LINK = re.compile(r'<td data-label="When"><a href="/app/inbox/(\d+)"')


@dataclass
class World:
    """Inbox items by name: `anna` and `odon` (critical reviews: Support), `percent` and `plain` (critical reviews
    with `%`, `_` and look-alikes: Support), `carla` (a 3-star review: Logistics), `happy` (5 stars: triage)."""

    anna: int
    odon: int
    percent: int
    plain: int
    carla: int
    happy: int

    def names(self) -> dict[int, str]:
        return {getattr(self, name): name for name in ("anna", "odon", "percent", "plain", "carla", "happy")}


async def _review(order_number: str, **values: Any) -> int:
    """A review ingested into the inboxes, its order renumbered as the shop numbers it; the feedback id."""
    feedback = await reviewed(**values)
    row = await FeedbackItem.select(FeedbackItem.order).where(FeedbackItem.id == feedback).first()
    assert row is not None
    await Order.update({Order.external_id: order_number}).where(Order.id == row["order"])
    return feedback


async def world() -> World:
    await make_staff()
    await rule("Critical reviews → Support", ("support",), kind="review", score_max=2)
    await rule("Middling reviews → Logistics", ("logistics",), kind="review", score_min=3, score_max=3)
    anna = await _review(
        "10042",
        rating=1,
        author_name="Anna Schmidt",
        email="anna.schmidt@example.com",
        title="Lid cracked",
        text="The lid cracked on the second day.",
    )
    odon = await _review(
        "10043", rating=2, author_name="Ödön Kovács", email="odon@example.hu", text="Ärgerlich: der Deckel klemmt."
    )
    percent = await _review(
        "10044", rating=1, author_name="Pat", email="pat@example.com", text="Got 100% back, code refund_ok! Thanks."
    )
    plain = await _review(
        "10045", rating=1, author_name="Quinn", email="quinn@example.com", text="1000 reasons, refund ok. Meh."
    )
    carla = await _review("20001", rating=3, author_name="Carla Logist", email="carla@example.com", text="Slow.")
    happy = await _review("30001", rating=5, author_name="Hanna", email="hanna@example.com", text="Lovely lid.")
    return World(
        anna=await inbox_item(anna, "support"),
        odon=await inbox_item(odon, "support"),
        percent=await inbox_item(percent, "support"),
        plain=await inbox_item(plain, "support"),
        carla=await inbox_item(carla, "logistics"),
        happy=await inbox_item(happy, None),
    )


async def found(client: AsyncTestClient, w: World, q: str, **filters: str) -> set[str]:
    """The names of the items the list shows for this search (and filters)."""
    response = await client.get(f"/app/inbox?{urlencode({'q': q, **filters})}", headers=HTMX)
    assert response.status_code == 200, response.text
    return {w.names()[int(item)] for item in ROW_LINK.findall(response.text)}


#: Each field the search reads, in any case, and what it finds (as an admin, who sees every item).
BY_FIELD = [
    ("Anna Schmidt", {"anna"}),  # the customer's name
    ("SCHMIDT", {"anna"}),
    ("anna.schmidt@EXAMPLE.com", {"anna"}),  # their email
    ("@example.hu", {"odon"}),
    ("10042", {"anna"}),  # the order number
    ("1004", {"anna", "odon", "percent", "plain"}),  # part of one
    ("lid CRACKED", {"anna"}),  # the review's title (and its text)
    ("deckel", {"odon"}),  # the text
    ("lid", {"anna", "happy"}),
    ("schmidt lid", {"anna"}),  # every word, each in any field
    ("anna lid", {"anna", "happy"}),  # Hanna wrote of a lovely lid
    ("anna deckel", set()),
    ("nobody-like-this", set()),
]


async def test_search_reads_name_email_order_number_title_and_text_in_any_case(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "ada")

    wrong = [f"{q!r}: {got}" for q, expected in BY_FIELD if (got := await found(client, w, q)) != expected]
    assert not wrong, "\n".join(wrong)


async def test_search_finds_capitals_beyond_a_to_z(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "ada")

    for q in ("ödön", "ÖDÖN", "ödön kovács", "KOVÁCS", "ärgerlich"):
        assert await found(client, w, q) == {"odon"}, q


async def test_percent_underscore_and_the_escape_character_are_literal(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "ada")

    assert await found(client, w, "100%") == {"percent"}, "not 1000: % is a percent sign"
    assert await found(client, w, "refund_ok") == {"percent"}, "not 'refund ok': _ is an underscore"
    assert await found(client, w, "%") == {"percent"}
    assert await found(client, w, "_") == {"percent"}
    assert await found(client, w, "ok!") == {"percent"}
    assert await found(client, w, "!") == {"percent"}
    assert escape_like("50%_off!") == "50!%!_off!!"


async def test_a_member_never_finds_another_teams_or_triage_items(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")

    assert await found(client, w, "Carla") == set()
    assert await found(client, w, "20001") == set()
    assert await found(client, w, "carla@example.com") == set()
    assert await found(client, w, "lid") == {"anna"}, "the triage item with a lovely lid stays out"
    assert await found(client, w, "lid", status="all") == {"anna"}
    client.cookies.clear()
    await sign_in(client, "leo")
    assert await found(client, w, "Carla") == {"carla"}
    assert await found(client, w, "Anna") == set()
    client.cookies.clear()
    await sign_in(client, "max")
    assert await found(client, w, "20001") == {"carla"}


async def test_search_works_with_the_other_filters_and_closed_items(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")
    assert (await post(client, f"/app/inbox/{w.anna}/status", {"status": "resolved"})).status_code == 303

    assert await found(client, w, "lid") == set(), "open items by default"
    assert await found(client, w, "lid", status="resolved") == {"anna"}
    assert await found(client, w, "refund", kind="review") == {"percent", "plain"}
    assert await found(client, w, "refund", kind="order") == set()
    assert await found(client, w, "example.com", status="all", product="item") == {"anna", "percent", "plain"}


async def test_the_search_stays_in_the_address_the_form_and_the_pager(client: AsyncTestClient) -> None:
    await world()
    await sign_in(client, "ada")

    partial = await client.get("/app/inbox?q=++10042++&status=&kind=", headers=HTMX)
    whole = await client.get("/app/inbox?q=10042")
    nothing = await client.get("/app/inbox?q=%3Cb%3Ezzz", headers=HTMX)

    assert partial.headers["hx-push-url"] == "/app/inbox?q=++10042++", "a search can be bookmarked"
    assert "<form" not in partial.text and len(ROW_LINK.findall(partial.text)) == 1
    assert 'name="q" value="10042"' in whole.text and len(ROW_LINK.findall(whole.text)) == 1
    assert "No feedback matches “&lt;b&gt;zzz”" in nothing.text and "<b>" not in nothing.text


async def test_an_erased_customer_is_not_found_by_their_old_name_or_address(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "ada")
    assert await found(client, w, "Schmidt") == {"anna"}

    await erase_customer("anna.schmidt@example.com", ANSWERED_AT, compact=False)

    assert await found(client, w, "Schmidt") == set()
    assert await found(client, w, "anna.schmidt") == set()
    assert await found(client, w, "cracked") == set(), "the review's words went too"


async def test_the_customer_record_name_counts_when_it_changed_after_the_feedback(client: AsyncTestClient) -> None:
    w = await world()
    await Customer.update({Customer.name: "Anna Weber"}).where(Customer.email == "anna.schmidt@example.com")
    await sign_in(client, "ada")

    assert await found(client, w, "weber") == {"anna"}


def test_query_words_are_capped_and_deduplicated() -> None:
    assert query_words("  lid  lid LID a b c d e f g ") == ["lid", "LID", "a", "b", "c", "d"]
    assert query_words("") == []
