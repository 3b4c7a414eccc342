"""Per-language sentence splitting, tagging and sentiment, built from lexicon files only (no NLTK data).

English uses TextBlob's pattern parser and its `en-sentiment.xml`; German loads textblob-de's
`de-sentiment.xml` with TextBlob's own `Sentiment` class (textblob-de's modules do not import with TextBlob 0.20).
Both are private instances, loaded once per process, so the shop vocabulary added here (feedback.analysis.vocabulary)
never changes what `TextBlob(text).sentiment` says elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from textblob import en as textblob_en
from textblob._text import find_tokens

from feedback.analysis.vocabulary import (
    CLAUSE_PUNCTUATION,
    CONTRAST_MARKERS,
    EXCESS,
    EXCESS_WORDS,
    GERMAN_ADJECTIVE_ENDINGS,
    GERMAN_PLURAL_ENDINGS,
    NEGATIONS,
    NEUTRAL_WORDS,
    SHOP_PHRASES,
    SHOP_WORDS,
)

LANGUAGES_WITH_LEXICON = ("en", "de")
# German determiners and pronouns are capitalised at a sentence start but are no nouns.
GERMAN_NON_NOUNS = frozenset(
    str.split(
        "der die das den dem des ein eine einen einem einer ich sie er es wir ihr man mein meine dieser diese dieses "
        "leider aber und auch sehr nicht kein keine alles nichts"
    )
)
# A German compound noun takes the opinion of its last part ("Kaufempfehlung", "Lieferchaos") if that part is a
# noun of the lexicon at least this long.
COMPOUND_TAIL = 5
# TextBlob's tokeniser spaces every apostrophe off ("doesn't" → "does n ' t"), which hides the negation: an
# apostrophe between letters is kept inside the word while tokenising, and contractions split the Penn way after.
_INNER_APOSTROPHE = re.compile(r"(?<=[^\W\d_])['’](?=[^\W\d_])")
_KEPT = "\u02bc"  # modifier letter apostrophe: a letter to the tokeniser
_CONTRACTION = re.compile(rf"^(\w+?)(n{_KEPT}t|{_KEPT}(?:s|ll|re|ve|d|m))$", re.IGNORECASE)
EXCESS_TOKEN = "<excess>"
# How many words after a negation it may reach for its opinion word.
NEGATION_REACH = 4
# How far back a German clause-final negation looks for its verb, and what it never looks across.
BACKWARD_REACH = 3
CONJUNCTIONS = frozenset({"und", "oder", "sowie"})
# What "too" / "zu" is joined with: a word the lexicon scores weaker than this ("long" -0.05) is absorbed.
STRONG = 0.3
# "too" / "zu" before a word scored at least this is praise that stays praise ("too good to be true"); before
# anything milder it is a complaint, descriptive words included ("too high", "too many", "zu hoch").
PRAISE = 0.6


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
    """The language's lexicon with the shop vocabulary, loaded once per process."""
    if language == "en":
        path = Path(textblob_en.__file__).parent / "en-sentiment.xml"
        lexicon = textblob_en.Sentiment(
            path=str(path),
            synset="wordnet_id",
            negations=tuple(NEGATIONS["en"]),
            modifiers=("RB",),
            modifier=lambda w: w.endswith("ly"),
            tokenizer=textblob_en.parser.find_tokens,
            language="en",
        )
        lexicon.load()
    else:
        lexicon = textblob_en.Sentiment(
            path=str(german_lexicon_path()),
            negations=tuple(NEGATIONS["de"]),
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
    for word, (polarity, subjectivity) in SHOP_WORDS[language].items():
        lexicon.annotate(word, "JJ", polarity, subjectivity)
    for phrase, (polarity, subjectivity) in SHOP_PHRASES[language].items():
        lexicon.annotate("_".join(phrase), "JJ", polarity, subjectivity)
    lexicon.annotate(EXCESS_TOKEN, "JJ", *EXCESS)
    if language == "de":
        _derive_german_forms(lexicon)
    return lexicon


@cache
def _german_nouns() -> frozenset[str]:
    """Lower-case nouns of the German lexicon that carry an opinion: the tails compound nouns are read by."""
    lexicon = _sentiment("de")
    return frozenset(w for w, senses in dict.items(lexicon) if "NN" in senses and senses["NN"][0] != 0.0)


def german_lexicon_path() -> Path:
    """textblob-de's `data/de-sentiment.xml`, found without importing textblob_de (it fails to import)."""
    spec = find_spec("textblob_de")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("textblob-de is not installed; it ships the German sentiment lexicon")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / "de-sentiment.xml"


def _lowercase_german_forms(lexicon: textblob_en.Sentiment) -> None:
    # Sentiment lowercases the text it scores, but German nouns are capitalised in the lexicon. The lexicon
    # has no subjectivity (all 0.0): |polarity| stands in for it, since its words are all opinion words. A word
    # scored 0.0 ("gar", "klein") carries nothing and would only dilute the mean: it is dropped.
    for word, senses in list(dict.items(lexicon)):
        if all(p == 0.0 for p, _s, _i in senses.values()):
            dict.__delitem__(lexicon, word)
            continue
        scored = {pos: (p, abs(p), i) for pos, (p, _s, i) in senses.items()}
        dict.__setitem__(lexicon, word, scored)
        if word.lower() not in lexicon:
            dict.__setitem__(lexicon, word.lower(), scored)


def _derive_german_forms(lexicon: textblob_en.Sentiment) -> None:
    # The lexicon lists base forms, but German inflects adjectives before a noun ("tolles Display", "mieser
    # Service", "schlechtester Einkauf") and nouns in the plural ("keine Probleme"): each derived form gets the base
    # form's scores unless it is a word of its own already.
    for word, senses in list(dict.items(lexicon)):
        if not word.isalpha() or not word.islower():
            continue
        forms: list[str] = []
        if "JJ" in senses:
            stem = word[:-1] if word.endswith("e") else word
            superlative = stem + ("est" if stem.endswith(("t", "d", "s", "ß", "z")) else "st")
            forms = [stem + ending for ending in GERMAN_ADJECTIVE_ENDINGS]
            forms += [superlative + ending for ending in GERMAN_ADJECTIVE_ENDINGS]
        elif "NN" in senses and senses["NN"][0] != 0.0:
            forms = [word + ending for ending in GERMAN_PLURAL_ENDINGS]
        for form in forms:
            if form != word and form not in lexicon:
                dict.__setitem__(lexicon, form, senses)


def words(language: str, text: str) -> list[str]:
    """Lower-case tokens of tokenised text, ready for the lexicon: shop phrases joined into one token, "too"/"zu"
    with what follows into one complaint, and German's clause-final negation moved before the word it turns."""
    lexicon = _sentiment(language)
    if language == "de":
        tokens = [_german_compound(t, lexicon) if t[:1].isupper() else t.lower() for t in text.split()]
    else:
        tokens = [t.lower() for t in text.split()]
    tokens = _join_phrases(tokens, SHOP_PHRASES[language])
    tokens = _join_excess(tokens, language, lexicon)
    if language == "de":
        tokens = _negate_backwards(tokens, lexicon)
    return _negate_forwards(tokens, language, lexicon)


def _german_compound(noun: str, lexicon: textblob_en.Sentiment) -> str:
    token = noun.lower()
    if token in lexicon or len(token) < COMPOUND_TAIL + 3 or not token.isalpha():
        return token
    nouns = _german_nouns()
    for start in range(1, len(token) - COMPOUND_TAIL + 1):
        if token[start:] in nouns:
            return token[start:]
    return token


def _join_phrases(tokens: list[str], phrases: dict[tuple[str, ...], tuple[float, float]]) -> list[str]:
    if not phrases:
        return tokens
    longest = max(len(p) for p in phrases)
    joined: list[str] = []
    i = 0
    while i < len(tokens):
        for size in range(min(longest, len(tokens) - i), 1, -1):
            if tuple(tokens[i : i + size]) in phrases:
                joined.append("_".join(tokens[i : i + size]))
                i += size
                break
        else:
            joined.append(tokens[i])
            i += 1
    return joined


def _join_excess(tokens: list[str], language: str, lexicon: textblob_en.Sentiment) -> list[str]:
    excess = EXCESS_WORDS[language]
    joined: list[str] = []
    skip = False
    for i, token in enumerate(tokens):
        if skip:
            skip = False
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else ""
        polarity = lexicon[following][None][0] if following in lexicon else 0.0
        if token == excess and following.isalpha() and polarity < PRAISE and following not in NEGATIONS[language]:
            joined.append(EXCESS_TOKEN)
            skip = polarity > -STRONG  # a strong opinion word of its own ("too expensive") is still scored
            continue
        joined.append(token)
    return joined


def _negate_forwards(tokens: list[str], language: str, lexicon: textblob_en.Sentiment) -> list[str]:
    # Pattern turns only the word right after a negation; a negation reaches the first opinion word a few words on
    # in its clause ("never had a problem", "can't find anything to complain about").
    tokens = list(tokens)
    for i in range(len(tokens) - 1):
        if tokens[i] not in NEGATIONS[language] or tokens[i + 1] in lexicon:
            continue
        ahead = _clause_of(tokens, i + 1, 1)[:NEGATION_REACH]
        reached = next((i + 1 + k for k, t in enumerate(ahead) if t in lexicon or t in NEGATIONS[language]), None)
        if reached is not None and tokens[reached] not in NEGATIONS[language]:
            tokens.insert(reached - 1, tokens.pop(i))
    return tokens


def _negate_backwards(tokens: list[str], lexicon: textblob_en.Sentiment) -> list[str]:
    tokens = list(tokens)
    for i in range(len(tokens)):
        if tokens[i] not in NEGATIONS["de"] or any(t in lexicon for t in _clause_of(tokens, i + 1, 1)):
            continue  # not a negation, or one with an opinion word after it: negated the usual way
        # The verb just before ("gefällt mir nicht"), within the clause and not across "und"; "leider" is the
        # speaker's regret, not what is negated ("funktioniert leider nicht").
        for j in range(i - 1, max(i - 1 - BACKWARD_REACH, -1), -1):
            if tokens[j] in CLAUSE_PUNCTUATION or tokens[j] in CONJUNCTIONS or tokens[j] in ".!?":
                break
            if tokens[j] in lexicon and tokens[j] not in CONTRAST_MARKERS["de"]:
                if j == 0 or tokens[j - 1] not in NEGATIONS["de"]:
                    tokens.insert(j, tokens.pop(i))
                break
    return tokens


def _clause_of(tokens: list[str], start: int, step: int) -> list[str]:
    """The tokens from `start` in the direction of `step` up to the clause's end."""
    found = []
    i = start
    while 0 <= i < len(tokens) and tokens[i] not in CLAUSE_PUNCTUATION and tokens[i] not in ".!?":
        found.append(tokens[i])
        i += step
    return found


def score(language: str, text: str) -> Scored:
    """Polarity and subjectivity of one tokenised sentence or clause, with how many opinion words were found."""
    result = _sentiment(language)(words(language, text))
    polarity, subjectivity = result
    return Scored(float(polarity), float(subjectivity), len(result.assessments))


def is_opinion_word(language: str, word: str) -> bool:
    """True when the lexicon scores this one word."""
    return word.lower() in _sentiment(language)


def lexicon_language(text: str) -> str:
    """For texts too short for function words ("Great product!"): the first lexicon with an opinion word in it."""
    tokenised = " ".join(tokenise(text))
    return next((lang for lang in LANGUAGES_WITH_LEXICON if text and score(lang, tokenised).opinion_words), "")


def tokenise(text: str) -> list[str]:
    """Sentences, each a string of space-separated tokens (pattern's rule-based splitter, no punkt), with
    contractions split the Penn way ("does n't", "mum 's")."""
    protected = _INNER_APOSTROPHE.sub(_KEPT, text)
    sentences = []
    for sentence in find_tokens(protected):
        if sentence.strip():
            sentences.append(" ".join(_split_contraction(t) for t in sentence.split()))
    return sentences


def _split_contraction(token: str) -> str:
    match = _CONTRACTION.match(token)
    if match:
        return match[1] + " " + match[2].replace(_KEPT, "'")
    return token.replace(_KEPT, "'")


def split_sentences(language: str, text: str) -> list[str]:
    """Sentences with punctuation split off as tokens."""
    return tokenise(text)


def tag(language: str, sentence: str) -> list[Token]:
    """POS tags and chunks for English (pattern lexicons); a capital-letter noun guess for German."""
    if language == "en":
        tagged = textblob_en.parser.parse(sentence, tokenize=False, tags=True, chunks=True)
        return [Token(*part.split("/")[:3]) for part in str(tagged).split()]
    return [
        Token(w, "NN" if w[:1].isupper() and w.isalpha() and w.lower() not in GERMAN_NON_NOUNS else "X", "")
        for w in sentence.split()
    ]


def clause_spans(language: str, sentence: str) -> list[tuple[int, int, bool]]:
    """Where the sentence is cut at commas and contrast words, as (first token, end token, opened by a contrast
    word) over `sentence.split()`; the cutting punctuation belongs to no clause."""
    spans: list[tuple[int, int, bool]] = []
    start, contrast = 0, False
    tokens = sentence.split()
    for i, word in enumerate(tokens):
        starts_contrast = word.lower() in CONTRAST_MARKERS[language]
        if word in CLAUSE_PUNCTUATION or starts_contrast:
            if i > start:
                spans.append((start, i, contrast))
            start, contrast = (i, True) if starts_contrast else (i + 1, False)
    if len(tokens) > start:
        spans.append((start, len(tokens), contrast))
    return spans


def clauses(language: str, sentence: str) -> list[tuple[str, bool]]:
    """The sentence cut at commas and contrast words; True marks a clause opened by a contrast word."""
    tokens = sentence.split()
    return [(" ".join(tokens[start:end]), contrast) for start, end, contrast in clause_spans(language, sentence)]
