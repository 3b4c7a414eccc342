"""The admin page of the shop's learned sentiment model (`/app/admin/learning`): what it learned (the words and
phrases that weigh most towards unhappy and happy, per language), its held-out accuracy next to the lexicon's,
when and on how many texts it was trained, and a switch to turn it off (or back on). The switch is a plain form
that redirects back (303) with a message code; it is audited."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from afterglow.web import Form, Now, form_field
from feedback.services import learning

PAGE = "feedback/pages/learning.html"
DONE = {
    "off": "The learned model is off: the lexicon labels feedback.",
    "on": "The learned model labels feedback again.",
    "none": "No learned model has earned its place yet: the lexicon keeps labelling feedback.",
}


class LearningController(Controller):
    path = "/app/admin/learning"
    guards = [require_roles("admin")]
    include_in_schema = False

    @get("/", name="feedback:admin-learning")
    async def page(self, request: HTMXRequest, done: FromQuery[str | None] = None) -> Template:
        return Template(
            template_name=PAGE,
            context={
                "language": "en",
                "user": request.user,
                "tab": "learning",
                "done": DONE.get(done or ""),
                **await learning.overview(),
            },
        )

    @post("/switch", name="feedback:admin-learning-switch", status_code=303)
    async def switch(self, request: HTMXRequest, data: Form, now: Now) -> Redirect:
        """Turn the learned model off ("on" = "0") or back on ("1")."""
        on = form_field(data, "on") == "1"
        in_use = await learning.switch(signed_in(request), on, now)
        done = "off" if not on else "on" if in_use else "none"
        path = request.app.route_reverse("feedback:admin-learning")
        return Redirect(path=path, query_params={"done": done}, status_code=303)
