"""Staff sessions live in Redis in production: signing in writes one, signing out deletes it."""

from __future__ import annotations

import re

import pytest
import redis
from litestar.testing import AsyncTestClient

from accounts.services import create_staff
from tests.integration.conftest import REDIS_URL

pytestmark = pytest.mark.integration


def session_keys() -> list[bytes]:
    return list(redis.Redis.from_url(REDIS_URL).scan_iter(match="afterglow-sessions*"))


async def test_sign_in_stores_the_session_in_redis_and_sign_out_removes_it(client: AsyncTestClient) -> None:
    for key in session_keys():
        redis.Redis.from_url(REDIS_URL).delete(key)
    await create_staff("rita", "redis-password-1", "manager", email="rita@shop.example")
    form = await client.get("/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', form.text)
    assert token
    signed_in = await client.post(
        "/login",
        data={"username": "rita", "password": "redis-password-1", "_csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    session_id = client.cookies.get("afterglow_session")
    assert session_id and any(session_id.encode() in key for key in session_keys())
    assert (await client.get("/app/inbox")).status_code == 200

    await client.post("/logout", data={"_csrf_token": client.cookies.get("csrftoken")}, follow_redirects=False)
    assert not any(session_id.encode() in key for key in session_keys())
    assert (await client.get("/app/inbox", follow_redirects=False)).status_code == 303
