"""The fuzz tests themselves, collected by tests/unit/test_form_fuzz.py (SQLite) and
tests/integration/test_form_fuzz.py (PostgreSQL), which provide the `fuzzed` fixture."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.form_fuzz import (
    FORMS,
    FUZZ,
    JSON_VALUES,
    RAW_EMAIL,
    SHOP_JSON,
    UNREADABLE_JSON,
    Form,
    as_json,
    inbound_post,
    nothing_broken,
    post_form,
    shopify_post,
    signed_in,
    woocommerce_post,
)


@pytest.mark.parametrize("form", FORMS, ids=[form.name for form in FORMS])
def test_no_form_input_breaks_the_page_or_what_is_stored(fuzzed: Any, form: Form) -> None:
    client, world, _ = fuzzed
    csrf = signed_in(client) if form.staff else ""

    @FUZZ
    @given(values=form.values)
    def send(values: dict[str, str]) -> None:
        answer = post_form(client, form, world, values, csrf)
        assert answer.status_code < 500, f"{form.name} {values!r}: {answer.status_code} {answer.text[:500]}"
        nothing_broken()

    send()


@pytest.mark.parametrize("endpoint", [shopify_post, woocommerce_post], ids=["shopify", "woocommerce"])
def test_no_signed_webhook_body_breaks_the_endpoint_or_what_is_stored(fuzzed: Any, endpoint: Any) -> None:
    client, _, settings = fuzzed

    @FUZZ
    @given(body=SHOP_JSON | JSON_VALUES | UNREADABLE_JSON)
    def send(body: Any) -> None:
        answer = endpoint(client, settings, body if isinstance(body, bytes) else as_json(body))
        assert answer.status_code < 500, f"{body!r}: {answer.status_code} {answer.text[:500]}"
        nothing_broken()

    send()


def test_no_inbound_email_breaks_the_endpoint_or_what_is_stored(fuzzed: Any) -> None:
    client, _, settings = fuzzed

    @FUZZ
    @given(raw=RAW_EMAIL)
    def send(raw: bytes) -> None:
        answer = inbound_post(client, settings, raw)
        assert answer.status_code < 500, f"{raw[:200]!r}: {answer.status_code} {answer.text[:500]}"
        nothing_broken()

    send()


#: Ids no row has: zero, negative, just past the database integer, and far past any integer type.
OUT_OF_RANGE_IDS = st.one_of(
    st.sampled_from([0, -1, 2**31, 2**63, 10**40]),
    st.integers(-(10**50), 0),
    st.integers(2**31, 10**50),
)


def id_routes(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every route with an integer in its path, found in the app so a new one is fuzzed too."""
    found = []
    for route in app.routes:
        params = getattr(route, "path_parameters", {})
        if any(param.type is int for param in params.values()):
            found += [(method, route.path) for method in sorted(route.methods) if method in {"GET", "POST"}]
    return found


def test_no_id_in_a_path_breaks_the_page(fuzzed: Any) -> None:
    """Every route that takes a row id answers 404 for one that no row can have, signed in or not."""
    client, world, _ = fuzzed
    csrf = signed_in(client)
    routes = id_routes(client.app)
    assert len(routes) > 20, routes

    @FUZZ
    @given(route=st.sampled_from(routes), row_id=OUT_OF_RANGE_IDS)
    def send(route: tuple[str, str], row_id: int) -> None:
        method, template = route
        path = re.sub(r"{(\w+):int}", str(row_id), template).replace("{signed:str}", world.survey.removeprefix("/s/"))
        path = re.sub(r"{\w+:str}", "x", path)
        answer = client.request(method, path, data={"_csrf_token": csrf} if method == "POST" else None)
        assert answer.status_code == 404, f"{method} {path}: {answer.status_code} {answer.text[:300]}"

    send()
