"""Per-language sentence splitting, tagging and sentiment, built from lexicon files only (no NLTK data).

English uses TextBlob's pattern parser and its `en-sentiment.xml`; German loads textblob-de's
`de-sentiment.xml` with TextBlob's own `Sentiment` class (textblob-de's modules do not import with TextBlob 0.20).
Both are private instances, so the small review vocabulary added here never changes what `TextBlob(text).sentiment`
says elsewhere (feedback.services).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from textblob import en as textblob_en
from textblob._text import find_tokens

# Words shoppers use about broken goods that TextBlob's lexicon lacks: (polarity, subjectivity).
REVIEW_WORDS: dict[str, dict[str, tuple[float, float]]] = {
    "en": {
        "broke": (-0.6, 0.6),
        "damaged": (-0.6, 0.6),
        "faulty": (-0.7, 0.7),
        "defective": (-0.7, 0.7),
        "overpriced": (-0.6, 0.7),
        "scratched": (-0.4, 0.5),
        "leaked": (-0.5, 0.5),
        "leaking": (-0.5, 0.5),
    },
    "de": {
        "kaputt": (-0.8, 0.7),
        "beschädigt": (-0.7, 0.6),
        "defekt": (-0.8, 0.7),
        "spät": (-0.4, 0.5),
        "verspätet": (-0.5, 0.5),
        "schnell": (0.4, 0.5),
        "zufrieden": (0.7, 0.8),
        "unzufrieden": (-0.7, 0.8),
    },
}
# Everyday shop words the German lexicon scores although they state no opinion ("Qualität" +0.7, "bezahlen" -1.0).
NEUTRAL_WORDS = {
    "en": frozenset[str](),
    "de": frozenset({"qualität", "Qualität", "bezahlen", "ausgeliefert", "verpacken", "steuern", "billigen"}),
}
NEGATIONS = {
    "en": ("no", "not", "n't", "never"),
    "de": ("nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals"),
}
# Words after which a clause weighs more: the customer's last word on the matter ("great, but …").
CONTRAST_MARKERS = {
    "en": frozenset({"but", "however", "though", "although", "yet", "after", "until", "unfortunately"}),
    "de": frozenset({"aber", "jedoch", "doch", "allerdings", "nachdem", "leider", "trotzdem"}),
}
CLAUSE_PUNCTUATION = frozenset({",", ";", ":", "-", "–"})
LANGUAGES_WITH_LEXICON = ("en", "de")
# German determiners and pronouns are capitalised at a sentence start but are no nouns.
GERMAN_NON_NOUNS = frozenset(
    str.split(
        "der die das den dem des ein eine einen einem einer ich sie er es wir ihr man mein meine dieser diese dieses "
        "leider aber und auch sehr nicht kein keine alles nichts"
    )
)


@dataclass(frozen=True)
class Token:
    word: str
    tag: str  # Penn tag; German guesses only "NN" (capitalised) or "X"
    chunk: str  # "B-NP", "I-NP", … for English; "" for German


@dataclass(frozen=True)
class Scored:
    polarity: float
    subjectivity: float
    opinion_words: int  # 0 means "no opinion found", which is not neutral


@cache
def _sentiment(language: str) -> textblob_en.Sentiment:
    if language == "en":
        path = Path(textblob_en.__file__).parent / "en-sentiment.xml"
        lexicon = textblob_en.Sentiment(
            path=str(path),
            synset="wordnet_id",
            negations=NEGATIONS["en"],
            modifiers=("RB",),
            modifier=lambda w: w.endswith("ly"),
            tokenizer=textblob_en.parser.find_tokens,
            language="en",
        )
        lexicon.load()
    else:
        lexicon = textblob_en.Sentiment(
            path=str(german_lexicon_path()),
            negations=NEGATIONS["de"],
            modifiers=("RB",),
            modifier=lambda w: False,
            tokenizer=find_tokens,
            language="de",
        )
        # Not lexicon.load(): textblob.en's subclass would add English "-ly" adverbs.
        type(lexicon).__mro__[1].load(lexicon)
        _lowercase_german_forms(lexicon)
    for word in NEUTRAL_WORDS[language]:
        dict.pop(lexicon, word, None)
    for word, (polarity, subjectivity) in REVIEW_WORDS[language].items():
        lexicon.annotate(word, "JJ", polarity, subjectivity)
    return lexicon


def german_lexicon_path() -> Path:
    """textblob-de's `data/de-sentiment.xml`, found without importing textblob_de (it fails to import)."""
    spec = find_spec("textblob_de")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("textblob-de is not installed; it ships the German sentiment lexicon")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "de-sentiment.xml"


def _lowercase_german_forms(lexicon: textblob_en.Sentiment) -> None:
    # Sentiment lowercases the text it scores, but German nouns are capitalised in the lexicon. The lexicon
    # has no subjectivity (all 0.0): |polarity| stands in for it, since its words are all opinion words.
    for word, senses in list(dict.items(lexicon)):
        scored = {pos: (p, abs(p), i) for pos, (p, _s, i) in senses.items()}
        dict.__setitem__(lexicon, word, scored)
        if word.lower() not in lexicon:
            dict.__setitem__(lexicon, word.lower(), scored)


def score(language: str, text: str) -> Scored:
    """Polarity and subjectivity of one sentence or clause, with how many opinion words were found."""
    result = _sentiment(language)(text)
    polarity, subjectivity = result
    return Scored(float(polarity), float(subjectivity), len(result.assessments))


def lexicon_language(text: str) -> str:
    """For texts too short for function words ("Great product!"): the first lexicon with an opinion word in it."""
    return next((lang for lang in LANGUAGES_WITH_LEXICON if text and score(lang, text).opinion_words), "")


def split_sentences(language: str, text: str) -> list[str]:
    """Sentences with punctuation split off as tokens (pattern's rule-based splitter, no punkt)."""
    return [s for s in find_tokens(text) if s.strip()]


def tag(language: str, sentence: str) -> list[Token]:
    """POS tags and chunks for English (pattern lexicons); a capital-letter noun guess for German."""
    if language == "en":
        tagged = textblob_en.parser.parse(sentence, tokenize=False, tags=True, chunks=True)
        return [Token(*part.split("/")[:3]) for part in str(tagged).split()]
    return [
        Token(w, "NN" if w[:1].isupper() and w.isalpha() and w.lower() not in GERMAN_NON_NOUNS else "X", "")
        for w in sentence.split()
    ]


def clauses(language: str, sentence: str) -> list[tuple[str, bool]]:
    """The sentence cut at commas and contrast words; True marks a clause opened by a contrast word."""
    result: list[tuple[str, bool]] = []
    words: list[str] = []
    contrast = False
    for word in sentence.split():
        starts_contrast = word.lower() in CONTRAST_MARKERS[language]
        if word in CLAUSE_PUNCTUATION or starts_contrast:
            if words:
                result.append((" ".join(words), contrast))
            words, contrast = ([word], True) if starts_contrast else ([], False)
            continue
        words.append(word)
    if words:
        result.append((" ".join(words), contrast))
    return result
