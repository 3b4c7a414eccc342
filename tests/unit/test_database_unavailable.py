"""When the database drops a connection, the customer is asked to try again and nothing half-written stays."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest
import time_machine
from asyncpg.exceptions import ConnectionDoesNotExistError
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from surveys.tables import Invitation, Response
from tests.factories import order_payload
from tests.unit.survey_fixtures import OPEN_AT, invite


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    """The customer answers shortly after the email was sent (links are stamped with the send time)."""
    time_machine.move_to(OPEN_AT, tick=True)


def connection_lost(*_: object, **__: object) -> None:
    raise ConnectionDoesNotExistError("connection was closed in the middle of operation")


class _DroppedUpdate:
    """An UPDATE whose connection is lost when it runs; notes how many responses the transaction had written."""

    def __init__(self, written: list[int]) -> None:
        self.written = written

    def where(self, *_: object) -> _DroppedUpdate:
        return self

    def __await__(self) -> Generator[Any, None, None]:
        return self._drop().__await__()

    async def _drop(self) -> None:
        self.written.append(await Response.count())
        connection_lost()


@pytest.fixture
def database_drops(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The connection is lost half-way through saving an answer: after the response row is written, when the
    invitation is marked answered in the same transaction. Returns the responses written before it dropped."""
    written: list[int] = []
    update = Invitation.update

    def dropping(*args: Any, **kwargs: Any) -> Any:
        if Invitation._meta.db.transaction_exists():
            return _DroppedUpdate(written)
        return update(*args, **kwargs)

    monkeypatch.setattr(Invitation, "update", dropping)
    return written


async def test_a_survey_sent_while_the_database_is_gone_asks_to_send_again(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, database_drops: list[int]
) -> None:
    invited = await invite(client, api_headers, settings)
    page = await client.post(invited.survey_path, data={"csat": "4", "comment": "ok"}, follow_redirects=False)
    assert page.status_code == 503 and page.headers["retry-after"] == "5"
    assert "Please try again" in page.text and "nothing was stored" in page.text
    assert database_drops == [1]  # the response row was written before the connection dropped
    assert await Response.count() == 0


@pytest.mark.usefixtures("database_drops")
async def test_an_htmx_answer_shows_the_notice_and_keeps_the_form(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    invited = await invite(client, api_headers, settings)
    saved = await client.post(f"{invited.survey_path}/answer", data={"nps": "9"}, headers={"HX-Request": "true"})
    assert saved.status_code == 503
    assert (saved.headers["hx-retarget"], saved.headers["hx-reswap"]) == ("#notice", "innerHTML")
    assert 'role="alert"' in saved.text and "try again" in saved.text


async def test_the_api_answers_json_with_retry_after(
    client: AsyncTestClient, api_headers: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def dropped(*_: object) -> None:
        connection_lost()

    monkeypatch.setattr("shop.controllers.orders.ingest_order", dropped)
    answer = await client.post("/api/v1/orders", json=order_payload("X-1"), headers=api_headers)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "nothing was stored" in answer.json()["detail"]


async def test_the_page_itself_holds_the_notice_slot(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    invited = await invite(client, api_headers, settings)
    page = await client.get(invited.survey_path)
    assert '<div id="notice" aria-live="assertive"></div>' in page.text
    assert '"code": "400|422|503", "swap": true' in page.text


async def test_a_failure_between_the_answer_and_the_invitation_leaves_neither(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from surveys.services.answers import Answers, save_answers

    invited = await invite(client, api_headers, settings)
    real_update = Invitation.update

    def failing_update(*args: object, **kwargs: object) -> object:
        connection_lost()
        return real_update(*args, **kwargs)

    monkeypatch.setattr(Invitation, "update", failing_update)
    with pytest.raises(ConnectionDoesNotExistError):
        await save_answers(invited.invitation_id, Answers(csat=5, comment="Lovely"), "en", OPEN_AT)
    monkeypatch.undo()
    assert await Response.count() == 0, "the response insert was rolled back with the transaction"
    assert await save_answers(invited.invitation_id, Answers(csat=5, comment="Lovely"), "en", OPEN_AT)
    answered = await Invitation.select(Invitation.answered_at).where(Invitation.id == invited.invitation_id).first()
    assert answered["answered_at"] is not None and await Response.count() == 1
