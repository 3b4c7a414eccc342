"""The shop's product catalogue: products stored with the keys line items know them by, from the platforms'
product webhooks, the API (`PUT /api/v1/products/{sku}`) and CSV imports; and what customers are shown of them.

A product is found by any of its keys; storing one that some other entry already claims a key of moves that key
to it, so a Shopify product and the same SKU sent to the API become one entry. After every change the stored
order items of the product are categorised again (`shop.services.categories`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from afterglow.db import UNIQUE_VIOLATIONS
from shop.platforms.products import (
    ProductData,
    absolute_url,
    item_keys,
    normal_category,
    product_from_webhook,
    safe_image_url,
)
from shop.services.categories import category_map, given_category, recategorise_products, resolve
from shop.tables import OrderItem, Product, ProductKey


@dataclass(frozen=True)
class Stored:
    """What storing a product did: its id (None when a deletion named no stored product), whether it was new,
    and how many stored order items changed category."""

    product_id: int | None
    created: bool = False
    recategorised: int = 0


@dataclass(frozen=True)
class CatalogueEntry:
    """A product as the API shows it; `category` is what its items are categorised as (mapped or not)."""

    sku: str
    source: str
    title: str
    shop_category: str
    category: str
    image_url: str
    url: str
    gtin: str
    mpn: str
    brand: str
    updated_at: datetime
    deleted_at: datetime | None


@dataclass(frozen=True)
class ShownProduct:
    """What a customer is shown of an item's product: its title and an image safe to show ("" for none)."""

    title: str
    image_url: str


async def store_product(data: ProductData, now: datetime) -> Stored:
    """Create or update the product `data` describes, claim its keys, then categorise its stored items again.
    A deletion marks the product deleted (its past items keep their product)."""
    try:
        product_id, created, shop_category_before = await _store(data, now)
    except UNIQUE_VIOLATIONS:
        # A concurrent delivery claimed one of the keys first: store again, now finding theirs.
        product_id, created, shop_category_before = await _store(data, now)
    if product_id is None or data.deleted:
        return Stored(product_id)
    # What its items were given until now: an item that still has it took it from the catalogue.
    previous = {}
    if shop_category_before:
        previous[product_id] = given_category(shop_category_before, await category_map([shop_category_before]))
    return Stored(product_id, created, await recategorise_products([product_id], previous))


async def apply_product_webhook(
    source: str, topic: str, payload: Mapping[str, Any], now: datetime, *, shop_url: str = ""
) -> None:
    """Store what a platform's product webhook says (Shopify `products/create|update|delete`, WooCommerce
    `product.created|updated|deleted|restored`); other topics change nothing. `shop_url` (the shop's address,
    when known) gives Shopify products their page (`/products/<handle>`). A payload without the product's id
    raises `shop.platforms.products.ProductPayloadError`."""
    data = product_from_webhook(source, topic, payload, shop_url)
    if data is not None:
        await store_product(data, now)


async def _store(data: ProductData, now: datetime) -> tuple[int | None, bool, str]:
    """(product id, whether it was created, its shop category before this change)."""
    async with Product._meta.db.transaction():
        rows = await ProductKey.select(ProductKey.key, ProductKey.product).where(ProductKey.key.is_in(list(data.keys)))
        owners = {row["key"]: int(row["product"]) for row in rows}
        # The entry the source's own id names wins; else the first key (in the source's order) that names one.
        product_id = next((owners[key] for key in data.keys if key in owners), None)
        if data.deleted:
            if product_id is not None:
                await Product.update({Product.deleted_at: now, Product.updated_at: now}).where(Product.id == product_id)
            return product_id, False, ""
        values: dict[str, Any] = {**data.values(), "updated_at": now, "deleted_at": None}
        created, shop_category_before = product_id is None, ""
        if product_id is None:
            inserted = await Product.insert(Product(source=data.source, **values)).returning(Product.id)
            product_id = int(inserted[0]["id"])
        else:
            before = await Product.select(Product.shop_category).where(Product.id == product_id).first()
            shop_category_before = before["shop_category"] if before else ""
            await Product.update({getattr(Product, name): value for name, value in values.items()}).where(
                Product.id == product_id
            )
        moved = [key for key, owner in owners.items() if owner != product_id]
        if moved:
            await ProductKey.update({ProductKey.product: product_id}).where(ProductKey.key.is_in(moved))
        new = [key for key in dict.fromkeys(data.keys) if key not in owners]
        if new:
            await ProductKey.insert(*[ProductKey(product=product_id, key=key) for key in new])
    return product_id, created, shop_category_before


async def entry_for_sku(sku: str) -> CatalogueEntry | None:
    """The catalogue entry the SKU names, or None."""
    row = await ProductKey.select(*ProductKey.product.all_columns()).where(ProductKey.key == f"sku:{sku}").first()
    if row is None:
        return None
    product = {name.removeprefix("product."): value for name, value in row.items()}
    shop_category = product["shop_category"]
    mapped = (await category_map([shop_category])).get(shop_category) if shop_category else None
    return CatalogueEntry(
        sku=product["sku"] or sku,
        source=product["source"],
        title=product["title"],
        shop_category=shop_category,
        category=mapped or normal_category(shop_category),
        image_url=product["image_url"],
        url=product["url"],
        gtin=product["gtin"],
        mpn=product["mpn"],
        brand=product["brand"],
        updated_at=product["updated_at"],
        deleted_at=product["deleted_at"],
    )


async def shown_products(item_ids: Sequence[int]) -> dict[int, ShownProduct]:
    """The catalogue's title and image of each order item whose product is known: item id → ShownProduct."""
    if not item_ids:
        return {}
    items = await OrderItem.select(
        OrderItem.id,
        OrderItem.sku,
        OrderItem.product_ref,
        OrderItem.variant_ref,
        OrderItem.order.external_id,
    ).where(OrderItem.id.is_in(list(item_ids)))
    return {
        item_id: ShownProduct(product["product.title"], safe_image_url(product["product.image_url"]))
        for item_id, product in (await resolve(items)).items()
    }


async def with_products(items: Sequence[dict[str, Any]], base_url: str) -> list[dict[str, Any]]:
    """Order items (rows with `id` and `name`) with `title` (the catalogue's, else the item's name) and
    `image_url` ("" for none; a local path made absolute with `base_url`, for emails)."""
    shown = await shown_products([item["id"] for item in items])
    result = []
    for item in items:
        product = shown.get(item["id"])
        title = (product.title if product else "") or item["name"]
        image = absolute_url(product.image_url, base_url) if product and product.image_url else ""
        result.append({**item, "title": title, "image_url": image})
    return result


async def title_for_sku(sku: str) -> str:
    """The catalogue's title of the product sold as `sku` ("" when unknown): by the SKU itself, else by the
    platform ids a line item of that SKU carries."""
    found = await ProductKey.select(ProductKey.product.title).where(ProductKey.key == f"sku:{sku}").first()
    if found and found["product.title"]:
        return str(found["product.title"])
    item = (
        await OrderItem.select(
            OrderItem.id, OrderItem.sku, OrderItem.product_ref, OrderItem.variant_ref, OrderItem.order.external_id
        )
        .where(OrderItem.sku == sku)
        .order_by(OrderItem.id, ascending=False)
        .first()
    )
    if item is None or item_keys(item["order.external_id"], sku, item["product_ref"], item["variant_ref"]) == [
        f"sku:{sku}"
    ]:
        return ""
    product = (await resolve([item])).get(item["id"])
    return str(product["product.title"]) if product else ""
