"""The security baseline: CSRF on staff forms, sessions that cannot be forged, revocable API keys, customer text
escaped wherever it is shown, and the security headers on every response."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import time_machine
from litestar import get
from litestar.testing import AsyncTestClient
from markupsafe import escape

from accounts.services import issue_api_key, revoke_api_key
from afterglow.settings import Settings
from afterglow.web import FRAME_OK
from app import create_app
from feedback.services.intake import ingest
from feedback.tables import InboxItem
from surveys.tables import Invitation, SentEmail
from surveys.tables import Response as SurveyResponse
from tests.factories import event_payload, order_payload
from tests.unit.staff_fixtures import csrf_token, make_staff, sign_in
from tests.unit.survey_fixtures import (
    DELIVERED_AT,
    OPEN_AT,
    SEND_AT,
    SUPPORT_RESOLVED_AT,
    SURVEY_URL,
    invite,
    run_dispatch,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


@pytest.fixture
def clock(time_machine: time_machine.TimeMachineFixture) -> time_machine.TimeMachineFixture:
    """Survey links are stamped with the send time: open them shortly after."""
    time_machine.move_to(OPEN_AT, tick=True)
    return time_machine


# CSRF -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/logout"])
async def test_staff_form_post_without_csrf_token_is_refused(client: AsyncTestClient, path: str) -> None:
    await make_staff()

    response = await client.post(path, data={"username": "sue", "password": "x"}, follow_redirects=False)

    assert response.status_code == 403


async def test_csrf_cookie_with_a_wrong_token_is_refused(client: AsyncTestClient) -> None:
    await make_staff()
    await csrf_token(client)  # the sign-in page sets the cookie
    assert client.cookies.get("csrftoken")

    response = await client.post(
        "/login", data={"username": "sue", "password": "x", "_csrf_token": "forged"}, follow_redirects=False
    )

    assert response.status_code == 403


def _htmx_token(html: str) -> str:
    """The token staff pages hand to htmx, which sends it as `X-CSRFToken` on every request."""
    match = re.search(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'", html)
    assert match, "staff pages carry the CSRF header for htmx"
    return match.group(1)


async def test_htmx_post_without_csrf_header_is_refused(client: AsyncTestClient) -> None:
    await make_staff()
    await sign_in(client, "sue")

    response = await client.post("/logout", headers={"HX-Request": "true"}, follow_redirects=False)

    assert response.status_code == 403
    assert (await client.get("/app/inbox", follow_redirects=False)).status_code == 200  # still signed in


async def test_htmx_post_with_csrf_header_passes(client: AsyncTestClient) -> None:
    await make_staff()
    await sign_in(client, "sue")
    token = _htmx_token((await client.get("/app/inbox")).text)

    response = await client.post(
        "/logout", headers={"HX-Request": "true", "X-CSRFToken": token}, follow_redirects=False
    )

    assert response.status_code == 303
    assert (await client.get("/app/inbox", follow_redirects=False)).status_code == 303


# Sessions and API keys --------------------------------------------------------------------------------------


async def test_tampered_session_cookie_is_treated_as_anonymous(client: AsyncTestClient) -> None:
    await make_staff()
    await sign_in(client, "sue")
    session = client.cookies.get("afterglow_session")
    assert session
    i = len(session) // 2
    tampered = f"{session[:i]}{'a' if session[i] != 'a' else 'b'}{session[i + 1 :]}"
    client.cookies.clear()
    client.cookies.set("afterglow_session", tampered, domain="testserver.local")

    response = await client.get("/app/inbox", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/app/inbox"


async def test_revoked_api_key_is_refused(client: AsyncTestClient) -> None:
    key_id, key = await issue_api_key("shop", None)
    headers = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/api/v1/orders/unknown", headers=headers)).status_code == 404  # the key works

    await revoke_api_key(key_id, datetime.now(UTC))
    response = await client.get("/api/v1/orders/unknown", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/json")


# Escaping ---------------------------------------------------------------------------------------------------


def _survey_path(mail: dict) -> str:
    match = SURVEY_URL.search(mail["text"])
    assert match, mail["text"]
    return match.group(1)


def _assert_escaped(html: str, *shown: str, hidden: tuple[str, ...] = (SCRIPT, IMG)) -> None:
    """None of the payloads appears as markup; each of `shown` appears escaped."""
    for payload in hidden:
        assert payload not in html
    for payload in shown:
        assert str(escape(payload)) in html


@pytest.mark.parametrize("payload", [SCRIPT, IMG], ids=["script", "img"])
async def test_customer_text_is_escaped_wherever_it_is_shown(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, clock: object, payload: str
) -> None:
    # Every customer text field, through the real routes. The external id travels in URL paths, so it takes
    # the payload without a slash.
    order = order_payload(IMG, email="anna@example.com", name=payload, channel=payload, categories=(payload,))
    order["items"][0]["name"] = payload
    support = order_payload("S-1", email="bob@example.com", name=payload)
    for body, event in (
        (order, event_payload("delivered", DELIVERED_AT)),
        (support, event_payload("support_resolved", SUPPORT_RESOLVED_AT, agent=payload)),
    ):
        assert (await client.post("/api/v1/orders", json=body, headers=api_headers)).status_code == 201
        path = f"/api/v1/orders/{quote(body['external_id'], safe='')}/events"
        assert (await client.post(path, json=event, headers=api_headers)).status_code == 202
    _, queued = await run_dispatch(SEND_AT, settings)
    assert len(queued) == 2
    mails = {
        row["invitation.kind"]: row
        for row in await SentEmail.select(SentEmail.all_columns(), SentEmail.invitation.kind).output(load_json=True)
    }
    order_path, support_path = _survey_path(mails["order"]), _survey_path(mails["support"])

    for path in (order_path, support_path):  # the customer answers with the payload as comment
        answered = await client.post(path, data={"csat": "2", "comment": payload}, follow_redirects=False)
        assert answered.status_code == 303

    _assert_escaped((await client.get(order_path)).text, payload, IMG)  # name, items, order number, comment
    _assert_escaped((await client.get(support_path)).text, payload)  # name, agent, comment
    _assert_escaped((await client.get(f"{order_path}/thanks")).text)
    _assert_escaped(mails["order"]["html"], payload, IMG)  # name, items, order number
    _assert_escaped(mails["support"]["html"], payload)  # name
    _assert_escaped((await client.get("/dev/outbox")).text, payload, IMG)

    for response in await SurveyResponse.select(SurveyResponse.id):
        await ingest("survey", response["id"], datetime.now(UTC))
    await make_staff()
    await sign_in(client, "max")
    _assert_escaped((await client.get("/app/inbox")).text, payload, IMG)
    items = await InboxItem.select(InboxItem.id, InboxItem.feedback.kind)
    assert len(items) == 2
    for item in items:
        page = await client.get(f"/app/inbox/{item['id']}")
        assert page.status_code == 200
        _assert_escaped(page.text, payload, *([IMG] if item["feedback.kind"] == "order" else []))
    assert await Invitation.count() == 2


# Headers ----------------------------------------------------------------------------------------------------


def _assert_security_headers(headers: object, *, framable: bool = False) -> None:
    csp = headers["content-security-policy"]  # type: ignore[index]
    assert "script-src 'self'" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert headers["x-content-type-options"] == "nosniff"  # type: ignore[index]
    assert headers["referrer-policy"] == "same-origin"  # type: ignore[index]
    if framable:
        assert "frame-ancestors" not in csp
        assert "x-frame-options" not in headers  # type: ignore[operator]
    else:
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"  # type: ignore[index]


async def test_public_page_carries_the_security_headers(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, clock: object
) -> None:
    invited = await invite(client, api_headers, settings)

    response = await client.get(invited.survey_path)

    assert response.status_code == 200
    _assert_security_headers(response.headers)


async def test_staff_page_carries_the_security_headers(client: AsyncTestClient) -> None:
    await make_staff()
    await sign_in(client, "max")

    response = await client.get("/app/inbox")

    assert response.status_code == 200
    _assert_security_headers(response.headers)


async def test_api_response_carries_the_security_headers(client: AsyncTestClient, api_headers: dict[str, str]) -> None:
    response = await client.post("/api/v1/orders", json=order_payload(), headers=api_headers)

    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    _assert_security_headers(response.headers)


@pytest.mark.parametrize(
    "method,path,status",
    [
        ("GET", "/no-such-page", 404),
        ("GET", "/app/inbox", 303),
        ("GET", "/s/not-a-link", 400),
        ("POST", "/logout", 403),
    ],
    ids=["404", "sign-in redirect", "link error page", "csrf 403"],
)
async def test_responses_made_from_errors_carry_the_security_headers(
    client: AsyncTestClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path, follow_redirects=False)

    assert response.status_code == status
    _assert_security_headers(response.headers)


async def test_route_that_opts_in_may_be_framed(settings: Settings) -> None:
    @get("/test-only/framable", opt={FRAME_OK: True}, sync_to_thread=False)
    def framable() -> str:
        return "a widget"

    app = create_app(settings)
    app.register(framable)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/test-only/framable")
        other = await client.get("/healthz")

    assert response.status_code == 200
    _assert_security_headers(response.headers, framable=True)
    _assert_security_headers(other.headers)


INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)


async def test_pages_need_no_inline_script_or_style(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, clock: object
) -> None:
    """What the CSP would block in a browser: inline scripts, style blocks and attributes, event handlers."""
    invited = await invite(client, api_headers, settings)
    await make_staff()
    pages = [
        await client.get(invited.survey_path + "?nps=9"),
        await client.get(f"{invited.survey_path}/thanks"),
        await client.get(invited.unsubscribe_path),
        await client.get("/s/not-a-link"),
        await client.get("/login"),
    ]
    await sign_in(client, "ada")
    pages += [await client.get(path) for path in ("/app/inbox", "/app/dashboard", "/app/reviews", "/dev/outbox")]

    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert not INLINE.search(page.text), (page.url, INLINE.search(page.text))
