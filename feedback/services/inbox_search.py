"""Searching the inbox: "contains" conditions that read `%` and `_` as the characters they are, and the search box
(`q`) over the customer's name and email, the order number, and the feedback's title and text.

Every word of the query must be found in one of those fields; case does not matter. Names and addresses are the
feedback's copies and the customer record's name, all emptied when a customer is erased: an old name or address
finds nothing."""

from __future__ import annotations

from piccolo.columns import Column
from piccolo.columns.combination import Combinable, Where
from piccolo.columns.operators.comparison import ComparisonOperator

from afterglow.db import is_postgres
from feedback.tables import InboxItem

#: The longest query read, and the most words of it that count.
QUERY_MAX = 200
WORDS_MAX = 6
#: The LIKE escape character: `!%` is a percent sign, `!_` an underscore, `!!` the character itself.
ESCAPE = "!"


class _Like(ComparisonOperator):
    template = "{name} LIKE {value} ESCAPE '" + ESCAPE + "'"


class _ILike(ComparisonOperator):
    template = "{name} ILIKE {value} ESCAPE '" + ESCAPE + "'"


def escape_like(text: str) -> str:
    """`text` as a LIKE pattern that matches only itself."""
    return "".join(ESCAPE + char if char in (ESCAPE, "%", "_") else char for char in text)


def _spellings(text: str, postgres: bool) -> list[str]:
    """PostgreSQL's ILIKE ignores the case of every letter; SQLite's LIKE only that of A–Z, so a query with other
    letters (Ödön, ÁRPÁD) is also tried in the usual capitalisations."""
    if postgres or text.isascii():
        return [text]
    return list(dict.fromkeys((text, text.lower(), text.upper(), text.capitalize(), text.title())))


def contains(column: Column, text: str) -> Combinable:
    """Case-insensitive "contains", with `%` and `_` in `text` taken literally."""
    postgres = is_postgres(column._meta.table._meta.db)
    operator = _ILike if postgres else _Like
    found: list[Combinable] = [
        Where(column=column, value=f"%{escape_like(spelling)}%", operator=operator)
        for spelling in _spellings(text, postgres)
    ]
    return _any(found)


def _any(conditions: list[Combinable]) -> Combinable:
    condition = conditions[0]
    for other in conditions[1:]:
        condition = condition | other
    return condition


def query_words(q: str) -> list[str]:
    """The words of a search that count (at most WORDS_MAX, duplicates once)."""
    return list(dict.fromkeys(q[:QUERY_MAX].split()))[:WORDS_MAX]


def search_condition(q: str) -> Combinable | None:
    """Inbox items whose feedback has every word of `q` somewhere; None for an empty search."""
    feedback = InboxItem.feedback
    fields = (
        feedback.name,
        feedback.email,
        feedback.customer.name,
        feedback.order.external_id,
        feedback.title,
        feedback.text,
    )
    condition: Combinable | None = None
    for word in query_words(q):
        anywhere = _any([contains(field, word) for field in fields])
        condition = anywhere if condition is None else condition & anywhere
    return condition
