"""The admin pages: only admins, every change audited, secrets shown once, CSRF enforced."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import AsyncTestClient
from piccolo.apps.user.tables import BaseUser

from accounts.management import AUDIT_PAGE_SIZE
from accounts.services import audit, issue_api_key
from accounts.tables import ApiKey, AuditEvent, StaffProfile, TeamMember
from tests.factories import order_payload
from tests.unit.staff_fixtures import make_staff, sign_in

ONE_TIME_PASSWORD = re.compile(r'id="one-time-password">([^<]+)<')
API_KEY = re.compile(r'id="api-key">([^<]+)<')
SIGN_IN_EVENTS = {"signed_in", "signed_out", "sign_in_failed"}


async def post(client: AsyncTestClient, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
    """A form post carrying the CSRF token, as the pages' forms do."""
    form = {**(data or {}), "_csrf_token": client.cookies.get("csrftoken")}
    return await client.post(path, data=form, follow_redirects=False, **kwargs)


async def as_admin(client: AsyncTestClient) -> dict[str, int]:
    ids = await make_staff()
    assert await sign_in(client, "ada") == 303
    return ids


async def actions() -> list[str]:
    rows = await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)
    return [row["action"] for row in rows if row["action"] not in SIGN_IN_EVENTS]


def admin_routes(ids: dict[str, int], key_id: int) -> list[tuple[str, str, dict[str, str]]]:
    sue = ids["support"]
    return [
        ("GET", "/app/admin", {}),
        ("GET", "/app/admin/users", {}),
        ("POST", "/app/admin/users", {"username": "eve", "email": "eve@shop.example", "role": "admin"}),
        ("POST", f"/app/admin/users/{sue}/active", {"active": "0"}),
        ("POST", f"/app/admin/users/{sue}/role", {"role": "admin"}),
        ("POST", f"/app/admin/users/{sue}/teams", {"team": "logistics", "member": "1"}),
        ("GET", "/app/admin/teams", {}),
        ("POST", "/app/admin/teams", {"name": "Sneaky"}),
        ("GET", "/app/admin/api-keys", {}),
        ("POST", "/app/admin/api-keys", {"name": "stolen"}),
        ("POST", f"/app/admin/api-keys/{key_id}/revoke", {}),
        ("GET", "/app/admin/audit", {}),
        ("GET", "/app/admin/privacy", {}),
        ("POST", "/app/admin/privacy/export", {"email": "anna@example.com"}),
        ("POST", "/app/admin/privacy/erase", {"email": "anna@example.com"}),
        ("POST", "/app/admin/privacy/erase/confirm", {"email": "anna@example.com", "confirm": "yes"}),
    ]


@pytest.mark.parametrize("username", ["max", "sue"])
async def test_non_admin_roles_get_403_on_every_admin_route(client: AsyncTestClient, username: str) -> None:
    ids = await make_staff()
    key_id, _ = await issue_api_key("shop", ids["admin"])
    await sign_in(client, username)
    for method, path, data in admin_routes(ids, key_id):
        if method == "GET":
            response = await client.get(path, follow_redirects=False)
        else:
            response = await post(client, path, data)
        assert response.status_code == 403, (method, path, response.status_code)
    assert await actions() == []
    assert await BaseUser.count() == 4
    assert (await StaffProfile.select(StaffProfile.role).where(StaffProfile.user == ids["support"]).first()) == {
        "role": "member"
    }
    assert (await ApiKey.select(ApiKey.revoked_at).first())["revoked_at"] is None


async def test_anonymous_visitor_is_sent_to_sign_in(client: AsyncTestClient) -> None:
    response = await client.get("/app/admin/users", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/app/admin/users"


async def test_users_page_lists_role_teams_and_status(client: AsyncTestClient) -> None:
    await as_admin(client)
    page = (await client.get("/app/admin/users")).text
    for text in ("sue@shop.example", "leo", "manager", "Support", "Logistics", "Deactivate"):
        assert text in page


async def test_invite_shows_the_one_time_password_once_and_it_signs_in(client: AsyncTestClient) -> None:
    await as_admin(client)
    created = await post(
        client,
        "/app/admin/users",
        {"username": "nora", "email": "Nora@Shop.example", "role": "member", "teams": ["support", "logistics"]},
    )
    assert created.status_code == 200
    assert created.headers["cache-control"] == "no-store"
    match = ONE_TIME_PASSWORD.search(created.text)
    assert match
    password = match.group(1)
    assert "no message went to" in created.text  # says plainly that nothing was emailed

    users = (await client.get("/app/admin/users")).text
    assert "nora@shop.example" in users and password not in users
    audit_page = (await client.get("/app/admin/audit")).text
    assert "staff_invited" in audit_page and password not in audit_page
    assert password not in str(await AuditEvent.select(AuditEvent.detail))
    assert await TeamMember.count().where(TeamMember.user.username == "nora") == 2

    client.cookies.clear()
    assert await sign_in(client, "nora", password) == 303
    assert (await client.get("/app/inbox")).status_code == 200


async def test_invite_with_a_taken_username_shows_the_error(client: AsyncTestClient) -> None:
    await as_admin(client)
    response = await post(
        client, "/app/admin/users", {"username": "sue", "email": "new@shop.example", "role": "member"}
    )
    assert response.status_code == 400
    assert "exists already" in response.text
    assert ONE_TIME_PASSWORD.search(response.text) is None
    assert await actions() == []


async def test_invite_to_an_unknown_team_creates_nobody(client: AsyncTestClient) -> None:
    await as_admin(client)
    response = await post(
        client, "/app/admin/users", {"username": "nora", "email": "n@shop.example", "role": "member", "teams": "ghosts"}
    )
    assert response.status_code == 400
    assert not await BaseUser.exists().where(BaseUser.username == "nora")


async def test_deactivated_user_cannot_sign_in_until_reactivated(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    response = await post(client, f"/app/admin/users/{ids['support']}/active", {"active": "0"})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/app/admin/users?done=")
    client.cookies.clear()
    assert await sign_in(client, "sue") == 400

    await sign_in(client, "ada")
    await post(client, f"/app/admin/users/{ids['support']}/active", {"active": "1"})
    client.cookies.clear()
    assert await sign_in(client, "sue") == 303
    assert await actions() == ["staff_deactivated", "staff_reactivated"]


async def test_admin_cannot_deactivate_themselves(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    response = await post(client, f"/app/admin/users/{ids['admin']}/active", {"active": "0"})
    assert response.status_code == 303
    assert "error=" in response.headers["location"]
    page = await client.get(response.headers["location"])
    assert "you cannot deactivate yourself" in page.text
    assert (await BaseUser.select(BaseUser.active).where(BaseUser.id == ids["admin"]).first())["active"] is True
    assert await actions() == []


async def test_role_change_takes_effect_at_the_next_request(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    await post(client, f"/app/admin/users/{ids['support']}/role", {"role": "manager"})
    event = (
        await AuditEvent.select(AuditEvent.target, AuditEvent.detail)
        .where(AuditEvent.action == "staff_role_changed")
        .output(load_json=True)
        .first()
    )
    assert event == {"target": "sue", "detail": {"old": "member", "new": "manager"}}

    client.cookies.clear()
    await sign_in(client, "sue")
    assert (await client.get("/app/dashboard")).status_code == 200


async def test_unknown_role_is_refused(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    response = await post(client, f"/app/admin/users/{ids['support']}/role", {"role": "owner"})
    assert "error=" in response.headers["location"]
    assert await actions() == []


async def test_team_membership_added_and_removed(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    sue = ids["support"]
    await post(client, f"/app/admin/users/{sue}/teams", {"team": "logistics", "member": "1"})
    assert await TeamMember.count().where(TeamMember.user == sue) == 2
    await post(client, f"/app/admin/users/{sue}/teams", {"team": "support", "member": "0"})
    teams = await TeamMember.select(TeamMember.team.slug).where(TeamMember.user == sue)
    assert teams == [{"team.slug": "logistics"}]
    assert await actions() == ["team_member_added", "team_member_removed"]


async def test_htmx_change_returns_the_users_row_and_the_message(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    response = await post(
        client,
        f"/app/admin/users/{ids['support']}/teams",
        {"team": "logistics", "member": "1"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="user-{ids["support"]}">')
    assert "<html" not in response.text
    assert 'hx-swap-oob="true"' in response.text and "Added to logistics." in response.text


async def test_teams_are_listed_with_member_counts_and_created(client: AsyncTestClient) -> None:
    await as_admin(client)
    response = await post(client, "/app/admin/teams", {"name": "Returns desk"})
    assert response.status_code == 303
    page = (await client.get(response.headers["location"])).text
    assert "Team Returns desk created." in page
    rows = re.findall(r"<tr><td>([^<]+)</td><td><code>[^<]+</code></td><td>(\d+)</td>", page)
    assert rows == [("Logistics", "1"), ("Returns desk", "0"), ("Support", "1")]
    duplicate = await post(client, "/app/admin/teams", {"name": "Returns desk"})
    assert "error=" in duplicate.headers["location"]
    assert await actions() == ["team_created"]


async def test_api_key_works_until_revoked_and_records_its_last_use(client: AsyncTestClient) -> None:
    await as_admin(client)
    created = await post(client, "/app/admin/api-keys", {"name": "Shopify store"})
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    match = API_KEY.search(created.text)
    assert match
    key = match.group(1)
    keys_page = (await client.get("/app/admin/api-keys")).text
    assert "Shopify store" in keys_page and key not in keys_page and key[:10] in keys_page

    bearer = {"Authorization": f"Bearer {key}"}
    accepted = await client.post("/api/v1/orders", json=order_payload("K-1"), headers=bearer)
    assert accepted.status_code == 201
    row = await ApiKey.select(ApiKey.id, ApiKey.last_used_at).first()
    assert row["last_used_at"] is not None
    assert abs(row["last_used_at"] - datetime.now(UTC)) < timedelta(minutes=1)

    revoked = await post(client, f"/app/admin/api-keys/{row['id']}/revoke")
    assert revoked.status_code == 303
    refused = await client.post("/api/v1/orders", json=order_payload("K-2"), headers=bearer)
    assert refused.status_code == 401
    assert await actions() == ["api_key_created", "api_key_revoked"]
    assert key not in str(await AuditEvent.select(AuditEvent.detail))


async def test_htmx_revoke_returns_the_keys_row(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    key_id, _ = await issue_api_key("shop", ids["admin"])
    response = await post(client, f"/app/admin/api-keys/{key_id}/revoke", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<tr id="api-key-{key_id}">') and "revoked" in response.text


async def test_audit_page_shows_each_action_newest_first(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    await post(client, f"/app/admin/users/{ids['logistics']}/role", {"role": "manager"})
    await post(client, "/app/admin/teams", {"name": "Returns desk"})
    page = (await client.get("/app/admin/audit")).text
    assert page.index("team_created") < page.index("staff_role_changed") < page.index("signed_in")
    assert "ada" in page and "leo" in page and "old: member" in page


async def test_audit_log_is_paginated_by_fifty(client: AsyncTestClient) -> None:
    await as_admin(client)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for n in range(2 * AUDIT_PAGE_SIZE + 10):
        await audit(None, "test_event", f"target-{n:03d}", start + timedelta(minutes=n))
    first = (await client.get("/app/admin/audit")).text
    assert first.count("<code>test_event</code>") == AUDIT_PAGE_SIZE - 1  # the sign-in is the newest event
    assert "Page 1 of 3" in first and "target-109" in first and "target-060" not in first
    last = (await client.get("/app/admin/audit?page=3")).text
    assert "target-000" in last and 'rel="next"' not in last
    assert (await client.get("/app/admin/audit?page=99")).status_code == 200


async def test_admin_post_without_csrf_token_is_rejected(client: AsyncTestClient) -> None:
    ids = await as_admin(client)
    response = await client.post(
        f"/app/admin/users/{ids['support']}/active", data={"active": "0"}, follow_redirects=False
    )
    assert response.status_code == 403
    assert (await BaseUser.select(BaseUser.active).where(BaseUser.id == ids["support"]).first())["active"] is True
    assert await actions() == []
