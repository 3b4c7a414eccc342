"""Outgoing webhooks: each new inbox item of a team with a webhook URL becomes a WebhookDelivery row, POSTed as JSON
signed with the team's secret (docs/webhooks.md).

The database says when an attempt is due. Whoever claims a row with a conditional UPDATE (pending and due → sending)
makes the attempt, so any number of passes and workers make each attempt once; a claim older than STALE_CLAIM
belonged to a worker that died and is taken over. A failed attempt waits (exponential backoff with jitter); after
the last one the row is "failed", a dead letter that an admin may send again."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import secrets
from datetime import datetime, timedelta
from typing import Any

import httpx
from piccolo.columns.combination import Combinable

from accounts.services import Staff, audit
from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.failures import skip_bad_row
from afterglow.settings import Settings
from feedback.services.destinations import CheckedTransport, RefusedDestination, url_refusal
from feedback.services.notifications import CATCH_UP, GRACE, ItemSummary, excerpt, item_summaries
from feedback.services.notify_settings import (
    NotifySettingsError,
    new_secret,
    notify_settings,
    notify_settings_of,
    store_notify_settings,
)
from feedback.tables import InboxItem, TeamChannel, WebhookDelivery

EVENT = "inbox.item_created"
TEST_EVENT = "test"
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
STALE_CLAIM = timedelta(minutes=5)
USER_AGENT = "Afterglow-Webhooks/1"


class UnknownDelivery(LookupError):
    """No webhook delivery with this id."""


class NotRetryable(ValueError):
    """Only a delivery that gave up (failed) can be sent again."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of "<timestamp>.<raw body>" under the team's secret."""
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def backoff(attempts: int, spread: float) -> timedelta:
    """The wait after `attempts` failed attempts: 1 minute doubling up to 1 hour, of which `spread` (0–1, random
    in use) keeps between half and all, so deliveries that failed together are not retried together."""
    full = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1))
    return full * (0.5 + 0.5 * min(max(spread, 0.0), 1.0))


def _slack(text: str) -> str:
    """Slack reads &, < and > in message text as markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def item_payload(item: ItemSummary) -> dict[str, Any]:
    """The JSON body for a new inbox item: a Slack-compatible one-line `text`, the `event` and the `item`."""
    head = f"[{item.priority}] {item.team}: {item.kind_name}"
    if item.score_text:
        head += f" {item.score_text}"
    if item.label:
        head += f" ({item.label})"
    if item.excerpt:
        head += f" — “{excerpt('', item.excerpt, 120)}”"
    return {
        "event": EVENT,
        "text": f"{_slack(head)} <{item.url}|Open in Afterglow>",
        "item": {
            "id": item.id,
            "url": item.url,
            "team": item.team,
            "team_id": item.team_id,
            "priority": item.priority,
            "due_at": item.due_at.isoformat() if item.due_at else None,
            "created_at": item.created_at.isoformat(),
            "kind": item.kind,
            "scores": item.scores,
            "label": item.label,
            "topics": list(item.topics),
            "text": item.excerpt,
        },
    }


# Creating deliveries ----------------------------------------------------------------------------------------------


async def queue_item_webhooks(inbox_item_ids: list[int], now: datetime, settings: Settings) -> list[int]:
    """A pending delivery, due now, for each of these items whose team has a webhook URL. Returns the ids of the
    rows made now; an item that has its row already (a twin run) is left alone."""
    if not inbox_item_ids:
        return []
    items = await item_summaries(InboxItem.id.is_in(inbox_item_ids) & InboxItem.team.is_not_null(), now, settings)
    hooked = {
        c.team_id for c in await notify_settings(sorted({i.team_id for i in items if i.team_id})) if c.webhook_url
    }
    made = []
    for item in items:
        if item.team_id not in hooked:
            continue
        row = WebhookDelivery(
            team=item.team_id,
            inbox_item=item.id,
            event=EVENT,
            key=f"{EVENT}:{item.id}",
            payload=item_payload(item),
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
        try:
            inserted = await WebhookDelivery.insert(row).returning(WebhookDelivery.id)
        except UNIQUE_VIOLATIONS:
            continue
        made.append(int(inserted[0]["id"]))
    return made


async def missed_items(now: datetime) -> list[int]:
    """Items of the last day, created after their team's webhook was set up, that have no delivery: their intake
    could not hand them over (worker killed between routing and queueing)."""
    hooked = await TeamChannel.select(TeamChannel.team, TeamChannel.updated_at).where(TeamChannel.webhook_url != "")
    found: list[int] = []
    for hook in hooked:
        since = max(now - CATCH_UP, hook["updated_at"])
        rows = await InboxItem.select(InboxItem.id).where(
            (InboxItem.team == hook["team"]) & (InboxItem.created_at >= since) & (InboxItem.created_at <= now - GRACE)
        )
        found += [row["id"] for row in rows]
    if not found:
        return []
    keys = await WebhookDelivery.select(WebhookDelivery.key).where(
        WebhookDelivery.key.is_in([f"{EVENT}:{item_id}" for item_id in found])
    )
    have = {row["key"] for row in keys}
    return sorted(item_id for item_id in found if f"{EVENT}:{item_id}" not in have)


# Claiming and attempting --------------------------------------------------------------------------------------------


def _due(now: datetime) -> Combinable:
    waiting = (WebhookDelivery.status == "pending") & (WebhookDelivery.next_attempt_at <= now)
    abandoned = (WebhookDelivery.status == "sending") & (WebhookDelivery.claimed_at < now - STALE_CLAIM)
    return waiting | abandoned


async def claim(delivery_id: int, now: datetime) -> bool:
    """Take a due delivery for an attempt; False when it is not due or another pass or worker took it first."""
    rows = (
        await WebhookDelivery.update({WebhookDelivery.status: "sending", WebhookDelivery.claimed_at: now})
        .where((WebhookDelivery.id == delivery_id) & _due(now))
        .returning(WebhookDelivery.id)
    )
    return bool(rows)


async def claim_next(now: datetime) -> int | None:
    """Claim the delivery that has waited longest, or None when nothing is due."""
    for _ in range(100):  # each lost race means another claimer took a row, so this ends
        rows = (
            await WebhookDelivery.select(WebhookDelivery.id)
            .where(_due(now))
            .order_by(WebhookDelivery.next_attempt_at)
            .order_by(WebhookDelivery.id)
            .limit(10)
        )
        if not rows:
            return None
        for row in rows:
            if await claim(row["id"], now):
                return int(row["id"])
    return None


async def post(
    url: str, secret: str, event: str, delivery_id: int, body: bytes, now: datetime, settings: Settings
) -> int:
    """POST one signed body; returns the HTTP status. httpx.HTTPError when there is no answer in time;
    RefusedDestination, before any connection, when the URL or its host's addresses are not public."""
    reason = url_refusal(url, settings.webhook_allowed_hosts)
    if reason:
        raise RefusedDestination(reason)
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Afterglow-Event": event,
        "X-Afterglow-Delivery": str(delivery_id),
        "X-Afterglow-Timestamp": str(timestamp),
        "X-Afterglow-Signature": signature(secret, timestamp, body),
    }
    # Redirects are not followed: a receiver could send the request on to an internal address.
    transport = CheckedTransport(settings.webhook_allowed_hosts)
    timeout = settings.webhook_timeout_seconds
    async with (
        httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False, trust_env=False) as client,
        client.stream("POST", url, content=body, headers=headers) as response,
    ):
        return response.status_code  # the body is never read: only the status counts


async def attempt(delivery_id: int, now: datetime, settings: Settings) -> str:
    """Make one attempt at a claimed delivery and record it: "delivered", "retrying", "failed" (that was the last
    attempt), "refused" (an internal destination: failed at once, nothing sent) or "not-claimed". The team's current
    URL and secret are used."""
    row = (
        await WebhookDelivery.select()
        .where((WebhookDelivery.id == delivery_id) & (WebhookDelivery.status == "sending"))
        .output(load_json=True)
        .first()
    )
    if row is None:
        return "not-claimed"
    hook = await TeamChannel.select().where(TeamChannel.team == row["team"]).first()
    status: int | None = None
    refused = False
    if hook is None or not hook["webhook_url"]:
        error = "the team's webhook URL was removed"
    else:
        body = json.dumps(row["payload"], ensure_ascii=False, separators=(",", ":")).encode()
        timeout = settings.webhook_timeout_seconds
        try:
            status = await post(
                hook["webhook_url"], hook["webhook_secret"], row["event"], row["id"], body, now, settings
            )
            error = "" if 200 <= status < 300 else f"HTTP {status}"
            if 300 <= status < 400:
                error += " (a redirect, not followed: set the final URL)"
        except RefusedDestination as exc:
            refused, error = True, f"not sent: {exc}"
        except httpx.InvalidURL as exc:
            refused, error = True, f"not sent: the webhook URL is not valid ({exc})"
        except httpx.TimeoutException:
            error = f"no answer within {timeout} s"
        except httpx.HTTPError as exc:
            error = f"could not connect: {exc or type(exc).__name__}"
    attempts = row["attempts"] + 1
    last = 1 if row["event"] == TEST_EVENT else settings.webhook_max_attempts
    values: dict[Any, Any] = {
        WebhookDelivery.attempts: attempts,
        WebhookDelivery.response_status: status,
        WebhookDelivery.last_error: error[:500],
        WebhookDelivery.claimed_at: None,
    }
    if not error:
        outcome = "delivered"
        values |= {WebhookDelivery.status: "delivered", WebhookDelivery.delivered_at: now}
    elif refused:  # trying again would not change where the URL points
        outcome = "refused"
        values |= {WebhookDelivery.status: "failed", WebhookDelivery.next_attempt_at: None}
    elif attempts >= last or hook is None or not hook["webhook_url"]:
        outcome = "failed"
        values |= {WebhookDelivery.status: "failed", WebhookDelivery.next_attempt_at: None}
    else:
        outcome = "retrying"
        wait = backoff(attempts, random.random())
        values |= {WebhookDelivery.status: "pending", WebhookDelivery.next_attempt_at: now + wait}
    await WebhookDelivery.update(values).where(
        (WebhookDelivery.id == delivery_id) & (WebhookDelivery.status == "sending")
    )
    return outcome


async def deliver_now(delivery_id: int, now: datetime, settings: Settings) -> str:
    """The first attempt, right after the item was routed: claimed like any other, so the pass never doubles it.
    "not-due" when someone else has it or it is done."""
    if not await claim(delivery_id, now):
        return "not-due"
    return await attempt(delivery_id, now, settings)


async def deliver_due(now: datetime, settings: Settings, limit: int = 500) -> dict[str, int]:
    """The beat pass: make rows for items whose hand-over was lost, then claim and attempt every due delivery
    (up to `limit`), one claim at a time so no claim grows stale while it waits. Safe to run at once, by many."""
    outcomes: dict[str, int] = {}
    made = await queue_item_webhooks(await missed_items(now), now, settings)
    if made:
        outcomes["created"] = len(made)
    for _ in range(limit):
        delivery_id = await claim_next(now)
        if delivery_id is None:
            break
        outcome = "failed"  # a bad delivery: recorded as a task failure, and the pass goes on
        async with skip_bad_row("feedback.deliver_webhooks", f"webhook delivery {delivery_id}", now):
            outcome = await attempt(delivery_id, now, settings)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


# What admins do ------------------------------------------------------------------------------------------------


async def retry_delivery(actor: Staff, delivery_id: int, now: datetime) -> None:
    """Put a failed delivery back to pending with a fresh set of attempts; the next pass sends it (audited)."""
    row = (
        await WebhookDelivery.select(WebhookDelivery.status, WebhookDelivery.key)
        .where(WebhookDelivery.id == delivery_id)
        .first()
    )
    if row is None:
        raise UnknownDelivery(delivery_id)
    if row["status"] != "failed":
        raise NotRetryable("Only a failed delivery can be sent again.")
    await WebhookDelivery.update(
        {
            WebhookDelivery.status: "pending",
            WebhookDelivery.attempts: 0,
            WebhookDelivery.next_attempt_at: now,
            WebhookDelivery.claimed_at: None,
        }
    ).where((WebhookDelivery.id == delivery_id) & (WebhookDelivery.status == "failed"))
    await audit(actor, "notifications.webhook_retried", f"webhook-delivery:{delivery_id}", now, key=row["key"])


async def regenerate_secret(actor: Staff, slug: str, now: datetime) -> str:
    """A new signing secret for the team's webhook (the old one stops working at once); shown once (audited)."""
    notify = await notify_settings_of(slug)
    if not notify.webhook_url:
        raise NotifySettingsError("webhook_url", "Set a webhook URL first; its secret is made with it.")
    secret = new_secret()
    await store_notify_settings(notify.team_id, {TeamChannel.webhook_secret: secret}, now)
    await audit(actor, "notifications.secret_regenerated", f"team:{slug}", now)
    return secret


async def send_test_webhook(actor: Staff, slug: str, now: datetime, settings: Settings) -> dict[str, Any]:
    """POST a signed `test` event to the team's webhook now (one attempt, kept in the delivery list) and return
    the delivery row: its status, response status and error. RefusedDestination (recorded as a failed delivery)
    when the URL points at an internal address: nothing was sent."""
    notify = await notify_settings_of(slug)
    if not notify.webhook_url:
        raise NotifySettingsError("webhook_url", "Set a webhook URL first.")
    payload = {
        "event": TEST_EVENT,
        "text": _slack(f"Afterglow test for {notify.team}: this webhook receives new feedback."),
        "team": notify.team,
    }
    row = WebhookDelivery(
        team=notify.team_id,
        event=TEST_EVENT,
        key=f"{TEST_EVENT}:{notify.team_id}:{now.strftime('%Y%m%dT%H%M%S%f')}:{secrets.token_hex(3)}",
        payload=payload,
        status="sending",  # claimed by this request from the start
        claimed_at=now,
        next_attempt_at=now,
        created_at=now,
    )
    delivery_id = int((await WebhookDelivery.insert(row).returning(WebhookDelivery.id))[0]["id"])
    outcome = await attempt(delivery_id, now, settings)
    await audit(actor, "notifications.test_webhook", f"team:{slug}", now, delivery=delivery_id)
    found = await delivery(delivery_id)
    if outcome == "refused":
        raise RefusedDestination(found["last_error"].removeprefix("not sent: "))
    return found


async def delivery(delivery_id: int) -> dict[str, Any]:
    """One delivery as the admin page shows it (its row in the lists)."""
    return (await _deliveries(WebhookDelivery.id == delivery_id, limit=1))[0]


async def failed_deliveries(limit: int = 100) -> list[dict[str, Any]]:
    """The deliveries that gave up (test events aside), newest first: the admin page offers to retry them."""
    return await _deliveries((WebhookDelivery.status == "failed") & (WebhookDelivery.event != TEST_EVENT), limit)


async def recent_deliveries(limit: int = 20) -> list[dict[str, Any]]:
    """The latest deliveries of every kind, newest first."""
    return await _deliveries(WebhookDelivery.id > 0, limit)


async def _deliveries(where: Combinable, limit: int) -> list[dict[str, Any]]:
    """Deliveries for the admin page, newest first, with their team's name."""
    return (
        await WebhookDelivery.select(
            WebhookDelivery.id,
            WebhookDelivery.team.name.as_alias("team"),
            WebhookDelivery.inbox_item,
            WebhookDelivery.event,
            WebhookDelivery.status,
            WebhookDelivery.attempts,
            WebhookDelivery.next_attempt_at,
            WebhookDelivery.last_error,
            WebhookDelivery.response_status,
            WebhookDelivery.delivered_at,
            WebhookDelivery.created_at,
        )
        .where(where)
        .order_by(WebhookDelivery.id, ascending=False)
        .limit(limit)
    )
