"""Owners' wording of customer emails and the survey page, per language: stored, audited, and applied where those
are rendered (here for surveys; reviews and feedback call `email_or_default` for theirs). No stored wording: the
translated default templates, as always."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from markupsafe import Markup

from accounts.services import Staff, audit
from afterglow.templating import render
from surveys.tables import TemplateOverride
from surveys.wording_rules import WordingRefused, check, lacking, render_all, slot

logger = logging.getLogger(__name__)


async def stored(key: str, language: str) -> dict[str, str] | None:
    """The owner's wording of this template in this language, or None (the default is used)."""
    row = (
        await TemplateOverride.select(TemplateOverride.fields)
        .where(TemplateOverride.slot == slot(key, language))
        .output(load_json=True)
        .first()
    )
    return row["fields"] if row else None


async def customised_slots() -> set[str]:
    return {row["slot"] for row in await TemplateOverride.select(TemplateOverride.slot)}


async def save(actor: Staff, key: str, language: str, fields: Mapping[str, str], now: datetime) -> dict[str, str]:
    """Check and store an edit (WordingRefused names what is wrong); audited."""
    clean = check(key, fields)
    name = slot(key, language)
    async with TemplateOverride._meta.db.transaction():
        updated = (
            await TemplateOverride.update(
                {
                    TemplateOverride.fields: clean,
                    TemplateOverride.updated_by: actor.username,
                    TemplateOverride.updated_at: now,
                }
            )
            .where(TemplateOverride.slot == name)
            .returning(TemplateOverride.id)
        )
        if not updated:
            await TemplateOverride.insert(
                TemplateOverride(slot=name, fields=clean, updated_by=actor.username, updated_at=now)
            )
    await audit(actor, "templates.save", name, now, parts=sorted(clean))
    return clean


async def reset(actor: Staff, key: str, language: str, now: datetime) -> bool:
    """Back to the default wording; False when there was nothing to reset."""
    name = slot(key, language)
    deleted = await TemplateOverride.delete().where(TemplateOverride.slot == name).returning(TemplateOverride.id)
    if deleted:
        await audit(actor, "templates.reset", name, now)
    return bool(deleted)


def email_values(context: Mapping[str, Any]) -> dict[str, Any]:
    """The documented template variables, from the context the default email templates get."""
    return {
        "customer_name": context["name"] or "",
        "shop_name": context["shop_name"],
        "order_number": context["order_number"],
        "survey_link": context["survey_url"],
        "unsubscribe_link": context["unsubscribe_url"],
        "is_support": context["kind"] == "support",
        "products": [
            {
                "name": item.get("title") or item["name"],
                "quantity": item["quantity"],
                "image_url": item.get("image_url") or "",
                "review_link": f"{context['survey_url']}/items/{item['id']}",
            }
            for item in context["items"]
        ],
    }


def owned_email(
    key: str, language: str, fields: Mapping[str, str] | None, values: Mapping[str, Any], frame: Mapping[str, Any]
) -> tuple[str, str, str] | None:
    """Subject, text and HTML of an email in the owner's wording (its HTML inside the email frame, which gets
    `frame`: shop_name, brand, logo_url), or None when there is none or it cannot be rendered: the caller then sends
    its default. Whatever goes wrong is logged, never raised: a send must not fail over wording."""
    if fields is None:
        return None
    try:
        parts = render_all(key, fields, values)
        if missing := lacking(key, parts, values):
            raise WordingRefused({"required": f"left out {', '.join(missing)}"})
        html = render("surveys/email/custom.html", language, **{**frame, "body": Markup(parts["html"])})
    except Exception as exc:  # checked when saved; a failure now falls back to the default
        logger.warning("owner's %s wording in %s not used: %s", key, language, exc)
        return None
    return " ".join(parts["subject"].split()), parts["text"], html


def email_or_default(
    key: str,
    language: str,
    fields: Mapping[str, str] | None,
    values: Mapping[str, Any],
    context: Mapping[str, Any],
    defaults: tuple[str, str, str],
) -> tuple[str, str, str]:
    """Subject, text and HTML of a customer email: the owner's wording when given and it renders (`owned_email`),
    else the translated default templates `defaults` (subject, text, HTML) with `context`. The subject is one line
    either way: a name in it cannot break the header onto a new line."""
    if owned := owned_email(key, language, fields, values, context):
        return owned
    subject, text, html = (render(template, language, **context) for template in defaults)
    return " ".join(subject.split()), text, html


def compose_email(context: Mapping[str, Any], language: str, fields: Mapping[str, str] | None) -> tuple[str, str, str]:
    """Subject, text and HTML of an invitation or reminder: the owner's wording when given (its HTML inside the
    email frame), else the translated default templates."""
    key = "reminder" if context["reminder"] else "invitation"
    defaults = ("surveys/email/subject.txt", "surveys/email/invitation.txt", "surveys/email/invitation.html")
    return email_or_default(key, language, fields, email_values(context), context, defaults)


def page_wording(fields: Mapping[str, str] | None, values: Mapping[str, Any], kind: str) -> dict[str, str]:
    """The survey page's texts in the owner's wording (empty: the defaults). Support surveys keep their own
    questions; only the thank-you applies to them."""
    if not fields:
        return {}
    try:
        parts = render_all("survey_page", fields, values)
    except WordingRefused as exc:
        logger.warning("owner's survey page wording not used: %s", exc)
        return {}
    return parts if kind != "support" else {"thanks": parts["thanks"]}


def page_values(customer_name: str, order_number: str, shop_name: str) -> dict[str, str]:
    return {"customer_name": customer_name or "", "order_number": order_number, "shop_name": shop_name}
