"""The survey page is kept by everything it shows (`afterglow.templating.RenderMemo`): a repeat view renders
nothing, and whatever changes on the page (an answer, the owner's wording, the shop's brand, the customer's
details) shows on the very next view."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
import time_machine
from litestar.testing import AsyncTestClient

from afterglow import overrides
from afterglow.settings import Settings
from afterglow.templating import SURVEY_PAGES, RenderMemo
from shop.tables import Customer
from surveys.tables import TemplateOverride
from tests.unit.survey_fixtures import OPEN_AT, Invited, invite

HTMX = {"HX-Request": "true", "HX-Target": "save-status"}


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> time_machine.TimeMachineFixture:
    time_machine.move_to(OPEN_AT, tick=True)
    return time_machine


@pytest.fixture
async def invited(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings) -> Invited:
    return await invite(client, api_headers, settings)


def _checked(html: str, name: str) -> list[int]:
    return [
        int(m.group(1))
        for m in re.finditer(rf'<input type="radio" id="{name}-\d+" name="{name}" value="(\d+)"\s*checked', html)
    ]


async def _view(client: AsyncTestClient, invited: Invited) -> tuple[str, int]:
    """The page's HTML and how many renders it took."""
    before = SURVEY_PAGES.renders
    response = await client.get(invited.survey_path)
    assert response.status_code == 200, response.text
    return response.text, SURVEY_PAGES.renders - before


async def test_a_repeat_view_renders_nothing_and_an_answer_shows_on_the_next(
    client: AsyncTestClient, invited: Invited
) -> None:
    first, renders = await _view(client, invited)
    assert renders == 1 and _checked(first, "csat") == []
    again, renders = await _view(client, invited)
    assert renders == 0 and again == first

    saved = await client.post(f"{invited.survey_path}/answer", data={"csat": "4"}, headers=HTMX)
    assert saved.status_code == 200

    after, renders = await _view(client, invited)
    assert renders == 1 and _checked(after, "csat") == [4]
    await client.post(f"{invited.survey_path}/answer", data={"csat": "2"}, headers=HTMX)
    assert _checked((await _view(client, invited))[0], "csat") == [2]


async def test_the_owners_wording_shows_on_the_next_view(client: AsyncTestClient, invited: Invited) -> None:
    await _view(client, invited)
    await TemplateOverride.insert(
        TemplateOverride(
            slot="survey_page:en",
            fields={
                "intro": "Tell us straight, {{ customer_name }}.",
                "csat_question": "Happy?",
                "nps_question": "Would you tell a friend?",
                "thanks": "Thanks.",
            },
        )
    )

    html, renders = await _view(client, invited)
    assert renders == 1 and "Tell us straight," in html


async def test_the_customers_details_and_the_brand_show_on_the_next_view(
    client: AsyncTestClient, invited: Invited
) -> None:
    html, _ = await _view(client, invited)
    await Customer.update({Customer.name: "Zofia Renamed"}).where(Customer.id > 0)

    html, renders = await _view(client, invited)
    assert renders == 1 and "Zofia" in html

    await overrides.store({"brand_colour": "#aa3300"}, by="owner", now=OPEN_AT)
    overrides.drop_cached_read()  # another web process reads the stored settings within WEB_MAX_AGE
    before = re.search(r"/brand/style\.css\?v=(\w+)", html)
    html, renders = await _view(client, invited)
    after = re.search(r"/brand/style\.css\?v=(\w+)", html)
    assert renders == 1 and before and after and before[1] != after[1]


@dataclass
class _Shown:
    name: str
    scores: list[int] = field(default_factory=list)


def test_the_memo_keys_on_every_value_and_keeps_the_most_recent() -> None:
    memo = RenderMemo(size=2)
    template = "partials/try_again.html"

    memo.render(template, {"language": "en", "message": "a", "view": _Shown("x", [1])})
    memo.render(template, {"language": "en", "message": "a", "view": _Shown("x", [1])})
    assert memo.renders == 1
    memo.render(template, {"language": "en", "message": "a", "view": _Shown("x", [2])})  # a nested value changed
    assert memo.renders == 2
    memo.render(template, {"language": "de", "message": "a", "view": _Shown("x", [2])})
    assert memo.renders == 3 and len(memo.pages) == 2
    memo.render(template, {"language": "en", "message": "a", "view": _Shown("x", [1])})  # fell out: the oldest
    assert memo.renders == 4


class _Opaque:
    """A value MessagePack cannot encode: the memo keys on its `repr`."""

    def __init__(self, shown: str) -> None:
        self.shown = shown

    def __repr__(self) -> str:
        return f"_Opaque({self.shown!r})"


def test_a_value_without_an_encoding_is_keyed_by_its_repr() -> None:
    memo = RenderMemo(size=4)
    template = "partials/try_again.html"

    memo.render(template, {"language": "en", "message": "a", "view": _Opaque("x")})
    memo.render(template, {"language": "en", "message": "a", "view": _Opaque("x")})
    memo.render(template, {"language": "en", "message": "a", "view": _Opaque("y")})

    assert memo.renders == 2
