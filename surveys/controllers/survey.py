"""The survey behind a signed link (`/s/{signed}`): the page, its answers (whole form or htmx), the thank-you page."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from afterglow.ratelimit import LINK_LIMITS
from afterglow.templating import SAVE_STATUS, SURVEY_PAGES
from afterglow.web import AppSettings, Form, now, page, remembered_page
from surveys.controllers.links import LINK_ERRORS
from surveys.services.answers import (
    InvalidAnswer,
    ItemSection,
    SurveyView,
    invitation_for_link,
    open_survey,
    open_survey_link,
    parse_answers,
    submit_answers,
    valid_scores,
)

#: Where app.py keeps, in the app's state, the delivered items the survey page offers for review with the
#: customer's reviews (see `ItemSection`).
ITEM_SECTION = "item_reviews"


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


def _item_section(request: Request) -> ItemSection:
    return request.app.state[ITEM_SECTION]  # type: ignore[no-any-return]


class SurveyController(Controller):
    """`/s/{signed}`: no sign-in; the signed per-invitation link is the key."""

    path = "/s/{signed:str}"
    exception_handlers = LINK_ERRORS
    middleware = LINK_LIMITS
    include_in_schema = False

    @get("/", name="surveys:page")
    async def show(
        self,
        request: Request,
        signed: FromPath[str],
        settings: AppSettings,
        nps: FromQuery[str | None] = None,
        csat: FromQuery[str | None] = None,
    ) -> Response[bytes]:
        """The survey. A score from the email's buttons arrives preselected; the page saves it once it runs
        in a browser (htmx), so a mail scanner that follows every link stores nothing. Its one dependency is the
        settings (with two or more, the framework starts a task group per request, a tenth of this page's time):
        the clock and the reviews' section come from the app itself, here and in the answers' handlers."""
        view = await open_survey_link(signed, now(), _item_section(request), settings)
        preselected = valid_scores({"nps": nps, "csat": csat})
        for name, score in preselected.items():
            setattr(view, name, score)
        return remembered_page(
            request,
            SURVEY_PAGES,
            "surveys/pages/survey.html",
            view.language,
            signed=signed,
            survey=view,
            error=None,
            preselected=preselected,
            review_items=view.item_reviews,
        )

    @post("/", name="surveys:submit", status_code=303)
    async def submit(
        self, request: Request, signed: FromPath[str], settings: AppSettings, data: Form
    ) -> Template | Redirect:
        """Plain form POST (works without JavaScript): save everything given, then thank; an empty form is
        shown again asking for an answer (400)."""
        at = now()
        linked = await invitation_for_link(signed, at, settings)
        try:
            answers = parse_answers(data, linked.language)
            await submit_answers(linked.id, answers, linked.language, at)
        except InvalidAnswer as exc:
            view = await open_survey(
                linked.id, section=_item_section(request), shop_name=settings.shop_name, settings=settings
            )
            # Show the form as it was sent: the typed comment and the scores that were valid.
            view.comment = str(data.get("comment") or "")
            for name, score in valid_scores(data).items():
                setattr(view, name, score)
            return survey_page(signed, view, error=exc)
        return Redirect(path=f"/s/{signed}/thanks", status_code=303)

    @post("/answer", name="surveys:answer", status_code=200)
    async def answer(
        self, request: HTMXRequest, signed: FromPath[str], settings: AppSettings, data: Form
    ) -> Template | Response[bytes]:
        """htmx: save the answer just given and return the small status line it swaps in."""
        at = now()
        linked = await invitation_for_link(signed, at, settings)
        try:
            answers = parse_answers(data, linked.language)
            await submit_answers(linked.id, answers, linked.language, at)
        except InvalidAnswer as exc:
            return page("surveys/partials/save_status.html", linked.language, status_code=422, error=exc, saved=False)
        return remembered_page(
            request, SAVE_STATUS, "surveys/partials/save_status.html", linked.language, error=None, saved=True
        )

    @get("/thanks", name="surveys:thanks")
    async def thanks(self, request: Request, signed: FromPath[str], settings: AppSettings) -> Template:
        linked = await invitation_for_link(signed, now(), settings)
        view = await open_survey(
            linked.id, section=_item_section(request), shop_name=settings.shop_name, settings=settings
        )
        return page(
            "surveys/pages/thanks.html", view.language, survey=view, signed=signed, review_items=view.item_reviews
        )
