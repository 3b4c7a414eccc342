"""The survey page's review section as one hand-written statement (see `afterglow.hotsql`): the customer's reviews
of the order's items with their photos, and the catalogue's products by the items' keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from afterglow import hotsql
from shop.platforms.products import item_keys, safe_image_url

# Reviews (one row per photo, in order) first, then products (`k.key` set). A compound statement orders by
# position on SQLite: part, review id, photo position, photo id.
_SECTION = """
SELECT 0 AS part, rv.id, rv.order_item, rv.rating, rv.title, rv.text, rv.status, rv.reject_reason, rv.reply_text,
       p.file_name, p.width, p.height, p.content_type, p.position, p.id AS photo, NULL AS key, NULL AS image_url
FROM review rv
LEFT JOIN review_photo p ON p.review = rv.id
WHERE rv.order_item {items}
UNION ALL
SELECT 1, NULL, NULL, NULL, p.title, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, k.key, p.image_url
FROM product_key k JOIN product p ON p.id = k.product
WHERE k.key {keys}
ORDER BY 1, 2, 14, 15
"""


def _statement() -> str:
    return _SECTION.format(items=hotsql.any_of(1), keys=hotsql.any_of(2))


async def item_section(items: Sequence[dict[str, Any]]) -> tuple[dict[int, dict[str, Any]], dict[int, tuple[str, str]]]:
    """The review of each order item that has one (order item id → the review's columns and `photos`), and the
    catalogue's (title, image) of each item whose product is known, found as `shop.services.categories.resolve`
    finds it (variant, then product, then SKU). Items have `id`, `sku`, `product_ref`, `variant_ref` and
    `order.external_id`."""
    if not items:
        return {}, {}
    wanted = {
        item["id"]: item_keys(item["order.external_id"] or "", item["sku"], item["product_ref"], item["variant_ref"])
        for item in items
    }
    keys = sorted({key for keys in wanted.values() for key in keys})
    rows = await hotsql.fetch(_statement(), hotsql.list_param(list(wanted)), hotsql.list_param(keys))
    reviews: dict[int, dict[str, Any]] = {}
    found: dict[str, tuple[str, str]] = {}
    for row in rows:
        if row["part"]:
            found[row["key"]] = (row["title"], safe_image_url(row["image_url"]))
            continue
        review = reviews.get(row["order_item"])
        if review is None:
            review = {name: row[name] for name in ("id", "rating", "title", "text", "status", "reject_reason")}
            review["reply_text"] = row["reply_text"]
            review["photos"] = []
            reviews[row["order_item"]] = review
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
    shown = {}
    for item_id, item_keys_ in wanted.items():
        hit = next((found[key] for key in item_keys_ if key in found), None)
        if hit is not None:
            shown[item_id] = hit
    return reviews, shown
