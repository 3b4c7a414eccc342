"""Claimed invitations go out in batches: claimed in bulk by the pass, rendered together in the worker, sent over a
few SMTP connections at once, one handover (DATA) at a time. A refusal marks only its invitation; a dropped
connection, a server gone mid-batch or a batch run twice neither loses an invitation nor sends one twice. Real SMTP
server (aiosmtpd), real SQLite."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from afterglow.failures import failures
from afterglow.mail import close_kept_sessions
from afterglow.settings import Settings
from afterglow.tables import TaskFailure
from bench.mailserver import Mailbox, smtp_server
from shop.schemas import EventIn, OrderIn
from shop.services.orders import ingest_order, record_event
from surveys.services.dispatch import dispatch_due
from surveys.services.sending import NEXT_PASS, SEND_BATCH, send_batch
from surveys.tables import Invitation, SentEmail
from tests.factories import order_payload

DELIVERED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 5, 14, 0, tzinfo=UTC)  # delivery + 3 days, inside 09:00–18:00 Berlin


@pytest.fixture(autouse=True)
async def _close_kept_connections() -> AsyncIterator[None]:
    yield
    await close_kept_sessions()


def via(settings: Settings, port: int) -> Settings:
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)


async def deliver(count: int, locales: tuple[str, ...] = ("en",)) -> None:
    for n in range(count):
        body = order_payload(f"B-{n}", email=f"buyer{n}@example.com", locale=locales[n % len(locales)])
        await ingest_order(msgspec.convert(body, OrderIn))
        await record_event(f"B-{n}", EventIn(type="delivered", at=DELIVERED))


async def claim(now: datetime, settings: Settings) -> list[tuple[list[int], str]]:
    """One scheduler pass; the batches it handed out."""
    batches: list[tuple[list[int], str]] = []
    await dispatch_due(now, settings, enqueue_batch=lambda ids, purpose: batches.append((ids, purpose)))
    return batches


async def statuses() -> dict[str, str]:
    """Recipient → invitation status."""
    rows = await Invitation.select(Invitation.customer.email, Invitation.status)
    return {row["customer.email"]: row["status"] for row in rows}


async def logged() -> dict[str, str]:
    """Recipient → mail log status."""
    return {row["to"]: row["status"] for row in await SentEmail.select(SentEmail.to, SentEmail.status)}


def buyers(*numbers: int) -> set[str]:
    return {f"buyer{n}@example.com" for n in numbers}


async def test_a_pass_claims_in_bulk_and_hands_out_one_batch_per_task(settings: Settings) -> None:
    await deliver(SEND_BATCH + 3)
    batches = await claim(DUE, settings)
    ids = [i for batch, _ in batches for i in batch]
    assert [len(batch) for batch, _ in batches] == [SEND_BATCH, 3]
    assert {purpose for _, purpose in batches} == {"invitation"}
    assert sorted(ids) == sorted(set(ids)) and len(ids) == SEND_BATCH + 3
    assert set((await statuses()).values()) == {"sending"}
    assert await claim(DUE, settings) == []  # claimed once: a second pass finds nothing to hand out


async def test_a_batch_goes_out_over_its_connections_each_invitation_once(settings: Settings) -> None:
    await deliver(6, locales=("en", "de", "hu"))
    [(ids, purpose)] = await claim(DUE, settings)
    with smtp_server() as (box, port):
        report = await send_batch(ids, purpose, DUE, via(settings, port), connections=3)
    assert report.sent == 6
    assert sorted(box.to()) == sorted(buyers(*range(6)))
    assert len(set(box.message_ids())) == 6
    assert len(set(box.peers)) == 3, "three SMTP connections shared by the whole batch"
    assert {m["Content-Language"] for m in box.messages} == {"en", "de", "hu"}
    assert set((await statuses()).values()) == {"sent"}
    assert set((await logged()).values()) == {"sent"}
    rows = await Invitation.select(Invitation.sent_at, Invitation.reminder_due_at)
    assert all(row["sent_at"] == DUE and row["reminder_due_at"] > DUE for row in rows)


async def test_a_batch_run_again_sends_nothing_twice(settings: Settings) -> None:
    await deliver(4)
    [(ids, purpose)] = await claim(DUE, settings)
    with smtp_server() as (box, port):
        first = await send_batch(ids, purpose, DUE, via(settings, port))
        again = await send_batch(ids, purpose, DUE, via(settings, port))  # the broker delivers the task again
    assert (first.sent, again.sent, again.not_claimed) == (4, 0, 4)
    assert box.count() == 4


async def test_a_batch_redelivered_after_its_worker_died_sends_the_rest_and_nothing_twice(settings: Settings) -> None:
    await deliver(5)
    [(ids, purpose)] = await claim(DUE, settings)
    box = Mailbox()
    box.hold, box.hold_at = threading.Event(), 3  # the 3rd message waits inside the server, unanswered
    with smtp_server(box) as (_, port):
        running = asyncio.create_task(send_batch(ids, purpose, DUE, via(settings, port)))
        await asyncio.get_running_loop().run_in_executor(None, _until, box, 3)
        assert await SentEmail.count().where(SentEmail.status == "handing_over") == 1, "one handover at a time"
        running.cancel()  # the worker dies during the handover of the 3rd
        await asyncio.gather(running, return_exceptions=True)
        box.hold.set()
        report = await send_batch(ids, purpose, DUE, via(settings, port))  # the broker hands the task out again
        assert report.sent == 0 and box.count() == 3, "what went out, or may have, is not sent again"
        # The dying run gave back what it had not handed over; the next pass claims it again.
        [(rest, _)] = await claim(DUE + timedelta(minutes=1), settings)
        assert len(rest) == 2
        assert (await send_batch(rest, purpose, DUE, via(settings, port))).sent == 2
    assert len(box.message_ids()) == len(set(box.message_ids())) == 5
    assert set((await statuses()).values()) == {"sent"}
    assert sorted((await logged()).values()) == ["handing_over"] + ["sent"] * 4  # the 3rd: a person decides


def _until(box: Mailbox, count: int) -> None:
    """Until the server has received `count` messages (a minute at most)."""
    for _ in range(60):
        if box.count() >= count:
            return
        box.arrived.wait(1)
        box.arrived.clear()
    raise TimeoutError(f"{box.count()} of {count} messages arrived")


async def test_a_refused_recipient_marks_only_its_invitation(settings: Settings) -> None:
    await deliver(4)
    [(ids, purpose)] = await claim(DUE, settings)
    box = Mailbox()
    box.refuse_to = {"buyer1@example.com": "550 5.1.1 No such user", "buyer2@example.com": "451 4.3.0 Try later"}
    with smtp_server(box) as (_, port):
        report = await send_batch(ids, purpose, DUE, via(settings, port), connections=1)
    assert (report.sent, report.refused) == (2, 2)
    assert sorted(box.to()) == sorted(buyers(0, 3))
    assert len(set(box.peers)) == 1, "a refusal does not cost the connection"
    assert await statuses() == {
        "buyer0@example.com": "sent",
        "buyer1@example.com": "skipped",  # refused for good
        "buyer2@example.com": "scheduled",  # refused for now: due again
        "buyer3@example.com": "sent",
    }
    assert (await Invitation.select(Invitation.skip_reason).where(Invitation.status == "skipped"))[0] == {
        "skip_reason": "refused"
    }
    assert await logged() == {address: "sent" for address in buyers(0, 3)}
    assert await TaskFailure.count() == 2, "each refusal is shown to the admins"

    box.refuse_to = {}
    with smtp_server(box) as (_, port):
        [(again, _)] = await claim(DUE + timedelta(minutes=1), settings)
        assert (await send_batch(again, purpose, DUE, via(settings, port))).sent == 1
    assert sorted(box.to()) == sorted(buyers(0, 2, 3))


async def test_a_connection_dropped_mid_batch_is_reopened_and_nothing_is_lost_or_doubled(settings: Settings) -> None:
    await deliver(5)
    [(ids, purpose)] = await claim(DUE, settings)
    box = Mailbox()
    box.drop, box.drop_at = True, 3  # the server takes the 3rd message, then hangs up without answering
    with smtp_server(box) as (_, port):
        report = await send_batch(ids, purpose, DUE, via(settings, port), connections=1)
        again = await send_batch(ids, purpose, DUE, via(settings, port))
    assert (report.sent, report.uncertain, again.sent) == (4, 1, 0)
    assert len(box.message_ids()) == len(set(box.message_ids())) == 5
    assert len(set(box.peers)) == 2, "the batch went on over a new connection"
    assert sorted((await logged()).values()) == ["handing_over"] + ["sent"] * 4  # the 3rd: a person decides


async def test_a_server_gone_mid_batch_gives_back_what_was_not_handed_over(settings: Settings) -> None:
    await deliver(5)
    [(ids, purpose)] = await claim(DUE, settings)
    box = Mailbox()
    box.drop, box.drop_at, box.down_after = True, 3, 3  # hangs up during the 3rd, then answers nobody
    with smtp_server(box) as (_, port):
        report = await send_batch(ids, purpose, DUE, via(settings, port), connections=1)
        assert (report.sent, report.uncertain, report.released) == (2, 1, 2)
        assert box.count() == 3
        assert sorted((await statuses()).values()) == ["scheduled", "scheduled", "sent", "sent", "sent"]
        assert sorted((await logged()).values()) == ["handing_over", "sent", "sent"]
        assert await TaskFailure.count() == 1, "the outage is shown to the admins"
        given_back = [
            row["id"] for row in await Invitation.select(Invitation.id).where(Invitation.status == "scheduled")
        ]

        box.down = False
        [(again, _)] = await claim(DUE + timedelta(minutes=1), settings)  # the next pass claims those again
        assert sorted(again) == sorted(given_back)
        assert (await send_batch(again, purpose, DUE, via(settings, port))).sent == 2
    assert len(box.message_ids()) == len(set(box.message_ids())) == 5
    assert set((await statuses()).values()) == {"sent"}


async def test_a_server_down_from_the_start_gives_every_invitation_back_once(settings: Settings) -> None:
    await deliver(6)
    [(ids, purpose)] = await claim(DUE, settings)
    box = Mailbox()
    box.down = True  # every connection is answered "421"
    with smtp_server(box) as (_, port):
        report = await send_batch(ids, purpose, DUE, via(settings, port), connections=4)
    assert (report.sent, report.released) == (0, 6)
    assert box.count() == 0 and await SentEmail.count() == 0
    assert set((await statuses()).values()) == {"scheduled"}
    [outage] = await failures()
    assert outage["task_name"] == "surveys.dispatch" and f"SMTP 127.0.0.1:{port}" in outage["error"]
    assert outage["state"] == "retrying" and outage["next_retry_at"] == DUE + NEXT_PASS, "the next pass tries again"

    [(ids, purpose)] = await claim(DUE + NEXT_PASS, settings)
    box.down = False
    with smtp_server(box, port):
        assert (await send_batch(ids, purpose, DUE + NEXT_PASS, via(settings, port), connections=4)).sent == 6
    assert await failures() == [], "once mail goes out again the outage is no longer listed"


async def test_the_next_batch_of_a_worker_goes_over_the_connections_it_kept_open(settings: Settings) -> None:
    await deliver(8)
    [(ids, purpose)] = await claim(DUE, settings)
    with smtp_server() as (box, port):
        first = await send_batch(ids[:4], purpose, DUE, via(settings, port), connections=2)
        second = await send_batch(ids[4:], purpose, DUE, via(settings, port), connections=2)
    assert (first.sent, second.sent) == (4, 4)
    assert len(set(box.peers)) == 2, "two connections for both batches"


async def test_a_kept_connection_the_server_closed_meanwhile_is_reopened(settings: Settings) -> None:
    await deliver(8)
    [(ids, purpose)] = await claim(DUE, settings)
    box = Mailbox()
    with smtp_server(box) as (_, port):
        assert (await send_batch(ids[:4], purpose, DUE, via(settings, port), connections=2)).sent == 4
    with smtp_server(box, port):  # the server restarted: the connections kept open are gone
        report = await send_batch(ids[4:], purpose, DUE, via(settings, port), connections=2)
    assert (report.sent, report.released, await TaskFailure.count()) == (4, 0, 0)
    assert len(box.message_ids()) == len(set(box.message_ids())) == 8
    assert set((await statuses()).values()) == {"sent"}
