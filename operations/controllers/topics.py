"""The topic list in the browser (`/app/admin/topics`, admins only): each topic with its keywords per language;
add, rename, remove, edit; reset to the file's or the default list; routing rules naming a topic that is gone;
how much feedback was tagged with other keywords, and re-tagging it in the background with a progress bar."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, post
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from accounts.controllers.admin import Flash, admin_page, back, field
from afterglow.web import Form, Now
from operations.services import topics as admin_topics

PAGE = "operations/pages/topics.html"
PROGRESS = "operations/partials/retag_progress.html"
#: Empty rows under the list, for new topics.
NEW_ROWS = 2
MAX_ROWS = 500


def _rows(data: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    """The form's rows as (topic, language → keywords); a ticked "remove" drops its row."""
    try:
        count = min(int(field(data, "rows") or 0), MAX_ROWS)
    except ValueError:
        count = 0
    languages = [lang for lang in field(data, "languages").split(",") if lang]
    rows = []
    for i in range(count):
        if field(data, f"remove-{i}"):
            continue
        rows.append((field(data, f"topic-{i}"), {lang: field(data, f"keywords-{i}-{lang}") for lang in languages}))
    return rows


class TopicsController(Controller):
    path = "/app/admin/topics"
    guards = [require_roles("admin")]
    include_in_schema = False

    async def _page(
        self, request: HTMXRequest, status_code: int = 200, rows: list[Any] | None = None, **context: Any
    ) -> Template:
        view = await admin_topics.view(rows)
        return admin_page(PAGE, request, status_code, tab="topics", view=view, new_rows=NEW_ROWS, **context)

    @get("/", name="operations:topics")
    async def page(self, request: HTMXRequest, done: Flash = None) -> Template:
        return await self._page(request, done=done)

    @post("/", name="operations:topics-save", status_code=303)
    async def save(self, request: HTMXRequest, data: Form, now: Now) -> Template | Redirect:
        rows = _rows(data)
        error = await admin_topics.save(signed_in(request), rows, now)
        if error:
            return await self._page(request, 400, rows, error=error)
        return back(request, "operations:topics", done="Topics saved: new feedback is tagged with them.")

    @post("/reset", name="operations:topics-reset", status_code=303)
    async def reset(self, request: HTMXRequest, now: Now) -> Redirect:
        if await admin_topics.reset(signed_in(request), request.app.state["settings"], now):
            return back(request, "operations:topics", done="Back to the default topics.")
        return back(request, "operations:topics", error="The topics already are the default ones.")

    @post("/retag", name="operations:topics-retag", status_code=303)
    async def retag(self, request: HTMXRequest, now: Now) -> Redirect:
        if error := await admin_topics.start_retag(signed_in(request), now):
            return back(request, "operations:topics", error=error)
        return back(request, "operations:topics", done="Re-tagging started.")

    @get("/retag", name="operations:topics-progress")
    async def progress(self, request: HTMXRequest) -> Template:
        """htmx: the progress bar, polled while the job runs."""
        view = await admin_topics.view()
        return Template(template_name=PROGRESS, context={"language": "en", "view": view})
