"""The one Jinja environment: pages, partials and emails, translated per render."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from afterglow import i18n, kinds
from afterglow.settings import ROOT

TEMPLATE_DIR = ROOT / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html", "htm", "xml"], default_for_string=False),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.template_gettext, i18n.template_ngettext, newstyle=True
    )
    # The score scales and kind names, so no page or email writes its own.
    env.globals.update(
        CSAT_SCALE=kinds.CSAT_SCALE,
        NPS_SCALE=kinds.NPS_SCALE,
        STARS_SCALE=kinds.STARS_SCALE,
        KIND_NAMES=kinds.KIND_NAMES,
    )
    return env


def render(template: str, language: str, **context: Any) -> str:
    """Render a template outside a request (emails), in the reader's language."""
    return environment().get_template(template).render(language=i18n.language_for(language), **context)
