"""`/`: in the embedded default a start page (sign in, the dev outbox, the API docs, the commands, the API key);
in production a redirect to the staff pages, which send a visitor who is not signed in to /login."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Redirect, Template

from afterglow.web import AppSettings, page


class StartController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="start")
    async def start(self, settings: AppSettings) -> Template | Redirect:
        if settings.production:
            return Redirect("/app")
        key_file = settings.dev_api_key_file
        api_key = settings.api_key or (key_file.read_text().strip() if key_file.is_file() else "")
        return page(
            "operations/pages/start.html",
            "en",
            headers={"Cache-Control": "no-store"},
            shop_name=settings.shop_name,
            base_url=settings.base_url,
            dev_outbox=settings.dev_outbox,
            api_key=api_key,
            api_key_file=str(key_file),
        )
