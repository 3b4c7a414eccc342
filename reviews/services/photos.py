"""Customer photos: judged by their content, re-encoded without metadata, stored under the data folder."""

from __future__ import annotations

import asyncio
import io
import math
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from afterglow.settings import Settings
from reviews.tables import ReviewPhoto

MAX_PHOTOS = 3
#: Larger photos are scaled down to this many pixels on their longer side.
MAX_SIDE = 2000
#: Lists show thumbnails of at most this many pixels on their longer side (sharp on a phone at ~120 CSS px).
THUMBNAIL_SIDE = 480
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}


class PhotoRejected(ValueError):
    """The upload is not a photo we accept; `reason` is one of: type, size, pixels, broken, count."""

    def __init__(self, reason: str, file_name: str = "") -> None:
        super().__init__(f"{file_name or 'photo'}: {reason}")
        self.reason = reason
        self.file_name = file_name


@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int
    thumbnail: bytes = b""


def check_photo(data: bytes, settings: Settings, file_name: str = "") -> CheckedPhoto:
    """Decode the upload whatever its name says; re-encode it upright, at most MAX_SIDE, with no EXIF, GPS,
    XMP or comments. PhotoRejected when it is not a JPEG, PNG or WebP image, too large or broken.
    CPU-bound for a large photo: the web process calls `clean_photos`, which runs it off the event loop."""
    return _cleaned(_opened(data, settings, file_name), file_name)


async def clean_photos(uploads: Sequence[tuple[str, bytes]], settings: Settings) -> list[CheckedPhoto]:
    """Each uploaded (file name, content) checked and cleaned, in order. Count, sizes, types and pixel counts of
    all of them are checked before any is decoded; decoding runs in a pool of `review_photo_decoders` threads."""
    if len(uploads) > MAX_PHOTOS:
        raise PhotoRejected("count")
    for name, data in uploads:
        if len(data) > settings.review_photo_max_bytes:
            raise PhotoRejected("size", name)
    loop = asyncio.get_running_loop()
    decoders = _decoders(settings.review_photo_decoders)
    # Headers only, but a crafted file can make even those slow to read: not on the event loop either.
    opened = [await loop.run_in_executor(decoders, _opened, data, settings, name) for name, data in uploads]
    # One photo at a time per request, so that uploads from several customers share the pool.
    pairs = zip(opened, uploads, strict=True)
    return [await loop.run_in_executor(decoders, _cleaned, image, name) for image, (name, _) in pairs]


@cache
def _decoders(size: int) -> ThreadPoolExecutor:
    """The threads photos are decoded in (Pillow lets go of the GIL while it decodes, scales and encodes)."""
    return ThreadPoolExecutor(max_workers=size, thread_name_prefix="photo-decoder")


def _opened(data: bytes, settings: Settings, file_name: str) -> Image.Image:
    """The upload opened from its header, nothing decoded yet; PhotoRejected for a wrong type, a size past the
    limits (a small file can claim a huge canvas: a "decompression bomb") or a header that cannot be read."""
    if len(data) > settings.review_photo_max_bytes:
        raise PhotoRejected("size", file_name)
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except UnidentifiedImageError:
        raise PhotoRejected("type", file_name) from None
    except Image.DecompressionBombError:
        raise PhotoRejected("pixels", file_name) from None
    except (OSError, SyntaxError, ValueError):
        raise PhotoRejected("broken", file_name) from None
    if image.width * image.height > settings.review_photo_max_pixels:
        raise PhotoRejected("pixels", file_name)
    return image


def _cleaned(image: Image.Image, file_name: str) -> CheckedPhoto:
    assert image.format is not None
    fmt = image.format
    # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale: no more pixels than the stored photo needs.
    longest = max(image.size)
    if longest > MAX_SIDE:
        image.draft(None, (math.ceil(image.width * MAX_SIDE / longest), math.ceil(image.height * MAX_SIDE / longest)))
    try:
        image.load()
    except (OSError, SyntaxError, ValueError):
        raise PhotoRejected("broken", file_name) from None
    content_type, extension = FORMATS[fmt]
    clean = _without_metadata(image, fmt)
    small = clean.copy()
    small.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
    data, thumbnail = _encode(clean, fmt), _encode(small, fmt)
    return CheckedPhoto(data, content_type, extension, clean.width, clean.height, thumbnail)


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG":
        image.save(out, "JPEG", quality=85, optimize=True)
    elif fmt == "PNG":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=85)
    return out.getvalue()


def _without_metadata(image: Image.Image, fmt: str) -> Image.Image:
    upright = ImageOps.exif_transpose(image)  # the camera's rotation, applied before its EXIF is dropped
    if upright.mode not in ("RGB", "RGBA", "L"):
        upright = upright.convert("RGBA" if fmt != "JPEG" and "transparency" in upright.info else "RGB")
    if fmt == "JPEG" and upright.mode == "RGBA":
        upright = upright.convert("RGB")
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    # A new image carries pixels only: nothing from `info` (exif, xmp, icc, comments) can follow it.
    clean = Image.new(upright.mode, upright.size)
    clean.paste(upright)
    return clean


def store_photo(photo: CheckedPhoto, settings: Settings) -> str:
    """Write the photo (and its thumbnail) under a fresh random name, which readers cannot guess; returns it."""
    folder = settings.photo_folder
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{photo.extension}"
    for target, data in ((thumbnail_name(name), photo.thumbnail), (name, photo.data)):
        if data:
            partial = folder / f".{target}.part"
            partial.write_bytes(data)
            os.replace(partial, folder / target)
    return name


def thumbnail_name(file_name: str) -> str:
    """`<hex>.jpg` → `<hex>.thumb.jpg`."""
    stem, _, extension = file_name.rpartition(".")
    return f"{stem}.thumb.{extension}"


def remove_photo_file(file_name: str, settings: Settings) -> None:
    for name in (file_name, thumbnail_name(file_name)):
        (settings.photo_folder / name).unlink(missing_ok=True)


async def published_photo(file_name: str) -> dict[str, Any] | None:
    """A photo anyone may see: its review is published."""
    return (
        await ReviewPhoto.select(ReviewPhoto.file_name, ReviewPhoto.content_type)
        .where((ReviewPhoto.file_name == file_name) & (ReviewPhoto.review.status == "published"))
        .first()
    )


async def any_photo(file_name: str, review_id: int | None = None) -> dict[str, Any] | None:
    """A photo whatever its review's state (staff moderating, the author editing); of `review_id` if given."""
    where = ReviewPhoto.file_name == file_name
    if review_id is not None:
        where &= ReviewPhoto.review == review_id
    return await ReviewPhoto.select(ReviewPhoto.file_name, ReviewPhoto.content_type).where(where).first()


async def photos_of(review_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each review's photos in upload order."""
    if not review_ids:
        return {}
    rows = (
        await ReviewPhoto.select(
            ReviewPhoto.review, ReviewPhoto.file_name, ReviewPhoto.width, ReviewPhoto.height, ReviewPhoto.content_type
        )
        .where(ReviewPhoto.review.is_in(review_ids))
        .order_by(ReviewPhoto.review)
        .order_by(ReviewPhoto.position)
        .order_by(ReviewPhoto.id)
    )
    found: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(int(row["review"]), []).append(row)
    return found
