"""Which shop topic a phrase is about. Edit TOPIC_KEYWORDS to configure; order decides ties."""

from __future__ import annotations

from collections.abc import Mapping

# topic → language → keywords. English keywords match a word, its plural, or (5+ letters) a word's start
# ("deliver" ↔ "delivered", but "app" ≠ "appreciate"); German ones match
# anywhere in a word, so compounds and participles find their stem ("liefer" ↔ "Lieferzeit", "geliefert").
# A keyword with a space matches that phrase.
TOPIC_KEYWORDS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "delivery": {
        "en": (
            "deliver",
            "shipping",
            "shipment",
            "shipped",
            "courier",
            "parcel",
            "package arrived",
            "arriv",
            "dispatch",
        ),
        "de": ("liefer", "versand", "versendet", "zustell", "paket", "kurier", "angekommen"),
    },
    "packaging": {
        "en": ("packag", "packing", "box", "wrapping", "bubble wrap"),
        "de": ("verpack", "karton", "schachtel"),
    },
    "product quality": {
        "en": ("quality", "battery", "screen", "material", "fabric", "build", "stitching", "durab", "product"),
        "de": ("qualität", "akku", "bildschirm", "display", "material", "stoff", "verarbeitung", "produkt", "artikel"),
    },
    "size/fit": {
        "en": ("size", "fit", "sizing", "too small", "too big", "too large", "length", "width"),
        "de": ("größe", "passform", "passt", "zu klein", "zu groß", "länge"),
    },
    "price": {
        "en": ("price", "cost", "value for money", "expensive", "cheap", "overpriced"),
        "de": ("preis", "kosten", "teuer", "günstig", "billig"),
    },
    "support": {
        "en": ("support", "customer service", "service", "staff", "agent", "hotline", "response time"),
        "de": ("kundenservice", "kundendienst", "service", "support", "hotline", "mitarbeiter", "beratung"),
    },
    "website/checkout": {
        "en": ("website", "site", "checkout", "payment", "app", "login", "cart", "order form"),
        "de": ("webseite", "website", "shop", "bezahl", "zahlung", "kasse", "warenkorb", "bestellvorgang"),
    },
    "returns/refunds": {
        "en": ("return", "refund", "exchange", "money back"),
        "de": ("rückgabe", "rücksend", "retour", "erstatt", "umtausch", "geld zurück"),
    },
}


def _english_match(word: str, keyword: str) -> bool:
    return word in (keyword, keyword + "s", keyword + "es") or (len(keyword) >= 5 and word.startswith(keyword))


def topic_for(
    phrase: str, language: str, keywords: Mapping[str, Mapping[str, tuple[str, ...]]] = TOPIC_KEYWORDS
) -> str | None:
    """The first topic with a keyword in the phrase, or None."""
    text = phrase.lower()
    words = text.split()
    for topic, by_language in keywords.items():
        for keyword in by_language.get(language, ()):
            if " " in keyword:
                if keyword in text:
                    return topic
            elif language == "en":
                if any(_english_match(w, keyword) for w in words):
                    return topic
            elif keyword in text:
                return topic
    return None
