"""Offline language guess from the text itself: function words and letters per language, each weighed by how
many of the languages below share it. The customer's locale is only a prior, used where the text is too short to
tell ("Super!", "Nicht gut."); a text clearly in another language is read in that language.

Languages without a lexicon are listed too, so that a French or Polish text is recognised as such (and labelled
from its score) rather than read with the English or German lexicon."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The most frequent short words of each language: articles, pronouns, prepositions, conjunctions, auxiliaries.
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _words(
        "the a an and or but is was are were it this that to of in on for with not no very my i you we they "
        "have has had be been after too so at from as me your our would will can could did does do what when "
        "where why how there their them just still its"
    ),
    "de": _words(
        "der die das und oder aber ist war sind waren es ein eine einen einem nicht kein keine sehr mein meine ich "
        "sie wir zu von mit auf für hat haben nach auch noch schon wie im dem den des bei wurde wird mir mich uns "
        "bin hatte leider habe nur dass wenn an"
    ),
    "fr": _words(
        "le la les et ou mais est était un une des pas très mon ma mes je vous nous il elle de du pour avec ce qui "
        "que au aux sur dans ne été"
    ),
    "es": _words(
        "el la los las y o pero es era un una no muy mi yo usted nosotros de del para con que por se lo al está fue "
        "como más este esta"
    ),
    "it": _words(
        "il lo la gli le e o ma è era un una non molto mio mia io di del della per con che da nel sono ho questo anche"
    ),
    "nl": _words(
        "de het een en of maar is was zijn niet geen erg mijn ik je wij we van voor met op te dat die dit heeft "
        "hebben ook nog al naar bij"
    ),
    "hu": _words("a az és de nem is egy hogy volt van nagyon meg már csak ez azt nekem mert jó után sem még"),
    "pl": _words("i w na z nie jest to że się do jak ale za co mi od po tak bardzo jestem był była było przez dla"),
    "pt": _words("o a os as e ou mas é era um uma não muito meu minha eu de do da para com que por em no na foi"),
    "sv": _words("och att det som en ett är var inte jag du vi på för med till av om den har mycket men"),
}
# Letters that only some of the languages above use; each occurrence counts like a function word.
MARKER_LETTERS: dict[str, str] = {
    "de": "äöüß",
    "hu": "öüőű",
    "fr": "çœèêàù",
    "es": "ñ¿¡",
    "it": "èàìò",
    "pl": "ąćęłńśźż",
    "pt": "ãõçà",
    "sv": "åäö",
}
# The text is clear when its best language has at least CLEAR_HITS distinct words or letters of its own, adding up
# to CLEAR_WEIGHT, and CLEAR_RATIO times the weight of the runner-up. A single "the" in a German sentence naming
# an English brand is not enough; "The product is great." is.
CLEAR_HITS = 2
CLEAR_WEIGHT = 1.0
CLEAR_RATIO = 2.0

_WORD = re.compile(r"[^\W\d_]+")


def _shared_weights(table: dict[str, frozenset[str]]) -> dict[str, dict[str, float]]:
    """item → language → weight (1 / how many languages list the item)."""
    shared = Counter(item for items in table.values() for item in items)
    weights: dict[str, dict[str, float]] = {}
    for lang, items in table.items():
        for item in items:
            weights.setdefault(item, {})[lang] = 1.0 / shared[item]
    return weights


@cache
def _weights() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Weights of function words, and of marker letters."""
    return _shared_weights(STOP_WORDS), _shared_weights({k: frozenset(v) for k, v in MARKER_LETTERS.items()})


def normalise_language(hint: str) -> str:
    """`de-AT` / `de_AT` → `de`."""
    return hint.replace("_", "-").split("-")[0].strip().lower()


def guess_language(text: str) -> tuple[str, bool]:
    """The likeliest language ("" when no evidence at all) and whether the text is clear enough to overrule a
    customer's locale."""
    word_weights, letter_weights = _weights()
    lowered = text.lower()
    evidence = [(w, word_weights[w]) for w in _WORD.findall(lowered) if w in word_weights]
    evidence += [(ch, letter_weights[ch]) for ch in lowered if ch in letter_weights]
    scores: Counter[str] = Counter()
    hits: dict[str, set[str]] = {}
    for item, by_language in evidence:
        for lang, weight in by_language.items():
            scores[lang] += weight
            hits.setdefault(lang, set()).add(item)
    if not scores:
        return "", False
    order = list(STOP_WORDS)  # ties: table order
    best = max(scores, key=lambda lang: (scores[lang], -order.index(lang)))
    runner_up = max((s for lang, s in scores.items() if lang != best), default=0.0)
    clear = len(hits[best]) >= CLEAR_HITS and scores[best] >= CLEAR_WEIGHT and scores[best] >= CLEAR_RATIO * runner_up
    return best, clear


def detect_language(text: str) -> str:
    """The language whose function words and letters weigh most, or "" when none occurs."""
    return guess_language(text)[0]


def choose_language(text: str, hint: str | None) -> str:
    """The text's own language where it is clear; otherwise the hint (the customer's locale); otherwise the best
    guess, which may be "" (then the caller may look for opinion words of a lexicon)."""
    guessed, clear = guess_language(text)
    if clear:
        return guessed
    if hint and normalise_language(hint):
        return normalise_language(hint)
    return guessed
