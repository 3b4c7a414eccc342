"""Handling an inbox item: status, assignee, notes, moving it to another team, correcting its sentiment and topics;
who may do each (the team and admins; managers read only; another team's item does not exist), and the timeline
each change writes."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from accounts.services import team_id
from feedback.services.intake import ingest, reanalyse
from feedback.services.thread import NOTE_MAX, InvalidChange, check_status_change
from feedback.tables import FeedbackItem, FeedbackTopic, InboxItem, ThreadEntry
from tests.unit.inbox_fixtures import ANSWERED_AT, inbox_item, item_row, post, reviewed, rule
from tests.unit.staff_fixtures import make_staff, sign_in

NOW = ANSWERED_AT + timedelta(hours=2)
USERNAMES = {"member of the team": "sue", "member of another team": "leo", "manager": "max", "admin": "ada"}


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(NOW, tick=False)


@dataclass
class World:
    ids: dict[str, int]  # staff user ids by role (tests.unit.staff_fixtures.make_staff)
    feedback: int  # a critical review, routed to Support
    item: int  # its Support inbox item
    triage_feedback: int
    triage: int  # a happy review no rule matched


async def world() -> World:
    ids = await make_staff()
    await rule("Critical reviews → Support", ("support",), kind="review", score_max=2, sla_hours=8, priority="high")
    critical = await reviewed(rating=1, text="The lid cracked on the first day.", sku="KETTLE-1")
    happy = await reviewed(rating=5, text="Lovely mugs.")
    return World(ids, critical, await inbox_item(critical, "support"), happy, await inbox_item(happy, None))


async def entries(feedback_id: int) -> list[tuple[str, str, str]]:
    rows = await ThreadEntry.select(ThreadEntry.kind, ThreadEntry.author_name, ThreadEntry.body).where(
        ThreadEntry.feedback == feedback_id
    )
    return [(row["kind"], row["author_name"], row["body"]) for row in rows]


async def topics_of(feedback_id: int) -> list[str]:
    rows = await FeedbackTopic.select(FeedbackTopic.topic).where(FeedbackTopic.feedback == feedback_id)
    return sorted(row["topic"] for row in rows)


# Each change × each role ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    path: str
    form: dict[str, Any]
    made: Callable[[World], Awaitable[bool]]  # did the change happen?
    done: str  # what the item page is told after the redirect


async def _status_done(w: World) -> bool:
    return (await item_row(w.item))["status"] == "in_progress"


async def _assigned(w: World) -> bool:
    return (await item_row(w.item))["assignee"] is not None


async def _noted(w: World) -> bool:
    return any(kind == "note" for kind, _, _ in await entries(w.feedback))


async def _moved(w: World) -> bool:
    return await InboxItem.exists().where(InboxItem.key == f"{w.feedback}:{await team_id('logistics')}")


async def _labelled(w: World) -> bool:
    row = await FeedbackItem.select(FeedbackItem.label).where(FeedbackItem.id == w.feedback).first()
    return row is not None and row["label"] == "mixed"


async def _topics_set(w: World) -> bool:
    return await topics_of(w.feedback) == ["packaging", "price"]


CHANGES = {
    "status": Change("status", {"status": "in_progress"}, _status_done, "status"),
    "assign": Change("assign", {"assignee": "me"}, _assigned, "assigned"),
    "note": Change("notes", {"note": "Called the customer"}, _noted, "note"),
    "move": Change("move", {"team": "logistics", "move_note": "Courier damage"}, _moved, "moved"),
    "label": Change("label", {"label": "mixed"}, _labelled, "label"),
    "topics": Change("topics", {"topics": ["price", "packaging"]}, _topics_set, "topics"),
}


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize(
    ("principal", "status"),
    [("member of the team", 303), ("member of another team", 404), ("manager", 403), ("admin", 303)],
)
async def test_each_change_is_for_the_team_and_admins_refused_to_managers_and_hidden_from_other_teams(
    client: AsyncTestClient, change: str, principal: str, status: int
) -> None:
    w = await world()
    await sign_in(client, USERNAMES[principal])
    asked = CHANGES[change]

    response = await post(client, f"/app/inbox/{w.item}/{asked.path}", asked.form)

    assert response.status_code == status
    assert await asked.made(w) is (status == 303)
    if status == 303:
        assert response.headers["location"] == f"/app/inbox/{w.item}?done={asked.done}"
        assert (await entries(w.feedback))[0][1] == USERNAMES[principal], "the timeline says who"
    else:
        assert await entries(w.feedback) == [], "a refused change leaves no trace"


async def test_only_admins_handle_triage(client: AsyncTestClient) -> None:
    w = await world()
    for username, status in (("sue", 404), ("max", 403), ("ada", 303)):
        client.cookies.clear()
        await sign_in(client, username)
        response = await post(client, f"/app/inbox/{w.triage}/status", {"status": "in_progress"})
        assert response.status_code == status, username
    assert (await item_row(w.triage))["status"] == "in_progress"


async def test_a_change_without_the_csrf_token_is_refused(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")

    response = await client.post(f"/app/inbox/{w.item}/status", data={"status": "resolved"}, follow_redirects=False)

    assert response.status_code == 403
    assert (await item_row(w.item))["status"] == "new"


# Status ----------------------------------------------------------------------------------------------------------


async def test_resolving_records_when_and_counts_as_the_response_and_reopening_keeps_that(
    client: AsyncTestClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    w = await world()
    await sign_in(client, "sue")

    assert (await post(client, f"/app/inbox/{w.item}/status", {"status": "in_progress"})).status_code == 303
    time_machine.move_to(NOW + timedelta(hours=1), tick=False)
    assert (await post(client, f"/app/inbox/{w.item}/status", {"status": "resolved"})).status_code == 303
    resolved = await item_row(w.item)
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    assert (await post(client, f"/app/inbox/{w.item}/status", {"status": "in_progress"})).status_code == 303
    reopened = await item_row(w.item)

    assert resolved["status"] == "resolved"
    assert resolved["resolved_at"] == resolved["responded_at"] == NOW + timedelta(hours=1)
    assert reopened["status"] == "in_progress" and reopened["resolved_at"] is None
    assert reopened["responded_at"] == NOW + timedelta(hours=1)
    assert [body for _, _, body in await entries(w.feedback)] == [
        "Status: New → In progress",
        "Status: In progress → Resolved",
        "Reopened: Resolved → In progress",
    ]


async def test_wont_fix_closes_the_item_too(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")

    assert (await post(client, f"/app/inbox/{w.item}/status", {"status": "wont_fix"})).status_code == 303

    row = await item_row(w.item)
    assert row["status"] == "wont_fix" and row["resolved_at"] == NOW and row["responded_at"] == NOW


async def test_a_status_change_off_the_flow_is_refused_with_the_reason_and_asking_again_changes_nothing(
    client: AsyncTestClient,
) -> None:
    w = await world()
    await sign_in(client, "sue")
    assert (await post(client, f"/app/inbox/{w.item}/status", {"status": "resolved"})).status_code == 303

    refused = await post(client, f"/app/inbox/{w.item}/status", {"status": "wont_fix"})
    unknown = await post(client, f"/app/inbox/{w.item}/status", {"status": "archived"}, htmx=True)
    again = await post(client, f"/app/inbox/{w.item}/status", {"status": "resolved"})

    assert refused.status_code == 400
    assert "An item that is resolved cannot become won&#39;t fix." in refused.text
    assert refused.text.startswith("<!doctype html>"), "a plain post gets the whole page back with the message"
    assert unknown.status_code == 400 and "Choose a status from the list." in unknown.text
    assert 'id="handling"' in unknown.text and "<html" not in unknown.text, "htmx gets the part with the message"
    assert again.status_code == 303
    assert (await item_row(w.item))["status"] == "resolved"
    assert len(await entries(w.feedback)) == 1


def test_the_status_flow() -> None:
    for current, target in (("new", "in_progress"), ("new", "resolved"), ("in_progress", "wont_fix")):
        check_status_change(current, target)
    for current, target in (("in_progress", "new"), ("resolved", "wont_fix"), ("wont_fix", "new"), ("new", "x")):
        with pytest.raises(InvalidChange):
            check_status_change(current, target)
    check_status_change("resolved", "in_progress")  # reopen


# Assignee --------------------------------------------------------------------------------------------------------


async def test_member_assigns_the_item_to_a_member_of_its_team_only(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")

    refused = await post(client, f"/app/inbox/{w.item}/assign", {"assignee": str(w.ids["logistics"])})
    mine = await post(client, f"/app/inbox/{w.item}/assign", {"assignee": "me"})
    assigned = await item_row(w.item)
    nobody = await post(client, f"/app/inbox/{w.item}/assign", {"assignee": ""})
    bad = await post(client, f"/app/inbox/{w.item}/assign", {"assignee": "leo"})

    assert refused.status_code == 400 and "Choose a member of Support." in refused.text
    assert mine.status_code == 303 and assigned["assignee"] == w.ids["support"]
    assert nobody.status_code == 303 and (await item_row(w.item))["assignee"] is None
    assert bad.status_code == 400 and "Choose a person from the list." in bad.text
    assert [body for _, _, body in await entries(w.feedback)] == ["Assigned to sue", "Unassigned (was sue)"]


def _assign_form(page: str, *, choose: str | None = None, button: str = "Assign") -> dict[str, list[str]]:
    """What a browser sends from the item page's assign form: the select's value (the selected option, or
    `choose`), then the name and value of the button pressed, if it has a name."""
    form = re.search(r'<form class="assign-form".*?</form>', page, re.S)
    assert form, page
    html = form.group(0)
    select = re.search(r'<select id="assignee" name="(\w+)"[^>]*>(.*?)</select>', html, re.S)
    assert select
    options = re.findall(r'<option value="([^"]*)"( selected)?>', select.group(2))
    value = choose if choose is not None else next((v for v, sel in options if sel), options[0][0])
    sent: dict[str, list[str]] = {select.group(1): [value]}
    pressed = re.search(rf'<button type="submit"([^>]*)>{re.escape(button)}</button>', html)
    assert pressed, html
    named = re.search(r'name="(\w+)" value="([^"]*)"', pressed.group(1))
    if named:
        sent.setdefault(named.group(1), []).append(named.group(2))
    return sent


@pytest.mark.parametrize("htmx", [False, True])
async def test_assign_to_me_button_assigns_the_signed_in_member(client: AsyncTestClient, htmx: bool) -> None:
    w = await world()
    await sign_in(client, "sue")
    page = (await client.get(f"/app/inbox/{w.item}")).text

    response = await post(client, f"/app/inbox/{w.item}/assign", _assign_form(page, button="Assign to me"), htmx=htmx)

    assert response.status_code == (200 if htmx else 303)
    assert (await item_row(w.item))["assignee"] == w.ids["support"]
    assert [body for _, _, body in await entries(w.feedback)] == ["Assigned to sue"]
    after = (await client.get(f"/app/inbox/{w.item}")).text
    assert "<dt>Assignee</dt><dd>sue</dd>" in after and "Assign to me</button>" not in after


async def test_assign_select_still_chooses_a_person_and_nobody(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "ada")
    page = (await client.get(f"/app/inbox/{w.item}")).text

    chosen = await post(client, f"/app/inbox/{w.item}/assign", _assign_form(page, choose=str(w.ids["support"])))
    assigned = (await item_row(w.item))["assignee"]
    page = (await client.get(f"/app/inbox/{w.item}")).text
    cleared = await post(client, f"/app/inbox/{w.item}/assign", _assign_form(page, choose=""))

    assert chosen.status_code == 303 and assigned == w.ids["support"]
    assert cleared.status_code == 303 and (await item_row(w.item))["assignee"] is None


async def test_admin_may_assign_anyone(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "ada")

    response = await post(client, f"/app/inbox/{w.item}/assign", {"assignee": str(w.ids["logistics"])})

    assert response.status_code == 303
    assert (await item_row(w.item))["assignee"] == w.ids["logistics"]
    page = (await client.get(f"/app/inbox/{w.item}")).text
    assert f'<option value="{w.ids["logistics"]}" selected>leo</option>' in page


# Notes -----------------------------------------------------------------------------------------------------------


async def test_a_note_goes_on_the_timeline_and_htmx_gets_the_timeline_back(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")

    response = await post(
        client, f"/app/inbox/{w.item}/notes", {"note": "  Asked the warehouse.\r\nWaiting.  "}, htmx=True
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section class="card timeline" id="timeline"')
    assert "hx-swap-oob" not in response.text
    assert "Asked the warehouse.\nWaiting." in response.text and "Note added." in response.text
    assert await entries(w.feedback) == [("note", "sue", "Asked the warehouse.\nWaiting.")]


async def test_an_empty_or_too_long_note_is_refused_and_what_was_typed_is_kept(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")
    long_note = "x" * (NOTE_MAX + 1)

    empty = await post(client, f"/app/inbox/{w.item}/notes", {"note": "   "})
    too_long = await post(client, f"/app/inbox/{w.item}/notes", {"note": long_note}, htmx=True)

    assert empty.status_code == 400 and "Write the note first." in empty.text
    assert too_long.status_code == 400
    assert f"A note can have at most {NOTE_MAX:,} characters; this one has {NOTE_MAX + 1:,}." in too_long.text
    assert f">{long_note}</textarea>" in too_long.text
    assert await entries(w.feedback) == []


# Moving ----------------------------------------------------------------------------------------------------------


async def test_triage_item_moved_to_a_team_is_new_there_and_closed_in_triage_for_good(
    client: AsyncTestClient,
) -> None:
    w = await world()
    await sign_in(client, "ada")

    response = await post(client, f"/app/inbox/{w.triage}/move", {"team": "support", "move_note": "For you"})
    source = await FeedbackItem.select(FeedbackItem.source_id).where(FeedbackItem.id == w.triage_feedback).first()
    await ingest("review", source["source_id"], NOW, retag=True)  # routing again: still no rule matches

    assert response.status_code == 303
    closed = await item_row(w.triage)
    moved = await item_row(await inbox_item(w.triage_feedback, "support"))
    assert closed["status"] == "resolved" and closed["resolved_at"] == NOW and closed["responded_at"] is None
    assert moved["status"] == "new" and moved["priority"] == closed["priority"] and moved["due_at"] == closed["due_at"]
    assert await InboxItem.count().where(InboxItem.feedback == w.triage_feedback) == 2, "not back in triage"
    assert await entries(w.triage_feedback) == [
        ("event", "ada", "Moved from Triage to Support"),
        ("note", "ada", "For you"),
    ]
    client.cookies.clear()
    await sign_in(client, "sue")
    assert (await client.get(f"/app/inbox/{moved['id']}")).status_code == 200
    assert (await client.get(f"/app/inbox/{w.triage}")).status_code == 404


async def test_a_team_forwards_to_another_team_with_the_same_priority_and_due_time(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")

    response = await post(client, f"/app/inbox/{w.item}/move", {"team": "logistics"}, htmx=True)

    assert response.status_code == 200
    assert "Moved: the other team has it now, and it is closed here." in response.text
    assert 'id="timeline"' in response.text and 'hx-swap-oob="true"' in response.text
    forwarded = await item_row(await inbox_item(w.feedback, "logistics"))
    original = await item_row(w.item)
    assert forwarded["priority"] == "high" and forwarded["due_at"] == original["due_at"] == ANSWERED_AT + timedelta(
        hours=8
    )
    assert original["status"] == "resolved"


async def test_forwarding_to_a_team_that_has_the_feedback_already_only_closes_it_here(
    client: AsyncTestClient,
) -> None:
    await make_staff()
    await rule("Critical reviews → both", ("support", "logistics"), kind="review", score_max=2)
    feedback = await reviewed(rating=1, text="Cracked and late.")
    item, theirs = await inbox_item(feedback, "support"), await inbox_item(feedback, "logistics")
    await sign_in(client, "sue")

    response = await post(client, f"/app/inbox/{item}/move", {"team": "logistics", "move_note": "Yours"})

    assert response.status_code == 303
    assert response.headers["location"] == f"/app/inbox/{item}?done=moved-already"
    assert (await item_row(item))["status"] == "resolved"
    assert (await item_row(theirs))["status"] == "new"
    assert await InboxItem.count().where(InboxItem.feedback == feedback) == 2
    assert await entries(feedback) == [
        ("event", "sue", "Closed in Support: Logistics has this feedback already"),
        ("note", "sue", "Yours"),
    ]
    page = (await client.get(response.headers["location"])).text
    assert "The other team had this feedback already; it is closed here." in page


async def test_moving_to_its_own_team_an_unknown_team_or_when_closed_is_refused(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")

    own = await post(client, f"/app/inbox/{w.item}/move", {"team": "support", "move_note": "typed"})
    unknown = await post(client, f"/app/inbox/{w.item}/move", {"team": "warehouse"}, htmx=True)
    assert (await post(client, f"/app/inbox/{w.item}/status", {"status": "resolved"})).status_code == 303
    closed = await post(client, f"/app/inbox/{w.item}/move", {"team": "logistics"})

    assert own.status_code == 400 and "It is in the Support inbox already." in own.text
    assert ">typed</textarea>" in own.text
    assert unknown.status_code == 400 and "Choose a team from the list." in unknown.text
    assert closed.status_code == 400 and "Reopen it before moving it to another team." in closed.text
    assert await InboxItem.count().where(InboxItem.feedback == w.feedback) == 1


# Corrections -----------------------------------------------------------------------------------------------------


async def test_corrections_are_shown_next_to_the_analysers_view_and_survive_reanalysis(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")
    before = await FeedbackItem.select(FeedbackItem.auto_label).where(FeedbackItem.id == w.feedback).first()
    assert before["auto_label"] == "negative"

    assert (await post(client, f"/app/inbox/{w.item}/label", {"label": "mixed"})).status_code == 303
    response = await post(client, f"/app/inbox/{w.item}/topics", {"topics": ["price", "packaging"]}, htmx=True)
    await reanalyse(NOW + timedelta(hours=1))

    assert response.status_code == 200 and 'id="tags"' in response.text and "Topics saved." in response.text
    row = await FeedbackItem.select().where(FeedbackItem.id == w.feedback).output(load_json=True).first()
    assert row["label"] == "mixed" and row["auto_label"] == "negative"
    assert row["label_corrected_by"] == "sue" and row["label_corrected_at"] == NOW
    assert await topics_of(w.feedback) == ["packaging", "price"]
    page = (await client.get(f"/app/inbox/{w.item}")).text
    assert "set by sue on " + NOW.strftime("%Y-%m-%d %H:%M") + "; the analyser said" in page
    assert "the analyser found " + (", ".join(row["auto_topics"]) or "none") in page
    assert [body for _, _, body in await entries(w.feedback)] == [
        "Sentiment set to mixed (the analyser said negative)",
        f"Topics set to price, packaging (the analyser found {', '.join(row['auto_topics']) or 'none'})",
    ]


async def test_back_to_the_analyser_gives_the_label_back(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")
    assert (await post(client, f"/app/inbox/{w.item}/label", {"label": "positive"})).status_code == 303

    assert (await post(client, f"/app/inbox/{w.item}/label", {"label": ""})).status_code == 303

    row = await FeedbackItem.select().where(FeedbackItem.id == w.feedback).first()
    assert row["label"] == "negative" and row["label_corrected_at"] is None and row["label_corrected_by"] == ""
    assert (await entries(w.feedback))[-1][2] == "Sentiment back to the analyser's: negative"


async def test_an_unknown_label_or_topic_is_refused(client: AsyncTestClient) -> None:
    w = await world()
    await sign_in(client, "sue")

    label = await post(client, f"/app/inbox/{w.item}/label", {"label": "furious"}, htmx=True)
    topics = await post(client, f"/app/inbox/{w.item}/topics", {"topics": ["price", "weather"]})

    assert label.status_code == 400 and "Choose a sentiment from the list." in label.text and 'id="tags"' in label.text
    assert topics.status_code == 400 and "Unknown topic: weather." in topics.text
    assert 'value="price" checked' in topics.text, "the ticked boxes stay ticked"
    assert await entries(w.feedback) == []
