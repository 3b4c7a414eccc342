"""Settings in the browser (`/app/admin/settings`, admins only): grouped fields, each with its value in effect and
whether it comes from the environment or was changed here; a save names every wrong field at once (400); a
reset per field; the shop's logo. Also the brand's public stylesheet and logo, which customers' pages load."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.plugins.htmx import HTMXRequest
from litestar.response import File, Redirect, Template

from accounts.auth import require_roles, signed_in
from accounts.controllers.admin import Flash, admin_page, back, field
from afterglow import editable
from afterglow.brand import brand_of, stylesheet
from afterglow.forms import form_values
from afterglow.i18n import LANGUAGE_NAMES
from afterglow.settings import Settings
from afterglow.web import AppSettings, Form, Now, error_page
from operations.services import settings as admin_settings

PAGE = "operations/pages/settings.html"
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
#: Room for a logo a little past the limit, so the admin is told why instead of getting a bare 413.
MAX_UPLOAD = 2 * admin_settings.LOGO_MAX_BYTES


def _base(request: HTMXRequest) -> Settings:
    """The environment's settings (defaults), as the app was started with."""
    return request.app.state["settings"]


def _sent(data: dict[str, Any], key: str) -> str:
    """A field as text; checkboxes (a hidden empty value, then one per ticked box) joined by commas."""
    ticked = editable.BY_KEY[key].kind in ("rules", "languages")
    return ",".join(form_values(data, key)) if ticked else field(data, key)


class SettingsController(Controller):
    path = "/app/admin/settings"
    guards = [require_roles("admin")]
    include_in_schema = False

    async def _page(
        self,
        request: HTMXRequest,
        settings: Settings,
        status_code: int = 200,
        form: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        **context: Any,
    ) -> Template:
        return admin_page(
            PAGE,
            request,
            status_code,
            tab="settings",
            sections=await admin_settings.sections(_base(request), form, errors),
            errors=errors or {},
            brand=brand_of(settings),
            HOLD_RULES=editable.HOLD_RULES,
            LANGUAGE_NAMES=LANGUAGE_NAMES,
            logo_stored=bool(settings.logo_file),
            **context,
        )

    @get("/", name="operations:settings")
    async def page(self, request: HTMXRequest, settings: AppSettings, done: Flash = None) -> Template:
        return await self._page(request, settings, done=done)

    @post("/", name="operations:settings-save", status_code=303)
    async def save(self, request: HTMXRequest, data: Form, settings: AppSettings, now: Now) -> Template | Redirect:
        form = {key: _sent(data, key) for key in editable.BY_KEY if key in data}
        errors = await admin_settings.save(signed_in(request), form, _base(request), now)
        if errors:
            names = ", ".join(editable.BY_KEY[key].label for key in errors)
            error = f"Nothing was saved: check {names}."
            return await self._page(request, settings, 400, form, errors, error=error)
        return back(request, "operations:settings", done="Settings saved: they apply from the next pass on.")

    @post("/reset", name="operations:settings-reset", status_code=303)
    async def reset(self, request: HTMXRequest, data: Form, settings: AppSettings, now: Now) -> Redirect:
        key = field(data, "key")
        if await admin_settings.reset(signed_in(request), key, settings, now):
            return back(request, "operations:settings", done="Back to the default.")
        return back(request, "operations:settings", error="That setting already has its default.")

    @post("/logo", name="operations:settings-logo", status_code=303, request_max_body_size=MAX_UPLOAD)
    async def logo(
        self, request: HTMXRequest, data: MultipartForm, settings: AppSettings, now: Now
    ) -> Template | Redirect:
        upload = data.get("logo")
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await self._page(request, settings, 400, error="Choose a logo to upload.")
        try:
            await admin_settings.store_logo(signed_in(request), await upload.read(), settings, now)
        except admin_settings.LogoRejected as exc:
            return await self._page(request, settings, 400, error=str(exc))
        return back(request, "operations:settings", done="The new logo is in use.")


class BrandController(Controller):
    """Public: customers' pages, the widget and emails load the brand from here."""

    path = "/brand"
    include_in_schema = False

    @get("/style.css", name="operations:brand-css", cache=False)
    async def style(self, settings: AppSettings) -> Response[str]:
        headers = {"Cache-Control": "public, max-age=300"}
        return Response(stylesheet(brand_of(settings)), media_type="text/css", headers=headers)

    @get("/logo/{file_name:str}", name="operations:brand-logo")
    async def logo(self, request: HTMXRequest, file_name: FromPath[str], settings: AppSettings) -> File | Response[Any]:
        path = admin_settings.logo_path(file_name, settings)
        if path is None:
            return error_page(request, 404, "Not found", "There is no such logo.")
        # Each logo has its own random name, never reused: caches may keep it.
        headers = {"Cache-Control": "public, max-age=31536000, immutable"}
        return File(path=path, media_type="image/png", content_disposition_type="inline", headers=headers)
