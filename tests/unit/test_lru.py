"""The least-recently-used store behind the page memos and the version-keyed caches (`afterglow.lru.Recent`)."""

from __future__ import annotations

from afterglow.lru import Recent


def test_it_holds_at_most_size_values_and_drops_the_oldest_first() -> None:
    recent: Recent[str] = Recent(3)
    for key in "abcde":
        recent.put(key, key.upper())
    assert len(recent) == 3
    assert list(recent.values) == ["c", "d", "e"]
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (None, None, "C")


def test_a_lookup_that_finds_its_key_makes_it_the_newest() -> None:
    recent: Recent[int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("a") == 1
    recent.put("c", 3)  # "b" is now the least recently used
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (1, None, 3)


def test_a_missed_lookup_changes_nothing() -> None:
    recent: Recent[int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    assert recent.get("z") is None
    assert list(recent.values) == ["a", "b"] and len(recent) == 2


def test_putting_a_held_key_replaces_its_value_and_makes_it_the_newest() -> None:
    recent: Recent[int] = Recent(2)
    recent.put("a", 1)
    recent.put("b", 2)
    recent.put("a", 10)
    assert len(recent) == 2 and list(recent.values) == ["b", "a"]
    recent.put("c", 3)
    assert (recent.get("a"), recent.get("b"), recent.get("c")) == (10, None, 3)


def test_keys_are_any_hashable_and_clear_empties_it() -> None:
    recent: Recent[str] = Recent(4)
    recent.put(("sku:1", 4, 7), "page")
    assert recent.get(("sku:1", 4, 7)) == "page"
    assert recent.get(("sku:1", 5, 7)) is None
    recent.clear()
    assert len(recent) == 0 and recent.get(("sku:1", 4, 7)) is None
