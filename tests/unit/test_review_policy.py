"""Content rules that hold a review for a moderator; the rating never does."""

from __future__ import annotations

import pytest

from reviews.policy import display_name, held_rule


@pytest.mark.parametrize(
    ("title", "text", "rule"),
    [
        ("", "This is shit, do not buy", "profanity"),
        ("Fucking great", "", "profanity"),
        ("", "Absolute Scheiße, nach einem Tag kaputt", "profanity"),
        ("", "Ez egy kurva rossz termék", "profanity"),
        ("", "Write to me at anna.schmidt+shop@example.com for details", "email"),
        ("", "Cheaper at https://competitor.example/deal", "link"),
        ("", "See www.example.org for the manual", "link"),
        ("", "Half the price at bargains.de", "link"),
        ("", "Call me on +49 30 1234 5678 if you need more", "phone"),
        ("", "Hívjon: 06 30 123 4567", "phone"),
        ("", "THIS IS THE WORST KETTLE I HAVE EVER OWNED", "all_caps"),
        ("DO NOT BUY THIS, IT LEAKS EVERYWHERE", "Really.", "all_caps"),
    ],
)
def test_each_content_rule_holds_the_review(title: str, text: str, rule: str) -> None:
    assert held_rule(title, text) == rule


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Terrible", "Broke after one day. Worst purchase this year, one star."),
        ("Crap", "Honestly crap, the lid does not close."),
        ("", "Great shiitake mushrooms, fresh and firm"),
        ("", "Order 1001 arrived on 2026-03-02; 120 x 80 cm, 49.99 EUR, 2 of 3 parts."),
        ("GREAT", "Works with my USB-C MacBook and the NAS, 10/10."),
        ("", "Bought it for my dad. He loves it!!! Best gift ever."),
        ("", ""),
    ],
)
def test_honest_reviews_publish_whatever_they_say(title: str, text: str) -> None:
    assert held_rule(title, text) is None


def test_rules_are_checked_in_order_and_the_first_is_recorded() -> None:
    assert held_rule("", "SHIT, EMAIL ME AT ANNA@EXAMPLE.COM RIGHT NOW") == "profanity"


@pytest.mark.parametrize(
    ("full", "shown"),
    [("Anna Schmidt", "Anna S."), ("Anna Maria von Schmidt", "Anna S."), ("Cher", "Cher"), ("", ""), ("  ", "")],
)
def test_reviewers_are_shown_by_first_name_and_initial(full: str, shown: str) -> None:
    assert display_name(full) == shown
