"""The complaint register: events and states that are complaints without opinion words, each with its topic, and
questions that demand action; negated, they are no complaint. Through the real `analyse`, without a score."""

from __future__ import annotations

import pytest

from feedback.analysis import analyse

ENGLISH = [
    ("The parcel came three days late.", "delivery"),
    ("My order was delayed twice.", "delivery"),
    ("Still waiting for the second half of the order.", "delivery"),
    ("The package never arrived.", "delivery"),
    ("It hasn't arrived yet.", "delivery"),
    ("One of the mugs was missing from the order.", "delivery"),
    ("Two screws were missing, so I could not finish the shelf.", "product quality"),
    ("You sent me the wrong item.", "delivery"),
    ("I got the wrong size.", "size/fit"),
    ("Broke after two weeks of daily use.", "product quality"),
    ("It stopped working after a month.", "product quality"),
    ("The kettle doesn't work.", "product quality"),
    ("The lamp arrived quickly but the box was dented.", "packaging"),
    ("The parcel was damaged in transit.", "packaging"),
    ("The lamp arrived with a cracked shade.", "packaging"),
    ("You cancelled my booking and I lost my place in the queue.", "support"),
    ("They refused my return.", "returns/refunds"),
    ("I spent over an hour of my morning on hold.", "support"),
    ("I emailed three times and got no answer.", "support"),
    ("Nobody ever replied to my email.", "support"),
    ("I have not received my refund.", "returns/refunds"),
    ("Still no refund after six weeks.", "returns/refunds"),
    ("They charged me twice for one order.", "website/checkout"),
    ("Where is my order?", "delivery"),
    ("When should I expect a response", "support"),
    ("Why hasn't my refund been processed?", "returns/refunds"),
]

GERMAN = [
    ("Die Lieferung kam zu spät.", "delivery"),
    ("Meine Bestellung ist verspätet.", "delivery"),
    ("Ich warte immer noch auf das Paket.", "delivery"),
    ("Das Paket ist nie angekommen.", "delivery"),
    ("In der Sendung fehlt eine Tasse.", "delivery"),
    ("Leider fehlen zwei Schrauben.", "product quality"),
    ("Ich habe den falschen Artikel bekommen.", "delivery"),
    ("Das ist die falsche Größe.", "size/fit"),
    ("Nach zwei Wochen kaputt.", "product quality"),
    ("Der Wasserkocher funktioniert nicht mehr.", "product quality"),
    ("Der Karton war verbeult.", "packaging"),
    ("Die Verpackung war beschädigt.", "packaging"),
    ("Meine Bestellung wurde ohne Rückfrage storniert.", "support"),
    ("Meine Rücksendung wurde abgelehnt.", "returns/refunds"),
    ("Ich hing eine Stunde in der Warteschleife.", "support"),
    ("Auf meine Mail kam keine Antwort.", "support"),
    ("Die Rückerstattung habe ich nicht erhalten.", "returns/refunds"),
    ("Ich warte immer noch auf mein Geld.", "returns/refunds"),
    ("Der Betrag wurde doppelt abgebucht.", "website/checkout"),
    ("Wo bleibt meine Bestellung?", "delivery"),
    ("Wann bekomme ich mein Geld zurück?", "returns/refunds"),
]


@pytest.mark.parametrize(("text", "topic"), ENGLISH)
def test_an_english_complaint_without_opinion_words_is_negative_with_its_topic(text: str, topic: str) -> None:
    result = analyse(text)
    assert (result.language, result.label) == ("en", "negative"), result
    assert topic in result.topics, result.topics


@pytest.mark.parametrize(("text", "topic"), GERMAN)
def test_a_german_complaint_without_opinion_words_is_negative_with_its_topic(text: str, topic: str) -> None:
    result = analyse(text, language="de")
    assert (result.language, result.label) == ("de", "negative"), result
    assert topic in result.topics, result.topics


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Nothing was missing and the box was not damaged.", "en"),
        ("The parcel wasn't late at all.", "en"),
        ("It arrived without any delay.", "en"),
        ("Es fehlt nichts, der Karton war nicht beschädigt.", "de"),
        ("Die Lieferung war nicht verspätet.", "de"),
    ],
)
def test_a_negated_complaint_is_no_complaint(text: str, language: str) -> None:
    assert analyse(text, language=language).label != "negative"


@pytest.mark.parametrize(
    "text",
    [
        "How long does the battery last?",  # a question that asks nothing of the shop
        "When I opened the box it was lovely.",  # "when" opening a clause, not a question
    ],
)
def test_a_question_word_alone_is_no_demand(text: str) -> None:
    assert analyse(text).label != "negative"


def test_a_german_subordinate_clause_with_a_question_word_is_no_demand() -> None:
    assert analyse("Ich weiß noch nicht, wann mein Paket kommt, aber alles super.", language="de").label == "positive"
