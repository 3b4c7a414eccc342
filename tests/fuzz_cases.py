"""The fuzz tests themselves, collected by tests/unit/test_form_fuzz.py (SQLite) and
tests/integration/test_form_fuzz.py (PostgreSQL), which provide the `fuzzed` fixture."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from tests.form_fuzz import (
    FORMS,
    FUZZ,
    JSON_VALUES,
    RAW_EMAIL,
    SHOP_JSON,
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
    @given(body=SHOP_JSON | JSON_VALUES)
    def send(body: Any) -> None:
        answer = endpoint(client, settings, as_json(body))
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
