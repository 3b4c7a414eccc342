"""The template editor's preview of a reply to a customer: a demo reply on a demo customer's feedback, rendered by
`render_reply` as a real one is (the conversation link leads nowhere real)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from afterglow.settings import Settings
from feedback.services.replies import render_reply
from surveys.services.emails import Rendered
from surveys.services.wording_preview import DEMO_CUSTOMERS

#: What the demo customer wrote and what the team answered, per language.
DEMO_FEEDBACK = {
    "en": ("The kettle arrived with a dent in its lid.", "Sorry about the dent!\n\nA new lid is on its way to you."),
    "de": (
        "Der Wasserkocher kam mit einer Delle im Deckel an.",
        "Das tut uns leid!\n\nEin neuer Deckel ist unterwegs.",
    ),
    "hu": ("A vízforraló fedele horpadtan érkezett.", "Sajnáljuk a horpadást!\n\nÚj fedelet küldünk."),
}


def preview_reply(
    language: str, settings: Settings, fields: Mapping[str, str] | None, to: str, now: datetime
) -> Rendered:
    wrote, answer = DEMO_FEEDBACK.get(language, DEMO_FEEDBACK["en"])
    feedback = {
        "locale": language,
        "thread_token": "preview",
        "title": "",
        "text": wrote,
        "name": DEMO_CUSTOMERS.get(language, DEMO_CUSTOMERS["en"]),
        "kind": "survey",
        "product_name": "",
        "email": to,
    }
    entry = {"body": answer, "author_name": "Kim Lee", "at": now}
    return render_reply(entry, feedback, [], settings, fields)
