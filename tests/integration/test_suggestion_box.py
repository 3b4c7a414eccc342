"""The suggestion box on the real services: a note sent through `/feedback` is stored in PostgreSQL, announced over
Redis, tagged and routed by a Celery worker with a "suggestion" rule; and the per-address limit holds across web
processes (its counts live in Redis)."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

import pytest
import redis
from litestar.testing import AsyncTestClient

from accounts.services import create_team
from afterglow.settings import Settings
from app import create_app
from feedback.policy import Rule
from feedback.services.rules import create_rule
from feedback.tables import FeedbackItem, InboxItem, Suggestion
from tests.integration.conftest import REDIS_URL, Workers, wait_for_async

pytestmark = pytest.mark.integration

TOKEN = re.compile(r'name="token" value="([^"]+)"')


async def send(client: AsyncTestClient, text: str, language: str = "en") -> int:
    """The embedded form, as a browser reading `language` fills it in and sends it."""
    headers = {"Accept-Language": language}
    page = await client.get("/feedback/embed", headers=headers)
    token = TOKEN.search(page.text)
    assert page.status_code == 200 and token, page.text
    form = {"token": token.group(1), "text": text}
    response = await client.post("/feedback/embed", data=form, headers=headers, follow_redirects=False)
    return response.status_code


async def test_a_note_from_the_suggestion_box_is_tagged_and_routed_by_a_worker(
    client: AsyncTestClient, settings: Settings, workers: Workers
) -> None:
    product = await create_team("Product")
    now = datetime.now(UTC)
    await create_rule(Rule(0, "Surveys → Product", kind="csat", teams=(product,)), None, now)
    rule_id = await create_rule(Rule(0, "Suggestion box → Product", kind="suggestion", teams=(product,)), None, now)

    note = "Die Lieferung war leider sehr langsam und das Paket kam beschädigt an."
    assert await send(client, note, language="de-DE") == 303
    suggestion = await Suggestion.select().first()
    assert suggestion is not None

    async def routed() -> bool:
        # Routing's last write: once it is there the worker's task is done (nothing of it still holds a lock).
        key = f"suggestion:{suggestion['id']}"
        return bool(
            await FeedbackItem.exists().where((FeedbackItem.source_key == key) & FeedbackItem.routed_at.is_not_null())
        )

    await wait_for_async(routed, what="the worker to route the suggestion")
    item = await FeedbackItem.select().where(FeedbackItem.source == "suggestion").first()
    assert item is not None
    assert (item["kind"], item["language"], item["label"]) == ("suggestion", "de", "negative")
    inbox = await InboxItem.select(InboxItem.team, InboxItem.rule, InboxItem.rule_name).first()
    assert inbox == {"team": product, "rule": rule_id, "rule_name": "Suggestion box → Product"}


async def test_the_limit_per_address_holds_across_web_processes(settings: Settings) -> None:
    store = redis.Redis.from_url(REDIS_URL)
    for key in store.scan_iter("afterglow-rate-limit*"):
        store.delete(key)
    strict = dataclasses.replace(settings, rate_suggestions_per_address=2, db_pool_size=0)
    async with AsyncTestClient(app=create_app(strict)) as first, AsyncTestClient(app=create_app(strict)) as second:
        assert await send(first, "one") == 303
        assert await send(second, "two") == 303
        assert await send(first, "three") == 429
        assert await send(second, "three") == 429
    assert [row["text"] for row in await Suggestion.select(Suggestion.text).order_by(Suggestion.id)] == ["one", "two"]
