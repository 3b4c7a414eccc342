"""Translations (Babel/gettext): one catalogue per language, chosen per reader (a customer's locale, a staff
member's chosen language), per render.

Templates translate in the language named by their `language` context variable, so a page or an email
is rendered for its reader without any global state.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.dates import format_date
from babel.support import NullTranslations, Translations
from jinja2 import pass_context

if TYPE_CHECKING:
    from afterglow.settings import Settings

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "de", "hu")
DEFAULT_LANGUAGE = "en"
#: Each language in itself, as a staff member picks the language of their emails.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "hu": "Magyar"}
#: A day with and without its year, as each language writes it short: 9 Mar 2026, 9. März 2026, 2026. márc. 9.
DAY_PATTERNS = {"en": ("d MMM", "d MMM y"), "de": ("d. MMM", "d. MMM y"), "hu": ("MMM d.", "y. MMM d.")}


def language_for(locale: str | None, languages: tuple[str, ...] = LANGUAGES, default: str = DEFAULT_LANGUAGE) -> str:
    """`de-AT` → `de`; a language not among `languages` (the ones we ship) gets `default` (English)."""
    lang = (locale or "").replace("_", "-").split("-")[0].lower()
    return lang if lang in languages and lang in LANGUAGES else default


def customer_language(locale: str | None, settings: Settings) -> str:
    """The language a customer's pages and emails are in: theirs if the shop uses it, else the shop's default."""
    return language_for(locale, settings.shop_languages, settings.default_language)


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


def translate(language: str, message: str) -> str:
    return translations(language_for(language)).gettext(message)


def format_day(day: date, language: str, year: bool = True) -> str:
    """`day` with its month's short name in the reader's language."""
    lang = language_for(language)
    without_year, with_year = DAY_PATTERNS[lang]
    return format_date(day, with_year if year else without_year, locale=lang)


def N_(message: str) -> str:
    """Marks a message for extraction where it is defined; it is translated where it is shown."""
    return message


@pass_context
def template_gettext(context: Any, message: str) -> str:
    return translations(language_for(context.get("language"))).gettext(message)


@pass_context
def template_ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return translations(language_for(context.get("language"))).ngettext(singular, plural, n)
