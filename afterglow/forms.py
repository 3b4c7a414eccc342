"""Reading a submitted form (a dict as Litestar parses it, or a FormMultiDict): the one way every handler and
form service does it. No Litestar here, so services may use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def form_field(data: Mapping[str, Any], name: str) -> str:
    """One form field as text: "" when missing, the last value when sent more than once."""
    value = data.get(name, "")
    return str(value[-1] if isinstance(value, list) else value)


def form_values(data: Mapping[str, Any], name: str) -> list[str]:
    """Every non-empty value of a field sent once or more (checkboxes), as text, in order."""
    value = data.get(name, [])
    return [str(v) for v in (value if isinstance(value, list) else [value]) if v]
