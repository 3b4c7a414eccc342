"""Building orders the way a shop sends them."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def order_payload(
    external_id: str = "1001",
    *,
    email: str = "anna@example.com",
    name: str = "Anna Schmidt",
    locale: str = "en",
    timezone: str = "Europe/Berlin",
    placed_at: str = "2026-03-02T10:00:00+00:00",
    categories: tuple[str, ...] = ("kitchen",),
    channel: str = "web",
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "channel": channel,
        "placed_at": placed_at,
        "currency": "EUR",
        "total": "59.90",
        "customer": {"email": email, "name": name, "locale": locale, "timezone": timezone},
        "items": [
            {"sku": f"SKU-{i}", "name": f"Item {i}", "category": c, "quantity": 1, "price": "29.95"}
            for i, c in enumerate(categories, start=1)
        ],
    }


def event_payload(type_: str, at: datetime | str, agent: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"type": type_, "at": at if isinstance(at, str) else at.isoformat()}
    if agent:
        body["agent"] = agent
    return body


#: Where a phone would have taken the photo: Berlin, written into EXIF's GPS block.
BERLIN_GPS = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}


def photo_bytes(
    fmt: str = "JPEG", size: tuple[int, int] = (64, 48), *, gps: bool = False, orientation: int = 1
) -> bytes:
    """A small real image as a camera would save it, optionally with GPS position and a rotation flag in EXIF."""
    import io

    from PIL import ExifTags, Image

    image = Image.new("RGB", size, (200, 40, 40))
    image.paste((40, 40, 200), (0, 0, size[0] // 2, size[1]))  # left half blue: rotation is visible
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCam"
    exif[ExifTags.Base.Orientation] = orientation
    if gps:
        exif.get_ifd(ExifTags.IFD.GPSInfo).update(BERLIN_GPS)
    out = io.BytesIO()
    image.save(out, fmt, exif=exif)
    return out.getvalue()
