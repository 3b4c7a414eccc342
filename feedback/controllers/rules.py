"""Routing rules for admins (`/app/admin/routing`): the list in evaluation order, create and edit, switch off,
reorder, delete, and "try this rule on the last 100 responses" (nothing is saved by a try).

Plain forms that redirect back (303) with a message code in `?done=`; with htmx, the list swaps itself after a
change, a refused form comes back as the form with the message next to the field (422; a plain post gets the
whole page, 400), and a try swaps in its result table."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from afterglow.kinds import RULE_KINDS, SCALES
from afterglow.web import Form, Now, error_page
from feedback.policy import LABELS, PRIORITIES, InvalidRule
from feedback.services import rules
from feedback.services.rule_form import RuleForm, previewable, rule_choices
from feedback.services.rules import Preview, UnknownRule

LIST_PAGE = "feedback/pages/rules.html"
FORM_PAGE = "feedback/pages/rules_form.html"
DELETE_PAGE = "feedback/pages/rules_delete.html"
LIST = "feedback/partials/rule_list.html"
FORM = "feedback/partials/rule_form.html"
PREVIEW = "feedback/partials/rule_preview.html"
#: What the list says after a change (`?done=`); codes, so a link cannot make the page say anything.
DONE = {
    "created": "Rule saved. It applies to feedback from now on.",
    "saved": "Changes saved. They apply to feedback from now on.",
    "deleted": "Rule deleted. Inbox items it routed stay where they are.",
    "moved": "Order changed.",
    "on": "Rule switched on.",
    "off": "Rule switched off: routing skips it.",
}


def _context(request: HTMXRequest, **context: Any) -> dict[str, Any]:
    return {"language": "en", "user": request.user, "tab": "routing", **context}


def _not_found(request: HTMXRequest) -> Response[Any]:
    return error_page(request, 404, "Not found", "There is no such routing rule.")


class RoutingRulesController(Controller):
    path = "/app/admin/routing"
    guards = [require_roles("admin")]
    include_in_schema = False

    # The list --------------------------------------------------------------------------------------------------

    @get("/", name="feedback:rules")
    async def rules_list(self, request: HTMXRequest, now: Now, done: FromQuery[str | None] = None) -> Template:
        """Every rule in evaluation order, with what each did in the last 30 days."""
        return Template(template_name=LIST_PAGE, context=await self._list_context(request, now, DONE.get(done or "")))

    async def _list_context(self, request: HTMXRequest, now: Now, done: str | None) -> dict[str, Any]:
        return _context(
            request,
            rules=await rules.all_rules(),
            team_names=await rules.team_names(),
            activity=await rules.rule_activity(now),
            done=done,
        )

    async def _changed(self, request: HTMXRequest, now: Now, done: str) -> Template | Redirect:
        """After a change from the list: htmx gets the list again (and the message out of band)."""
        if not request.htmx:
            path = request.app.route_reverse("feedback:rules")
            return Redirect(path=path, query_params={"done": done}, status_code=303)
        context = await self._list_context(request, now, DONE[done])
        return Template(template_name=LIST, context={**context, "oob": True})

    @post("/{rule_id:int}/active", name="feedback:rule-active", status_code=303)
    async def switch(
        self, request: HTMXRequest, rule_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        active = data.get("active") == "1"
        try:
            await rules.set_active(rule_id, active, signed_in(request), now)
        except UnknownRule:
            return _not_found(request)
        return await self._changed(request, now, "on" if active else "off")

    @post("/{rule_id:int}/move", name="feedback:rule-move", status_code=303)
    async def move(
        self, request: HTMXRequest, rule_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        """One place up or down in the evaluation order."""
        step = -1 if data.get("step") == "up" else 1
        try:
            await rules.move_rule(rule_id, step, signed_in(request), now)
        except UnknownRule:
            return _not_found(request)
        return await self._changed(request, now, "moved")

    @post("/{rule_id:int}/delete", name="feedback:rule-delete", status_code=303)
    async def delete(
        self, request: HTMXRequest, rule_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        """Deletes once confirmed (`confirm=yes`: htmx asks in the browser first); otherwise asks on a page."""
        try:
            rule = await rules.get_rule(rule_id)
            if data.get("confirm") != "yes":
                return Template(template_name=DELETE_PAGE, context=_context(request, rule=rule))
            await rules.delete_rule(rule_id, signed_in(request), now)
        except UnknownRule:
            return _not_found(request)
        return await self._changed(request, now, "deleted")

    # Create and edit -------------------------------------------------------------------------------------------

    @get("/new", name="feedback:rule-new")
    async def new(self, request: HTMXRequest) -> Template:
        return await self._form_page(request, RuleForm(), None)

    @get("/{rule_id:int}", name="feedback:rule-edit")
    async def edit(self, request: HTMXRequest, rule_id: FromPath[int]) -> Template | Response[Any]:
        try:
            rule = await rules.get_rule(rule_id)
        except UnknownRule:
            return _not_found(request)
        return await self._form_page(request, RuleForm.from_rule(rule, await rule_choices()), rule_id)

    @post("/", name="feedback:rule-create", status_code=303)
    async def create(self, request: HTMXRequest, data: Form, now: Now) -> Template | Redirect | Response[Any]:
        form = RuleForm.from_data(data)
        try:
            await rules.create_rule(form.rule(), signed_in(request), now)
        except InvalidRule as exc:
            return await self._refused(request, form, None, exc)
        return self._saved(request, "created")

    @post("/{rule_id:int}", name="feedback:rule-update", status_code=303)
    async def update(
        self, request: HTMXRequest, rule_id: FromPath[int], data: Form, now: Now
    ) -> Template | Redirect | Response[Any]:
        form = RuleForm.from_data(data)
        try:
            await rules.update_rule(rule_id, form.rule(rule_id), signed_in(request), now)
        except UnknownRule:
            return _not_found(request)
        except InvalidRule as exc:
            return await self._refused(request, form, rule_id, exc)
        return self._saved(request, "saved")

    def _saved(self, request: HTMXRequest, done: str) -> Redirect | Response[Any]:
        path = request.app.route_reverse("feedback:rules")
        if request.htmx:  # the whole list page, not a swap: the form is done with
            return Response(content=b"", status_code=200, headers={"HX-Redirect": f"{path}?done={done}"})
        return Redirect(path=path, query_params={"done": done}, status_code=303)

    async def _refused(
        self, request: HTMXRequest, form: RuleForm, rule_id: int | None, invalid: InvalidRule
    ) -> Template:
        if request.htmx:
            context = await self._form_context(request, form, rule_id, invalid=invalid)
            return Template(template_name=FORM, context=context, status_code=422)
        return await self._form_page(request, form, rule_id, invalid=invalid, status_code=400)

    # Trying a rule ---------------------------------------------------------------------------------------------

    @post("/preview", name="feedback:rule-preview", status_code=200)
    async def preview_new(self, request: HTMXRequest, data: Form) -> Template:
        """How a new rule would route the last 100 feedback items."""
        return await self._preview(request, RuleForm.from_data(data), None)

    @post("/{rule_id:int}/preview", name="feedback:rule-preview-saved", status_code=200)
    async def preview_saved(self, request: HTMXRequest, rule_id: FromPath[int], data: Form) -> Template | Response[Any]:
        """How the last 100 feedback items would be routed with this rule changed as in the form."""
        try:
            await rules.get_rule(rule_id)
        except UnknownRule:
            return _not_found(request)
        return await self._preview(request, RuleForm.from_data(data), rule_id)

    async def _preview(self, request: HTMXRequest, form: RuleForm, rule_id: int | None) -> Template:
        try:
            rule = previewable(form, rule_id)
        except InvalidRule as exc:
            if request.htmx:
                return Template(template_name=PREVIEW, context=_context(request, invalid=exc), status_code=422)
            return await self._form_page(request, form, rule_id, invalid=exc, status_code=400)
        preview = await rules.preview_rule(rule, replacing=rule_id)
        if request.htmx:
            return Template(template_name=PREVIEW, context=_context(request, preview=preview, rule=rule))
        return await self._form_page(request, form, rule_id, preview=preview)

    # The form page ---------------------------------------------------------------------------------------------

    async def _form_context(
        self,
        request: HTMXRequest,
        form: RuleForm,
        rule_id: int | None,
        *,
        invalid: InvalidRule | None = None,
        preview: Preview | None = None,
    ) -> dict[str, Any]:
        return _context(
            request,
            form=form,
            rule_id=rule_id,
            choices=await rule_choices(),
            kinds=RULE_KINDS,
            scales=SCALES,
            labels=LABELS,
            priorities=PRIORITIES,
            invalid=invalid,
            preview=preview,
            preview_size=rules.PREVIEW_SIZE,
        )

    async def _form_page(
        self,
        request: HTMXRequest,
        form: RuleForm,
        rule_id: int | None,
        *,
        invalid: InvalidRule | None = None,
        preview: Preview | None = None,
        status_code: int = 200,
    ) -> Template:
        context = await self._form_context(request, form, rule_id, invalid=invalid, preview=preview)
        return Template(template_name=FORM_PAGE, context=context, status_code=status_code)
