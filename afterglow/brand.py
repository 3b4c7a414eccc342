"""The shop's brand on customers' pages and emails: its logo and colour, with the colour made dark enough to read
(WCAG contrast of at least 4.5:1 against white) for links, buttons and text. Pure."""

from __future__ import annotations

import colorsys
import hashlib
import re
from dataclasses import dataclass

from afterglow.settings import Settings

DEFAULT_COLOUR = "#2d5bd7"
WHITE = (255, 255, 255)
#: WCAG 2 AA for normal text.
READABLE = 4.5
_HEX = re.compile(r"#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


def parse_colour(text: str) -> tuple[int, int, int] | None:
    """`#2d5bd7`, `2d5bd7` or `#25d` as (r, g, b); None for anything else."""
    match = _HEX.fullmatch(text.strip())
    if not match:
        return None
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(ch * 2 for ch in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def luminance(rgb: tuple[int, int, int]) -> float:
    """WCAG relative luminance."""

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG contrast ratio, from 1 (same) to 21 (black on white)."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable_shade(rgb: tuple[int, int, int], against: tuple[int, int, int] = WHITE) -> tuple[int, int, int]:
    """The colour itself when it reaches 4.5:1 against `against` (white), else the lightest darker shade of the
    same hue and saturation that does."""
    if contrast(rgb, against) >= READABLE:
        return rgb
    hue, lightness, saturation = colorsys.rgb_to_hls(*(v / 255 for v in rgb))
    best = (0, 0, 0)
    low, high = 0.0, lightness
    for _ in range(30):  # bisect on lightness: darker only ever raises the contrast with white
        middle = (low + high) / 2
        shade = tuple(round(v * 255) for v in colorsys.hls_to_rgb(hue, middle, saturation))
        if contrast(shade, against) >= READABLE:  # type: ignore[arg-type]
            best, low = shade, middle  # type: ignore[assignment]
        else:
            high = middle
    return best


@dataclass(frozen=True)
class Brand:
    shop_name: str
    colour: str  # as the admin chose it
    accent: str  # the readable shade for links, buttons and text on white
    logo_path: str  # "/brand/logo/<file>" or ""
    version: str  # changes with the colour, for the stylesheet's address

    def logo_url(self, base_url: str) -> str:
        return f"{base_url}{self.logo_path}" if self.logo_path else ""


def brand_of(settings: Settings) -> Brand:
    rgb = parse_colour(settings.brand_colour) or parse_colour(DEFAULT_COLOUR)
    assert rgb is not None
    accent = hex_colour(readable_shade(rgb))
    logo = f"/brand/logo/{settings.logo_file}" if settings.logo_file else ""
    return Brand(settings.shop_name, hex_colour(rgb), accent, logo, hashlib.sha256(accent.encode()).hexdigest()[:10])


def stylesheet(brand: Brand) -> str:
    """The brand's colours as the custom properties the stylesheets use."""
    return (
        f":root {{ --accent: {brand.accent}; --accent-ink: #fff; --brand: {brand.colour}; }}\n"
        ".brand-logo { display: block; width: auto; height: auto; max-width: 200px; max-height: 64px; "
        "margin: 0 0 16px; }\n"
    )
