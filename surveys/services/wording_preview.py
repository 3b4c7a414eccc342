"""The template editor's preview and test email: the real rendering path (the one dispatch uses) with a demo
customer and order, in the saved wording, the default, or a draft being typed. The rejection email and the reply
are rendered by reviews and feedback: app.py hands their preview functions in (`EmailPreviews`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from piccolo.apps.user.tables import BaseUser

from accounts.services import Staff, audit
from afterglow.brand import brand_of
from afterglow.settings import Settings
from surveys.services import wording
from surveys.services.answers import SurveyView
from surveys.services.emails import Rendered, composed, deliver, message_id
from surveys.wording_defaults import starter
from surveys.wording_rules import check, slot

#: The demo customer each language's preview shows.
DEMO_CUSTOMERS = {"en": "Alex Morgan", "de": "Anna Schmidt", "hu": "Kovács Anna"}
DEMO_PRODUCTS = (("Ceramic mug set", "mug-set.png", 2), ("Electric kettle", "kettle.png", 1))
DEMO_ORDER = "PREVIEW-1001"

#: An email of a higher app, rendered for a demo customer: (language, settings, owner's fields or None, to, now).
EmailPreview = Callable[[str, Settings, Mapping[str, str] | None, str, datetime], Rendered]
EmailPreviews = Mapping[str, EmailPreview]


def demo_context(key: str, language: str, settings: Settings) -> dict[str, Any]:
    """What render_invitation gives the templates, for a demo customer (links that lead nowhere real)."""
    return {
        "shop_name": settings.shop_name,
        "brand": (brand := brand_of(settings)),
        "logo_url": brand.logo_url(settings.base_url),
        "name": DEMO_CUSTOMERS.get(language, DEMO_CUSTOMERS["en"]),
        "kind": "order",
        "agent": "",
        "reminder": key == "reminder",
        "order_number": DEMO_ORDER,
        "items": [
            {
                "id": number,
                "name": title,
                "title": title,
                "quantity": quantity,
                "image_url": f"{settings.base_url}/static/demo/products/{image}",
            }
            for number, (title, image, quantity) in enumerate(DEMO_PRODUCTS, start=1)
        ],
        "survey_url": f"{settings.base_url}/s/preview",
        "unsubscribe_url": f"{settings.base_url}/u/preview",
    }


async def editor_fields(key: str, language: str) -> tuple[dict[str, str], bool]:
    """What the editor shows: the saved wording (True), or the default wording to start from (False)."""
    saved = await wording.stored(key, language)
    return (saved, True) if saved is not None else (starter(key, language), False)


async def preview_email(
    key: str,
    language: str,
    settings: Settings,
    now: datetime,
    previews: EmailPreviews,
    draft: Mapping[str, str] | None = None,
    to: str = "",
) -> Rendered:
    """The email a demo customer would get: from a draft (checked first: WordingRefused), or as saved."""
    fields = check(key, draft) if draft is not None else await wording.stored(key, language)
    if key in previews:
        return previews[key](language, settings, fields, to, now)
    return composed(to, demo_context(key, language, settings), language, fields)


async def preview_page(language: str, settings: Settings, draft: Mapping[str, str] | None = None) -> SurveyView:
    """The survey page's view for the demo customer, in the draft's or the saved wording."""
    fields = check("survey_page", draft) if draft is not None else await wording.stored("survey_page", language)
    name = DEMO_CUSTOMERS.get(language, DEMO_CUSTOMERS["en"])
    view = SurveyView(
        invitation_id=0,
        token="preview",
        kind="order",
        language=language,
        customer_name=name,
        order_number=DEMO_ORDER,
        agent="",
        items=[{"name": title, "quantity": quantity} for title, _, quantity in DEMO_PRODUCTS],
    )
    view.wording = wording.page_wording(fields, wording.page_values(name, DEMO_ORDER, settings.shop_name), "order")
    return view


async def staff_email(actor: Staff) -> str:
    row = await BaseUser.select(BaseUser.email).where(BaseUser.id == actor.id).first()
    return row["email"] if row else ""


async def send_test(
    actor: Staff,
    key: str,
    language: str,
    now: datetime,
    settings: Settings,
    previews: EmailPreviews,
    draft: Mapping[str, str] | None = None,
) -> str:
    """Send the previewed email to the signed-in person through the normal mail path; returns the address ("" when
    they have none). MailNotSent when the mail server refuses; WordingRefused for a broken draft."""
    to = await staff_email(actor)
    if not to:
        return ""
    mail = await preview_email(key, language, settings, now, previews, draft, to=to)
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    mid = message_id(settings, 0, f"template-test.{key}.{language}.{stamp}", str(actor.id))
    await deliver(mail, mid, "template-test", None, now, settings)
    await audit(actor, "templates.test_email", slot(key, language), now)
    return to
