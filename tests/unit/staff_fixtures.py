"""Staff users and signed-in clients for the staff-page tests."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from accounts.services import add_member, create_staff, create_team

PASSWORD = "correct horse battery"


async def make_staff() -> dict[str, int]:
    """admin, manager, a support member and a logistics member."""
    await create_team("Support")
    await create_team("Logistics")
    ids = {
        "admin": await create_staff("ada", PASSWORD, email="ada@shop.example", role="admin"),
        "manager": await create_staff("max", PASSWORD, email="max@shop.example", role="manager"),
        "support": await create_staff("sue", PASSWORD, email="sue@shop.example", role="member"),
        "logistics": await create_staff("leo", PASSWORD, email="leo@shop.example", role="member"),
    }
    await add_member("support", ids["support"])
    await add_member("logistics", ids["logistics"])
    return ids


async def csrf_token(client: AsyncTestClient) -> str:
    page = await client.get("/login")
    match = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1)


async def sign_in(client: AsyncTestClient, username: str, password: str = PASSWORD) -> int:
    token = await csrf_token(client)
    response = await client.post(
        "/login", data={"username": username, "password": password, "_csrf_token": token}, follow_redirects=False
    )
    return response.status_code


async def support_rule() -> int:
    """The routing rule most shops start with: support CSAT goes to the Support team."""
    from datetime import UTC, datetime

    from accounts.services import team_id
    from feedback.policy import Rule
    from feedback.services.rules import create_rule

    return await create_rule(
        Rule(0, "Support contacts → Support", kind="support", teams=(await team_id("support"),)),
        None,
        datetime.now(UTC),
    )
