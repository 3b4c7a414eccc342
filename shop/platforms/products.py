"""Products as the shops describe them, read into one plain shape, and the rules that tie an order's line item to
its product and its category. Pure: no database, no clock.

A product is known by keys (`ProductKey`): `shopify:product:<id>`, `shopify:variant:<id>`,
`woocommerce:product:<id>`, `woocommerce:variation:<id>` and `sku:<sku>`. A line item looks for its product by its
variant, then its product, then its SKU; which platform's ids it has depends on the order it came in (Shopify
orders have numeric external ids, WooCommerce orders `wc-<id>`, API and CSV orders only SKUs).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

#: Column lengths of `shop.tables.Product` and `OrderItem.category`: longer values from a shop are cut.
LIMITS = {
    "sku": 128,
    "title": 300,
    "shop_category": 200,
    "image_url": 2000,
    "url": 2000,
    "gtin": 32,
    "mpn": 70,
    "brand": 100,
}
CATEGORY_MAX = 100
SHOPIFY_PRODUCT_TOPICS = frozenset({"products/create", "products/update", "products/delete"})
WOOCOMMERCE_PRODUCT_TOPICS = frozenset({"product.created", "product.updated", "product.deleted", "product.restored"})
#: The channels of orders that came from a platform's webhooks; their items never bring a category of their own.
PLATFORM_CHANNELS = frozenset({"shopify", "woocommerce"})
_WOO_ORDER = re.compile(r"^wc-\d+$")
#: The SKU the webhooks give a line item without one (`variant-<id>`, `product-<id>`, `variation-<id>`).
_FALLBACK_SKU = re.compile(r"^(variant|variation|product)-(\d+)$")


class ProductPayloadError(ValueError):
    """A product webhook without what every product has (its id); the message names the field."""


@dataclass(frozen=True)
class ProductData:
    """A product as one source describes it. A field left None is one the source says nothing about: the stored
    value stays. `keys` are the names it is known by, its own id first; `deleted` asks to mark it deleted."""

    source: str
    keys: tuple[str, ...]
    sku: str | None = None
    title: str | None = None
    shop_category: str | None = None
    image_url: str | None = None
    url: str | None = None
    gtin: str | None = None
    mpn: str | None = None
    brand: str | None = None
    deleted: bool = False

    def values(self) -> dict[str, str]:
        """The fields the source gave, cut to their column lengths."""
        given = {name: getattr(self, name) for name in LIMITS}
        return {name: value.strip()[: LIMITS[name]] for name, value in given.items() if value is not None}


def product_from_webhook(source: str, topic: str, payload: Mapping[str, Any], shop_url: str = "") -> ProductData | None:
    """The product a platform's product webhook describes; None for topics that are not about products."""
    if source == "shopify" and topic in SHOPIFY_PRODUCT_TOPICS:
        if topic == "products/delete":
            return ProductData("shopify", (f"shopify:product:{_id(payload, 'id')}",), deleted=True)
        return shopify_product(payload, shop_url)
    if source == "woocommerce" and topic in WOOCOMMERCE_PRODUCT_TOPICS:
        if topic == "product.deleted":
            return ProductData("woocommerce", (f"woocommerce:product:{_id(payload, 'id')}",), deleted=True)
        return woocommerce_product(payload)
    return None


def shopify_product(payload: Mapping[str, Any], shop_url: str = "") -> ProductData:
    """A Shopify Product (the body of `products/create` and `products/update`). `shop_url` is the shop's own
    address; without it the product page is unknown (the payload has only the handle)."""
    product_id = _id(payload, "id")
    variants = [v for v in payload.get("variants") or [] if isinstance(v, dict)]
    variant_ids = [str(v["id"]) for v in variants if _is_id(v.get("id"))]
    skus = _unique(_text(v.get("sku")) for v in variants)
    barcodes = _unique(_text(v.get("barcode")) for v in variants)
    handle = _text(payload.get("handle"))
    return ProductData(
        source="shopify",
        keys=(
            f"shopify:product:{product_id}",
            *(f"shopify:variant:{v}" for v in variant_ids),
            *(f"sku:{sku}" for sku in skus),
        ),
        sku=skus[0] if skus else "",
        title=_text(payload.get("title")),
        shop_category=_text(payload.get("product_type")) or _standard_category(payload.get("category")),
        image_url=safe_image_url(_shopify_image(payload)),
        url=f"{shop_url.rstrip('/')}/products/{handle}" if shop_url and handle else "",
        gtin=barcodes[0] if barcodes else "",
        brand=_text(payload.get("vendor")),
    )


def woocommerce_product(payload: Mapping[str, Any]) -> ProductData:
    """A WooCommerce (REST v3) product, as `product.created|updated|restored` send it. A variation's payload only
    adds its keys to its parent product. WooCommerce escapes HTML in names (`Home &amp; Garden`)."""
    product_id = _id(payload, "id")
    sku = _text(payload.get("sku"))
    sku_keys = (f"sku:{sku}",) if sku else ()
    parent = payload.get("parent_id")
    if payload.get("type") == "variation" and _is_id(parent):
        return ProductData(
            "woocommerce", (f"woocommerce:product:{parent}", f"woocommerce:variation:{product_id}", *sku_keys)
        )
    variations = [v.get("id") if isinstance(v, dict) else v for v in payload.get("variations") or []]
    categories = [c for c in payload.get("categories") or [] if isinstance(c, dict)]
    images = [i for i in payload.get("images") or [] if isinstance(i, dict)]
    brands = [b for b in payload.get("brands") or [] if isinstance(b, dict)]
    gtin = payload.get("global_unique_id")  # WooCommerce 9.2 and later
    return ProductData(
        source="woocommerce",
        keys=(
            f"woocommerce:product:{product_id}",
            *(f"woocommerce:variation:{v}" for v in variations if _is_id(v)),
            *sku_keys,
        ),
        sku=sku,
        title=html.unescape(_text(payload.get("name"))),
        shop_category=html.unescape(_text(categories[0].get("name"))) if categories else "",
        image_url=safe_image_url(_text(images[0].get("src"))) if images else "",
        url=safe_link(_text(payload.get("permalink"))),
        gtin=_text(gtin) if gtin is not None else None,
        brand=html.unescape(_text(brands[0].get("name"))) if brands else None,
        deleted=payload.get("status") == "trash",
    )


def order_platform(external_id: str) -> str:
    """Which platform an order came from, by its external id: "shopify", "woocommerce" or "" (API, CSV)."""
    if external_id.isdigit():
        return "shopify"
    if _WOO_ORDER.match(external_id):
        return "woocommerce"
    return ""


def item_keys(external_id: str, sku: str, product_ref: str = "", variant_ref: str = "") -> list[str]:
    """The keys a line item may find its product by, the most precise first: variant, product, SKU. Items stored
    before their platform ids were kept still have them in their stand-in SKU (`variant-<id>`)."""
    platform = order_platform(external_id)
    fallback = _FALLBACK_SKU.match(sku)
    stand_in = {fallback[1]: fallback[2]} if fallback else {}
    keys = []
    if platform == "shopify":
        variant, product = variant_ref or stand_in.get("variant"), product_ref or stand_in.get("product")
        keys += [f"shopify:variant:{variant}"] if variant else []
        keys += [f"shopify:product:{product}"] if product else []
    elif platform == "woocommerce":
        variation, product = variant_ref or stand_in.get("variation"), product_ref or stand_in.get("product")
        keys += [f"woocommerce:variation:{variation}"] if variation else []
        keys += [f"woocommerce:product:{product}"] if product else []
    if sku:
        keys.append(f"sku:{sku}")
    return keys


def item_category(current: str, keeps_own: bool, shop_category: str, mapped: str | None) -> str:
    """A line item's category once its product is known: the owner's mapping of the product's shop category;
    else the item's own category when it may keep one (API and CSV items); else the shop category in lower case.
    Without a shop category the item keeps what it has."""
    if not shop_category:
        return current
    if mapped:
        return mapped
    if keeps_own and current:
        return current
    return normal_category(shop_category)


def normal_category(name: str) -> str:
    """A category as delays and dashboard segments compare them: trimmed, lower case, at most 100 characters."""
    return " ".join(name.split()).lower()[:CATEGORY_MAX]


def safe_image_url(url: str) -> str:
    """`url` when an image may be shown from it (an http(s) address or a path under /static/), else ""."""
    url = url.strip()
    if url.startswith("/static/") and not url.startswith("//") and ".." not in url:
        return url
    return safe_link(url)


def safe_link(url: str) -> str:
    """`url` when it is an absolute http(s) address, else ""."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme in ("http", "https") and parts.hostname and not any(c.isspace() for c in url) else ""


def absolute_url(url: str, base_url: str) -> str:
    """A path on this server (`/static/...`) as an address an email client can load; other URLs unchanged."""
    return f"{base_url.rstrip('/')}{url}" if url.startswith("/") else url


def _shopify_image(payload: Mapping[str, Any]) -> str:
    """The featured image, else the first image, else the first media preview (newer API versions)."""
    candidates = [payload.get("image"), *(payload.get("images") or [])]
    for image in candidates:
        if isinstance(image, dict) and _text(image.get("src")):
            return _text(image.get("src"))
    for media in payload.get("media") or []:
        preview = media.get("preview_image") if isinstance(media, dict) else None
        if isinstance(preview, dict) and _text(preview.get("src")):
            return _text(preview.get("src"))
    return ""


def _standard_category(category: Any) -> str:
    """Shopify's standard product category (API 2024-10 and later): its full path, else its name; "" for none
    and for the taxonomy's "Uncategorized" (`gid://shopify/TaxonomyCategory/na`)."""
    if not isinstance(category, dict) or str(category.get("admin_graphql_api_id", "")).endswith("/na"):
        return ""
    return _text(category.get("full_name")) or _text(category.get("name"))


def _id(payload: Mapping[str, Any], key: str) -> str:
    value = payload.get(key)
    if not _is_id(value):
        raise ProductPayloadError(f"`{key}` is missing or not a number")
    return str(value)


def _is_id(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool) and value > 0) or (
        isinstance(value, str) and value.isdigit() and value.strip("0") != ""
    )


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _unique(values: Any) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def gtin_problem(gtin: str) -> str:
    """Why `gtin` is not a GTIN (8, 12, 13 or 14 digits with a valid GS1 check digit), or "" when it is one."""
    if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
        return "must be 8, 12, 13 or 14 digits (a GTIN, EAN or UPC)"
    body, check = gtin[:-1], int(gtin[-1])
    total = sum(int(digit) * (3 if i % 2 == 0 else 1) for i, digit in enumerate(reversed(body)))
    if (10 - total % 10) % 10 != check:
        return "has a wrong check digit"
    return ""


#: The catalogue's fields as the API and CSV files name them, and the `ProductData` field each fills.
FIELDS = {
    "title": "title",
    "category": "shop_category",
    "image_url": "image_url",
    "url": "url",
    "gtin": "gtin",
    "mpn": "mpn",
    "brand": "brand",
}


def field_problem(name: str, value: str) -> str:
    """Why `value` cannot be a product's `name` (a FIELDS name, or "sku") as the API or a CSV file sends it;
    "" when it can."""
    if name == "sku":
        if not value.strip() or value != value.strip() or len(value) > LIMITS["sku"]:
            return f"`sku` must be 1 to {LIMITS['sku']} characters without surrounding spaces"
        return ""
    limit = LIMITS[FIELDS[name]]
    if len(value) > limit:
        return f"`{name}` is longer than {limit} characters"
    if name == "image_url" and value and not safe_image_url(value):
        return "`image_url` must be an http(s) address or a path under /static/"
    if name == "url" and value and not safe_link(value):
        return "`url` must be an http(s) address"
    if name == "gtin" and value and (problem := gtin_problem(value.strip())):
        return f"`gtin` {problem}"
    return ""
