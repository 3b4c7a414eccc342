"""Customer-facing pages: the survey behind a signed link, the thank-you page, unsubscribing; and the dev outbox."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from afterglow.celery_app import announce_feedback
from afterglow.ratelimit import LINK_LIMITS, too_many_requests_page
from afterglow.web import AppSettings, Form, Now, error_page, page
from surveys.services.answers import (
    InvalidAnswer,
    ItemSection,
    SurveyView,
    UnknownInvitation,
    invitation_for_link,
    open_survey,
    parse_answers,
    save_answers,
    unsubscribe,
    unsubscribe_language,
)
from surveys.services.emails import outbox
from surveys.services.links import LinkExpired, LinkInvalid

#: The delivered items the survey page offers for review, with the customer's reviews (see `ItemSection`).
ItemReviews = NamedDependency[ItemSection]


def link_error(request: Request[Any, Any, Any], exc: Exception) -> Response[str]:
    if isinstance(exc, LinkExpired):
        return error_page(
            request, 410, "This link has expired", "Thank you for coming back; this survey is closed now."
        )
    if isinstance(exc, UnknownInvitation):
        return error_page(request, 404, "Survey not found", "We could not find this survey. It may have been removed.")
    return error_page(
        request, 400, "This link does not work", "The link seems to be incomplete. Please open it again from the email."
    )


LINK_ERRORS: dict[type[Exception], Any] = {
    LinkInvalid: link_error,
    LinkExpired: link_error,
    UnknownInvitation: link_error,
    TooManyRequestsException: too_many_requests_page,
}


def _score(value: str | None, low: int, high: int) -> int | None:
    try:
        score = int(value) if value is not None else None
    except ValueError:
        return None
    return score if score is not None and low <= score <= high else None


def survey_page(
    signed: FromPath[str],
    view: SurveyView,
    *,
    error: InvalidAnswer | None = None,
    preselected: dict[str, int] | None = None,
) -> Template:
    return page(
        "surveys/pages/survey.html",
        view.language,
        status_code=400 if error else 200,
        signed=signed,
        survey=view,
        error=error,
        preselected=preselected or {},
        review_items=view.item_reviews,
    )


class SurveyController(Controller):
    """`/s/{signed}`: no sign-in; the signed per-invitation link is the key."""

    path = "/s/{signed:str}"
    exception_handlers = LINK_ERRORS
    middleware = LINK_LIMITS
    include_in_schema = False

    @get("/", name="surveys:page")
    async def show(
        self,
        signed: FromPath[str],
        now: Now,
        settings: AppSettings,
        item_reviews: ItemReviews,
        nps: FromQuery[str | None] = None,
        csat: FromQuery[str | None] = None,
    ) -> Template:
        """The survey. A score from the email's buttons arrives preselected; the page saves it once it runs
        in a browser (htmx), so a mail scanner that follows every link stores nothing."""
        view = await open_survey((await invitation_for_link(signed, now, settings)).id, now, item_reviews)
        preselected = {
            name: score
            for name, score in (("nps", _score(nps, 0, 10)), ("csat", _score(csat, 1, 5)))
            if score is not None
        }
        for name, score in preselected.items():
            setattr(view, name, score)
        return survey_page(signed, view, preselected=preselected)

    @post("/", name="surveys:submit", status_code=303)
    async def submit(
        self, signed: FromPath[str], now: Now, settings: AppSettings, item_reviews: ItemReviews, data: Form
    ) -> Template | Redirect:
        """Plain form POST (works without JavaScript): save everything given, then thank."""
        linked = await invitation_for_link(signed, now, settings)
        try:
            answers = parse_answers(data, linked.language)
        except InvalidAnswer as exc:
            view = await open_survey(linked.id, item_reviews=item_reviews)
            # Show the form as it was sent: the typed comment and the scores that were valid.
            view.comment = str(data.get("comment") or "")
            for name, low, high in (("csat", 1, 5), ("nps", 0, 10)):
                raw = data.get(name)
                score = _score(raw, low, high) if isinstance(raw, str) else None
                if score is not None:
                    setattr(view, name, score)
            return survey_page(signed, view, error=exc)
        await _save(linked.id, answers, linked.language, now)
        return Redirect(path=f"/s/{signed}/thanks", status_code=303)

    @post("/answer", name="surveys:answer", status_code=200)
    async def answer(
        self, request: HTMXRequest, signed: FromPath[str], now: Now, settings: AppSettings, data: Form
    ) -> Template:
        """htmx: save the answer just given and return the small status line it swaps in."""
        linked = await invitation_for_link(signed, now, settings)
        try:
            answers = parse_answers(data, linked.language)
        except InvalidAnswer as exc:
            return page("surveys/partials/save_status.html", linked.language, status_code=422, error=exc, saved=False)
        await _save(linked.id, answers, linked.language, now)
        return page("surveys/partials/save_status.html", linked.language, error=None, saved=True)

    @get("/thanks", name="surveys:thanks")
    async def thanks(
        self, signed: FromPath[str], now: Now, settings: AppSettings, item_reviews: ItemReviews
    ) -> Template:
        view = await open_survey((await invitation_for_link(signed, now, settings)).id, item_reviews=item_reviews)
        return page(
            "surveys/pages/thanks.html", view.language, survey=view, signed=signed, review_items=view.item_reviews
        )


async def _save(invitation_id: int, answers: Any, language: str, now: Now) -> None:
    response_id = await save_answers(invitation_id, answers, language, now)
    await asyncio.to_thread(announce_feedback, "survey", response_id)


class UnsubscribeController(Controller):
    """`/u/{signed}`: GET asks to confirm (scanners follow links); POST unsubscribes, also as RFC 8058 one-click."""

    path = "/u/{signed:str}"
    exception_handlers = LINK_ERRORS
    middleware = LINK_LIMITS
    include_in_schema = False

    @get("/", name="surveys:unsubscribe")
    async def confirm(self, signed: FromPath[str], settings: AppSettings) -> Template:
        language = await unsubscribe_language(signed, settings)
        return page("surveys/pages/unsubscribe.html", language, signed=signed, done=False)

    @post("/", name="surveys:unsubscribe-post", status_code=200)
    async def unsubscribe(self, signed: FromPath[str], now: Now, settings: AppSettings) -> Template:
        language = await unsubscribe(signed, now, settings)
        return page("surveys/pages/unsubscribe.html", language, signed=signed, done=True)


class DevOutboxController(Controller):
    """Every email the embedded default "sent". Registered only when no SMTP server is configured."""

    path = "/dev"
    include_in_schema = False

    @get("/outbox", name="dev:outbox")
    async def page(self) -> Template:
        return page("dev/outbox.html", "en", messages=await outbox())

    @get("/outbox.json", name="dev:outbox-json")
    async def as_json(self) -> list[dict[str, Any]]:
        return [
            {
                "to": m["to"],
                "subject": m["subject"],
                "text": m["text"],
                "html": m["html"],
                "headers": m["headers"],
                "sent_at": m["sent_at"].isoformat() if isinstance(m["sent_at"], datetime) else m["sent_at"],
                "purpose": m["purpose"],
            }
            for m in await outbox()
        ]
