"""Erasure through the admin page removes the customer everywhere they appear, and every link of theirs dies:
survey and unsubscribe links open nothing, the conversation link shows nothing and takes no answer, and an emailed
answer to their thread is dropped."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import time_machine
from litestar.testing import AsyncTestClient
from piccolo.engine.sqlite import SQLiteEngine

from accounts.tables import AuditEvent
from afterglow.settings import Settings
from app import create_app
from feedback.services.intake import ingest_pending
from feedback.services.webhooks import queue_item_webhooks
from feedback.tables import InboxItem, Suggestion, ThreadEntry
from operations.services.traces import compact_database
from surveys.tables import Response
from tests.unit.erasure_fixtures import (
    BOB_SAYS,
    EMAIL,
    NAME,
    NEEDLES,
    Seeded,
    answer_email,
    found_in_files,
    found_in_tables,
    routing,
    seed,
    staff_reply,
    suggest,
)
from tests.unit.reply_fixtures import answer_to, post_form
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.survey_fixtures import OPEN_AT

NO_PHOTO = [("photos", ("", b"", "application/octet-stream"))]  # the review form as a browser sends it
#: Someone without a customer record: name, address and words left only through the suggestion box.
SUGGESTER = ("Wilhelmina Fairweather", "w.fairweather@example.net", "A loyalty stamp card for the tea tins please")
LATE = ("Annabel again with a late thought", "one more thing about the zest", "my new number is 0170")


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


@pytest.fixture
def mail_settings(settings: Settings) -> Settings:
    """The dev outbox, a reply address for emailed answers, and the inbound webhook's secret."""
    return dataclasses.replace(settings, reply_address="replies@shop.example", inbound_secret="inbound-secret")


@pytest.fixture
async def clients(mail_settings: Settings) -> AsyncIterator[tuple[AsyncTestClient, AsyncTestClient]]:
    """The customer's browser (and the mail system), and an admin's signed-in browser."""
    async with (
        AsyncTestClient(app=create_app(mail_settings)) as customer,
        AsyncTestClient(app=create_app(mail_settings)) as staff,
    ):
        await make_staff()
        assert await sign_in(staff, "ada") == 303
        yield customer, staff


@pytest.fixture
async def seeded(
    clients: tuple[AsyncTestClient, AsyncTestClient], api_headers: dict[str, str], mail_settings: Settings
) -> Seeded:
    customer, staff = clients
    return await seed(customer, staff, api_headers, mail_settings)


async def erase(staff: AsyncTestClient) -> None:
    done = await post_form(staff, "/app/admin/privacy/erase/confirm", {"email": EMAIL, "confirm": "yes"})
    assert done.status_code == 303, done.text
    assert "erased" in (await staff.get(done.headers["location"])).text


async def test_before_erasure_the_scan_finds_the_customer_in_tables_and_files(
    seeded: Seeded, settings: Settings
) -> None:
    """The scans below can fail: each needle is found before erasure (every path stored it)."""
    in_tables = await found_in_tables(NEEDLES)
    assert all(in_tables.values()), {needle: places for needle, places in in_tables.items() if not places}
    assert {"customer.name", "thread_entry.author_name", "sent_email.text", "task_failure.error"} <= set().union(
        *in_tables.values()
    )
    assert all(found_in_files(settings.data_dir, (EMAIL, NAME)).values())
    assert all((settings.photo_folder / name).exists() for name in seeded.photo_files)


async def test_erasure_leaves_nothing_of_the_customer_in_any_table_or_file(
    clients: tuple[AsyncTestClient, AsyncTestClient], seeded: Seeded, settings: Settings
) -> None:
    await erase(clients[1])

    in_tables = await found_in_tables(NEEDLES)
    assert not any(in_tables.values()), {needle: places for needle, places in in_tables.items() if places}
    in_files = found_in_files(settings.data_dir, NEEDLES)
    assert not any(in_files.values()), {needle: places for needle, places in in_files.items() if places}
    assert not any((settings.photo_folder / name).exists() for name in seeded.photo_files)
    # Another customer's words stay, and the erased customer's scores are kept for the numbers.
    assert (await found_in_tables((BOB_SAYS,)))[BOB_SAYS] >= {"response.comment", "feedback_item.text"}
    scores = await Response.select(Response.csat, Response.nps).where(Response.invitation.customer.name == "")
    assert scores == [{"csat": 2, "nps": 3}]


async def test_after_erasure_survey_and_unsubscribe_links_open_nothing_and_store_nothing(
    clients: tuple[AsyncTestClient, AsyncTestClient], seeded: Seeded
) -> None:
    customer, staff = clients
    await erase(staff)

    for path in (seeded.survey_path, seeded.item_path, seeded.unsubscribe_path, f"{seeded.survey_path}/thanks"):
        page = await customer.get(path)
        assert page.status_code in (404, 410), (path, page.status_code)
        assert "annabel" not in page.text.lower() and "zesty" not in page.text.lower()
    attempts = [
        await customer.post(seeded.survey_path, data={"csat": "1", "comment": LATE[0]}),
        await customer.post(f"{seeded.survey_path}/answer", data={"comment": LATE[1]}, headers={"HX-Request": "true"}),
        await customer.post(seeded.item_path, data={"rating": "1", "text": LATE[2]}, files=NO_PHOTO),
        await customer.post(seeded.unsubscribe_path),
    ]
    assert [response.status_code for response in attempts] == [404] * 4
    assert not any((await found_in_tables(LATE)).values())


async def test_after_erasure_the_conversation_link_shows_nothing_and_takes_no_answer(
    clients: tuple[AsyncTestClient, AsyncTestClient], seeded: Seeded
) -> None:
    customer, staff = clients
    await erase(staff)
    entries = await ThreadEntry.count()

    for path in seeded.conversation_paths:
        page = await customer.get(path)
        assert page.status_code == 410, page.text
        assert "This link no longer works" in page.text
        assert not any(needle.lower() in page.text.lower() for needle in (*NEEDLES, "new jar"))
        answered = await customer.post(path, data={"body": LATE[0]}, follow_redirects=False)
        assert answered.status_code == 410
        htmx = await customer.post(path, data={"body": LATE[1]}, headers={"HX-Request": "true"})
        assert htmx.status_code == 410
    assert await ThreadEntry.count() == entries
    assert not any((await found_in_tables(LATE)).values())


async def test_after_erasure_an_emailed_answer_to_their_thread_is_dropped(
    clients: tuple[AsyncTestClient, AsyncTestClient], seeded: Seeded, mail_settings: Settings
) -> None:
    customer, staff = clients
    await erase(staff)
    entries = await ThreadEntry.count()

    raw = answer_to(seeded.reply_email, LATE[2], sender=f"{NAME} <{EMAIL}>")
    response = await answer_email(customer, raw, mail_settings)
    assert response.status_code == 200, response.text
    assert response.json() == {"outcome": "dropped", "feedback": None, "entry": None}
    assert await ThreadEntry.count() == entries
    assert not any((await found_in_tables((LATE[2], "annabel"))).values())


async def test_someone_who_only_used_the_suggestion_box_is_exported_and_erased_by_their_address(
    clients: tuple[AsyncTestClient, AsyncTestClient], mail_settings: Settings
) -> None:
    customer, staff = clients
    name, email, text = SUGGESTER
    await routing(mail_settings)
    await suggest(customer, text=text, name=name, email=email.upper())
    await suggest(customer, text=BOB_SAYS)  # anonymous: no address, so nobody's to erase
    assert await ingest_pending(OPEN_AT)
    item = await InboxItem.select(InboxItem.id).where(InboxItem.feedback.email == email).first()
    assert len(await queue_item_webhooks([item["id"]], OPEN_AT, mail_settings)) == 1
    assert (await staff_reply(staff, item["id"], f"Dear {name}, stamp cards come in May."))["to"] == email
    assert all((await found_in_tables(SUGGESTER)).values())

    exported = await post_form(staff, "/app/admin/privacy/export", {"email": f" {email.upper()} "})
    assert exported.status_code == 200, exported.text
    held = exported.json()
    assert held["customer"] is None and [row["text"] for row in held["suggestions"]] == [text]
    assert [row["text"] for row in held["feedback"]] == [text] and len(held["sent_emails"]) == 1
    assert held["conversation"][0]["body"].startswith(f"Dear {name}")
    confirm = await post_form(staff, "/app/admin/privacy/erase", {"email": email})
    assert confirm.status_code == 200 and "Erase for good" in confirm.text

    done = await post_form(staff, "/app/admin/privacy/erase/confirm", {"email": email, "confirm": "yes"})
    assert done.status_code == 303, done.text
    assert "erased" in (await staff.get(done.headers["location"])).text
    in_tables = await found_in_tables(SUGGESTER)
    assert not any(in_tables.values()), {needle: places for needle, places in in_tables.items() if places}
    in_files = found_in_files(mail_settings.data_dir, SUGGESTER)
    assert not any(in_files.values()), {needle: places for needle, places in in_files.items() if places}
    assert await Suggestion.exists().where(Suggestion.text == BOB_SAYS)
    targets = [
        row["target"]
        for row in await AuditEvent.select(AuditEvent.target).where(
            AuditEvent.action.is_in(["customer_exported", "customer_erased"])
        )
    ]
    assert len(targets) == 2 and all(target.startswith("suggestions:") for target in targets), targets
    again = await post_form(staff, "/app/admin/privacy/erase/confirm", {"email": email, "confirm": "yes"})
    assert again.status_code == 404 and "Nothing is held under this email address" in again.text


async def test_compacting_leaves_no_old_copy_in_the_sqlite_file(tmp_path: Path) -> None:
    """Where SQLite is built without secure deletion, deleted text stays in free pages until they are reused."""
    path = tmp_path / "shop.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA secure_delete=OFF")
    conn.execute("CREATE TABLE note (body TEXT)")
    conn.executemany("INSERT INTO note VALUES (?)", [(f"{NAME} wrote {n}",) for n in range(200)] + [("keep",)])
    conn.execute("DELETE FROM note WHERE body != 'keep'")
    conn.commit()
    conn.close()
    assert found_in_files(tmp_path, (NAME,))[NAME]

    await compact_database(SQLiteEngine(path=str(path)))
    assert not found_in_files(tmp_path, (NAME,))[NAME]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT body FROM note").fetchall() == [("keep",)]
    conn.close()
