"""The one Jinja environment: pages, partials and emails, translated per render."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from afterglow import i18n, kinds
from afterglow.brand import Brand, brand_of
from afterglow.lru import Recent
from afterglow.settings import ROOT, get_settings

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
        current_brand=current_brand,
    )
    return env


@pass_context
def current_brand(context: Context) -> Brand:
    """The shop's brand: the one an email was given, or the one the `settings` dependency kept on the request,
    else the environment's (a page whose handler reads no settings)."""
    given = context.get("brand")
    if isinstance(given, Brand):
        return given
    request = context.get("request")
    kept = request.scope.get("state", {}).get("brand") if request is not None else None
    return kept if isinstance(kept, Brand) else brand_of(get_settings())


def render(template: str, language: str, **context: Any) -> str:
    """Render a template outside a request (emails), in the reader's language."""
    return environment().get_template(template).render(language=i18n.language_for(language), **context)


class RenderMemo:
    """Pages kept by everything they were rendered from, the most recently used `size` of them.

    A page's HTML is a function of its template and its context alone, so the key is the template's name and the
    context's values, every one of them, nested dataclasses and containers included (encoded as MessagePack, or
    by `repr` where that cannot encode a value): any change in what the page shows is a new key, and nothing
    needs to be invalidated. `request` is given to the render (for `url_for`) but is no part of the key: a page
    kept here may use it only to build addresses."""

    def __init__(self, size: int) -> None:
        self.pages: Recent[bytes] = Recent(size)
        self.renders = 0

    def render(self, template: str, context: dict[str, Any], request: Any = None) -> bytes:
        """The page as UTF-8, encoded once when rendered."""
        key = (template, _context_key(context))
        html = self.pages.get(key)
        if html is None:
            html = environment().get_template(template).render(**context, request=request).encode()
            self.renders += 1
            self.pages.put(key, html)
        return html


_encode = msgspec.msgpack.Encoder().encode


def _context_key(context: dict[str, Any]) -> bytes | str:
    """The context's values as bytes (a fifth of `repr`'s time for a survey page), or its `repr` where a value has
    no encoding."""
    try:
        return _encode(context)
    except TypeError:
        return repr(sorted(context.items()))


#: Customers' survey pages: a repeat view renders nothing when nothing on the page changed.
SURVEY_PAGES = RenderMemo(1024)
#: The "Saved" line an htmx answer swaps in, one per language.
SAVE_STATUS = RenderMemo(64)
