"""Find the complaint register's events and action-demanding questions in a sentence (see complaint_register)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from feedback.analysis.complaint_register import (
    COMPLAINT_POLARITY,
    COMPLAINTS,
    GERMAN_NOT_VERBS,
    NEGATION_REACH,
    NEGATIONS_AFTER,
    PERSONAL,
    QUESTION_AUXILIARIES,
    QUESTION_POLARITY,
    QUESTION_TOPICS,
    QUESTION_WORDS,
)
from feedback.analysis.vocabulary import CLAUSE_PUNCTUATION, CONTRAST_MARKERS, NEGATIONS

# A word inside a gap: anything but punctuation that ends a clause or sentence.
_GAP = r"(?:[^ ,;:.!?()\-–]+ ){0,4}"
_STOPS = CLAUSE_PUNCTUATION | {".", "!", "?", "(", ")"}


@dataclass(frozen=True)
class Complaint:
    start: int  # first token, in `sentence.split()`
    end: int  # one past the last token
    topic: str | None
    polarity: float


def _token_regex(token: str) -> str:
    options = []
    for option in token.split("|"):
        body = re.escape(option.strip("*"))
        head = "[^ ]*" if option.startswith("*") else ""
        tail = "[^ ]*" if option.endswith("*") and len(option) > 1 else ""
        options.append(head + body + tail)
    return "(?:" + "|".join(options) + ")"


def _pattern_regex(pattern: str) -> re.Pattern[str]:
    parts = []
    for token in pattern.split():
        parts.append(_GAP if token == "~" else _token_regex(token) + " ")
    # Over " tok tok tok ": each token is followed by a space; a match starts after a space.
    return re.compile("(?<= )" + "".join(parts))


@cache
def _compiled(language: str) -> tuple[tuple[re.Pattern[str], str, bool], ...]:
    """Each pattern's regex, topic, and whether it names a negation itself ("never arrived", "keine Antwort")."""
    negations = NEGATIONS.get(language, frozenset())
    return tuple(
        (_pattern_regex(p), topic, any(o.strip("*") in negations for t in p.split() for o in t.split("|")))
        for p, topic in COMPLAINTS.get(language, ())
    )


def find_complaints(language: str, tokens: list[str]) -> list[Complaint]:
    """The register's complaints and the action-demanding questions among lower-case `tokens` of one sentence."""
    patterns = _compiled(language)
    if not patterns:
        return []
    line = " " + " ".join(tokens) + " "
    # Character offset → token index: each token starts after a space.
    starts = {}
    offset = 1
    for i, token in enumerate(tokens):
        starts[offset] = i
        offset += len(token) + 1
    claimed = [False] * len(tokens)
    found: list[Complaint] = []
    # Inside a match a negation cancels it ("the box was not damaged"); "without" negates a noun ("cancelled
    # without notice" is still a complaint).
    negations = NEGATIONS.get(language, frozenset()) - {"without", "ohne"}
    for regex, topic, negative in patterns:
        for match in regex.finditer(line):
            start = starts.get(match.start())
            if start is None:
                continue
            end = start + len(match.group().split())
            if any(claimed[start:end]) or _negated(language, tokens, start, end):
                continue
            if not negative and negations.intersection(tokens[start:end]):  # "the box was not damaged"
                continue
            claimed[start:end] = [True] * (end - start)
            found.append(Complaint(start, end, topic, COMPLAINT_POLARITY))
    question = _action_question(language, tokens)
    if question is not None:
        found.append(question)
    return sorted(found, key=lambda c: c.start)


def _negated(language: str, tokens: list[str], start: int, end: int) -> bool:
    negations = NEGATIONS.get(language, frozenset())
    for i in range(start - 1, max(start - 1 - NEGATION_REACH, -1), -1):
        if tokens[i] in _STOPS or tokens[i] in CONTRAST_MARKERS.get(language, ()):
            break
        if tokens[i] in negations:
            return True
    return end < len(tokens) and tokens[end] in NEGATIONS_AFTER.get(language, ())


def _action_question(language: str, tokens: list[str]) -> Complaint | None:
    """A question word opening the sentence or a clause, in question word order, about the customer or their order."""
    openers = QUESTION_WORDS.get(language, ())
    for i in range(len(tokens)):
        if i and tokens[i - 1] not in _STOPS:
            continue
        for opener in openers:
            words = opener.split()
            if tokens[i : i + len(words)] != words:
                continue
            after = i + len(words)
            rest = tokens[after:]
            if not rest or not _question_order(language, opener, rest[0]):
                continue
            if not PERSONAL[language].intersection(rest):
                continue
            topics = QUESTION_TOPICS[language]
            topic = next((topics[t] for t in rest if t in topics), None)
            return Complaint(i, len(tokens), topic, QUESTION_POLARITY)
    return None


def _question_order(language: str, opener: str, following: str) -> bool:
    if opener.startswith(("any ", "gibt ", "was ist", "what happened")):
        return True
    if language == "en":
        return following in QUESTION_AUXILIARIES["en"]
    return following.isalpha() and following not in GERMAN_NOT_VERBS
