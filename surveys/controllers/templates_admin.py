"""The template editor (`/app/admin/templates`, admins only): every customer email (invitation, reminder, review
rejection, reply) and the survey page, per language, with a live preview (htmx for the subject and text; the HTML in
a sandboxed frame), a test email to oneself, and reset to the default. Saving, resetting and testing are audited by
the services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from afterglow.i18n import LANGUAGE_NAMES, LANGUAGES
from afterglow.mail import MailNotSent
from afterglow.settings import Settings
from afterglow.web import FRAMABLE_CSP, NO_STORE, AppSettings, Form, Now, form_field, page
from surveys.controllers.outbox import EMAIL_CSP
from surveys.services import wording, wording_preview
from surveys.services.wording_preview import EmailPreviews as EmailPreviewMap
from surveys.wording_rules import TEMPLATES, WordingRefused, kind_of, slot

PAGE = "surveys/pages/templates_admin.html"
#: The rejection email's and the reply's preview functions, handed in by app.py (surveys imports neither app).
EmailPreviews = NamedDependency[EmailPreviewMap]
DONE = {
    "saved": "Saved: customers get this wording from now on.",
    "reset": "Back to the default wording.",
    "default": "This template already uses the default wording.",
}
#: The frame the preview is shown in: our own page only, nothing in it runs.
FRAME_HEADERS = {"X-Frame-Options": "SAMEORIGIN", **NO_STORE}
EMAIL_FRAME_CSP = f"{EMAIL_CSP}; frame-ancestors 'self'"
PAGE_FRAME_CSP = f"{FRAMABLE_CSP}; sandbox; frame-ancestors 'self'"


def _chosen(key: str | None, language: str | None) -> tuple[str, str]:
    key = key or "invitation"
    language = language or "en"
    if key not in TEMPLATES or language not in LANGUAGES:
        raise NotFoundException(detail="no such template")
    return key, language


def _draft(key: str, data: dict[str, Any]) -> dict[str, str]:
    return {part.name: form_field(data, part.name) for part in kind_of(key).parts}


def _labels(key: str) -> dict[str, str]:
    return {part.name: part.label for part in kind_of(key).parts}


class TemplatesController(Controller):
    path = "/app/admin/templates"
    guards = [require_roles("admin")]
    include_in_schema = False

    @get("/", name="surveys:admin-templates")
    async def editor(
        self,
        request: HTMXRequest,
        key: FromQuery[str | None] = None,
        lang: FromQuery[str | None] = None,
        done: FromQuery[str | None] = None,
        sent: FromQuery[str | None] = None,
    ) -> Template:
        key, lang = _chosen(key, lang)
        fields, _ = await wording_preview.editor_fields(key, lang)
        notice = DONE.get(done or "") or (f"Test email sent to {sent}." if sent else None)
        return await self._page(request, key, lang, fields, done=notice)

    @post("/preview", name="surveys:admin-templates-preview", status_code=200)
    async def preview(self, settings: AppSettings, data: Form, now: Now, wording_previews: EmailPreviews) -> Template:
        """htmx: the subject and text (or the page's texts) of the draft as typed, or why it cannot be saved."""
        key, lang = _chosen(form_field(data, "key"), form_field(data, "lang"))
        context: dict[str, Any] = {"kind": kind_of(key), "labels": _labels(key), "problems": {}}
        try:
            if kind_of(key).is_email:
                context["mail"] = await wording_preview.preview_email(
                    key, lang, settings, now, wording_previews, _draft(key, data)
                )
            else:
                context["view"] = await wording_preview.preview_page(lang, settings, _draft(key, data))
        except WordingRefused as exc:
            context["problems"] = exc.problems
        return page("surveys/partials/template_preview.html", "en", headers=NO_STORE, **context)

    @get("/frame", name="surveys:admin-templates-frame")
    async def frame(
        self,
        settings: AppSettings,
        now: Now,
        wording_previews: EmailPreviews,
        key: FromQuery[str | None] = None,
        lang: FromQuery[str | None] = None,
    ) -> Response[str] | Template:
        """The HTML email (or the survey page) as saved, for the preview frame."""
        key, lang = _chosen(key, lang)
        return await self._frame(settings, now, wording_previews, key, lang, None)

    @post("/frame", name="surveys:admin-templates-frame-draft", status_code=200)
    async def frame_draft(
        self, settings: AppSettings, data: Form, now: Now, wording_previews: EmailPreviews
    ) -> Response[str] | Template:
        """The draft's HTML email (or survey page), posted into the preview frame as the admin types."""
        key, lang = _chosen(form_field(data, "key"), form_field(data, "lang"))
        return await self._frame(settings, now, wording_previews, key, lang, _draft(key, data))

    @post("/save", name="surveys:admin-templates-save", status_code=303)
    async def save(self, request: HTMXRequest, data: Form, now: Now) -> Redirect | Template:
        key, lang = _chosen(form_field(data, "key"), form_field(data, "lang"))
        draft = _draft(key, data)
        try:
            await wording.save(signed_in(request), key, lang, draft, now)
        except WordingRefused as exc:
            return await self._page(request, key, lang, draft, problems=exc.problems, status_code=400)
        return self._back(request, key, lang, done="saved")

    @post("/reset", name="surveys:admin-templates-reset", status_code=303)
    async def reset(self, request: HTMXRequest, data: Form, now: Now) -> Redirect:
        key, lang = _chosen(form_field(data, "key"), form_field(data, "lang"))
        was_set = await wording.reset(signed_in(request), key, lang, now)
        return self._back(request, key, lang, done="reset" if was_set else "default")

    @post("/test", name="surveys:admin-templates-test", status_code=303)
    async def test_email(
        self, request: HTMXRequest, settings: AppSettings, data: Form, now: Now, wording_previews: EmailPreviews
    ) -> Redirect | Template:
        """Send the email as typed (unsaved edits included) to the signed-in admin's own address."""
        key, lang = _chosen(form_field(data, "key"), form_field(data, "lang"))
        draft = _draft(key, data)
        if not kind_of(key).is_email:
            key = "invitation"  # the survey page has no email of its own: send the invitation that links to it
            draft = None
        problem = ""
        try:
            sent_to = await wording_preview.send_test(
                signed_in(request), key, lang, now, settings, wording_previews, draft
            )
        except WordingRefused as exc:
            return await self._page(request, key, lang, draft or {}, problems=exc.problems, status_code=400)
        except MailNotSent:
            problem = "The test email could not be sent: the mail server refused it or could not be reached."
        else:
            if sent_to:
                return self._back(request, key, lang, sent=sent_to)
            problem = "Your account has no email address to send the test to."
        fields = draft if draft is not None else (await wording_preview.editor_fields(key, lang))[0]
        return await self._page(request, key, lang, fields, problems={"test": problem}, status_code=400)

    def _back(self, request: HTMXRequest, key: str, lang: str, **query: str) -> Redirect:
        path = request.app.route_reverse("surveys:admin-templates")
        return Redirect(path=path, query_params={"key": key, "lang": lang, **query}, status_code=303)

    async def _frame(
        self,
        settings: Settings,
        now: datetime,
        previews: EmailPreviewMap,
        key: str,
        lang: str,
        draft: dict[str, str] | None,
    ) -> Response[str] | Template:
        try:
            if kind_of(key).is_email:
                mail = await wording_preview.preview_email(key, lang, settings, now, previews, draft)
                return Response(
                    mail.html,
                    media_type="text/html",
                    headers={"Content-Security-Policy": EMAIL_FRAME_CSP, **FRAME_HEADERS},
                )
            view = await wording_preview.preview_page(lang, settings, draft)
        except WordingRefused as exc:
            reasons = "; ".join(f"{name}: {why}" for name, why in exc.problems.items())
            return Response(
                f"Not shown: {reasons}",
                media_type="text/plain",
                headers={"Content-Security-Policy": EMAIL_FRAME_CSP, **FRAME_HEADERS},
            )
        return page(
            "surveys/pages/survey.html",
            lang,
            headers={"Content-Security-Policy": PAGE_FRAME_CSP, **FRAME_HEADERS},
            signed="preview",
            survey=view,
            error=None,
            preselected={},
            review_items=[],
        )

    async def _page(
        self,
        request: HTMXRequest,
        key: str,
        lang: str,
        fields: dict[str, str],
        *,
        done: str | None = None,
        problems: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Template:
        customised = await wording.customised_slots()
        return page(
            PAGE,
            "en",
            status_code=status_code,
            headers=NO_STORE,
            user=request.user,
            tab="templates",
            key=key,
            lang=lang,
            kind=kind_of(key),
            labels=_labels(key),
            templates=TEMPLATES,
            languages=LANGUAGE_NAMES,
            customised=customised,
            is_customised=slot(key, lang) in customised,
            fields=fields,
            problems=problems or {},
            done=done,
        )
