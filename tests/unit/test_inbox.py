"""The inbox list: what each person sees, every filter, the overdue flag on a moved clock, pages, htmx and escaping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from feedback.services import inbox_list
from feedback.services.inbox import duration_text, is_overdue
from feedback.tables import FeedbackItem
from tests.unit.inbox_fixtures import (
    ANSWERED_AT,
    HTMX,
    answered,
    inbox_item,
    item_row,
    post,
    reviewed,
    rule,
)
from tests.unit.staff_fixtures import make_staff, sign_in

ROW_LINK = re.compile(r'<td data-label="When"><a href="/app/inbox/(\d+)"')
SCRIPT = "<script>alert(1)</script>"
#: Inside the SLA of the Support rule (4 h from the answer), and past it.
BEFORE_DUE = ANSWERED_AT + timedelta(hours=3)
AFTER_DUE = ANSWERED_AT + timedelta(hours=5)


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(BEFORE_DUE, tick=False)


@dataclass
class World:
    """Inbox items by name: `support` (support CSAT 2, Support), `late` (NPS 3 about a late crushed parcel,
    Logistics), `happy` (NPS 9, CSAT 5: triage), `broken` (1-star review of the kettle, Support), `mugs` (5-star
    review of the mugs: triage)."""

    support: int
    late: int
    happy: int
    broken: int
    mugs: int


async def world(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings) -> World:
    await make_staff()
    await rule("Support contacts → Support", ("support",), kind="support", sla_hours=4, priority="high")
    await rule("NPS detractors → Logistics", ("logistics",), kind="nps", score_max=6, sla_hours=24)
    await rule("Critical reviews → Support", ("support",), kind="review", score_max=2)
    support = await answered(client, api_headers, settings, csat=2, comment="The agent was rude and slow.", agent="Kim")
    late = await answered(
        client,
        api_headers,
        settings,
        nps=3,
        comment="The parcel arrived late and the box was crushed.",
        categories=("kitchen", "garden"),
    )
    happy = await answered(client, api_headers, settings, nps=9, csat=5, comment="Lovely kettle, great quality.")
    broken = await reviewed(sku="KETTLE-1", product_name="Stone kettle", rating=1, text="Broke after a week.")
    mugs = await reviewed(sku="MUG-SET", product_name="Glazed mug set", rating=5, text="Beautiful mugs, I love them.")
    return World(
        support=await inbox_item(support, "support"),
        late=await inbox_item(late, "logistics"),
        happy=await inbox_item(happy, None),
        broken=await inbox_item(broken, "support"),
        mugs=await inbox_item(mugs, None),
    )


async def listed(client: AsyncTestClient, query: str = "") -> set[int]:
    response = await client.get(f"/app/inbox?{query}", headers=HTMX)
    assert response.status_code == 200, response.text
    return {int(found) for found in ROW_LINK.findall(response.text)}


# What each person sees --------------------------------------------------------------------------------------------


async def test_admin_sees_every_open_item_triage_included(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    w = await world(client, api_headers, settings)
    await sign_in(client, "ada")

    assert await listed(client) == {w.support, w.late, w.happy, w.broken, w.mugs}


async def test_member_never_sees_triage_or_another_teams_item_in_the_list_or_its_filters(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    w = await world(client, api_headers, settings)
    await sign_in(client, "sue")

    assert await listed(client) == {w.support, w.broken}
    assert await listed(client, "status=all") == {w.support, w.broken}
    assert await listed(client, "label=positive") == set()  # the happy triage items stay out of every filter
    page = (await client.get("/app/inbox")).text
    assert 'name="team"' not in page, "one team: no team filter to choose from"
    for team in ("logistics", inbox_list.TRIAGE_FILTER):
        refused = await client.get(f"/app/inbox?team={team}")
        assert refused.status_code == 400
        assert "Choose one of your teams." in refused.text
        assert not ROW_LINK.search(refused.text)


async def test_manager_sees_everything_and_may_filter_by_any_team_or_triage(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    w = await world(client, api_headers, settings)
    await sign_in(client, "max")

    page = (await client.get("/app/inbox")).text
    assert '<option value="support">Support</option>' in page and f'<option value="{inbox_list.TRIAGE_FILTER}">' in page
    assert await listed(client, "team=support") == {w.support, w.broken}
    assert await listed(client, "team=logistics") == {w.late}
    assert await listed(client, f"team={inbox_list.TRIAGE_FILTER}") == {w.happy, w.mugs}


# Each filter ------------------------------------------------------------------------------------------------------


#: Each filter and the items of the world it keeps.
FILTERED = [
    ("kind=review", {"broken", "mugs"}),
    ("kind=support", {"support"}),
    ("kind=order", {"late", "happy"}),
    ("label=negative", {"support", "late", "broken"}),
    ("label=positive", {"happy", "mugs"}),
    ("topic=delivery", {"late"}),
    ("topic=support", {"support"}),
    ("band=detractors", {"late"}),
    ("band=promoters", {"happy"}),
    ("band=critical-reviews", {"broken"}),
    ("band=unhappy-support", {"support"}),
    ("score_kind=review&score_min=4", {"mugs"}),
    ("score_kind=csat&score_min=4&score_max=5", {"happy"}),
    ("score_kind=nps&score_max=6", {"late"}),
    ("product=KETTLE-1", {"broken"}),
    ("product=kettle", {"broken"}),
    ("product=SKU-2", {"late"}),  # an item of the order, not reviewed
    ("product=item+2", {"late"}),
    ("kind=review&label=positive", {"mugs"}),
]


async def test_each_filter_narrows_the_list(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    w = await world(client, api_headers, settings)
    await sign_in(client, "ada")
    names = {getattr(w, name): name for name in ("support", "late", "happy", "broken", "mugs")}

    wrong = []
    for query, expected in FILTERED:
        found = {names[item] for item in await listed(client, query)}
        if found != expected:
            wrong.append(f"{query}: expected {sorted(expected)}, got {sorted(found)}")
    assert not wrong, "\n".join(wrong)


async def test_status_filter_shows_closed_items_only_when_asked(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    w = await world(client, api_headers, settings)
    await sign_in(client, "sue")
    assert (await post(client, f"/app/inbox/{w.broken}/status", {"status": "resolved"})).status_code == 303
    assert (await post(client, f"/app/inbox/{w.support}/status", {"status": "in_progress"})).status_code == 303

    assert await listed(client) == {w.support}
    assert await listed(client, "status=resolved") == {w.broken}
    assert await listed(client, "status=in_progress") == {w.support}
    assert await listed(client, "status=new") == set()
    assert await listed(client, "status=all") == {w.support, w.broken}


async def test_assigned_to_me_lists_only_my_items(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    w = await world(client, api_headers, settings)
    await sign_in(client, "sue")
    assert (await post(client, f"/app/inbox/{w.broken}/assign", {"assignee": "me"})).status_code == 303

    assert await listed(client, "mine=1") == {w.broken}
    client.cookies.clear()
    await sign_in(client, "ada")
    assert await listed(client, "mine=1") == set()


#: Filters the list cannot apply, and what it says.
REFUSED = [
    ("score_kind=nps&score_min=0&score_max=11", "NPS runs from 0 to 10."),
    ("score_kind=review&score_min=4&score_max=2", "The lowest score must not be above the highest."),
    ("score_min=3", "Choose which score the range is for."),
    ("score_kind=csat&score_min=high", "Scores are whole numbers."),
    ("band=everyone", "Choose a score band from the list."),
    ("status=lost", "Choose a status from the list."),
    ("topic=weather", "Choose a topic from the list."),
    ("team=no-such-team", "Choose one of your teams."),
]


async def test_a_filter_that_cannot_apply_is_refused_with_its_message_and_the_values_kept(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await world(client, api_headers, settings)
    await sign_in(client, "ada")

    for query, message in REFUSED:
        response = await client.get(f"/app/inbox?{query}")

        assert response.status_code == 400, query
        assert message in response.text, query
        assert not ROW_LINK.search(response.text), "nothing is listed under a filter that was not applied"
        for name, value in (pair.split("=") for pair in query.split("&")):
            if name.startswith("score_m"):
                assert f'name="{name}" value="{value}"' in response.text, "the typed value stays in the form"
        htmx = await client.get(f"/app/inbox?{query}", headers=HTMX)
        assert htmx.status_code == 400 and message in htmx.text and "<form" not in htmx.text


# Overdue ---------------------------------------------------------------------------------------------------------


async def test_item_becomes_overdue_when_its_sla_passes_and_stops_being_overdue_when_resolved(
    client: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    w = await world(client, api_headers, settings)
    await sign_in(client, "sue")
    assert await listed(client, "overdue=1") == set()
    assert "Overdue" not in (await client.get(f"/app/inbox/{w.support}")).text

    time_machine.move_to(AFTER_DUE, tick=False)

    assert await listed(client, "overdue=1") == {w.support}  # the review rule has no SLA: never overdue
    row = (await client.get("/app/inbox", headers=HTMX)).text
    assert '<tr class="overdue">' in row and "flag-overdue" in row
    assert "flag-overdue" in (await client.get(f"/app/inbox/{w.support}")).text
    assert (await post(client, f"/app/inbox/{w.support}/status", {"status": "resolved"})).status_code == 303
    assert await listed(client, "overdue=1") == set()
    assert "flag-overdue" not in (await client.get(f"/app/inbox/{w.support}")).text


def test_overdue_needs_a_passed_due_time_no_response_and_an_open_status() -> None:
    due = ANSWERED_AT
    later = due + timedelta(minutes=1)

    assert is_overdue(due, None, "new", later) and is_overdue(due, None, "in_progress", later)
    assert not is_overdue(due, None, "new", due)  # due now is not past due
    assert not is_overdue(None, None, "new", later)  # no SLA
    assert not is_overdue(due, due, "in_progress", later)  # the team replied
    assert not is_overdue(due, None, "resolved", later) and not is_overdue(due, None, "wont_fix", later)


# Pages, htmx, loop time ------------------------------------------------------------------------------------------


async def test_the_list_comes_a_page_at_a_time_with_the_filters_kept_in_the_pager(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = await world(client, api_headers, settings)
    monkeypatch.setattr(inbox_list, "PAGE_SIZE", 2)
    await sign_in(client, "ada")

    first, second, third = [await listed(client, f"page={n}") for n in (1, 2, 3)]
    beyond = await listed(client, "page=9")

    assert len(first) == len(second) == 2 and len(third) == 1
    assert first | second | third == {w.support, w.late, w.happy, w.broken, w.mugs}
    assert beyond == third, "a page past the end shows the last one"
    page = (await client.get("/app/inbox?kind=review&page=1")).text
    assert "Page 1 of 1" not in page  # two reviews fit on one page: no pager
    page = (await client.get("/app/inbox?label=negative")).text
    assert 'href="/app/inbox?label=negative&amp;page=2"' in page


async def test_htmx_filtering_returns_only_the_list_and_the_same_url_without_htmx_the_whole_page(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    w = await world(client, api_headers, settings)
    await sign_in(client, "ada")

    partial = await client.get("/app/inbox?status=&kind=review&label=&product=", headers=HTMX)
    whole = await client.get("/app/inbox?kind=review")
    restored = await client.get("/app/inbox?kind=review", headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert "<html" not in partial.text and "<form" not in partial.text
    assert set(map(int, ROW_LINK.findall(partial.text))) == {w.broken, w.mugs}
    assert whole.text.startswith("<!doctype html>") and 'id="inbox-list"' in whole.text
    assert 'hx-get="/app/inbox" hx-target="#inbox-list" hx-push-url="true"' in whole.text
    assert '<option value="review" selected>' in whole.text
    assert restored.text.startswith("<!doctype html>"), "htmx restoring history needs the whole page"
    assert partial.headers["vary"] == "HX-Request"
    assert partial.headers["hx-push-url"] == "/app/inbox?kind=review", "the address bar shows only the filters set"


async def test_a_closed_loop_shows_how_long_the_first_reply_took(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    w = await world(client, api_headers, settings)
    replied = ANSWERED_AT + timedelta(hours=3, minutes=20)
    feedback = (await item_row(w.support))["feedback"]
    await FeedbackItem.update({FeedbackItem.first_reply_at: replied}).where(FeedbackItem.id == feedback)
    await sign_in(client, "sue")

    assert "Loop closed in 3 h 20 min" in (await client.get("/app/inbox", headers=HTMX)).text
    assert "Loop closed in 3 h 20 min" in (await client.get(f"/app/inbox/{w.support}")).text
    assert "Loop closed" not in (await client.get(f"/app/inbox/{w.broken}")).text


@pytest.mark.parametrize(
    ("delta", "said"),
    [
        (timedelta(minutes=45), "45 min"),
        (timedelta(hours=3, minutes=20), "3 h 20 min"),
        (timedelta(hours=2), "2 h"),
        (timedelta(days=2, hours=4, minutes=59), "2 d 4 h"),
        (timedelta(seconds=-5), "0 min"),
    ],
)
def test_durations_read_as_staff_say_them(delta: timedelta, said: str) -> None:
    assert duration_text(delta) == said


# Escaping --------------------------------------------------------------------------------------------------------


async def test_customer_text_is_escaped_on_the_list_and_the_item_page(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await make_staff()
    await rule("Critical reviews → Support", ("support",), kind="review", score_max=2)
    feedback = await reviewed(
        rating=1, title=SCRIPT, text=f"Broken {SCRIPT}", author_name=SCRIPT, product_name=SCRIPT, sku="SKU-<b>"
    )
    item = await inbox_item(feedback, "support")
    await sign_in(client, "sue")
    assert (await post(client, f"/app/inbox/{item}/notes", {"note": f"note {SCRIPT}"})).status_code == 303

    for page in (await client.get("/app/inbox"), await client.get(f"/app/inbox/{item}")):
        assert page.status_code == 200
        assert SCRIPT not in page.text and "<b>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
