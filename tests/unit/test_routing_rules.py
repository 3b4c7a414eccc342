"""The routing rules pages (`/app/admin/routing`, admins only): the list in evaluation order, the form with its
refusals, reorder, switch, delete, the 30-day counts, and "try this rule on the last 100 responses"."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient
from markupsafe import escape

from accounts.services import team_id
from accounts.tables import AuditEvent
from feedback.policy import Rule
from feedback.services.routing import route
from feedback.services.rules import create_rule, set_active
from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem, RoutingRule
from tests.unit.staff_fixtures import make_staff, sign_in

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)
SCRIPT = "<script>alert(1)</script>"
_serial = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
async def admin(client: AsyncTestClient) -> AsyncTestClient:
    """The client, signed in as the admin (with a Support and a Logistics team)."""
    await make_staff()
    assert await sign_in(client, "ada") == 303
    return client


async def post(
    client: AsyncTestClient, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False
) -> httpx.Response:
    """A form post carrying the CSRF token, as the page's forms do."""
    form = {**(data or {}), "_csrf_token": client.cookies.get("csrftoken")}
    return await client.post(path, data=form, headers=HTMX if htmx else {}, follow_redirects=False)


async def feedback(
    kind: str = "order",
    *,
    csat: int | None = None,
    nps: int | None = None,
    rating: int | None = None,
    label: str = "",
    topics: tuple[str, ...] = (),
    text: str = "",
    created_at: datetime = NOW - timedelta(hours=1),
) -> int:
    """A feedback item made by hand, as intake would have left it (tags included), not routed yet."""
    n = next(_serial)
    row = FeedbackItem(
        source="suggestion",
        source_id=n,
        source_key=f"suggestion:{n}",
        kind=kind,
        csat=csat,
        nps=nps,
        rating=rating,
        label=label,
        text=text,
        thread_token=f"token-{n}",
        created_at=created_at,
        updated_at=created_at,
    )
    feedback_id = int((await FeedbackItem.insert(row).returning(FeedbackItem.id))[0]["id"])
    for topic in topics:
        await FeedbackTopic.insert(FeedbackTopic(feedback=feedback_id, topic=topic, created_at=created_at))
    return feedback_id


async def saved_rules() -> list[dict[str, Any]]:
    return await RoutingRule.select().order_by(RoutingRule.position).output(load_json=True)


async def support_team() -> int:
    return await team_id("support")


def names_in_order(html: str) -> list[str]:
    return re.findall(r"<h3>([^<]+)</h3>", html)


# Who may open the pages -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["max", "sue"], ids=["manager", "member"])
async def test_rules_pages_are_for_admins_only(client: AsyncTestClient, username: str) -> None:
    await make_staff()
    rule_id = await create_rule(Rule(0, "Support", kind="support", teams=(await support_team(),)), None, NOW)
    assert await sign_in(client, username) == 303
    for path in ("/app/admin/routing", "/app/admin/routing/new", f"/app/admin/routing/{rule_id}"):
        assert (await client.get(path)).status_code == 403
    refused = await post(client, "/app/admin/routing", {"name": "Sneaky", "archive": "1"})
    assert refused.status_code == 403
    assert [r["name"] for r in await saved_rules()] == ["Support"]


async def test_anonymous_visitors_are_sent_to_sign_in(client: AsyncTestClient) -> None:
    response = await client.get("/app/admin/routing", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/app/admin/routing"
    htmx = await client.get("/app/admin/routing", headers=HTMX, follow_redirects=False)
    assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/login")


async def test_a_form_post_without_the_csrf_token_is_refused(admin: AsyncTestClient) -> None:
    response = await admin.post("/app/admin/routing", data={"name": "No token", "archive": "1"}, follow_redirects=False)
    assert response.status_code == 403
    assert await RoutingRule.count() == 0


async def test_the_admin_pages_have_a_routing_tab(admin: AsyncTestClient) -> None:
    users = await admin.get("/app/admin/users")
    assert '<a href="/app/admin/routing">Routing</a>' in users.text
    routing = await admin.get("/app/admin/routing")
    assert '<a href="/app/admin/routing" aria-current="page">Routing</a>' in routing.text


# The list -------------------------------------------------------------------------------------------------------


async def test_the_list_shows_rules_in_evaluation_order_in_words(admin: AsyncTestClient) -> None:
    support = await support_team()
    await create_rule(
        Rule(
            0,
            "Detractors",
            kind="nps",
            score_max=6,
            teams=(support,),
            priority="urgent",
            sla_hours=24,
            continue_after=True,
        ),
        None,
        NOW,
    )
    await create_rule(Rule(0, "Happy: file", labels=frozenset({"positive"}), archive=True), None, NOW)
    off = await create_rule(Rule(0, "Old rule", kind="review", teams=(support,)), None, NOW)
    await set_active(off, False, None, NOW)

    page = await admin.get("/app/admin/routing")

    assert page.status_code == 200
    assert names_in_order(page.text) == ["Detractors", "Happy: file", "Old rule"]
    text = page.text
    assert "NPS 0–6" in text and "sentiment positive" in text and "Product review" in text
    assert "urgent priority" in text and "reply within 24 h" in text
    assert "filed, no follow-up" in text and "continues to the next rule" in text and "switched off" in text
    assert "from top to bottom" in text and "no rule matches goes to triage" in text
    assert text.count(">Switch on<") == 1 and text.count(">Switch off<") == 2


async def test_without_rules_the_list_says_everything_goes_to_triage(admin: AsyncTestClient) -> None:
    page = await admin.get("/app/admin/routing")
    assert "No rules yet: all feedback goes to triage." in page.text


async def test_the_list_counts_what_each_rule_routed_in_the_last_30_days(admin: AsyncTestClient) -> None:
    support = await support_team()
    unhappy = await create_rule(Rule(0, "Unhappy", labels=frozenset({"negative"}), teams=(support,)), None, NOW)
    await create_rule(Rule(0, "Happy: file", labels=frozenset({"positive"}), archive=True), None, NOW)
    for label, days_ago in (("negative", 1), ("negative", 29), ("negative", 31), ("positive", 2), ("neutral", 3)):
        item = await feedback(label=label, created_at=NOW - timedelta(days=days_ago))
        await route(item, NOW - timedelta(days=days_ago))

    page = await admin.get("/app/admin/routing")

    rule_card = page.text.split(f'id="rule-{unhappy}"')[1].split("</li>")[0]
    assert "matched 2 feedback items, made 2" in " ".join(rule_card.split())
    assert "matched 1 feedback item." in " ".join(page.text.split())  # the archive rule: no inbox items to count
    assert "4 feedback items were routed; 1 of them went to triage" in " ".join(page.text.split())
    assert await InboxItem.count() == 4  # three for Support (one too old to count), one in triage


# Creating and editing -------------------------------------------------------------------------------------------


def rule_form(**values: Any) -> dict[str, Any]:
    return {"name": "Unhappy about delivery", "priority": "normal", "active": "1", **values}


async def test_admin_creates_a_rule_with_every_kind_of_condition(admin: AsyncTestClient) -> None:
    support, logistics = await support_team(), await team_id("logistics")
    response = await post(
        admin,
        "/app/admin/routing",
        rule_form(
            kind="csat",
            score_min="1",
            score_max="2",
            labels=["negative", "mixed"],
            flagged_only="1",
            topics=["delivery", "packaging"],
            categories_other="garden, Large items",
            channels_other="app",
            languages=["de"],
            languages_other="FR",
            teams=[str(support), str(logistics)],
            priority="high",
            sla_hours="48",
            continue_after="1",
        ),
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/app/admin/routing?done=created"
    (saved,) = await saved_rules()
    assert (saved["kind"], saved["score_min"], saved["score_max"]) == ("csat", 1, 2)
    assert saved["labels"] == ["mixed", "negative"] and saved["flagged_only"] is True
    assert saved["topics"] == ["delivery", "packaging"]
    assert saved["categories"] == ["Large items", "garden"] and saved["channels"] == ["app"]
    assert saved["languages"] == ["de", "fr"]
    assert sorted(saved["teams"]) == sorted([support, logistics]) and saved["archive"] is False
    assert (saved["priority"], saved["sla_hours"], saved["continue_after"], saved["active"]) == ("high", 48, True, True)
    audit = await AuditEvent.select(AuditEvent.action, AuditEvent.target).where(AuditEvent.action.like("routing.%"))
    assert audit == [{"action": "routing.rule_created", "target": f"rule:{saved['id']}"}]
    listed = await admin.get(response.headers["location"])
    assert "Rule saved." in listed.text and "Unhappy about delivery" in listed.text


async def test_the_form_offers_the_shops_categories_and_channels(
    admin: AsyncTestClient, api_headers: dict[str, str]
) -> None:
    from tests.factories import order_payload

    order = order_payload("C-1", categories=("kitchen", "garden"), channel="marketplace")
    assert (await admin.post("/api/v1/orders", json=order, headers=api_headers)).status_code == 201

    form = (await admin.get("/app/admin/routing/new")).text

    for name, value in (("categories", "kitchen"), ("categories", "garden"), ("channels", "marketplace")):
        assert f'name="{name}" value="{value}"' in form
    for value in ("en", "de", "hu"):
        assert f'name="languages" value="{value}"' in form
    assert 'name="topics" value="delivery"' in form and 'name="topics" value="price"' in form
    assert f'name="teams" value="{await support_team()}"' in form


async def test_a_refused_rule_comes_back_with_the_message_next_to_the_field_and_everything_typed(
    admin: AsyncTestClient,
) -> None:
    typed = rule_form(
        name="Angry reviews",
        kind="csat",
        score_max="9",
        topics=["price"],
        categories_other="garden, sheds",
        teams=[str(await support_team())],
        sla_hours="12",
    )

    page = await post(admin, "/app/admin/routing", typed)

    assert page.status_code == 400
    assert (
        '<p class="error field-error" id="score-error" role="alert">Scores of this kind run from 1 to 5.</p>'
        in page.text
    )
    assert 'aria-invalid="true" aria-describedby="score-error"' in page.text
    assert 'value="Angry reviews"' in page.text and 'value="9"' in page.text and 'value="12"' in page.text
    assert 'value="garden, sheds"' in page.text
    assert 'name="topics" value="price" checked' in page.text
    assert f'name="teams" value="{await support_team()}" checked' in page.text
    assert '<option value="csat" selected>' in page.text
    assert "<h1>Admin</h1>" in page.text  # the whole page without htmx
    assert await RoutingRule.count() == 0


async def test_htmx_gets_the_refused_form_alone_with_422(admin: AsyncTestClient) -> None:
    response = await post(admin, "/app/admin/routing", rule_form(name="", archive="1"), htmx=True)

    assert response.status_code == 422
    assert response.text.lstrip().startswith("<form") and "<html" not in response.text
    assert "Give the rule a name." in response.text
    assert await RoutingRule.count() == 0


@pytest.mark.parametrize(
    "values,message",
    [
        ({"kind": "nps", "score_min": "six"}, "Scores are whole numbers"),
        ({"archive": "1", "sla_hours": "soon"}, "The reply time is a whole number of hours."),
        ({}, "Choose at least one team, or file the feedback without follow-up."),
        ({"archive": "1", "teams": ["TEAM"]}, "No such team: TEAM."),
        ({"archive": "1", "topics": ["weather"]}, "Unknown topic: weather."),
        ({"archive": "1", "languages_other": "klingon"}, "codes of two or three letters"),
        ({"archive": "1", "score_min": "3"}, "A score range needs a kind with a score"),
    ],
)
async def test_the_form_refuses_what_cannot_be_a_rule(
    admin: AsyncTestClient, values: dict[str, Any], message: str
) -> None:
    response = await post(admin, "/app/admin/routing", rule_form(**values))
    assert response.status_code == 400
    assert message in response.text
    assert await RoutingRule.count() == 0


async def test_saving_with_htmx_sends_the_browser_to_the_list(admin: AsyncTestClient) -> None:
    response = await post(admin, "/app/admin/routing", rule_form(archive="1"), htmx=True)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == "/app/admin/routing?done=created"
    assert await RoutingRule.count() == 1


async def test_editing_shows_the_saved_rule_and_saves_changes_in_place(admin: AsyncTestClient) -> None:
    support = await support_team()
    first = await create_rule(Rule(0, "First", kind="support", teams=(support,)), None, NOW)
    second = await create_rule(
        Rule(
            0,
            "Second",
            kind="review",
            score_max=2,
            categories=frozenset({"sheds"}),
            teams=(support,),
            sla_hours=72,
            continue_after=True,
        ),
        None,
        NOW,
    )
    await set_active(second, False, None, NOW)

    form = (await admin.get(f"/app/admin/routing/{second}")).text
    assert 'value="Second"' in form and '<option value="review" selected>' in form and 'value="72"' in form
    assert 'name="categories_other" value="sheds"' in form  # not a category of any order: typed
    assert 'name="continue_after" value="1" checked' in form
    assert 'name="active" value="1">' in form  # switched off stays off unless ticked

    response = await post(
        admin,
        f"/app/admin/routing/{second}",
        rule_form(name="Second, renamed", kind="review", score_max="1", archive="1"),
    )

    assert response.status_code == 303 and response.headers["location"].endswith("done=saved")
    rows = await saved_rules()
    assert [r["id"] for r in rows] == [first, second]  # its place stays
    assert (rows[1]["name"], rows[1]["score_max"], rows[1]["archive"], rows[1]["teams"]) == (
        "Second, renamed",
        1,
        True,
        [],
    )
    assert rows[1]["active"] is True and rows[1]["categories"] == []


async def test_an_unknown_rule_is_404(admin: AsyncTestClient) -> None:
    assert (await admin.get("/app/admin/routing/999")).status_code == 404
    assert (await post(admin, "/app/admin/routing/999", rule_form(archive="1"))).status_code == 404
    assert (await post(admin, "/app/admin/routing/999/move", {"step": "up"})).status_code == 404
    assert (await post(admin, "/app/admin/routing/999/active", {"active": "0"})).status_code == 404
    assert (await post(admin, "/app/admin/routing/999/delete", {"confirm": "yes"})).status_code == 404
    assert (await post(admin, "/app/admin/routing/999/preview", rule_form())).status_code == 404


# Reorder, switch, delete ----------------------------------------------------------------------------------------


async def three_rules() -> list[int]:
    return [await create_rule(Rule(0, name, archive=True), None, NOW) for name in ("Alpha", "Bravo", "Charlie")]


async def test_moving_a_rule_changes_the_evaluation_order(admin: AsyncTestClient) -> None:
    alpha, bravo, charlie = await three_rules()

    plain = await post(admin, f"/app/admin/routing/{charlie}/move", {"step": "up"})
    assert plain.status_code == 303 and plain.headers["location"] == "/app/admin/routing?done=moved"
    assert [r["name"] for r in await saved_rules()] == ["Alpha", "Charlie", "Bravo"]

    swapped = await post(admin, f"/app/admin/routing/{alpha}/move", {"step": "down"}, htmx=True)
    assert swapped.status_code == 200
    assert swapped.text.lstrip().startswith('<section id="rules"') and "<html" not in swapped.text
    assert names_in_order(swapped.text) == ["Charlie", "Alpha", "Bravo"]
    assert 'id="flash" hx-swap-oob="true"' in swapped.text and "Order changed." in swapped.text
    assert [r["name"] for r in await saved_rules()] == ["Charlie", "Alpha", "Bravo"]

    await post(admin, f"/app/admin/routing/{charlie}/move", {"step": "up"})  # already first: stays
    assert [r["id"] for r in await saved_rules()] == [charlie, alpha, bravo]


async def test_switching_a_rule_off_and_on(admin: AsyncTestClient) -> None:
    alpha, *_ = await three_rules()

    off = await post(admin, f"/app/admin/routing/{alpha}/active", {"active": "0"}, htmx=True)
    assert off.status_code == 200 and "switched off" in off.text and "Rule switched off" in off.text
    assert (await RoutingRule.select(RoutingRule.active).where(RoutingRule.id == alpha).first())["active"] is False

    on = await post(admin, f"/app/admin/routing/{alpha}/active", {"active": "1"})
    assert on.status_code == 303 and on.headers["location"].endswith("done=on")
    assert (await RoutingRule.select(RoutingRule.active).where(RoutingRule.id == alpha).first())["active"] is True
    actions = await AuditEvent.select(AuditEvent.action).where(AuditEvent.action == "routing.rule_switched")
    assert len(actions) == 2


async def test_deleting_asks_first_without_javascript(admin: AsyncTestClient) -> None:
    _, bravo, _ = await three_rules()

    asked = await post(admin, f"/app/admin/routing/{bravo}/delete")
    assert asked.status_code == 200 and "Delete the rule “Bravo”?" in asked.text
    assert await RoutingRule.count() == 3

    done = await post(admin, f"/app/admin/routing/{bravo}/delete", {"confirm": "yes"})
    assert done.status_code == 303 and done.headers["location"].endswith("done=deleted")
    assert [r["name"] for r in await saved_rules()] == ["Alpha", "Charlie"]


async def test_the_list_asks_the_browser_to_confirm_a_deletion_and_htmx_gets_the_list_back(
    admin: AsyncTestClient,
) -> None:
    alpha, *_ = await three_rules()
    page = await admin.get("/app/admin/routing")
    assert 'hx-confirm="Delete the rule “Alpha”?' in page.text and 'hx-vals=\'{"confirm": "yes"}\'' in page.text

    swapped = await post(admin, f"/app/admin/routing/{alpha}/delete", {"confirm": "yes"}, htmx=True)
    assert swapped.status_code == 200 and names_in_order(swapped.text) == ["Bravo", "Charlie"]
    audit = await AuditEvent.select(AuditEvent.action).where(AuditEvent.action == "routing.rule_deleted")
    assert len(audit) == 1


async def test_inbox_items_keep_the_name_of_a_deleted_rule(admin: AsyncTestClient) -> None:
    rule_id = await create_rule(Rule(0, "Everything → Support", teams=(await support_team(),)), None, NOW)
    await route(await feedback(label="negative"), NOW)

    await post(admin, f"/app/admin/routing/{rule_id}/delete", {"confirm": "yes"})

    item = await InboxItem.select(InboxItem.rule, InboxItem.rule_name).first()
    assert item == {"rule": None, "rule_name": "Everything → Support"}


# Trying a rule --------------------------------------------------------------------------------------------------


async def test_preview_counts_matches_among_the_last_100_feedback_items(admin: AsyncTestClient) -> None:
    for n in range(3):  # older than the last 100: not looked at
        await feedback(csat=1, text=f"old {n}", created_at=NOW - timedelta(days=30))
    for n in range(97):
        await feedback(csat=5, created_at=NOW - timedelta(minutes=n + 10))
    for n in range(3):
        await feedback(csat=2, text=f"unhappy {n}", created_at=NOW - timedelta(minutes=n))

    response = await post(admin, "/app/admin/routing/preview", rule_form(kind="csat", score_max="2"), htmx=True)

    assert response.status_code == 200
    assert "Tried on the last 100 feedback items" in response.text
    assert "It matches 3 of 100." in response.text
    matched_table = response.text.split("<details>")[0]
    assert matched_table.count("unhappy") == 3 and "old" not in matched_table
    assert "The 97 it does not match" in response.text


async def test_preview_shows_which_rule_routes_each_item_with_the_new_rule_in_place(admin: AsyncTestClient) -> None:
    support = await support_team()
    await create_rule(Rule(0, "Detractors first", kind="nps", score_max=6, teams=(support,)), None, NOW)
    await feedback(nps=2, label="negative", text="taken by the earlier rule")
    await feedback(csat=1, label="negative", text="reaches the new rule")
    await feedback(csat=5, label="positive", text="nobody wants me")

    response = await post(
        admin, "/app/admin/routing/preview", rule_form(name="Unhappy", labels=["negative"]), htmx=True
    )

    rows = {
        text: row
        for row in response.text.split("<tr>")[1:]
        for text in ("taken by the earlier rule", "reaches the new rule", "nobody wants me")
        if text in row
    }
    assert "It matches 2 of 3." in response.text
    assert "Detractors first" in rows["taken by the earlier rule"]
    assert "an earlier rule takes it first" in rows["taken by the earlier rule"]
    assert "Unhappy" in rows["reaches the new rule"] and "earlier rule" not in rows["reaches the new rule"]
    assert "triage (no rule matches)" in rows["nobody wants me"]


async def test_preview_of_an_edited_rule_replaces_the_saved_one(admin: AsyncTestClient) -> None:
    support = await support_team()
    rule_id = await create_rule(Rule(0, "Reviews", kind="review", teams=(support,)), None, NOW)
    await feedback("review", rating=1, label="negative", text="one star")
    await feedback("review", rating=5, label="positive", text="five stars")

    response = await post(
        admin, f"/app/admin/routing/{rule_id}/preview", rule_form(name="Bad reviews", kind="review", score_max="2")
    )

    assert response.status_code == 200
    assert "It matches 1 of 2." in response.text
    five_stars = next(row for row in response.text.split("<tr>") if "five stars" in row)
    assert "triage (no rule matches)" in five_stars  # the saved version, which took every review, is replaced
    assert 'value="Bad reviews"' in response.text  # without htmx: the form page, as typed, with the result


async def test_preview_saves_nothing(admin: AsyncTestClient) -> None:
    item = await feedback(csat=1, label="negative")
    await post(admin, "/app/admin/routing/preview", rule_form(labels=["negative"], teams=[str(await support_team())]))
    assert await RoutingRule.count() == 0 and await InboxItem.count() == 0
    assert await AuditEvent.count().where(AuditEvent.action.like("routing.%")) == 0
    assert (await FeedbackItem.select(FeedbackItem.routed_at).where(FeedbackItem.id == item).first())[
        "routed_at"
    ] is None


async def test_preview_needs_sound_conditions_but_no_name_or_team_yet(admin: AsyncTestClient) -> None:
    await feedback(csat=2)
    fine = await post(admin, "/app/admin/routing/preview", {"kind": "csat", "score_max": "2"}, htmx=True)
    assert fine.status_code == 200 and "It matches 1 of 1." in fine.text

    refused = await post(admin, "/app/admin/routing/preview", {"kind": "csat", "score_max": "7"}, htmx=True)
    assert refused.status_code == 422 and "Scores of this kind run from 1 to 5." in refused.text

    plain = await post(admin, "/app/admin/routing/preview", {"kind": "csat", "score_max": "7"})
    assert plain.status_code == 400 and 'id="score-error"' in plain.text and 'value="7"' in plain.text


async def test_preview_escapes_customer_text(admin: AsyncTestClient) -> None:
    await feedback(csat=1, text=SCRIPT)
    response = await post(admin, "/app/admin/routing/preview", {"kind": "csat"}, htmx=True)
    assert SCRIPT not in response.text and str(escape(SCRIPT)) in response.text


async def test_rule_names_are_escaped_in_the_list(admin: AsyncTestClient) -> None:
    await create_rule(Rule(0, SCRIPT, archive=True), None, NOW)
    page = await admin.get("/app/admin/routing")
    assert SCRIPT not in page.text and str(escape(SCRIPT)) in page.text


async def test_rules_pages_need_no_inline_script_or_style(admin: AsyncTestClient) -> None:
    rule_id = await create_rule(Rule(0, "Support", kind="support", teams=(await support_team(),)), None, NOW)
    await feedback("support", csat=1, text="slow")
    pages = [
        await admin.get("/app/admin/routing"),
        await admin.get("/app/admin/routing/new"),
        await admin.get(f"/app/admin/routing/{rule_id}"),
        await post(admin, f"/app/admin/routing/{rule_id}/delete"),
        await post(admin, "/app/admin/routing/preview", {"kind": "support"}),
        await post(admin, "/app/admin/routing", {"name": ""}),
    ]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert not INLINE.search(page.text), (page.url, INLINE.search(page.text))
