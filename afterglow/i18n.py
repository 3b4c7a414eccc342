"""Translations (Babel/gettext): one catalogue per language, chosen per customer, per render.

Templates translate in the language named by their `language` context variable, so a page or an email
is rendered for its reader without any global state.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from jinja2 import pass_context

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("en", "de", "hu")
DEFAULT_LANGUAGE = "en"


def language_for(locale: str | None) -> str:
    """`de-AT` → `de`; anything we do not ship falls back to English."""
    lang = (locale or "").replace("_", "-").split("-")[0].lower()
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@cache
def translations(language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


def translate(language: str, message: str) -> str:
    return translations(language_for(language)).gettext(message)


@pass_context
def template_gettext(context: Any, message: str) -> str:
    return translations(language_for(context.get("language"))).gettext(message)


@pass_context
def template_ngettext(context: Any, singular: str, plural: str, n: int) -> str:
    return translations(language_for(context.get("language"))).ngettext(singular, plural, n)
