"""Every staff route × {anonymous, member of the team, member of another team, manager, admin}: the status each gets."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from accounts.services import issue_api_key
from afterglow.settings import Settings
from feedback.services.intake import ingest
from feedback.tables import InboxItem
from surveys.services.answers import Answers, save_answers
from tests.factories import photo_bytes
from tests.unit.access_matrix import PRINCIPALS, ROUTES, markdown
from tests.unit.review_fixtures import add_review
from tests.unit.staff_fixtures import csrf_token, make_staff, sign_in, support_rule
from tests.unit.survey_fixtures import SEND_AT, invite

DOCS = Path(__file__).resolve().parents[2] / "docs" / "access.md"
SIGN_IN_AS = {"member of the team": "sue", "member of another team": "leo", "manager": "max", "admin": "ada"}


async def world(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings) -> dict[str, str]:
    """Staff of every role, one item for the Support team (routed by a rule), one in triage, an API key, a customer
    and a held review with a photo."""
    ids = await make_staff()
    rule = await support_rule()
    support = await invite(client, api_headers, settings, external_id="S-1", email="s@example.com", support_agent="Kim")
    order = await invite(client, api_headers, settings, external_id="O-1", email="o@example.com")
    for invited, text in ((support, "slow answer"), (order, "late parcel")):
        response_id = await save_answers(invited.invitation_id, Answers(csat=2, comment=text), "en", SEND_AT)
        await ingest("survey", response_id, SEND_AT)
    items = {row["team"]: row["id"] for row in await InboxItem.select(InboxItem.id, InboxItem.team)}
    key_id, _ = await issue_api_key("matrix", None)
    support_team = next(team for team in items if team is not None)
    photo = "0" * 32 + ".png"
    settings.photo_folder.mkdir(parents=True, exist_ok=True)
    (settings.photo_folder / photo).write_bytes(photo_bytes("PNG"))
    held_review = await add_review(status="held", held_rule="email", text="mail me", photos=((photo, "image/png"),))
    return {
        "support_item": str(items[support_team]),
        "triage_item": str(items[None]),
        "member_user": str(ids["support"]),
        "api_key": str(key_id),
        "customer": "o@example.com",
        "held_review": str(held_review),
        "review_photo": photo,
        "rule": str(rule),
    }


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_each_staff_route_answers_each_principal_as_the_table_says(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, principal: str
) -> None:
    values = await world(client, api_headers, settings)
    client.cookies.clear()
    if principal in SIGN_IN_AS:
        assert await sign_in(client, SIGN_IN_AS[principal]) == 303
    token = await csrf_token(client)
    values["who"] = principal.replace(" ", "-")
    column = PRINCIPALS.index(principal)
    wrong = []
    for method, path, form, expected in ROUTES:
        url = path.format(**values)
        data = {name: value.format(**values) for name, value in form.items()}
        if method == "GET":
            response = await client.get(url, follow_redirects=False)
        else:
            response = await client.post(url, data={**data, "_csrf_token": token}, follow_redirects=False)
        if response.status_code != expected[column]:
            wrong.append(f"{method} {path}: expected {expected[column]}, got {response.status_code}")
    assert not wrong, f"{principal}:\n" + "\n".join(wrong)


def test_docs_show_the_same_table() -> None:
    assert DOCS.read_text() == markdown(), "run: python -m tests.unit.access_matrix > docs/access.md"
