"""Outgoing team webhooks against a real HTTP receiver on 127.0.0.1: signed JSON for each new inbox item, retried
with backoff from the database (passes called with a later `now`), given up after the last attempt and shown as
failed with a retry, and delivered once however many passes run at once."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from accounts.services import team_id
from afterglow.settings import Settings
from bench.harness import free_port
from feedback.services.notify_settings import store_notify_settings
from feedback.services.webhooks import (
    BACKOFF_MAX,
    STALE_CLAIM,
    backoff,
    claim,
    deliver_due,
    deliver_now,
    queue_item_webhooks,
    signature,
)
from feedback.tables import TeamChannel, WebhookDelivery
from tests.unit.notify_fixtures import routed_review, routing_rules, webhook_receiver
from tests.unit.staff_fixtures import make_staff, sign_in

NOW = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
SECRET = "whsec_shared-with-the-shop"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


@pytest.fixture
async def teams() -> dict[str, int]:
    ids = await make_staff()
    await routing_rules()
    return ids


async def hook_support(url: str, secret: str = SECRET) -> None:
    values = {TeamChannel.webhook_url: url, TeamChannel.webhook_secret: secret}
    await store_notify_settings(await team_id("support"), values, NOW - timedelta(days=1))


async def delivery(delivery_id: int) -> dict[str, Any]:
    return await WebhookDelivery.select().where(WebhookDelivery.id == delivery_id).output(load_json=True).first()


def test_backoff_doubles_up_to_an_hour_and_jitter_keeps_between_half_and_all() -> None:
    assert [backoff(n, 1.0) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(1, 0.0) == timedelta(seconds=30)
    assert backoff(30, 1.0) == BACKOFF_MAX == timedelta(hours=1)
    assert backoff(30, 0.0) == timedelta(minutes=30)


async def test_a_new_item_is_posted_to_the_teams_webhook_signed_with_its_secret(
    teams: dict[str, int], settings: Settings
) -> None:
    with webhook_receiver(clock=lambda: NOW) as receiver:
        receiver.secret = SECRET
        await hook_support(receiver.url)
        (item,) = await routed_review(1, "Leaks & drips <badly>.", NOW, author_name="Anna", email="anna@example.com")
        (made,) = await queue_item_webhooks([item], NOW, settings)
        assert await queue_item_webhooks([item], NOW, settings) == []  # a twin run makes no second delivery
        assert await deliver_now(made, NOW, settings) == "delivered"
        assert await deliver_now(made, NOW, settings) == "not-due"
    (got,) = receiver.received
    assert got.signed
    assert got.headers["Content-Type"] == "application/json"
    assert got.headers["X-Afterglow-Event"] == "inbox.item_created"
    assert got.headers["X-Afterglow-Delivery"] == str(made)
    assert got.headers["X-Afterglow-Timestamp"] == str(int(NOW.timestamp()))
    body = got.json
    assert body["event"] == "inbox.item_created"
    sent = dict(body["item"])
    assert isinstance(sent.pop("topics"), list)
    assert sent == {
        "id": item,
        "url": f"{settings.base_url}/app/inbox/{item}",
        "team": "Support",
        "team_id": await team_id("support"),
        "priority": "urgent",
        "due_at": (NOW + timedelta(hours=4)).isoformat(),
        "created_at": NOW.isoformat(),
        "kind": "review",
        "scores": {"csat": None, "nps": None, "rating": 1},
        "label": "negative",
        "text": "Leaks & drips <badly>.",
    }
    assert body["text"].startswith(
        "[urgent] Support: Product review Stars 1/5 (negative) — “Leaks &amp; drips &lt;badly&gt;.”"
    )
    assert body["text"].endswith(f"<{settings.base_url}/app/inbox/{item}|Open in Afterglow>")
    assert "anna" not in got.body.decode().lower()  # no customer name or address leaves Afterglow
    row = await delivery(made)
    assert (row["status"], row["attempts"], row["response_status"], row["delivered_at"]) == ("delivered", 1, 200, NOW)


async def test_items_of_teams_without_a_webhook_make_no_delivery(teams: dict[str, int], settings: Settings) -> None:
    (item,) = await routed_review(1, "Broken.", NOW)
    assert await queue_item_webhooks([item], NOW, settings) == []
    assert await WebhookDelivery.count() == 0


async def test_a_refused_delivery_is_retried_after_the_backoff(teams: dict[str, int], settings: Settings) -> None:
    clock = {"now": NOW}
    with webhook_receiver(clock=lambda: clock["now"]) as receiver:
        receiver.secret, receiver.answers = SECRET, [500]
        await hook_support(receiver.url)
        (made,) = await queue_item_webhooks(await routed_review(2, "Meh.", NOW), NOW, settings)
        assert await deliver_now(made, NOW, settings) == "retrying"
        row = await delivery(made)
        assert (row["status"], row["attempts"], row["last_error"], row["response_status"]) == (
            "pending",
            1,
            "HTTP 500",
            500,
        )
        wait = row["next_attempt_at"] - NOW
        assert timedelta(seconds=30) <= wait <= timedelta(minutes=1)
        assert await deliver_due(NOW + timedelta(seconds=29), settings) == {}  # not due yet
        clock["now"] = NOW + timedelta(minutes=1)
        assert await deliver_due(clock["now"], settings) == {"delivered": 1}
    assert [r.signed for r in receiver.received] == [True, True]
    first, second = (int(r.headers["X-Afterglow-Timestamp"]) for r in receiver.received)
    assert second - first == 60  # each attempt is signed anew
    assert receiver.received[0].body == receiver.received[1].body
    assert (await delivery(made))["status"] == "delivered"


async def test_a_delivery_gives_up_after_the_last_attempt_shows_as_failed_and_the_retry_button_sends_it(
    teams: dict[str, int], settings: Settings, client: AsyncTestClient
) -> None:
    three = dataclasses.replace(settings, webhook_max_attempts=3)
    clock = {"now": NOW}
    with webhook_receiver(clock=lambda: clock["now"]) as receiver:
        receiver.secret, receiver.answers = SECRET, [503, 500, 502]
        await hook_support(receiver.url)
        (made,) = await queue_item_webhooks(await routed_review(1, "Awful.", NOW), NOW, settings)
        assert await deliver_now(made, NOW, three) == "retrying"
        for expected in ("retrying", "failed"):
            clock["now"] += BACKOFF_MAX
            assert await deliver_due(clock["now"], three) == {expected: 1}
        assert await deliver_due(clock["now"] + BACKOFF_MAX, three) == {}  # a dead letter is not tried again
        row = await delivery(made)
        assert (row["status"], row["attempts"], row["last_error"]) == ("failed", 3, "HTTP 502")
        assert row["next_attempt_at"] is None

        assert await sign_in(client, "ada") == 303
        page = await client.get("/app/admin/notifications")
        failed = page.text.split("Failed webhook deliveries", 1)[1].split("Recent webhook deliveries", 1)[0]
        assert f'id="delivery-{made}"' in failed and "HTTP 502" in failed
        retried = await client.post(
            f"/app/admin/notifications/deliveries/{made}/retry",
            data={"_csrf_token": client.cookies.get("csrftoken")},
            headers={"HX-Request": "true"},
        )
        assert retried.status_code == 200
        assert "pending" in retried.text and "Retry</button>" not in retried.text
        row = await delivery(made)
        assert (row["status"], row["attempts"]) == ("pending", 0)
        clock["now"] = datetime.now(UTC)  # the retry was stamped by the request's clock
        assert await deliver_due(clock["now"], three) == {"delivered": 1}
    assert len(receiver.received) == 4 and all(r.signed for r in receiver.received)


async def test_no_answer_and_a_refused_connection_count_as_failed_attempts(
    teams: dict[str, int], settings: Settings
) -> None:
    quick = dataclasses.replace(settings, webhook_timeout_seconds=1)
    with socket.socket() as silent:  # accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        await hook_support(f"http://127.0.0.1:{silent.getsockname()[1]}/hook")
        (made,) = await queue_item_webhooks(await routed_review(1, "Awful.", NOW), NOW, settings)
        assert await deliver_now(made, NOW, quick) == "retrying"
    assert (await delivery(made))["last_error"] == "no answer within 1 s"
    await hook_support(f"http://127.0.0.1:{free_port()}/hook")  # nobody listens there
    assert await deliver_due(NOW + BACKOFF_MAX, quick) == {"retrying": 1}
    row = await delivery(made)
    assert row["last_error"].startswith("could not connect") and row["attempts"] == 2


async def test_two_passes_at_once_deliver_each_item_once(teams: dict[str, int], settings: Settings) -> None:
    with webhook_receiver(clock=lambda: NOW) as receiver:
        receiver.secret = SECRET
        await hook_support(receiver.url)
        items = [i for n in range(6) for i in await routed_review(1 + n % 4, f"Review number {n}.", NOW)]
        assert len(await queue_item_webhooks(items, NOW, settings)) == 6
        reports = await asyncio.gather(deliver_due(NOW, settings), deliver_due(NOW, settings))
    assert sum(report.get("delivered", 0) for report in reports) == 6
    assert sorted(r.json["item"]["id"] for r in receiver.received) == sorted(items)
    assert await WebhookDelivery.count().where(WebhookDelivery.status == "delivered") == 6


async def test_a_claim_left_by_a_dead_worker_is_taken_over_after_a_while(
    teams: dict[str, int], settings: Settings
) -> None:
    with webhook_receiver(clock=lambda: NOW + STALE_CLAIM) as receiver:
        receiver.secret = SECRET
        await hook_support(receiver.url)
        (made,) = await queue_item_webhooks(await routed_review(1, "Awful.", NOW), NOW, settings)
        assert await claim(made, NOW)  # the worker that claimed it dies here
        assert await deliver_due(NOW + STALE_CLAIM - timedelta(seconds=1), settings) == {}
        assert await deliver_due(NOW + STALE_CLAIM + timedelta(seconds=1), settings) == {"delivered": 1}
    assert len(receiver.received) == 1


async def test_the_pass_makes_deliveries_for_items_whose_hand_over_was_lost(
    teams: dict[str, int], settings: Settings
) -> None:
    with webhook_receiver(clock=lambda: NOW + timedelta(minutes=10)) as receiver:
        receiver.secret = SECRET
        (before,) = await routed_review(1, "Before the webhook was set up.", NOW - timedelta(days=1, hours=1))
        await hook_support(receiver.url)
        (lost,) = await routed_review(1, "Routed, never handed over.", NOW)
        assert await deliver_due(NOW + timedelta(minutes=10), settings) == {"created": 1, "delivered": 1}
        assert await deliver_due(NOW + timedelta(minutes=20), settings) == {}
    assert [r.json["item"]["id"] for r in receiver.received] == [lost]
    assert before != lost


async def test_the_documented_check_accepts_a_real_delivery_and_refuses_a_forged_one(
    teams: dict[str, int], settings: Settings
) -> None:
    snippet = re.search(r"```python\n(.*?)```", DOCS.read_text(), re.S)
    assert snippet, "docs/webhooks.md shows how to check the signature"
    scope: dict[str, Any] = {}
    exec(snippet.group(1), scope)  # noqa: S102 - our own documentation
    verify = scope["verify"]
    now = datetime.now(UTC)  # the snippet checks the timestamp against the real clock
    with webhook_receiver(clock=lambda: now) as receiver:
        receiver.secret = SECRET
        await hook_support(receiver.url)
        (made,) = await queue_item_webhooks(await routed_review(1, "Awful.", now), now, settings)
        await deliver_now(made, now, settings)
    headers, body = receiver.received[0].headers, receiver.received[0].body
    assert verify(SECRET, headers, body)
    assert not verify("whsec_another-secret", headers, body)
    assert not verify(SECRET, headers, body.replace(b"Awful", b"Great"))
    stale = str(int(now.timestamp()) - 3600)
    old = {**headers, "X-Afterglow-Timestamp": stale, "X-Afterglow-Signature": signature(SECRET, int(stale), body)}
    assert not verify(SECRET, old, body)  # a replayed request an hour later
