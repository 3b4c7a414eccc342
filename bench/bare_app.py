"""The yardstick: one plain-text Litestar route, served the same way as Afterglow in benchmarks."""

from __future__ import annotations

from litestar import Litestar, MediaType, get


@get("/", media_type=MediaType.TEXT, sync_to_thread=False)
def index() -> str:
    return "Hello, world!"


app = Litestar(route_handlers=[index], debug=False)
