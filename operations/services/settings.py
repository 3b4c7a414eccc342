"""The admin's settings page: what each editable setting is now and where it comes from, saving changes (checked
by afterglow.editable, audited), a reset to the environment's value, and the shop's logo."""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image, UnidentifiedImageError

from accounts.services import Staff, audit
from afterglow import editable, overrides
from afterglow.settings import Settings

LOGO_MAX_BYTES = 1_000_000
#: A logo with more pixels is refused from its header, before it is decoded.
LOGO_MAX_PIXELS = 25_000_000
#: Stored logos are scaled down to fit this box (wide logos stay sharp at ~200 × 64 CSS pixels on a phone).
LOGO_BOX = (800, 256)
LOGO_FILE = re.compile(r"logo-[0-9a-f]{32}\.png")


class LogoRejected(ValueError):
    """The upload is not a logo we accept; the message says why, for the admin."""


@dataclass(frozen=True)
class Shown:
    key: str
    kind: str
    label: str
    help: str
    value: str
    from_database: bool
    default: str
    error: str = ""


async def sections(base: Settings, form: dict[str, str] | None = None, errors: dict[str, str] | None = None) -> Any:
    """The page's sections, each a (title, fields) pair: the value shown is what the admin sent (after an error)
    or the value in effect."""
    stored = await overrides.stored()
    current = editable.overlay(base, stored)
    errors = errors or {}
    grouped: dict[str, list[Shown]] = {name: [] for name in editable.SECTIONS}
    for f in editable.FIELDS:
        value = (form or {}).get(f.key, editable.shown(f.key, getattr(current, f.key)))
        default = editable.shown(f.key, getattr(base, f.key))
        error = errors.get(f.key, "")
        grouped[f.section].append(Shown(f.key, f.kind, f.label, f.help, value, f.key in stored, default, error))
    return list(grouped.items())


async def save(actor: Staff, form: dict[str, str], base: Settings, now: datetime) -> dict[str, str]:
    """Store the changed fields; nothing is stored while any field is wrong. Returns the errors by key."""
    values, errors = editable.check(form)
    if errors:
        return errors
    current = editable.overlay(base, await overrides.stored())
    changed = {key: value for key, value in values.items() if value != getattr(current, key)}
    if changed:
        await overrides.store(changed, actor.username, now)
        await audit(actor, "settings.changed", "settings", now, changed=changed)
    return {}


async def reset(actor: Staff, key: str, settings: Settings, now: datetime) -> bool:
    """Back to the environment's value; False when the key is not an editable setting or was not stored."""
    if key not in editable.KEYS:
        return False
    was = await overrides.forget(key)
    if was is None:
        return False
    if key == editable.LOGO and isinstance(was, str):
        remove_logo_file(was, settings)
    await audit(actor, "settings.reset", "settings", now, key=key)
    return True


def clean_logo(data: bytes) -> bytes:
    """The upload decoded whatever its name says and re-encoded as a PNG without metadata, scaled to fit LOGO_BOX.
    LogoRejected when it is too big or not a PNG, JPEG or WebP image."""
    if len(data) > LOGO_MAX_BYTES:
        raise LogoRejected("The logo must be at most 1 MB.")
    try:
        image = Image.open(io.BytesIO(data), formats=["PNG", "JPEG", "WEBP"])
        if image.width * image.height > LOGO_MAX_PIXELS:
            raise LogoRejected("The logo has too many pixels.")
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise LogoRejected("The logo must be a PNG, JPEG or WebP image.") from None
    image = image.convert("RGBA")
    image.thumbnail(LOGO_BOX)
    clean = Image.new("RGBA", image.size)  # pixels only: no EXIF, comments or colour profiles follow
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, "PNG", optimize=True)
    return out.getvalue()


async def store_logo(actor: Staff, data: bytes, settings: Settings, now: datetime) -> str:
    """Check, clean and store a new logo under a fresh name; the previous one's file is removed. Audited."""
    cleaned = clean_logo(data)
    name = f"logo-{secrets.token_hex(16)}.png"
    settings.brand_folder.mkdir(parents=True, exist_ok=True)
    (settings.brand_folder / name).write_bytes(cleaned)
    previous = settings.logo_file
    await overrides.store({editable.LOGO: name}, actor.username, now)
    await audit(actor, "settings.logo_changed", "settings", now, file=name, bytes=len(cleaned))
    if previous and previous != name:
        remove_logo_file(previous, settings)
    return name


def logo_path(file_name: str, settings: Settings) -> Any:
    """Where a stored logo is, or None for a name that is not one of ours."""
    if not LOGO_FILE.fullmatch(file_name):
        return None
    path = settings.brand_folder / file_name
    return path if path.is_file() else None


def remove_logo_file(file_name: str, settings: Settings) -> None:
    path = logo_path(file_name, settings)
    if path is not None:
        path.unlink(missing_ok=True)
