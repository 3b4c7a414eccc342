"""CSRF on every staff write: each POST/PUT/PATCH/DELETE route of the app, except the public and machine routes that
are deliberately left out, refuses a signed-in admin's request without the token, also when a path parameter (a
team's slug) spells the start of an excluded route."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from accounts.services import create_team
from tests.unit.staff_fixtures import csrf_token, make_staff, sign_in

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
#: Routes that take no CSRF token: a signed link, an API key or HMAC, the framed widget, or the open suggestion box.
PUBLIC_PREFIXES = ("/api/", "/webhooks/", "/s/", "/u/", "/r/", "/widget/")
PUBLIC_PATHS = {"/feedback", "/feedback/embed"}
#: Team names whose slugs are the excluded prefixes.
TEAM_NAMES = ("API", "S", "U", "Widget", "Webhooks")
PARAM = re.compile(r"\{(\w+):(\w+)\}")


def unsafe_routes(app: Litestar) -> list[tuple[str, str]]:
    """(method, path template) of every state-changing route the app serves."""
    found = set()
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                found |= {(method, route.path) for method in handler.http_methods & UNSAFE}
    return sorted(found)


def is_public(path: str) -> bool:
    return path.startswith(PUBLIC_PREFIXES) or path in PUBLIC_PATHS


def urls(path: str) -> list[str]:
    """The path with its parameters filled: numbers with 1, words with each team slug."""
    numbered = PARAM.sub(lambda m: "1" if m.group(2) == "int" else "{slug}", path)
    if "{slug}" not in numbered:
        return [numbered]
    return [numbered.replace("{slug}", name.lower()) for name in TEAM_NAMES]


async def signed_in_admin(client: AsyncTestClient) -> None:
    await make_staff()
    for name in TEAM_NAMES:
        await create_team(name)
    assert await sign_in(client, "ada") == 303


async def test_every_staff_write_without_a_csrf_token_is_refused(client: AsyncTestClient) -> None:
    await signed_in_admin(client)
    staff_routes = [(method, path) for method, path in unsafe_routes(client.app) if not is_public(path)]
    assert ("POST", "/app/admin/notifications/teams/{team_slug:str}/secret") in staff_routes
    assert ("POST", "/logout") in staff_routes

    let_through = []
    for method, path in staff_routes:
        for url in urls(path):
            response = await client.request(method, url, data={"confirm": "yes"}, follow_redirects=False)
            if response.status_code != 403:
                let_through.append(f"{method} {url}: {response.status_code}")

    assert not let_through, "answered without a CSRF token:\n" + "\n".join(let_through)
    assert (await client.get("/app/inbox", follow_redirects=False)).status_code == 200  # still signed in


async def test_the_same_staff_write_with_the_token_passes(client: AsyncTestClient) -> None:
    await signed_in_admin(client)
    token = await csrf_token(client)

    for slug in ("api", "webhooks"):
        for action in ("secret", "test-email", "test-webhook"):
            url = f"/app/admin/notifications/teams/{slug}/{action}"
            response = await client.post(url, data={"_csrf_token": token}, follow_redirects=False)
            assert response.status_code == 303, url


async def test_public_and_machine_writes_need_no_csrf_token(client: AsyncTestClient) -> None:
    public = [(method, path) for method, path in unsafe_routes(client.app) if is_public(path)]
    assert {path for _, path in public} >= {"/api/v1/orders", "/webhooks/shopify", "/feedback", "/feedback/embed"}

    for method, path in public:
        for url in urls(path):
            response = await client.request(method, url, data={}, follow_redirects=False)
            assert response.status_code != 403, f"{method} {url}"
