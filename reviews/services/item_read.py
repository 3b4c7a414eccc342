"""The survey page's review section as two hand-written statements (see `afterglow.hotsql`): the customer's reviews
of the order's items with their photos, and the catalogue's products by the items' keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from afterglow import hotsql
from shop.platforms.products import item_keys, safe_image_url

_REVIEWS = """
SELECT rv.id, rv.order_item, rv.rating, rv.title, rv.text, rv.status, rv.reject_reason, rv.reply_text,
       p.file_name, p.width, p.height, p.content_type
FROM review rv
LEFT JOIN review_photo p ON p.review = rv.id
WHERE rv.order_item {items}
ORDER BY rv.id, p.position, p.id
"""
_PRODUCTS = """
SELECT k.key, p.title, p.image_url
FROM product_key k JOIN product p ON p.id = k.product
WHERE k.key {keys}
"""


async def reviews_of_items(item_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The review of each order item that has one (order item id → the review's columns and `photos`)."""
    if not item_ids:
        return {}
    rows = await hotsql.fetch(_REVIEWS.format(items=hotsql.any_of(1)), hotsql.list_param(item_ids))
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        review = found.get(row["order_item"])
        if review is None:
            review = {name: row[name] for name in ("id", "rating", "title", "text", "status", "reject_reason")}
            review["reply_text"] = row["reply_text"]
            review["photos"] = []
            found[row["order_item"]] = review
        if row["file_name"] is not None:
            review["photos"].append(
                {
                    "review": row["id"],
                    "file_name": row["file_name"],
                    "width": row["width"],
                    "height": row["height"],
                    "content_type": row["content_type"],
                }
            )
    return found


async def products_of_items(items: Sequence[dict[str, Any]]) -> dict[int, tuple[str, str]]:
    """The catalogue's (title, image) of each item whose product is known, found as `shop.services.categories.
    resolve` finds it (variant, then product, then SKU). Items have `id`, `sku`, `product_ref`, `variant_ref` and
    `order.external_id`."""
    wanted = {
        item["id"]: item_keys(item["order.external_id"] or "", item["sku"], item["product_ref"], item["variant_ref"])
        for item in items
    }
    keys = sorted({key for keys in wanted.values() for key in keys})
    if not keys:
        return {}
    rows = await hotsql.fetch(_PRODUCTS.format(keys=hotsql.any_of(1)), hotsql.list_param(keys))
    found = {row["key"]: (row["title"], safe_image_url(row["image_url"])) for row in rows}
    shown = {}
    for item_id, item_keys_ in wanted.items():
        hit = next((found[key] for key in item_keys_ if key in found), None)
        if hit is not None:
            shown[item_id] = hit
    return shown
