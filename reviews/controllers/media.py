"""Review photos as files: public once their review is published, with their checked type and long caching."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import File

from afterglow.ratelimit import PUBLIC_LIMITS
from afterglow.settings import Settings
from afterglow.web import AppSettings
from reviews.services.photos import published_photo, thumbnail_name

#: Names are random and a file never changes under its name, so browsers and CDNs may keep it for a year.
PHOTO_CACHE = "public, max-age=31536000, immutable"


#: `?size=thumb` asks for the small version that lists show; the full photo is the default.
Size = Literal["full", "thumb"]


def photo_file(row: dict[str, Any], settings: Settings, cache: str = PHOTO_CACHE, size: Size = "full") -> File:
    """The stored photo, sent with the content type it was checked as (never guessed from its name)."""
    path = settings.photo_folder / row["file_name"]
    thumbnail = settings.photo_folder / thumbnail_name(row["file_name"])
    if size == "thumb" and thumbnail.is_file():
        path = thumbnail
    if not path.is_file():
        raise NotFoundException("photo not found")
    return File(
        path=path,
        media_type=row["content_type"],
        content_disposition_type="inline",
        headers={"Cache-Control": cache},
    )


class ReviewPhotoController(Controller):
    path = "/media/reviews"
    middleware = PUBLIC_LIMITS
    include_in_schema = False

    @get("/{file:str}", name="reviews:photo")
    async def photo(self, file: FromPath[str], settings: AppSettings, size: FromQuery[Size] = "full") -> File:
        """`url_for("reviews:photo", file=...)`: `name` would clash with url_for's own argument."""
        row = await published_photo(file)
        if row is None:
            raise NotFoundException("photo not found")
        return photo_file(row, settings, size=size)
