"""The customer's side of the survey loop, over HTTP: the emailed links, answering, unsubscribing."""

from __future__ import annotations

import asyncio
import re
import secrets
from datetime import datetime, timedelta

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from shop.tables import Customer
from surveys.services.links import survey_token
from surveys.tables import Invitation
from surveys.tables import Response as SurveyResponse
from tests.factories import event_payload, order_payload
from tests.unit.survey_fixtures import OPEN_AT, SEND_AT, Invited, invite, run_dispatch

HTMX = {"HX-Request": "true", "HX-Target": "save-status", "HX-Current-URL": "http://testserver.local/s/x"}


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> time_machine.TimeMachineFixture:
    """The customer opens the mail shortly after it was sent (links are stamped with the send time)."""
    time_machine.move_to(OPEN_AT, tick=True)
    return time_machine


@pytest.fixture
async def invited(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings) -> Invited:
    return await invite(client, api_headers, settings)


async def _response_row() -> dict:
    rows = await SurveyResponse.select(SurveyResponse.csat, SurveyResponse.nps, SurveyResponse.comment)
    assert len(rows) == 1, rows
    return rows[0]


def _checked(html: str, name: str) -> list[int]:
    """The scores of the radios of `name` that the page renders checked."""
    return [
        int(m.group(1))
        for m in re.finditer(rf'<input type="radio" id="{name}-\d+" name="{name}" value="(\d+)"\s*checked', html)
    ]


def _textarea(html: str) -> str:
    m = re.search(r'<textarea id="comment"[^>]*>(.*?)</textarea>', html, re.S)
    assert m, html
    return m.group(1)


async def test_survey_page_renders_for_a_valid_link(client: AsyncTestClient, invited: Invited) -> None:
    response = await client.get(invited.survey_path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "1001" in html
    for score in range(1, 6):
        assert f'name="csat" value="{score}"' in html
    for score in range(0, 11):
        assert f'name="nps" value="{score}"' in html
    assert f'method="post" action="/s/{invited.signed}"' in html
    assert f'hx-post="/s/{invited.signed}/answer"' in html
    assert 'hx-trigger="change"' in html
    assert 'hx-target="#save-status"' in html
    assert _checked(html, "csat") == [] and _checked(html, "nps") == []


async def test_opening_the_survey_records_opened_at(client: AsyncTestClient, invited: Invited) -> None:
    before = await Invitation.select(Invitation.opened_at).where(Invitation.id == invited.invitation_id).first()
    assert before is not None and before["opened_at"] is None

    await client.get(invited.survey_path)

    after = await Invitation.select(Invitation.opened_at).where(Invitation.id == invited.invitation_id).first()
    assert after is not None and after["opened_at"] is not None
    assert abs(after["opened_at"] - OPEN_AT) < timedelta(minutes=5)


async def test_email_score_is_preselected_but_a_get_stores_nothing(client: AsyncTestClient, invited: Invited) -> None:
    assert f"{invited.survey_path}?nps=9" in invited.email["text"]

    response = await client.get(f"{invited.survey_path}?nps=9")

    assert response.status_code == 200
    assert _checked(response.text, "nps") == [9]
    assert _checked(response.text, "csat") == []
    # The browser saves it (htmx on load); a mail scanner following every link stores nothing.
    assert 'hx-trigger="load"' in response.text
    assert await SurveyResponse.count() == 0
    inv = await Invitation.select(Invitation.answered_at).where(Invitation.id == invited.invitation_id).first()
    assert inv is not None and inv["answered_at"] is None


async def test_plain_form_post_saves_and_redirects_to_thanks(client: AsyncTestClient, invited: Invited) -> None:
    response = await client.post(
        invited.survey_path,
        data={"csat": "5", "nps": "10", "comment": "  Fast delivery, lovely mug.  "},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{invited.survey_path}/thanks"
    assert await _response_row() == {"csat": 5, "nps": 10, "comment": "Fast delivery, lovely mug."}

    thanks = await client.get(response.headers["location"])
    assert thanks.status_code == 200
    assert thanks.headers["content-type"].startswith("text/html")
    assert "Thank you" in thanks.text
    assert f'href="/s/{invited.signed}"' in thanks.text


async def test_htmx_partial_answers_accumulate(client: AsyncTestClient, invited: Invited) -> None:
    first = await client.post(f"{invited.survey_path}/answer", data={"csat": "4"}, headers=HTMX)

    assert first.status_code == 200
    assert "Saved" in first.text
    assert "<html" not in first.text and "<form" not in first.text
    assert await _response_row() == {"csat": 4, "nps": None, "comment": ""}

    second = await client.post(f"{invited.survey_path}/answer", data={"nps": "8"}, headers=HTMX)

    assert second.status_code == 200
    assert await _response_row() == {"csat": 4, "nps": 8, "comment": ""}
    page = await client.get(invited.survey_path)
    assert _checked(page.text, "csat") == [4] and _checked(page.text, "nps") == [8]


async def test_answering_again_updates_the_one_response(client: AsyncTestClient, invited: Invited) -> None:
    await client.post(invited.survey_path, data={"csat": "2", "nps": "3", "comment": "Late."}, follow_redirects=False)
    again = await client.post(
        invited.survey_path, data={"csat": "4", "nps": "7", "comment": "Late, but fine."}, follow_redirects=False
    )

    assert again.status_code == 303
    assert await SurveyResponse.count() == 1
    assert await _response_row() == {"csat": 4, "nps": 7, "comment": "Late, but fine."}


async def test_double_submit_leaves_one_response(client: AsyncTestClient, invited: Invited) -> None:
    # The test client runs each request to completion before the next; over httpx's ASGI transport the two
    # posts really interleave, like a double click reaching two server tasks at once.
    form = {"csat": "5", "nps": "9", "comment": "Great"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app), base_url="http://testserver") as web:
        first, second = await asyncio.gather(
            web.post(invited.survey_path, data=form),
            web.post(invited.survey_path, data=form),
        )

    assert (first.status_code, second.status_code) == (303, 303)
    assert await SurveyResponse.count() == 1
    assert await _response_row() == {"csat": 5, "nps": 9, "comment": "Great"}


@pytest.mark.parametrize("field,value", [("csat", "9"), ("nps", "11"), ("csat", "abc"), ("nps", "-1")])
async def test_invalid_score_is_refused_and_the_comment_kept(
    client: AsyncTestClient, invited: Invited, field: str, value: str
) -> None:
    form = {"csat": "3", "nps": "5", "comment": "My typed words"} | {field: value}

    response = await client.post(invited.survey_path, data=form, follow_redirects=False)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text
    assert "Please choose one of the options." in response.text
    assert _textarea(response.text) == "My typed words"
    valid = {"csat": 3, "nps": 5}
    del valid[field]
    for name, score in valid.items():  # the other, valid choice is still ticked
        assert _checked(response.text, name) == [score]
    assert _checked(response.text, field) == []
    assert await SurveyResponse.count() == 0


async def test_invalid_htmx_answer_returns_422_partial(client: AsyncTestClient, invited: Invited) -> None:
    response = await client.post(f"{invited.survey_path}/answer", data={"csat": "9"}, headers=HTMX)

    assert response.status_code == 422
    assert "Please choose one of the options." in response.text
    assert "<html" not in response.text and "Saved" not in response.text
    assert await SurveyResponse.count() == 0


@pytest.mark.parametrize("form", [{}, {"comment": ""}, {"comment": "   \r\n "}, {"csat": "", "nps": "", "comment": ""}])
async def test_sending_an_empty_survey_asks_for_an_answer_and_stores_nothing(
    client: AsyncTestClient, invited: Invited, form: dict[str, str]
) -> None:
    response = await client.post(invited.survey_path, data=form, follow_redirects=False)

    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text and "Please choose a score or write a few words" in response.text
    assert "<form" in response.text
    assert await SurveyResponse.count() == 0
    assert (await Invitation.select(Invitation.answered_at).first())["answered_at"] is None


async def test_an_empty_htmx_answer_returns_the_partial_and_stores_nothing(
    client: AsyncTestClient, invited: Invited
) -> None:
    response = await client.post(f"{invited.survey_path}/answer", data={"comment": ""}, headers=HTMX)

    assert response.status_code == 422
    assert "Please choose a score or write a few words" in response.text
    assert "<html" not in response.text and "Saved" not in response.text
    assert await SurveyResponse.count() == 0


async def test_send_with_only_a_comment_after_the_emailed_score_keeps_both(
    client: AsyncTestClient, invited: Invited
) -> None:
    saved = await client.post(f"{invited.survey_path}/answer", data={"nps": "9"}, headers=HTMX)
    sent = await client.post(invited.survey_path, data={"comment": "Quick."}, follow_redirects=False)

    assert saved.status_code == 200 and sent.status_code == 303
    assert await _response_row() == {"csat": None, "nps": 9, "comment": "Quick."}


async def test_oversized_comment_is_refused_and_kept(client: AsyncTestClient, invited: Invited) -> None:
    comment = "x" * 5001

    response = await client.post(invited.survey_path, data={"csat": "4", "comment": comment}, follow_redirects=False)

    assert response.status_code == 400
    assert "Please keep your comment under 5000 characters." in response.text
    assert _textarea(response.text) == comment
    assert _checked(response.text, "csat") == [4]
    assert await SurveyResponse.count() == 0


async def test_comment_is_escaped_when_shown_again(client: AsyncTestClient, invited: Invited) -> None:
    evil = "<script>alert(1)</script>"
    await client.post(invited.survey_path, data={"csat": "1", "comment": evil}, follow_redirects=False)

    page = await client.get(invited.survey_path)

    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in _textarea(page.text)


async def test_escaped_comment_in_refused_form(client: AsyncTestClient, invited: Invited) -> None:
    response = await client.post(
        invited.survey_path, data={"csat": "9", "comment": "<script>alert(1)</script>"}, follow_redirects=False
    )

    assert response.status_code == 400
    assert "<script>alert" not in response.text


def _tamper(signed: str) -> str:
    """Change one character in the middle of the signature (the last one may only carry padding bits)."""
    value, _, signature = signed.rpartition(".")
    i = len(signature) // 2
    return f"{value}.{signature[:i]}{'A' if signature[i] != 'A' else 'B'}{signature[i + 1 :]}"


async def test_tampered_link_shows_a_friendly_400(client: AsyncTestClient, invited: Invited) -> None:
    bad = f"/s/{_tamper(invited.signed)}"

    page = await client.get(bad)
    post = await client.post(bad, data={"csat": "5"}, follow_redirects=False)
    answer = await client.post(f"{bad}/answer", data={"csat": "5"}, headers=HTMX)

    assert page.status_code == 400
    assert page.headers["content-type"].startswith("text/html")
    assert "This link does not work" in page.text
    assert "Traceback" not in page.text
    assert (post.status_code, answer.status_code) == (400, 400)
    assert await SurveyResponse.count() == 0
    inv = await Invitation.select(Invitation.opened_at).where(Invitation.id == invited.invitation_id).first()
    assert inv is not None and inv["opened_at"] is None


async def test_well_signed_link_for_unknown_invitation_is_404(client: AsyncTestClient, settings: Settings) -> None:
    signed = survey_token(settings, secrets.token_urlsafe(18), SEND_AT)

    response = await client.get(f"/s/{signed}")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Survey not found" in response.text


async def test_link_older_than_max_age_is_410(
    client: AsyncTestClient, invited: Invited, settings: Settings, clock: time_machine.TimeMachineFixture
) -> None:
    clock.move_to(SEND_AT + timedelta(days=settings.link_max_age_days - 1), tick=True)
    still_fine = await client.get(invited.survey_path)

    clock.move_to(SEND_AT + timedelta(days=settings.link_max_age_days, hours=1), tick=True)
    expired = await client.get(invited.survey_path)
    post = await client.post(invited.survey_path, data={"csat": "5"}, follow_redirects=False)

    assert still_fine.status_code == 200
    assert expired.status_code == 410
    assert expired.headers["content-type"].startswith("text/html")
    assert "expired" in expired.text
    assert post.status_code == 410
    assert await SurveyResponse.count() == 0


async def test_link_issued_long_ago_is_410(client: AsyncTestClient, invited: Invited, settings: Settings) -> None:
    old = survey_token(settings, invited.token, OPEN_AT - timedelta(days=settings.link_max_age_days + 1))

    response = await client.get(f"/s/{old}")

    assert response.status_code == 410


async def test_answering_clears_the_reminder(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, invited: Invited
) -> None:
    # A second customer who does not answer shows that reminders are due at that moment.
    silent = await invite(client, api_headers, settings, external_id="1002", email="bob@example.com")
    before = await Invitation.select(Invitation.reminder_due_at).where(Invitation.id == invited.invitation_id).first()
    assert before is not None and before["reminder_due_at"] is not None

    await client.post(f"{invited.survey_path}/answer", data={"csat": "5"}, headers=HTMX)

    after = (
        await Invitation.select(Invitation.answered_at, Invitation.reminder_due_at)
        .where(Invitation.id == invited.invitation_id)
        .first()
    )
    assert after is not None
    assert after["answered_at"] is not None
    assert after["reminder_due_at"] is None
    report, queued = await run_dispatch(SEND_AT + timedelta(days=settings.reminder_days + 1), settings)
    assert queued == [(silent.invitation_id, "reminder")]
    assert report.reminders_queued == 1


async def test_support_survey_asks_only_csat_and_names_the_agent(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    support = await invite(client, api_headers, settings, support_agent="Kim")
    assert f"{support.survey_path}?csat=5" in support.email["html"]

    page = await client.get(support.survey_path)

    assert page.status_code == 200
    assert 'name="csat"' in page.text
    assert 'name="nps"' not in page.text
    assert "Kim" in page.text


async def test_german_customer_gets_a_german_page(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    german = await invite(client, api_headers, settings, email="jonas@example.de", locale="de-DE")

    page = await client.get(german.survey_path)

    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert 'name="csat"' in page.text


async def _unsubscribed_at(invited: Invited) -> datetime | None:
    row = await Customer.select(Customer.unsubscribed_at).where(Customer.email == invited.email["to"]).first()
    assert row is not None
    return row["unsubscribed_at"]


async def test_unsubscribe_link_only_asks_for_confirmation(client: AsyncTestClient, invited: Invited) -> None:
    response = await client.get(invited.unsubscribe_path)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f'method="post" action="{invited.unsubscribe_path}"' in response.text
    assert await _unsubscribed_at(invited) is None


async def test_unsubscribe_form_post_unsubscribes_idempotently(client: AsyncTestClient, invited: Invited) -> None:
    first = await client.post(invited.unsubscribe_path, data={})
    when = await _unsubscribed_at(invited)
    again = await client.post(invited.unsubscribe_path, data={})

    assert (first.status_code, again.status_code) == (200, 200)
    assert "You are unsubscribed" in first.text and "You are unsubscribed" in again.text
    assert when is not None
    assert await _unsubscribed_at(invited) == when
    inv = await Invitation.select(Invitation.reminder_due_at).where(Invitation.id == invited.invitation_id).first()
    assert inv is not None and inv["reminder_due_at"] is None


async def test_email_carries_list_unsubscribe_headers(invited: Invited, settings: Settings) -> None:
    headers = invited.email["headers"]

    assert headers["List-Unsubscribe"] == f"<{settings.base_url}{invited.unsubscribe_path}>"
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


async def test_one_click_unsubscribe_from_the_header(client: AsyncTestClient, invited: Invited) -> None:
    url = invited.email["headers"]["List-Unsubscribe"].strip("<>")
    path = re.sub(r"^https?://[^/]+", "", url)
    client.cookies.clear()

    first = await client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    when = await _unsubscribed_at(invited)
    again = await client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )

    assert (first.status_code, again.status_code) == (200, 200)
    assert when is not None
    assert await _unsubscribed_at(invited) == when


async def test_tampered_unsubscribe_link_is_400(client: AsyncTestClient, invited: Invited) -> None:
    bad = f"/u/{_tamper(invited.unsubscribe_path.removeprefix('/u/'))}"

    page = await client.get(bad)
    post = await client.post(bad, data={})

    assert (page.status_code, post.status_code) == (400, 400)
    assert page.headers["content-type"].startswith("text/html")
    assert await _unsubscribed_at(invited) is None


async def test_survey_page_sends_security_headers(client: AsyncTestClient, invited: Invited) -> None:
    response = await client.get(invited.survey_path)

    csp = {
        directive.split()[0]: directive.split()[1:]
        for directive in (d.strip() for d in response.headers["content-security-policy"].split(";"))
        if directive
    }
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts is not None
    assert "'unsafe-inline'" not in scripts
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_unsubscribed_customer_is_skipped_next_time(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, invited: Invited
) -> None:
    await client.post(invited.unsubscribe_path, data={})
    await client.post("/api/v1/orders", json=order_payload("1002"), headers=api_headers)
    delivered = SEND_AT - timedelta(hours=2)  # the shop's clock stands at SEND_AT: no delivery from its future
    event = await client.post(
        "/api/v1/orders/1002/events", json=event_payload("delivered", delivered), headers=api_headers
    )
    assert event.status_code == 202, event.text

    report, queued = await run_dispatch(delivered + timedelta(days=3, hours=2), settings)

    assert queued == []
    assert report.skipped == {"unsubscribed": 1}
    nxt = (
        await Invitation.select(Invitation.status, Invitation.skip_reason)
        .where(Invitation.id != invited.invitation_id)
        .first()
    )
    assert nxt == {"status": "skipped", "skip_reason": "unsubscribed"}
