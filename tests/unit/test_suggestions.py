"""The open suggestion box (`/feedback`, and `/feedback/embed` for shops' iframes): no sign-in, stored and announced
to feedback intake; bots kept out by a honeypot, a signed form token and a rate limit per address; every refusal
keeps what was typed."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient
from markupsafe import escape

from afterglow.celery_app import celery_app
from afterglow.settings import Settings
from app import create_app
from feedback.services.suggestions import form_token
from feedback.tables import Suggestion

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)
SCRIPT = "<script>alert(1)</script>"
TOKEN = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def announced(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[Any]]]:
    """What was sent to the broker by task name (eager Celery would drop it)."""
    sent: list[tuple[str, list[Any]]] = []
    monkeypatch.setattr(celery_app, "send_task", lambda name, args=None, **_: sent.append((name, list(args or []))))
    return sent


async def token_from(client: AsyncTestClient, path: str = "/feedback", **headers: str) -> str:
    page = await client.get(path, headers=headers)
    assert page.status_code == 200
    found = TOKEN.search(page.text)
    assert found, page.text
    return found.group(1)


async def send(
    client: AsyncTestClient,
    path: str = "/feedback",
    *,
    htmx: bool = False,
    headers: dict[str, str] | None = None,
    **fields: str,
) -> httpx.Response:
    """The form as a browser sends it: the token from the page, no CSRF cookie (the form needs none)."""
    form_path = path
    data = {"token": await token_from(client, form_path), "text": "", "name": "", "email": "", "website": "", **fields}
    client.cookies.clear()
    return await client.post(
        path, data=data, headers={**(headers or {}), **(HTMX if htmx else {})}, follow_redirects=False
    )


async def suggestions() -> list[dict[str, Any]]:
    return await Suggestion.select().order_by(Suggestion.id)


# Sending ------------------------------------------------------------------------------------------------------


async def test_a_suggestion_is_stored_and_announced_to_feedback_intake(
    client: AsyncTestClient, announced: list[tuple[str, list[Any]]]
) -> None:
    response = await send(
        client,
        text="Please offer gift wrapping.\r\nThanks!",
        name="  Anna   Schmidt ",
        email="Anna@Example.com ",
        headers={"Accept-Language": "de-AT,de;q=0.9"},
    )

    assert response.status_code == 303 and response.headers["location"] == "/feedback/thanks"
    (row,) = await suggestions()
    assert row["text"] == "Please offer gift wrapping.\nThanks!"
    assert (row["name"], row["email"], row["locale"]) == ("Anna Schmidt", "anna@example.com", "de")
    assert row["created_at"] == NOW
    assert announced == [("feedback.ingest", ["suggestion", row["id"]])]
    thanks = await client.get("/feedback/thanks")
    assert thanks.status_code == 200 and "Thank you!" in thanks.text


async def test_no_sign_in_and_no_csrf_cookie_are_needed(client: AsyncTestClient) -> None:
    page = await client.get("/feedback")
    assert page.status_code == 200 and "csrftoken" not in page.cookies
    assert (await send(client, text="Works without cookies")).status_code == 303
    assert len(await suggestions()) == 1


async def test_the_form_works_with_htmx_and_swaps_in_the_thanks(client: AsyncTestClient) -> None:
    response = await send(client, htmx=True, text="More vegan options, please.")

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="suggestion-box"') and "<html" not in response.text
    assert "Thank you!" in response.text and 'href="/feedback"' in response.text
    assert len(await suggestions()) == 1


async def test_the_page_where_the_form_was_is_kept_when_the_browser_says_so(client: AsyncTestClient) -> None:
    page = await client.get("/feedback/embed?page=https://shop.example/contact")
    token = TOKEN.search(page.text)
    assert token and 'name="page" value="https://shop.example/contact"' in page.text
    sent = await client.post(
        "/feedback/embed",
        data={"token": token.group(1), "text": "Hi", "page": "https://shop.example/contact"},
        follow_redirects=False,
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/feedback/embed/thanks"
    await client.post(
        "/feedback", data={"token": await token_from(client), "text": "Hi", "page": "javascript:alert(1)"}
    )
    assert [row["page"] for row in await suggestions()] == ["https://shop.example/contact", ""]


async def test_the_email_is_optional_and_promised_to_be_used_only_for_an_answer(client: AsyncTestClient) -> None:
    page = await client.get("/feedback")
    assert "we will only use it to answer you" in page.text
    assert (await send(client, text="No email from me")).status_code == 303
    assert (await suggestions())[0]["email"] == ""


# Refusals keep what was typed -----------------------------------------------------------------------------------


async def test_an_invalid_email_is_refused_with_everything_typed_kept(client: AsyncTestClient) -> None:
    response = await send(client, text="Call me maybe", name="Bob", email="bob-at-example")

    assert response.status_code == 400
    assert "Please check the email address, or leave it empty." in response.text
    assert 'aria-invalid="true"' in response.text
    assert ">Call me maybe</textarea>" in response.text
    assert 'value="Bob"' in response.text and 'value="bob-at-example"' in response.text
    assert await suggestions() == []


async def test_htmx_gets_the_refused_form_alone_with_422(client: AsyncTestClient) -> None:
    response = await send(client, htmx=True, text="   ")
    assert response.status_code == 422
    assert (
        response.text.lstrip().startswith('<form id="suggestion-box"')
        and "Please write your suggestion." in response.text
    )
    assert await suggestions() == []


async def test_overlong_text_is_refused_and_kept(client: AsyncTestClient, settings: Settings) -> None:
    too_long = "a" * (settings.suggestion_max_chars + 1)
    response = await send(client, text=too_long)
    assert response.status_code == 400
    assert f"Please keep your suggestion under {settings.suggestion_max_chars} characters." in response.text
    assert too_long in response.text
    assert await suggestions() == []


async def test_line_breaks_count_as_one_character_as_the_browser_counts_them(
    client: AsyncTestClient, settings: Settings
) -> None:
    lines = "\r\n".join(["x" * 99] * (settings.suggestion_max_chars // 100))  # exactly the limit with \n
    assert len(lines.replace("\r\n", "\n")) <= settings.suggestion_max_chars < len(lines)
    assert (await send(client, text=lines)).status_code == 303


async def test_an_overlong_name_is_refused(client: AsyncTestClient) -> None:
    response = await send(client, text="Hello", name="N" * 101)
    assert response.status_code == 400 and "Please keep your name under 100 characters." in response.text


@pytest.mark.parametrize(
    "token",
    ["", "not-a-token", "form.AAAAAA.tampered-signature"],
    ids=["missing", "garbage", "tampered"],
)
async def test_a_missing_or_tampered_form_token_is_refused_with_the_text_kept(
    client: AsyncTestClient, token: str
) -> None:
    response = await client.post(
        "/feedback", data={"token": token, "text": "My long careful message"}, follow_redirects=False
    )
    assert response.status_code == 400
    assert "We have reloaded it with your text: please send it again." in response.text
    assert ">My long careful message</textarea>" in response.text
    fresh = TOKEN.search(response.text)
    assert fresh and fresh.group(1) != token  # sending again now works
    assert await suggestions() == []
    again = await client.post(
        "/feedback", data={"token": fresh.group(1), "text": "My long careful message"}, follow_redirects=False
    )
    assert again.status_code == 303 and len(await suggestions()) == 1


async def test_a_token_signed_with_another_key_is_refused(client: AsyncTestClient) -> None:
    forged = form_token("someone else's key", NOW)
    response = await client.post("/feedback", data={"token": forged, "text": "Hello"}, follow_redirects=False)
    assert response.status_code == 400 and await suggestions() == []


async def test_a_form_older_than_a_day_is_refused_and_a_fresher_one_is_not(
    client: AsyncTestClient, settings: Settings
) -> None:
    stale = form_token(settings.secret_key, NOW - timedelta(days=1, minutes=1))
    refused = await client.post(
        "/feedback", data={"token": stale, "text": "Left open overnight"}, follow_redirects=False
    )
    assert refused.status_code == 400 and ">Left open overnight</textarea>" in refused.text

    day_old = form_token(settings.secret_key, NOW - timedelta(hours=23, minutes=59))
    accepted = await client.post("/feedback", data={"token": day_old, "text": "Just in time"}, follow_redirects=False)
    assert accepted.status_code == 303
    assert [row["text"] for row in await suggestions()] == ["Just in time"]


async def test_a_form_sends_one_note_and_sent_again_is_refused_with_the_text_kept(client: AsyncTestClient) -> None:
    token = await token_from(client)
    first = await client.post("/feedback", data={"token": token, "text": "Bigger sizes"}, follow_redirects=False)
    assert first.status_code == 303

    again = await client.post("/feedback", data={"token": token, "text": "Smaller sizes"}, follow_redirects=False)
    assert again.status_code == 400
    assert "This form was sent already." in again.text and ">Smaller sizes</textarea>" in again.text
    assert [row["text"] for row in await suggestions()] == ["Bigger sizes"]

    fresh = TOKEN.search(again.text)
    assert fresh
    resent = await client.post("/feedback", data={"token": fresh.group(1), "text": "Smaller sizes"})
    assert resent.status_code == 200 and len(await suggestions()) == 2


async def test_one_form_posted_many_times_at_once_saves_one_note(client: AsyncTestClient) -> None:
    token = await token_from(client)
    transport = httpx.ASGITransport(app=client.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as web:
        posts = [web.post("/feedback", data={"token": token, "text": f"Copy {n}"}) for n in range(4)]
        statuses = sorted(r.status_code for r in await asyncio.gather(*posts))

    assert statuses == [303, 400, 400, 400] and len(await suggestions()) == 1


async def test_a_filled_honeypot_is_answered_like_a_success_and_nothing_is_stored(
    client: AsyncTestClient, announced: list[tuple[str, list[Any]]]
) -> None:
    plain = await send(client, text="Buy cheap watches", website="https://spam.example")
    htmx = await send(client, htmx=True, text="Buy cheap watches", website="https://spam.example")

    assert plain.status_code == 303 and plain.headers["location"] == "/feedback/thanks"
    assert htmx.status_code == 200 and "Thank you!" in htmx.text
    assert await suggestions() == [] and announced == []


async def test_the_honeypot_is_hidden_from_people_and_screen_readers(client: AsyncTestClient) -> None:
    page = (await client.get("/feedback")).text
    trap = page.split('<div class="hp" aria-hidden="true">')[1].split("</div>")[0]
    assert '<label for="suggestion-website">' in trap
    assert 'name="website"' in trap and 'autocomplete="off"' in trap and 'tabindex="-1"' in trap
    css = (await client.get("/static/css/suggestion.css")).text
    assert re.search(r"\.hp \{[^}]*left: -10000px", css)


# Rate limit -----------------------------------------------------------------------------------------------------


@pytest.fixture
async def strict(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    """The app with two suggestions a minute per address."""
    async with AsyncTestClient(app=create_app(dataclasses.replace(settings, rate_suggestions_per_address=2))) as c:
        yield c


async def test_too_many_suggestions_from_one_address_get_429_with_retry_after_and_the_text_kept(
    strict: AsyncTestClient, time_machine: time_machine.TimeMachineFixture
) -> None:
    assert (await send(strict, text="one")).status_code == 303
    assert (await send(strict, text="two", website="bot")).status_code == 303  # bots count too

    refused = await send(strict, text="three, typed with care")
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= 60
    assert "Please try again in a minute." in refused.text and ">three, typed with care</textarea>" in refused.text
    htmx = await send(strict, htmx=True, text="four")
    assert htmx.status_code == 429 and htmx.text.lstrip().startswith("<form")
    assert [row["text"] for row in await suggestions()] == ["one"]

    time_machine.move_to(NOW + timedelta(seconds=61), tick=False)
    assert (await send(strict, text="three, typed with care")).status_code == 303


async def test_htmx_swaps_the_429_form_in_so_the_text_stays_in_view(client: AsyncTestClient) -> None:
    page = (await client.get("/feedback")).text
    assert '{"code": "400|422|429|503", "swap": true}' in page


# Language, escaping, framing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header,says",
    [("de-DE,de;q=0.9", "Ihre Nachricht"), ("hu", "Az Ön üzenete"), ("fr-FR", "Your message"), ("", "Your message")],
)
async def test_the_language_follows_the_browser(client: AsyncTestClient, header: str, says: str) -> None:
    page = await client.get("/feedback", headers={"Accept-Language": header} if header else {})
    assert says in page.text
    assert f'<html lang="{"de" if header.startswith("de") else "hu" if header == "hu" else "en"}">' in page.text


async def test_refusal_messages_are_in_the_readers_language(client: AsyncTestClient) -> None:
    response = await send(client, text="Hallo", email="kaputt", headers={"Accept-Language": "de"})
    assert response.status_code == 400 and "E-Mail-Adresse" in response.text


async def test_what_the_customer_typed_is_escaped_when_shown_again(client: AsyncTestClient) -> None:
    response = await send(client, text=SCRIPT, name=SCRIPT, email=SCRIPT)
    assert response.status_code == 400
    assert SCRIPT not in response.text and str(escape(SCRIPT)) in response.text


async def test_the_embed_may_be_framed_and_the_page_may_not(client: AsyncTestClient) -> None:
    for path in ("/feedback/embed", "/feedback/embed/thanks"):
        framable = await client.get(path)
        assert framable.status_code == 200
        assert "x-frame-options" not in framable.headers
        assert "frame-ancestors" not in framable.headers["content-security-policy"]
    sent = await send(client, "/feedback/embed", text="From the shop's footer")
    assert sent.status_code == 303 and "x-frame-options" not in sent.headers

    for path in ("/feedback", "/feedback/thanks"):
        page = await client.get(path)
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_the_embed_is_the_same_form_in_a_compact_layout(client: AsyncTestClient) -> None:
    embed = (await client.get("/feedback/embed")).text
    assert 'class="embedded"' in embed and '<main class="embed">' in embed
    assert 'action="/feedback/embed"' in embed and 'hx-post="/feedback/embed"' in embed
    assert 'name="text"' in embed and 'name="email"' in embed and 'name="website"' in embed


async def test_form_pages_are_never_cached(client: AsyncTestClient) -> None:
    page = await client.get("/feedback")
    assert page.headers["cache-control"] == "no-store"


async def test_suggestion_pages_need_no_inline_script_or_style(client: AsyncTestClient) -> None:
    pages = [
        await client.get("/feedback"),
        await client.get("/feedback/embed"),
        await client.get("/feedback/thanks"),
        await client.get("/feedback/embed/thanks"),
        await send(client, text="", email="x"),
    ]
    for page in pages:
        assert page.headers["content-type"].startswith("text/html")
        assert not INLINE.search(page.text), (page.url, INLINE.search(page.text))
