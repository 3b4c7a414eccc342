"""Which reviews wait for a person before they are published: content rules only, never the rating.

A review is held when its title or text contains profanity, an email address, a link or a phone number, or is
written in capitals beyond a length. Everything else publishes at once, one star or five.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from afterglow.kinds import STARS_SCALE
from afterglow.numbers import whole_number

#: Stars a review can have.
RATINGS = STARS_SCALE.points


def parse_rating(raw: str) -> int | None:
    """A star rating as a form sends it ("1" to "5"); None for anything else."""
    rating = whole_number(raw, maximum=max(RATINGS))
    return rating if rating in RATINGS else None


#: Rule names in the order they are checked; the first that matches is recorded as `Review.held_rule`.
RULES = ("profanity", "email", "link", "phone", "all_caps")

# Strong words only, in the languages we serve: "crap" or "Mist" is an honest opinion, not abuse.
_PROFANE_WORDS = {
    # English
    "fuck", "fucks", "fucked", "fucking", "fucker", "motherfucker", "shit", "shitty", "bullshit", "bitch",
    "asshole", "arsehole", "cunt", "dickhead", "wanker", "twat",
    # German
    "scheiße", "scheisse", "scheiß", "scheiss", "arschloch", "ficken", "fick", "wichser", "hurensohn", "fotze",
    "drecksau", "missgeburt",
    # Hungarian
    "kurva", "kurvára", "geci", "fasz", "faszom", "picsa", "bazmeg", "bazdmeg", "kibaszott", "baszd", "szar",
}  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", re.UNICODE)
_LINK = re.compile(
    r"(https?://|www\.)\S+"
    r"|\b[a-z0-9][a-z0-9-]*\.(com|net|org|info|biz|io|co|shop|store|online|de|at|ch|hu|eu|uk|fr|it|es|nl|ru|cn|ly)\b",
    re.IGNORECASE,
)
#: A run of digits with the separators people type in phone numbers.
_PHONE = re.compile(r"\+?\(?\d[\d\s().\-/]{6,}\d")
#: Fewer digits are order numbers, dates, sizes and prices; more are card or account numbers, also held.
PHONE_MIN_DIGITS = 9
#: Shouting: at least this many letters, nearly all of them capitals.
CAPS_MIN_LETTERS = 20
CAPS_SHARE = 0.7


def held_rule(title: str, text: str, rules: Collection[str] = RULES) -> str | None:
    """The first content rule (of those the shop keeps on) the review breaks, or None when it may be published at
    once."""
    fields = [title, text]
    checks = {
        "profanity": _profane,
        "email": lambda s: _EMAIL.search(s) is not None,
        "link": lambda s: _LINK.search(s) is not None,
        "phone": _has_phone_number,
        "all_caps": _shouting,
    }
    for rule in (r for r in RULES if r in rules):
        if any(checks[rule](field) for field in fields if field):
            return rule
    return None


def _profane(value: str) -> bool:
    return any(word in _PROFANE_WORDS for word in _WORD.findall(value.casefold()))


def _has_phone_number(value: str) -> bool:
    return any(sum(ch.isdigit() for ch in m.group()) >= PHONE_MIN_DIGITS for m in _PHONE.finditer(value))


def _shouting(value: str) -> bool:
    letters = [ch for ch in value if ch.isalpha() and ch.lower() != ch.upper()]
    if len(letters) < CAPS_MIN_LETTERS:
        return False
    return sum(ch.isupper() for ch in letters) / len(letters) >= CAPS_SHARE


def display_name(full_name: str) -> str:
    """How a reviewer is shown in public: first name and initial ("Anna S."), never the whole name."""
    parts = full_name.split()
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0][:50]
    return f"{parts[0][:50]} {parts[-1][0]}."
