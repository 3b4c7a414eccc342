"""Every email is handed to SMTP at most once per Message-ID: claimed in the log right before the message goes,
marked sent after. A sender that dies or loses the connection mid-handover never sends it again by itself."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from datetime import UTC, datetime, timedelta

import pytest

from afterglow.mail import MailNotSent, MailUncertain
from afterglow.settings import Settings
from bench.harness import free_port
from bench.mailserver import Mailbox, smtp_server, text_of
from surveys.services.emails import Rendered, deliver, interrupted_handovers, settle_handover
from surveys.tables import SentEmail

NOW = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
MAIL = Rendered(
    to="anna@example.com",
    subject="How was your order?",
    text="Tell us, please.",
    html="<p>Tell us, please.</p>",
    headers={"Content-Language": "en"},
)


def via(settings: Settings, port: int) -> Settings:
    return dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port)


async def states() -> list[str]:
    return [row["status"] for row in await SentEmail.select(SentEmail.status).order_by(SentEmail.id)]


async def test_a_handed_over_email_arrives_and_is_logged_as_sent(settings: Settings) -> None:
    with smtp_server() as (box, port):
        assert await deliver(MAIL, "<m1@test>", "invitation", None, NOW, via(settings, port))
    assert box.message_ids() == ["<m1@test>"] and text_of(box.messages[0]).strip() == "Tell us, please."
    assert await states() == ["sent"]


async def test_twin_runs_of_one_email_hand_it_over_once(settings: Settings) -> None:
    with smtp_server() as (box, port):
        results = await asyncio.gather(
            *(deliver(MAIL, "<m2@test>", "invitation", None, NOW, via(settings, port)) for _ in range(4))
        )
    assert sorted(results) == [False, False, False, True]
    assert box.message_ids() == ["<m2@test>"]
    assert await states() == ["sent"]


async def test_an_unreachable_server_leaves_nothing_logged_so_a_retry_sends(settings: Settings) -> None:
    with pytest.raises(MailNotSent):
        await deliver(MAIL, "<m3@test>", "invitation", None, NOW, via(settings, free_port()))
    assert await states() == []
    with smtp_server() as (box, port):
        assert await deliver(MAIL, "<m3@test>", "invitation", None, NOW, via(settings, port))
    assert box.message_ids() == ["<m3@test>"]


async def test_a_refused_message_gives_its_claim_back(settings: Settings) -> None:
    box = Mailbox()
    box.refuse = "554 5.7.1 Message rejected"
    with smtp_server(box) as (_, port):
        with pytest.raises(MailNotSent, match="refused"):
            await deliver(MAIL, "<m4@test>", "invitation", None, NOW, via(settings, port))
        assert await states() == []
        box.refuse = None
        assert await deliver(MAIL, "<m4@test>", "invitation", None, NOW, via(settings, port))
    assert box.message_ids() == ["<m4@test>"]


async def test_a_connection_lost_during_data_is_never_resent_by_itself(settings: Settings) -> None:
    box = Mailbox()
    box.drop = True
    with smtp_server(box) as (_, port):
        with pytest.raises(MailUncertain):
            await deliver(MAIL, "<m5@test>", "invitation", None, NOW, via(settings, port))
        box.drop = False
        assert not await deliver(MAIL, "<m5@test>", "invitation", None, NOW, via(settings, port))
    assert box.message_ids() == ["<m5@test>"]  # it did arrive; nothing was sent twice
    assert await states() == ["handing_over"]


async def test_a_sender_that_dies_mid_handover_leaves_one_copy_and_a_question_for_a_person(settings: Settings) -> None:
    box = Mailbox()
    box.hold = threading.Event()
    with smtp_server(box) as (_, port):
        sending = asyncio.create_task(deliver(MAIL, "<m6@test>", "invitation", None, NOW, via(settings, port)))
        await asyncio.get_running_loop().run_in_executor(None, box.arrived.wait, 10)
        sending.cancel()  # the worker is killed while the server holds the message
        with pytest.raises(asyncio.CancelledError):
            await sending
        box.hold.set()
        assert not await deliver(MAIL, "<m6@test>", "invitation", None, NOW, via(settings, port))
    assert box.count() == 1
    assert await interrupted_handovers(NOW + timedelta(minutes=1)) == []  # too fresh to call interrupted
    [waiting] = await interrupted_handovers(NOW + timedelta(minutes=10))
    assert waiting["to"] == "anna@example.com"


async def test_a_person_resends_an_interrupted_handover_once_with_the_same_message_id(settings: Settings) -> None:
    box = Mailbox()
    box.drop = True
    with smtp_server(box) as (_, port):
        with pytest.raises(MailUncertain):
            await deliver(MAIL, "<m7@test>", "invitation", None, NOW, via(settings, port))
        box.drop = False
        [row] = await SentEmail.select(SentEmail.id)
        assert await settle_handover(row["id"], True, via(settings, port))
        assert not await settle_handover(row["id"], True, via(settings, port))
    assert box.message_ids() == ["<m7@test>", "<m7@test>"]
    assert await states() == ["sent"]


async def test_marking_an_interrupted_handover_sent_sends_nothing(settings: Settings) -> None:
    box = Mailbox()
    box.drop = True
    with smtp_server(box) as (_, port):
        with pytest.raises(MailUncertain):
            await deliver(MAIL, "<m8@test>", "invitation", None, NOW, via(settings, port))
        [row] = await SentEmail.select(SentEmail.id)
        assert await settle_handover(row["id"], False, via(settings, port))
    assert box.count() == 1 and await states() == ["sent"]


async def test_the_dev_outbox_keeps_the_email_as_sent(settings: Settings) -> None:
    assert settings.dev_outbox
    assert await deliver(MAIL, "<m9@test>", "invitation", None, NOW, settings)
    assert not await deliver(MAIL, "<m9@test>", "invitation", None, NOW, settings)
    assert await states() == ["sent"]


async def test_the_email_keeps_its_language_and_other_headers_over_smtp(settings: Settings) -> None:
    with smtp_server() as (box, port):
        assert await deliver(MAIL, "<m10@test>", "invitation", None, NOW, via(settings, port))
    [message] = box.messages
    assert message["Content-Language"] == "en"
    assert message.get_content_type() == "multipart/alternative"
