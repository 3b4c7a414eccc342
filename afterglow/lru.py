"""A least-recently-used store: the one the rendered-page memos and the version-keyed caches keep values in."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class Recent(Generic[T]):
    """The `size` most recently used values, by key: a lookup that finds its key and a `put` both make it the
    newest, and a `put` past `size` drops the oldest. None is no value: `get` answers None for a key not held."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.values: OrderedDict[Hashable, T] = OrderedDict()

    def get(self, key: Hashable) -> T | None:
        # On these hot paths a hit costs one move and one lookup; a miss (rarer, and followed by the slow work
        # the value saves) pays for the exception.
        values = self.values
        try:
            values.move_to_end(key)
        except KeyError:
            return None
        return values[key]

    def put(self, key: Hashable, value: T) -> None:
        values = self.values
        values[key] = value
        values.move_to_end(key)
        while len(values) > self.size:
            values.popitem(last=False)

    def clear(self) -> None:
        self.values.clear()

    def __len__(self) -> int:
        return len(self.values)
