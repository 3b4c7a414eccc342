"""Offline language guess: count frequent function words per language; a caller's hint always wins."""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the a an and or but is was are were it this that to of in on for with not no very my i you we they "
        "have has had be been after too so at from as"
    ),
    "de": _words(
        "der die das und oder aber ist war sind waren es ein eine einen nicht kein keine sehr mein ich sie wir "
        "zu von mit auf für hat haben nach auch noch schon wie im dem den des bei"
    ),
    "hu": _words("a az és de nem is egy hogy volt van nagyon meg már csak ez azt nekem mert jó után sem még"),
    "fr": _words("le la les et ou mais est était un une des pas très mon je vous nous il elle de du pour avec ce qui"),
    "es": _words("el la los las y o pero es era un una no muy mi yo usted nosotros de del para con que por se lo"),
}
# Letters only one of the languages we guess uses; each counts like a stop word.
MARKER_LETTERS: dict[str, str] = {"de": "äöüß", "hu": "őű", "es": "ñ¿¡", "fr": "çœ"}

_WORD = re.compile(r"[^\W\d_]+")


def normalise_language(hint: str) -> str:
    """`de-AT` / `de_AT` → `de`."""
    return hint.replace("_", "-").split("-")[0].strip().lower()


def detect_language(text: str) -> str:
    """The language whose function words occur most often, or "" when none occurs (ties: table order)."""
    words = [w.lower() for w in _WORD.findall(text)]
    scores = {lang: sum(1 for w in words if w in stops) for lang, stops in STOP_WORDS.items()}
    for lang, letters in MARKER_LETTERS.items():
        scores[lang] += sum(text.lower().count(letter) for letter in letters)
    best = max(scores, key=lambda lang: scores[lang])
    return best if scores[best] > 0 else ""
