"""Which category each order item is in: found through its product in the catalogue and the owner's mapping of
shop categories onto the categories that delays (`settings.category_delays`) and dashboard segments use.

Items are (re-)categorised when their order arrives, when their product changes, and when the mapping changes,
including items of orders stored long ago. The work is done in sets: a few queries per batch, one update per
resulting category, never one query per item. The rule itself is `shop.platforms.products.item_category`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from piccolo.query.functions.aggregate import Count

from accounts.services import Staff, audit
from shop.platforms.products import LIMITS, PLATFORM_CHANNELS, item_category, item_keys, normal_category
from shop.tables import CategoryMap, OrderItem, Product, ProductKey

#: Values per `IN (...)`: far below SQLite's limit on bound parameters.
CHUNK = 500
_ITEM_COLUMNS = (
    OrderItem.id,
    OrderItem.sku,
    OrderItem.product_ref,
    OrderItem.variant_ref,
    OrderItem.category,
    OrderItem.order.external_id,
    OrderItem.order.channel,
)
#: Where each kind of product key shows on a line item: (item column, stand-in SKU prefix).
_KEY_COLUMNS = {
    "shopify:variant": (OrderItem.variant_ref, "variant-"),
    "shopify:product": (OrderItem.product_ref, "product-"),
    "woocommerce:variation": (OrderItem.variant_ref, "variation-"),
    "woocommerce:product": (OrderItem.product_ref, "product-"),
}
T = TypeVar("T")


@dataclass(frozen=True)
class ShopCategory:
    """A shop category as the admin page lists it: how many products it has and what it is mapped onto."""

    name: str
    products: int
    category: str  # "" while unmapped


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def products_by_key(keys: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The catalogue entries these keys name: key → the product's columns (`product.<column>`)."""
    found: dict[str, dict[str, Any]] = {}
    for part in chunks(sorted(set(keys))):
        rows = await ProductKey.select(ProductKey.key, *ProductKey.product.all_columns()).where(
            ProductKey.key.is_in(list(part))
        )
        found.update({row["key"]: row for row in rows})
    return found


async def resolve(items: Sequence[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """Each item's product (by variant, then product, then SKU): item id → the product's columns. Items are rows
    with `id`, `sku`, `product_ref`, `variant_ref` and `order.external_id`; those without a product are left out."""
    wanted = {
        item["id"]: item_keys(item["order.external_id"], item["sku"], item["product_ref"], item["variant_ref"])
        for item in items
    }
    found = await products_by_key(key for keys in wanted.values() for key in keys)
    resolved = {}
    for item_id, keys in wanted.items():
        hit = next((found[key] for key in keys if key in found), None)
        if hit is not None:
            resolved[item_id] = hit
    return resolved


async def category_map(shop_categories: Iterable[str] | None = None) -> dict[str, str]:
    """The owner's mapping: shop category → category (of these shop categories only, when given)."""
    if shop_categories is None:
        rows = await CategoryMap.select(CategoryMap.shop_category, CategoryMap.category)
    else:
        names, rows = sorted(set(shop_categories)), []
        for part in chunks(names):
            rows += await CategoryMap.select(CategoryMap.shop_category, CategoryMap.category).where(
                CategoryMap.shop_category.is_in(list(part))
            )
    return {row["shop_category"]: row["category"] for row in rows}


async def _categorise(items: Sequence[dict[str, Any]], previous: Mapping[int, str] | None = None) -> int:
    """Give each item the category its product says; returns how many items changed. `previous` holds, per
    product id, the category its items were given before a change: an item that still has it took it from the
    catalogue, so it is not a category of its own."""
    products = await resolve(items)
    mapping = await category_map({p["product.shop_category"] for p in products.values()} - {""})
    changes: dict[str, list[int]] = {}
    for item in items:
        product = products.get(item["id"])
        if product is None:
            continue
        shop_category = product["product.shop_category"]
        given_before = (previous or {}).get(product["product.id"])
        keeps_own = item["order.channel"] not in PLATFORM_CHANNELS and item["category"] != given_before
        category = item_category(item["category"], keeps_own, shop_category, mapping.get(shop_category))
        if category != item["category"]:
            changes.setdefault(category, []).append(item["id"])
    for category, ids in changes.items():
        for part in chunks(ids):
            await OrderItem.update({OrderItem.category: category}).where(OrderItem.id.is_in(list(part)))
    return sum(len(ids) for ids in changes.values())


async def categorise_items(order_id: int) -> int:
    """Categorise the items of one order from the catalogue; returns how many changed."""
    return await _categorise(await OrderItem.select(*_ITEM_COLUMNS).where(OrderItem.order == order_id))


async def recategorise_products(product_ids: Iterable[int], previous: Mapping[int, str] | None = None) -> int:
    """Categorise again every stored item that may be one of these products; returns how many changed. `previous`:
    see `_categorise`."""
    keys: list[str] = []
    for part in chunks(sorted(set(product_ids))):
        keys += [row["key"] for row in await ProductKey.select(ProductKey.key).where(ProductKey.product.is_in(part))]
    by_column: list[tuple[Any, set[str]]] = [(OrderItem.sku, set())]
    refs: dict[str, tuple[Any, set[str]]] = {}
    for key in keys:
        kind, _, value = key.rpartition(":")
        if kind == "sku":
            by_column[0][1].add(value)
        elif kind in _KEY_COLUMNS:
            column, stand_in = _KEY_COLUMNS[kind]
            refs.setdefault(column._meta.name, (column, set()))[1].add(value)
            by_column[0][1].add(stand_in + value)
    by_column += refs.values()
    candidates: dict[int, dict[str, Any]] = {}
    for column, values in by_column:
        for part in chunks(sorted(values)):
            for row in await OrderItem.select(*_ITEM_COLUMNS).where(column.is_in(list(part))):
                candidates[row["id"]] = row
    ordered = [candidates[item_id] for item_id in sorted(candidates)]
    return sum([await _categorise(part, previous) for part in chunks(ordered)])


async def recategorise_shop_category(shop_category: str, given_before: str) -> int:
    """Categorise again every stored item of the products in this shop category, whose items were given the
    category `given_before` until now."""
    ids = [row["id"] for row in await Product.select(Product.id).where(Product.shop_category == shop_category)]
    return await recategorise_products(ids, dict.fromkeys(ids, given_before))


def given_category(shop_category: str, mapping: Mapping[str, str]) -> str:
    """What the items of a product in `shop_category` are given when they keep no category of their own."""
    return mapping.get(shop_category) or normal_category(shop_category)


async def shop_categories() -> list[ShopCategory]:
    """The shop categories of the catalogue (products not deleted), with their mapping; mapped categories no
    product has any more are listed too, so their mapping can be removed."""
    rows = (
        await Product.select(Product.shop_category, Count(alias="n"))
        .where((Product.shop_category != "") & Product.deleted_at.is_null())
        .group_by(Product.shop_category)
    )
    counts = {row["shop_category"]: int(row["n"]) for row in rows}
    mapping = await category_map()
    names = sorted(counts.keys() | mapping.keys(), key=str.casefold)
    return [ShopCategory(name, counts.get(name, 0), mapping.get(name, "")) for name in names]


@dataclass(frozen=True)
class MappingSaved:
    changed: list[str]  # the shop categories whose mapping changed
    items: int  # order items re-categorised


async def save_category_map(wanted: dict[str, str], actor: Staff | None, now: datetime) -> MappingSaved:
    """Map each shop category onto a category ("" removes its mapping), then re-categorise the stored items of
    every shop category whose mapping changed. Audited."""
    current = await category_map()
    before = {name: given_category(name, current) for name in wanted}
    changed: dict[str, str] = {}
    for shop_category, category in wanted.items():
        category = normal_category(category)
        too_long = len(shop_category) > LIMITS["shop_category"]  # no product can be in it
        if not shop_category or too_long or category == current.get(shop_category, ""):
            continue
        if not category:
            await CategoryMap.delete().where(CategoryMap.shop_category == shop_category)
        elif shop_category in current:
            await CategoryMap.update({CategoryMap.category: category}).where(CategoryMap.shop_category == shop_category)
        else:
            await CategoryMap.insert(CategoryMap(shop_category=shop_category, category=category))
        changed[shop_category] = category
    items = 0
    for shop_category in changed:
        items += await recategorise_shop_category(shop_category, before[shop_category])
    if changed:
        await audit(actor, "catalogue.map", "category map", now, mapping=changed, items=items)
    return MappingSaved(list(changed), items)
