"""Every invalid field of an ingest body at once: msgspec stops at the first error, so a body is checked field by
field (nested customers and items too), and each problem is named by its path (`customer.email`, `items[0].price`)."""

from __future__ import annotations

import types
import typing
from typing import Any, Union

import msgspec


def problems(raw: Any, shape: type[msgspec.Struct], path: str = "") -> list[dict[str, str]]:
    """What is wrong with `raw` as `shape`, one entry per field: `{"key": path, "message": ...}`."""
    if not isinstance(raw, dict):
        return _converted(raw, shape, path)
    found: list[dict[str, str]] = []
    hints = typing.get_type_hints(shape, include_extras=True)
    checks = getattr(shape, "CHECKS", {})
    for field in msgspec.structs.fields(shape):
        key = f"{path}.{field.encode_name}" if path else field.encode_name
        if field.encode_name not in raw:
            if field.required:
                found.append({"key": key, "message": f"Object missing required field `{field.encode_name}`"})
            continue
        value, kind = raw[field.encode_name], hints[field.name]
        nested, many = _struct_in(kind), _is_list(kind)
        if nested is not None and isinstance(value, dict) and not many:
            found += problems(value, nested, key)
        elif nested is not None and isinstance(value, list) and many:
            wrong = [p for n, item in enumerate(value) for p in problems(item, nested, f"{key}[{n}]")]
            found += wrong or _converted(value, kind, key)  # each element, then the list's own limits
        else:
            wrong = _converted(value, kind, key)
            if not wrong and field.name in checks and (message := checks[field.name](msgspec.convert(value, kind))):
                wrong = [{"key": key, "message": message}]
            found += wrong
    return found


def _converted(value: Any, kind: Any, key: str) -> list[dict[str, str]]:
    try:
        msgspec.convert(value, kind)
    except msgspec.ValidationError as exc:
        return [{"key": key, "message": str(exc).split(" - at `")[0]}]
    return []


def _struct_in(kind: Any) -> type[msgspec.Struct] | None:
    """The Struct a field holds: itself, optional, or as a list's elements."""
    origin = typing.get_origin(kind)
    if origin is typing.Annotated:
        return _struct_in(typing.get_args(kind)[0])
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return kind
    if origin in (list, Union, types.UnionType):
        for arg in typing.get_args(kind):
            if (inner := _struct_in(arg)) is not None:
                return inner
    return None


def _is_list(kind: Any) -> bool:
    while typing.get_origin(kind) is typing.Annotated:
        kind = typing.get_args(kind)[0]
    return typing.get_origin(kind) is list
