"""The team inbox: the filtered list, one item with its timeline and the changes staff make, and support coaching.

The list's filter form is a plain GET form; with htmx it swaps only the list and pushes the URL, and the same URL
without HX-Request is the whole page. Each change is a small form: a plain post redirects back (303) to the item,
with htmx it swaps the part it changed and refreshes the timeline out of band. Refused input comes back with the
message and what was typed (400). Managers read everything and change nothing (403); an item of another team
does not exist for a member (404)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from afterglow.numbers import whole_number
from afterglow.overrides import WEB_MAX_AGE
from afterglow.web import Now, error_page, form_field
from feedback.policy import LABELS
from feedback.services import agents, inbox_list, thread
from feedback.services.inbox import (
    STATUSES,
    NotYours,
    ReadOnly,
    duration_text,
    has_lexicon,
    item_view,
    sentence_tone,
)
from feedback.services.thread import InvalidChange
from feedback.services.topic_settings import current_topics

PAGES = "feedback/pages/"
PARTS = "feedback/partials/"
HANDLING = PARTS + "item_handling.html"
TAGS = PARTS + "item_tags.html"
TIMELINE = PARTS + "item_timeline.html"
#: Responses differ with and without htmx; caches must keep both.
VARY = {"Vary": "HX-Request"}
#: What the item page says after a plain form's redirect (`?done=`); codes, so a link cannot make it say anything.
DONE = {
    "status": "Status changed.",
    "assigned": "Assignee changed.",
    "note": "Note added.",
    "moved": "Moved: the other team has it now, and it is closed here.",
    "moved-already": "The other team had this feedback already; it is closed here.",
    "label": "Sentiment saved.",
    "topics": "Topics saved.",
}
Answer = Template | Redirect | Response[Any]
#: Only admins and members handle feedback; managers read it.
handlers_only = [require_roles("admin", "member")]


def _partial(request: HTMXRequest) -> bool:
    """An htmx request that swaps part of the page (not a history restore, which needs the whole page)."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def _not_found(request: HTMXRequest) -> Response[Any]:
    return error_page(request, 404, "Not found", "There is no such feedback in your inboxes.")


class InboxController(Controller):
    path = "/app"
    include_in_schema = False

    @get("/", name="staff:home")
    async def home(self) -> Redirect:
        return Redirect(path="/app/inbox", status_code=303)

    # The list -----------------------------------------------------------------------------------------------

    @get("/inbox", name="feedback:inbox")
    async def inbox(self, request: HTMXRequest, now: Now) -> Template:
        """Open feedback by default, newest first; every filter is a query parameter."""
        user = signed_in(request)
        params = request.query_params
        teams = await inbox_list.team_choices(user)
        topics = await current_topics(WEB_MAX_AGE)  # the filter's choices, as saved on the topics page
        context: dict[str, Any] = {
            "user": user,
            "language": "en",
            "form": {name: params.get(name) or "" for name in inbox_list.FILTER_FIELDS},
            "teams": teams,
            "found": None,
            "error": None,
            "statuses": STATUSES,
            "status_filters": inbox_list.STATUS_FILTERS,
            "kinds": inbox_list.KINDS,
            "labels": LABELS,
            "topics": list(topics),
            "bands": inbox_list.SCORE_BANDS,
            "score_kinds": inbox_list.SCORE_KINDS,
            "duration": duration_text,
            "tone": sentence_tone,
            "page_url": partial(inbox_list.list_url, request.url.path, params),
        }
        status_code = 200
        try:
            filters = inbox_list.parse_filters(params, teams)
        except inbox_list.InvalidFilter as exc:
            context["error"] = exc
            status_code = 400
        else:
            context["found"] = await inbox_list.list_items(user, filters, now)
        if not _partial(request):
            return Template(template_name=PAGES + "inbox.html", context=context, status_code=status_code, headers=VARY)
        # The URL to show (and come back to) has only the filters that are set.
        page = context["found"].page if context["found"] is not None else 1
        headers = {**VARY, "HX-Push-Url": inbox_list.list_url(request.url.path, params, page)}
        return Template(
            template_name=PARTS + "inbox_list.html", context=context, status_code=status_code, headers=headers
        )

    @get("/inbox/agents", name="feedback:agents")
    async def agents(self, request: HTMXRequest, now: Now) -> Template:
        """Support CSAT per agent over a period, over the feedback this person may see."""
        user = signed_in(request)
        raw = request.query_params.get("period") or ""
        context: dict[str, Any] = {"user": user, "language": "en", "periods": agents.PERIODS, "period": raw}
        status_code = 200
        try:
            days = agents.parse_period(raw)
        except agents.UnofferedPeriod as exc:
            context.update(error=str(exc), scores=[])
            status_code = 400
        else:
            context.update(error=None, period=str(days), scores=await agents.agent_scores(user, days, now))
        template = PARTS + "agents_table.html" if _partial(request) else PAGES + "agents.html"
        return Template(template_name=template, context=context, status_code=status_code, headers=VARY)

    # One item -----------------------------------------------------------------------------------------------

    async def _context(self, request: HTMXRequest, item_id: int, now: datetime, **extra: Any) -> dict[str, Any]:
        """Everything the item page and its parts render from (NotYours when the item is not for this person)."""
        view = await item_view(signed_in(request), item_id, now)
        return {
            "user": request.user,
            "language": "en",
            "item": view.item,
            "feedback": view.feedback,
            "view": view,
            "can_act": view.can_act,
            "thread": await thread.timeline(view.feedback["id"]),
            "statuses": STATUSES,
            "status_changes": thread.STATUS_CHANGES,
            "labels": LABELS,
            "topic_choices": list(await current_topics(WEB_MAX_AGE)),
            "kinds": inbox_list.KINDS,
            "tone": sentence_tone,
            "has_lexicon": has_lexicon,
            "duration": duration_text,
            "note_max": thread.NOTE_MAX,
            "error": None,
            "typed": {},
            "done": None,
            **extra,
        }

    @get("/inbox/{item_id:int}", name="feedback:item")
    async def item(
        self, request: HTMXRequest, item_id: FromPath[int], now: Now, done: FromQuery[str | None] = None
    ) -> Template | Response[Any]:
        try:
            context = await self._context(request, item_id, now, done=DONE.get(done or ""))
        except NotYours:
            return _not_found(request)
        return Template(template_name=PAGES + "item.html", context=context)

    async def _change(
        self,
        request: HTMXRequest,
        item_id: int,
        now: datetime,
        change: Callable[[], Awaitable[Any]],
        *,
        part: str,
        done: str,
        typed: dict[str, Any],
    ) -> Answer:
        """Make one change; answer with the part it changed (htmx) or a redirect back to the item (plain)."""
        try:
            result = await change()
        except NotYours:
            return _not_found(request)
        except ReadOnly:
            return error_page(request, 403, "Not for your role", "Your account can read this feedback, not handle it.")
        except InvalidChange as exc:
            return await self._refused(request, item_id, now, part, exc, typed)
        if isinstance(result, thread.Moved) and result.already_there:
            done = "moved-already"
        if not request.htmx:
            path = request.app.route_reverse("feedback:item", item_id=item_id)
            return Redirect(path=path, query_params={"done": done}, status_code=303)
        try:
            context = await self._context(request, item_id, now, part=part, notice=DONE[done])
        except NotYours:
            return _not_found(request)
        return Template(template_name=PARTS + "item_changed.html", context=context)

    async def _refused(
        self, request: HTMXRequest, item_id: int, now: datetime, part: str, error: InvalidChange, typed: dict[str, Any]
    ) -> Answer:
        """The part again (htmx) or the whole page (plain post), with the message and what was typed (400)."""
        try:
            context = await self._context(request, item_id, now, error=error, typed=typed)
        except NotYours:
            return _not_found(request)
        template = part if request.htmx else PAGES + "item.html"
        return Template(template_name=template, context=context, status_code=400)

    @post("/inbox/{item_id:int}/status", name="feedback:item-status", guards=handlers_only, status_code=303)
    async def status(self, request: HTMXRequest, item_id: FromPath[int], now: Now) -> Answer:
        """New → in progress → resolved or won't fix, and reopen."""
        form = await request.form()
        target = form_field(form, "status")
        change = partial(thread.set_status, signed_in(request), item_id, target, now)
        return await self._change(request, item_id, now, change, part=HANDLING, done="status", typed={})

    @post("/inbox/{item_id:int}/assign", name="feedback:item-assign", guards=handlers_only, status_code=303)
    async def assign(self, request: HTMXRequest, item_id: FromPath[int], now: Now) -> Answer:
        """To a member of the item's team ("me" for oneself; admins may choose anyone), or to nobody ("").
        The "Assign to me" button sends `assign_me` next to the select's value, and wins over it."""
        form = await request.form()
        raw = "me" if form_field(form, "assign_me") else form_field(form, "assignee").strip()
        user = signed_in(request)

        async def change() -> None:
            number = whole_number(raw)
            if raw and raw != "me" and number is None:
                raise InvalidChange("assignee", "Choose a person from the list.")
            assignee = user.id if raw == "me" else number
            await thread.assign(user, item_id, assignee, now)

        return await self._change(request, item_id, now, change, part=HANDLING, done="assigned", typed={})

    @post("/inbox/{item_id:int}/notes", name="feedback:item-note", guards=handlers_only, status_code=303)
    async def note(self, request: HTMXRequest, item_id: FromPath[int], now: Now) -> Answer:
        """An internal note on the timeline."""
        form = await request.form()
        body = form_field(form, "note")
        change = partial(thread.add_note, signed_in(request), item_id, body, now)
        return await self._change(request, item_id, now, change, part=TIMELINE, done="note", typed={"note": body})

    @post("/inbox/{item_id:int}/move", name="feedback:item-move", guards=handlers_only, status_code=303)
    async def move(self, request: HTMXRequest, item_id: FromPath[int], now: Now) -> Answer:
        """Hand the feedback to another team (by its slug), closing it here."""
        form = await request.form()
        team, note = form_field(form, "team"), form_field(form, "move_note")
        change = partial(thread.move, signed_in(request), item_id, team, note, now)
        typed = {"team": team, "move_note": note}
        return await self._change(request, item_id, now, change, part=HANDLING, done="moved", typed=typed)

    @post("/inbox/{item_id:int}/label", name="feedback:item-label", guards=handlers_only, status_code=303)
    async def label(self, request: HTMXRequest, item_id: FromPath[int], now: Now) -> Answer:
        """Correct the sentiment label ("" gives it back to the analyser)."""
        form = await request.form()
        chosen = form_field(form, "label")
        change = partial(thread.correct_label, signed_in(request), item_id, chosen, now)
        return await self._change(request, item_id, now, change, part=TAGS, done="label", typed={"label": chosen})

    @post("/inbox/{item_id:int}/topics", name="feedback:item-topics", guards=handlers_only, status_code=303)
    async def topics(self, request: HTMXRequest, item_id: FromPath[int], now: Now) -> Answer:
        """Correct the topics (the checked ones, from the configured list)."""
        form = await request.form()
        chosen = [t for t in form.getall("topics", []) if isinstance(t, str)]
        change = partial(thread.correct_topics, signed_in(request), item_id, chosen, now)
        return await self._change(request, item_id, now, change, part=TAGS, done="topics", typed={"topics": chosen})
