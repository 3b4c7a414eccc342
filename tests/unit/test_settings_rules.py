"""The rules of settings edited in the browser, and the brand colour's contrast: pure, no database."""

from __future__ import annotations

import dataclasses

import pytest

from afterglow import editable
from afterglow.brand import READABLE, brand_of, contrast, parse_colour, readable_shade, stylesheet
from afterglow.settings import Settings

WHITE = (255, 255, 255)


def test_valid_values_are_parsed_to_their_types() -> None:
    values, errors = editable.check(
        {
            "shop_name": " Kaffee & Co ",
            "base_url": "https://reviews.shop.example/",
            "shop_timezone": "Europe/Vienna",
            "brand_colour": "#FFCC00",
            "mail_from": "Kaffee & Co <hello@shop.example>",
            "reply_address": "",
            "category_delays": "Furniture=14, food = 1",
            "send_window_start": "8",
            "send_window_end": "20",
            "support_delay_hours": "0",
            "unknown": "ignored",
        }
    )
    assert errors == {}
    assert values == {
        "shop_name": "Kaffee & Co",
        "base_url": "https://reviews.shop.example",
        "shop_timezone": "Europe/Vienna",
        "brand_colour": "#ffcc00",
        "mail_from": "Kaffee & Co <hello@shop.example>",
        "reply_address": "",
        "category_delays": {"furniture": 14, "food": 1},
        "send_window_start": 8,
        "send_window_end": 20,
        "support_delay_hours": 0,
    }


def test_every_wrong_field_is_named_at_once() -> None:
    _, errors = editable.check(
        {
            "shop_name": "",
            "base_url": "ftp://shop.example",
            "shop_timezone": "Mars/Olympus",
            "brand_colour": "blue-ish",
            "mail_from": "nobody",
            "reply_address": "replies at shop",
            "default_delay_days": "-1",
            "category_delays": "furniture",
            "reminder_days": "four",
            "send_window_start": "24",
        }
    )
    assert set(errors) == {
        "shop_name",
        "base_url",
        "shop_timezone",
        "brand_colour",
        "mail_from",
        "reply_address",
        "default_delay_days",
        "category_delays",
        "reminder_days",
        "send_window_start",
    }
    assert errors["default_delay_days"] == "Enter a number from 0 to 365."


@pytest.mark.parametrize(("start", "end"), [("18", "9"), ("12", "12")])
def test_the_send_window_must_end_after_it_starts(start: str, end: str) -> None:
    _, errors = editable.check({"send_window_start": start, "send_window_end": end})
    assert errors == {"send_window_end": "The window must end after it starts."}


@pytest.mark.parametrize("url", ["javascript:alert(1)", "https://", "http://shop.example/?a=1", "shop.example"])
def test_the_public_url_is_http_or_https_with_a_host(url: str) -> None:
    assert "base_url" in editable.check({"base_url": url})[1]


def test_the_overlay_puts_stored_values_over_the_environment_and_skips_bad_ones() -> None:
    base = Settings(shop_name="Env Shop", send_window_start=9, send_window_end=18)
    stored = {"shop_name": "Browser Shop", "send_window_start": 14, "fatigue_days": "lots", "logo_file": "logo-x.png"}
    result = editable.overlay(base, stored)
    assert (result.shop_name, result.send_window_start, result.send_window_end) == ("Browser Shop", 14, 18)
    assert result.fatigue_days == base.fatigue_days and result.logo_file == "logo-x.png"
    # A stored window that no longer makes sense against the environment's other end keeps the environment's.
    broken = editable.overlay(base, {"send_window_start": 20})
    assert (broken.send_window_start, broken.send_window_end) == (9, 18)
    assert editable.overlay(base, {}) == base


def test_every_editable_field_is_a_setting() -> None:
    names = {f.name for f in dataclasses.fields(Settings)}
    assert set(editable.KEYS) <= names


# Contrast ---------------------------------------------------------------------------------------------------------


def test_contrast_matches_wcag() -> None:
    assert contrast((0, 0, 0), WHITE) == pytest.approx(21.0)
    assert contrast(WHITE, WHITE) == pytest.approx(1.0)
    assert contrast((0x77, 0x77, 0x77), WHITE) == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert contrast((0x76, 0x76, 0x76), WHITE) >= READABLE


def test_a_readable_colour_is_kept() -> None:
    blue = parse_colour("#2d5bd7")
    assert blue is not None and readable_shade(blue) == blue


@pytest.mark.parametrize("colour", ["#ffcc00", "#7fdbff", "#ff69b4", "#fff", "#01ff70"])
def test_a_light_colour_gets_a_darker_shade_of_the_same_hue(colour: str) -> None:
    import colorsys

    rgb = parse_colour(colour)
    assert rgb is not None
    shade = readable_shade(rgb)
    assert contrast(shade, WHITE) >= READABLE
    assert contrast(shade, WHITE) < READABLE + 0.2  # the lightest that passes, not black
    hue, light, _ = colorsys.rgb_to_hls(*(v / 255 for v in rgb))
    shade_hue, shade_light, _ = colorsys.rgb_to_hls(*(v / 255 for v in shade))
    assert shade_light < light
    if colour != "#fff":
        assert shade_hue == pytest.approx(hue, abs=0.02)


def test_the_brand_stylesheet_uses_the_readable_shade() -> None:
    brand = brand_of(Settings(brand_colour="#ffcc00", logo_file="logo-a.png"))
    assert brand.colour == "#ffcc00" and brand.accent != brand.colour
    assert f"--accent: {brand.accent}" in stylesheet(brand)
    assert brand.logo_url("https://r.shop.example") == "https://r.shop.example/brand/logo/logo-a.png"
    assert brand_of(Settings()).logo_path == ""


def test_review_hold_rules_are_the_policys_and_turning_one_off_publishes() -> None:
    from reviews.policy import RULES, held_rule

    assert tuple(editable.HOLD_RULES) == RULES
    values, errors = editable.check({"review_hold_rules": ",profanity,link"})
    assert errors == {} and values == {"review_hold_rules": ("profanity", "link")}
    assert editable.check({"review_hold_rules": ""})[0] == {"review_hold_rules": ()}
    assert "review_hold_rules" in editable.check({"review_hold_rules": "profanity,politics"})[1]
    assert held_rule("Great", "Call me on +49 170 1234567") == "phone"
    assert held_rule("Great", "Call me on +49 170 1234567", ("profanity", "link")) is None
    stored = editable.overlay(Settings(), {"review_hold_rules": ["link"]})
    assert stored.review_hold_rules == ("link",)


def test_the_rejection_email_carries_the_logo_and_the_readable_colour() -> None:
    from datetime import UTC, datetime

    from reviews.services.rejection_email import render_rejection

    settings = Settings(brand_colour="#ffcc00", logo_file="logo-a.png", base_url="https://r.shop.example")
    review = {
        "locale": "en",
        "invitation": 1,
        "invitation_token": "tok",
        "order_item": 3,
        "name": "Anna",
        "product_name": "Mug",
        "title": "",
        "reject_reason": "",
        "email": "anna@example.com",
    }
    html = render_rejection(review, datetime(2026, 3, 6, tzinfo=UTC), settings).html
    assert 'src="https://r.shop.example/brand/logo/logo-a.png"' in html
    assert f"background:{brand_of(settings).accent};" in html  # the "Change your review" button
