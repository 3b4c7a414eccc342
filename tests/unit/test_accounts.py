"""Signing in and out, sessions, roles and what each role sees."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from accounts.services import AccountError, create_staff, set_active
from accounts.tables import AuditEvent
from feedback.services.intake import ingest
from surveys.services.answers import Answers, save_answers
from tests.unit.staff_fixtures import make_staff, sign_in, support_rule
from tests.unit.survey_fixtures import SEND_AT, invite


async def test_anonymous_staff_page_redirects_to_sign_in(client: AsyncTestClient) -> None:
    response = await client.get("/app/inbox", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/app/inbox"


async def test_anonymous_htmx_request_gets_401_with_hx_redirect(client: AsyncTestClient) -> None:
    response = await client.get("/app/inbox", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


async def test_sign_in_and_out(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "sue") == 303
    assert (await client.get("/app/inbox")).status_code == 200
    token = client.cookies.get("csrftoken")
    out = await client.post("/logout", data={"_csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert (await client.get("/app/inbox", follow_redirects=False)).status_code == 303
    actions = [row["action"] for row in await AuditEvent.select(AuditEvent.action).order_by(AuditEvent.id)]
    assert actions == ["signed_in", "signed_out"]


async def test_wrong_password_is_refused_and_audited(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "sue", "wrong password") == 400
    assert (await client.get("/app/inbox", follow_redirects=False)).status_code == 303
    assert await AuditEvent.exists().where(AuditEvent.action == "sign_in_failed")


async def test_sign_in_gives_a_new_session_id(client: AsyncTestClient) -> None:
    await make_staff()
    planted = "f" * 64  # an id an attacker made the victim's browser carry
    client.cookies.set("afterglow_session", planted, domain="testserver.local")
    await sign_in(client, "sue")
    assert client.cookies.get("afterglow_session") not in (None, planted)
    assert (await client.get("/app/inbox")).status_code == 200


async def test_deactivated_user_cannot_sign_in_and_loses_the_session(client: AsyncTestClient) -> None:
    ids = await make_staff()
    await sign_in(client, "sue")
    await set_active(ids["support"], False)
    assert (await client.get("/app/inbox", follow_redirects=False)).status_code == 303
    assert await sign_in(client, "sue") == 400


async def test_member_sees_only_their_teams_feedback(client: AsyncTestClient, api_headers, settings) -> None:  # type: ignore[no-untyped-def]
    await make_staff()
    await support_rule()
    support = await invite(client, api_headers, settings, external_id="S-1", email="s@example.com", support_agent="Kim")
    order = await invite(client, api_headers, settings, external_id="O-1", email="o@example.com")
    support_response = await save_answers(
        support.invitation_id, Answers(csat=2, comment="Support was slow"), "en", SEND_AT
    )
    order_response = await save_answers(order.invitation_id, Answers(nps=3, comment="Broken lamp"), "en", SEND_AT)
    await ingest("survey", support_response, SEND_AT)
    await ingest("survey", order_response, SEND_AT)

    await sign_in(client, "sue")
    inbox = (await client.get("/app/inbox")).text
    assert "Support was slow" in inbox and "Broken lamp" not in inbox

    client.cookies.clear()
    await sign_in(client, "leo")
    inbox = (await client.get("/app/inbox")).text
    assert "Support was slow" not in inbox and "Broken lamp" not in inbox

    client.cookies.clear()
    await sign_in(client, "max")
    inbox = (await client.get("/app/inbox")).text
    assert "Support was slow" in inbox and "Broken lamp" in inbox


async def test_member_cannot_open_the_dashboard(client: AsyncTestClient) -> None:
    await make_staff()
    await sign_in(client, "sue")
    assert (await client.get("/app/dashboard")).status_code == 403


async def test_create_staff_rejects_short_passwords() -> None:
    with pytest.raises(AccountError):
        await create_staff("bob", "short", "member", email="bob@shop.example")
