"""The rules of a topic list and of the shop's languages, as the browser's settings keep them: pure, no database."""

from __future__ import annotations

import dataclasses

import pytest

from afterglow import editable, i18n
from afterglow.settings import Settings
from afterglow.topic_list import TopicsInvalid, from_rows, parse_topics, plain
from feedback.analysis import topics


def test_a_topic_list_is_trimmed_and_lower_cased() -> None:
    parsed = parse_topics({"gifts": {"en": [" Gift Card ", "voucher"], "fr": ["bon"]}})
    assert parsed == {"gifts": {"en": ("gift card", "voucher"), "fr": ("bon",)}}
    assert plain(parsed) == {"gifts": {"en": ["gift card", "voucher"], "fr": ["bon"]}}


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        ({}, "expected an object of topics"),
        ({"": {"en": ["x"]}}, "1 to 64 characters"),
        ({"x" * 65: {"en": ["x"]}}, "1 to 64 characters"),
        ({"gifts": {}}, "needs an object of languages"),
        ({"gifts": {"en": ["ok", " "]}}, "needs a list of keywords"),
        ({"gifts": {"en": "voucher"}}, "needs a list of keywords"),
    ],
)
def test_a_wrong_topic_list_says_what_is_wrong(raw: object, says: str) -> None:
    with pytest.raises(TopicsInvalid, match=says):
        parse_topics(raw)


def test_the_pages_rows_drop_empty_names_and_languages() -> None:
    rows = [
        ("gifts", {"en": "gift card, voucher,", "de": ""}),
        ("", {"en": "ignored"}),
        ("delivery", {"en": "courier", "de": "kurier"}),
    ]
    assert from_rows(rows) == {
        "gifts": {"en": ("gift card", "voucher")},
        "delivery": {"en": ("courier",), "de": ("kurier",)},
    }
    with pytest.raises(TopicsInvalid, match="at least one keyword"):
        from_rows([("gifts", {"en": " , "})])
    with pytest.raises(TopicsInvalid, match="listed twice"):
        from_rows([("gifts", {"en": "a"}), ("gifts", {"en": "b"})])


def test_stored_topics_overlay_the_environment_and_a_bad_row_is_ignored() -> None:
    base = Settings()
    stored = {editable.TOPICS: {"gifts": {"en": ["voucher"]}}}
    assert editable.overlay(base, stored).topic_keywords == {"gifts": {"en": ("voucher",)}}
    assert editable.overlay(base, {editable.TOPICS: {"gifts": "voucher"}}).topic_keywords is None
    assert topics.configured_keywords(base) is topics.DEFAULT_TOPIC_KEYWORDS


def test_the_active_topics_decide_and_their_digest_changes() -> None:
    before = topics.active_digest()
    assert topics.topic_for("voucher", "en") is None
    try:
        assert topics.use_keywords({"gifts": {"en": ("voucher",)}}) != before
        assert topics.topic_for("voucher", "en") == "gifts"
        assert topics.topic_for("courier", "en") is None
    finally:
        topics.use_keywords(topics.TOPIC_KEYWORDS)
    assert topics.active_digest() == before and topics.topic_for("courier", "en") == "delivery"


def test_the_shops_languages_need_one_and_the_default_among_them() -> None:
    values, errors = editable.check({"shop_languages": "de, EN", "default_language": "de"})
    assert errors == {} and values == {"shop_languages": ("de", "en"), "default_language": "de"}
    assert editable.check({"shop_languages": ""})[1] == {"shop_languages": "Choose at least one language."}
    assert "Unknown language: fr" in editable.check({"shop_languages": "en,fr"})[1]["shop_languages"]
    assert "Choose one of" in editable.check({"default_language": "fr"})[1]["default_language"]
    wrong = editable.check({"shop_languages": "en", "default_language": "de"})[1]
    assert wrong == {"default_language": "The default language must be one of the shop's languages."}


def test_a_customer_outside_the_shops_languages_gets_its_default() -> None:
    shop = editable.overlay(Settings(), {"shop_languages": ["en", "de"], "default_language": "de"})
    assert i18n.customer_language("fr-FR", shop) == "de"
    assert i18n.customer_language("hu", shop) == "de"  # shipped, but not used by this shop
    assert i18n.customer_language("en-GB", shop) == "en"
    assert i18n.customer_language("fr", Settings()) == "en"
    # A stored default outside the stored languages never stands: the first language does.
    odd = editable.overlay(Settings(), {"shop_languages": ["de"]})
    assert odd.default_language == "de"
    assert dataclasses.replace(Settings(), shop_languages=("hu",)).shop_languages == ("hu",)
