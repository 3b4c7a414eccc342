"""The API docs at /schema, served from local files (static/vendor/swagger-ui) under the app's CSP: no CDN, no
inline script. Litestar's own render plugins load from a CDN and start Swagger UI with an inline script."""

from __future__ import annotations

from html import escape
from typing import Any

from litestar import Request
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server

VENDOR = "/static/vendor/swagger-ui"
JS_URL = f"{VENDOR}/swagger-ui-bundle.js"
CSS_URL = f"{VENDOR}/swagger-ui.css"
INIT_URL = "/static/js/api-docs.js"


class LocalSwaggerRenderPlugin(OpenAPIRenderPlugin):
    """Swagger UI from /static; the page names the schema's URL in a data attribute that api-docs.js reads."""

    def __init__(self, path: str = "/swagger") -> None:
        super().__init__(path=path)

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        schema_url = escape(self.get_openapi_json_route(request))
        return (
            '<!doctype html><html lang="en"><head>'
            f'<meta charset="utf-8"><title>{title}</title>'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="icon" href="data:,">'
            f'<link rel="stylesheet" href="{CSS_URL}">'
            f'<script src="{JS_URL}" defer></script>'
            f'<script src="{INIT_URL}" defer></script>'
            "</head><body>"
            f'<div id="swagger-ui" data-schema-url="{schema_url}"></div>'
            "</body></html>"
        ).encode()


#: How the key-guarded API routes authenticate; those controllers name it in their `security`.
API_KEY_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}]


def openapi_config(base_url: str = "", title: str = "Afterglow API", version: str = "1.0.0") -> OpenAPIConfig:
    """The API docs; their "try it out" calls go to the public address (AFTERGLOW_BASE_URL) when one is given."""
    return OpenAPIConfig(
        title=title,
        version=version,
        path="/schema",
        servers=[Server(url=base_url or "/")],
        render_plugins=[LocalSwaggerRenderPlugin()],
        components=Components(
            security_schemes={
                "apiKey": SecurityScheme(
                    type="http", scheme="bearer", description="An API key from Admin → API keys, or AFTERGLOW_API_KEY."
                )
            }
        ),
    )
