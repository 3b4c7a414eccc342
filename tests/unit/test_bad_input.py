"""Bad input is a clear 4xx, never a 500; a 500 that does happen is logged with its traceback and request id."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from app import create_app
from tests.form_fuzz import MULTIPART, NO_LIMITS, World, build_world, multipart_body
from tests.unit.staff_fixtures import csrf_token
from tests.unit.test_webhooks import sign

HUGE = "9" * 40
DEEP = b'{"id":' * 3000 + b"1" + b"}" * 3000


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[tuple[AsyncTestClient, World, Settings]]:
    fuzz = dataclasses.replace(settings, **NO_LIMITS)
    world = await build_world(fuzz)
    async with AsyncTestClient(app=create_app(fuzz)) as client:
        yield client, world, fuzz


async def signed_in_admin(client: AsyncTestClient) -> str:
    token = await csrf_token(client)
    answer = await client.post(
        "/login", data={"username": "fuzz-admin", "password": "fuzz-password-123", "_csrf_token": token}
    )
    assert answer.status_code == 200, answer.text
    return token


async def test_a_rating_in_superscript_digits_is_refused_with_the_form(world: Any) -> None:
    client, w, _ = world
    answer = await client.post(f"{w.survey}/items/{w.item}", files={"rating": (None, "²".encode())})
    assert answer.status_code == 400
    assert "Please choose a star rating." in answer.text


@pytest.mark.parametrize(
    "field", [("title", b"\xff\xfe"), ("title;nope", b"Good mug")], ids=["not UTF-8", "unknown charset"]
)
async def test_a_multipart_field_that_is_not_text_is_a_400(world: Any, field: tuple[str, bytes]) -> None:
    client, w, _ = world
    body = multipart_body({"rating": "4", field[0]: field[1]})
    answer = await client.post(f"{w.survey}/items/{w.item}", content=body, headers=MULTIPART)
    assert answer.status_code == 400
    assert "is not text in its charset" in answer.json()["detail"]


def _signed_headers(settings: Settings, endpoint: str, body: bytes) -> dict[str, str]:
    if endpoint == "shopify":
        return {"X-Shopify-Hmac-Sha256": sign(settings.shopify_secret, body), "X-Shopify-Topic": "orders/create"}
    return {"X-WC-Webhook-Signature": sign(settings.woocommerce_secret, body), "X-WC-Webhook-Topic": "order.created"}


@pytest.mark.parametrize("endpoint", ["orders", "shopify", "woocommerce"])
@pytest.mark.parametrize(
    ("body", "detail"),
    [(DEEP, "nested deeper than 64 levels"), (b'{"id": "\xff"}', "not UTF-8")],
    ids=["3000 deep", "not UTF-8"],
)
@pytest.mark.parametrize("content_type", ["application/json", "text/plain"])
async def test_json_that_cannot_be_decoded_is_a_400(
    world: Any, endpoint: str, body: bytes, detail: str, content_type: str
) -> None:
    client, _, settings = world
    headers = {"Content-Type": content_type}
    if endpoint == "orders":
        headers["Authorization"] = f"Bearer {settings.api_key}"
        answer = await client.post("/api/v1/orders", content=body, headers=headers)
    else:
        answer = await client.post(
            f"/webhooks/{endpoint}", content=body, headers=headers | _signed_headers(settings, endpoint, body)
        )
    assert answer.status_code == 400, answer.text
    assert detail in answer.json()["detail"]


@pytest.mark.parametrize("row_id", [HUGE, str(2**31), str(2**63), "0", "-1"])
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/widget/reviews/{id}/helpful"), ("GET", "/app/inbox/{id}"), ("GET", "/app/admin/routing/{id}")],
)
async def test_an_id_no_row_can_have_is_a_404(world: Any, method: str, path: str, row_id: str) -> None:
    client, _, _ = world
    await signed_in_admin(client)
    answer = await client.request(method, path.format(id=row_id))
    assert answer.status_code == 404, answer.text


@pytest.mark.parametrize(
    "query",
    ["from=9999-12-31", "from=0001-01-01", "from=0001-01-01&to=0001-01-01", "from=9999-12-31&to=9999-12-31"],
)
async def test_dashboard_dates_past_the_calendar_are_a_400(world: Any, query: str) -> None:
    client, _, _ = world
    await signed_in_admin(client)
    answer = await client.get(f"/app/dashboard?{query}")
    assert answer.status_code == 400
    assert "Dates must lie between 1970-01-01 and 2999-12-31." in answer.text


@pytest.mark.parametrize("query", [f"page={HUGE}", "page=²"])
async def test_a_page_number_past_any_page_is_the_first_page(world: Any, query: str) -> None:
    client, _, _ = world
    await signed_in_admin(client)
    answer = await client.get(f"/app/inbox?{query}")
    assert answer.status_code == 200


async def test_an_assignee_in_superscript_digits_is_refused(world: Any) -> None:
    client, w, _ = world
    token = await signed_in_admin(client)
    answer = await client.post(
        f"/app/inbox/{w.inbox_item}/assign", data={"assignee": "²", "_csrf_token": token}, follow_redirects=False
    )
    assert answer.status_code == 400


@get("/api/v1/broken", sync_to_thread=False)
def broken_api() -> None:
    raise RuntimeError("a bug nobody expected")


@get("/broken", sync_to_thread=False)
def broken_page() -> None:
    raise RuntimeError("a bug nobody expected")


@pytest.mark.parametrize(("path", "kind"), [("/api/v1/broken", "application/json"), ("/broken", "text/html")])
async def test_an_unhandled_error_is_logged_with_its_traceback_and_request_id(
    settings: Settings, caplog: pytest.LogCaptureFixture, path: str, kind: str
) -> None:
    app = create_app(settings)
    app.register(broken_api if path.startswith("/api/") else broken_page)
    async with AsyncTestClient(app=app) as client:
        answer = await client.get(path, headers={"X-Request-ID": "req-500-check", "Authorization": "Bearer x"})
    assert answer.status_code == 500
    assert answer.headers["content-type"].startswith(kind)
    assert "a bug nobody expected" not in answer.text
    logged = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert len(logged) == 1
    assert "req-500-check" in logged[0].getMessage()
    assert logged[0].exc_info is not None and logged[0].exc_info[0] is RuntimeError
