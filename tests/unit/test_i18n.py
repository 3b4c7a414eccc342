"""Translations: complete catalogues, placeholders intact, compiled files current, emails in the reader's language."""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from afterglow import i18n
from afterglow.settings import ROOT
from afterglow.templating import render

LOCALE_DIR = i18n.LOCALE_DIR
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT_LANGUAGE]

# printf-style placeholders: %(name)s, %s, %d, %%
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def _read_po(path: Any) -> Catalog:
    with open(path, "rb") as f:
        return read_po(f)


def _template() -> Catalog:
    return _read_po(LOCALE_DIR / "messages.pot")


def _catalogue(lang: str) -> Catalog:
    return _read_po(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po")


def _forms(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _messages(catalog: Catalog) -> dict[Any, tuple[str, ...]]:
    """(msgid, context) → translated forms, without the header entry."""
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context): _forms(m.string) for m in catalog if m.id}


def test_shipped_languages_cover_the_template() -> None:
    assert set(TRANSLATED) == {"de", "hu"}
    for lang in TRANSLATED:
        assert (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").is_file()


def test_template_is_current_with_the_sources() -> None:
    """messages.pot holds exactly what babel.cfg extracts today: a new string that was never extracted
    would otherwise go out in English without any test noticing."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    extracted = {
        (message if isinstance(message, str) else message[0], context)
        for _file, _line, message, _comments, context in extract_from_dir(str(ROOT), method_map, options_map)
    }
    in_template = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in _template() if m.id}
    assert extracted == in_template, "run the extract/update/compile commands in docs/translations.md"


def test_template_has_the_runtime_python_strings() -> None:
    """Strings Python passes to i18n.translate / error_page are extracted through the keywords in babel.cfg."""
    template = _template()
    ids = {m.id for m in template if m.id}
    assert "Please choose one of the options." in ids
    assert "Survey not found" in ids  # error_page title (3rd argument)
    assert "We could not find this survey. It may have been removed." in ids  # error_page message (4th)
    assert "Your feedback" in ids  # a template string
    # title and message are two messages, not one singular/plural pair
    assert not template["Survey not found"].pluralizable


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated(lang: str) -> None:
    catalogue = _catalogue(lang)
    by_key = {(m.id, m.context): m for m in catalogue if m.id}
    problems = []
    for entry in _template():
        if not entry.id:
            continue
        message = by_key.get((entry.id, entry.context))
        if message is None:
            problems.append(f"missing: {entry.id!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy (not compiled, shows English): {entry.id!r}")
        elif not all(form.strip() for form in _forms(message.string)) or not _forms(message.string):
            problems.append(f"untranslated: {entry.id!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_match(lang: str) -> None:
    problems = []
    for message in _catalogue(lang):
        if not message.id:
            continue
        source = " ".join(_forms(message.id))
        expected = Counter(PLACEHOLDER.findall(_forms(message.id)[-1]))
        for form in _forms(message.string):
            if Counter(PLACEHOLDER.findall(form)) != expected:
                problems.append(f"{source!r} → {form!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_compiled_catalogue_matches_its_source(lang: str) -> None:
    """The committed .mo is what compiling the committed .po gives today (a fresh clone needs no compile step)."""
    fresh = io.BytesIO()
    write_mo(fresh, _catalogue(lang), use_fuzzy=False)
    fresh.seek(0)
    with open(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        committed = read_mo(f)
    compiled = read_mo(fresh)
    assert _messages(committed) == _messages(compiled), "run `pybabel compile -d afterglow/locale`"
    assert committed.plural_forms == compiled.plural_forms


# -- language choice ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "language"),
    [
        ("de-AT", "de"),
        ("de_DE", "de"),
        ("DE", "de"),
        ("hu_HU", "hu"),
        ("hu", "hu"),
        ("en-GB", "en"),
        ("", "en"),
        (None, "en"),
        ("pt", "en"),
        ("fr-FR", "en"),
    ],
)
def test_language_for(locale: str | None, language: str) -> None:
    assert i18n.language_for(locale) == language


# -- emails ------------------------------------------------------------------------------------------------


def email_context(**overrides: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "shop_name": "Kaffeerösterei Morgenrot",
        "name": "Anna Schmidt",
        "kind": "order",
        "agent": "",
        "reminder": False,
        "order_number": "1001",
        "items": [{"name": "Espresso beans 1 kg", "quantity": 2}, {"name": "Milk jug", "quantity": 1}],
        "survey_url": "https://feedback.example.com/s/abc.def",
        "unsubscribe_url": "https://feedback.example.com/u/ghi.jkl",
    }
    context.update(overrides)
    return context


def test_invitation_in_english() -> None:
    text = render("surveys/email/invitation.txt", "en", **email_context())
    assert text.startswith("Hi Anna Schmidt,")
    assert "Thank you for your order 1001 from Kaffeerösterei Morgenrot:" in text
    assert "https://feedback.example.com/u/ghi.jkl" in text


def test_invitation_in_german() -> None:
    text = render("surveys/email/invitation.txt", "de", **email_context())
    assert text.startswith("Hallo Anna Schmidt,")
    assert "Vielen Dank für Ihre Bestellung 1001 bei Kaffeerösterei Morgenrot:" in text
    assert "Wie wahrscheinlich ist es, dass Sie uns" in text
    assert "2 x Espresso beans 1 kg" in text
    assert "https://feedback.example.com/s/abc.def?nps=10" in text
    for english in ("Hi Anna", "Thank you for your order", "How likely", "Unsubscribe"):
        assert english not in text


def test_invitation_in_hungarian() -> None:
    text = render("surveys/email/invitation.txt", "hu", **email_context())
    assert text.startswith("Kedves Anna Schmidt!")
    assert "Köszönjük rendelését (Kaffeerösterei Morgenrot, rendelésszám: 1001):" in text
    assert "Mennyire valószínű, hogy ajánlana minket" in text
    assert "Leiratkozás" in text
    for english in ("Hi Anna", "Thank you for your order", "How likely", "Unsubscribe"):
        assert english not in text


def test_support_reminder_without_a_name_in_german() -> None:
    context = email_context(name="", kind="support", reminder=True, agent="Jonas")
    text = render("surveys/email/invitation.txt", "de-AT", **context)
    assert text.startswith("Guten Tag,")
    assert "Vor ein paar Tagen haben wir Sie nach Ihrer Meinung gefragt." in text
    assert "Sie haben sich kürzlich an unser Support-Team gewandt." in text
    subject = render("surveys/email/subject.txt", "de-AT", **context).strip()
    assert subject == "Erinnerung: Wie zufrieden waren Sie mit unserem Support?"


def test_html_invitation_and_subject_in_hungarian() -> None:
    html = render("surveys/email/invitation.html", "hu_HU", **email_context())
    assert 'lang="hu"' in html
    assert "Kedves Anna Schmidt!" in html
    assert "Egyáltalán nem valószínű" in html
    assert "Hi Anna" not in html
    subject = render("surveys/email/subject.txt", "hu_HU", **email_context()).strip()
    assert subject == "Mennyire elégedett a rendelésével (1001)?"


def test_unknown_locale_falls_back_to_english() -> None:
    text = render("surveys/email/invitation.txt", "fr-FR", **email_context())
    assert text == render("surveys/email/invitation.txt", "en", **email_context())
    assert text.startswith("Hi Anna Schmidt,")
    subject = render("surveys/email/subject.txt", "fr-FR", **email_context()).strip()
    assert subject == "How was your order 1001?"


def test_python_strings_translate_at_run_time() -> None:
    assert i18n.translate("de", "Survey not found") == "Umfrage nicht gefunden"
    assert i18n.translate("hu", "Please choose one of the options.") == "Kérjük, válasszon a lehetőségek közül."
    assert i18n.translate("de", "Please keep your comment under %(max)s characters.") % {"max": 5000} == (
        "Bitte kürzen Sie Ihren Kommentar auf höchstens 5000 Zeichen."
    )
    assert i18n.translate("fr", "Survey not found") == "Survey not found"
