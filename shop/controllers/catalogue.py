"""The admin page of the catalogue's categories (`/app/admin/catalogue`): the shop categories its products come in,
how many products each has, and the category each is mapped onto (a delay category or any other name). Saving is
a plain form that redirects back (303) saying how many stored order items changed category; it is audited."""

from __future__ import annotations

from litestar import Controller, get, post
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest
from litestar.response import Redirect, Template

from accounts.auth import require_roles, signed_in
from afterglow.web import AppSettings, Form, Now
from shop.platforms.products import normal_category
from shop.services.categories import save_category_map, shop_categories

PAGE = "shop/pages/catalogue.html"
#: Each shop category's input is named `map:<shop category>`.
FIELD = "map:"


def saved_message(changed: int | None, items: int | None) -> str | None:
    if changed is None:
        return None
    if not changed:
        return "Nothing changed."
    shop = "1 shop category" if changed == 1 else f"{changed} shop categories"
    stored = "1 order item" if items == 1 else f"{items or 0} order items"
    return f"Mapping saved for {shop}; {stored} re-categorised."


class CatalogueAdminController(Controller):
    path = "/app/admin/catalogue"
    guards = [require_roles("admin")]
    include_in_schema = False

    @get("/", name="shop:admin-catalogue")
    async def page(
        self,
        request: HTMXRequest,
        settings: AppSettings,
        changed: FromQuery[int | None] = None,
        items: FromQuery[int | None] = None,
    ) -> Template:
        categories = await shop_categories()
        delays = settings.category_delays
        return Template(
            template_name=PAGE,
            context={
                "language": "en",
                "user": request.user,
                "tab": "catalogue",
                "done": saved_message(changed, items),
                "categories": categories,
                "delays": delays,
                "default_delay": settings.default_delay_days,
                "delay_days": {
                    c.name: delays.get(c.category or normal_category(c.name), settings.default_delay_days)
                    for c in categories
                },
            },
        )

    @post("/", name="shop:admin-catalogue-save", status_code=303)
    async def save(self, request: HTMXRequest, data: Form, now: Now) -> Redirect:
        """Map each shop category onto the category typed for it ("" removes its mapping)."""
        wanted = {
            name.removeprefix(FIELD): str(value[-1] if isinstance(value, list) else value)
            for name, value in data.items()
            if name.startswith(FIELD)
        }
        saved = await save_category_map(wanted, signed_in(request), now)
        path = request.app.route_reverse("shop:admin-catalogue")
        return Redirect(
            path=path, query_params={"changed": str(len(saved.changed)), "items": str(saved.items)}, status_code=303
        )
