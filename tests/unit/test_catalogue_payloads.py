"""Reading the platforms' product webhooks (their documented example payloads) into one shape, and the pure rules
that tie a line item to its product and its category."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shop.platforms.products import (
    ProductPayloadError,
    absolute_url,
    gtin_problem,
    item_category,
    item_keys,
    order_platform,
    product_from_webhook,
    safe_image_url,
    shopify_product,
    woocommerce_product,
)

DATA = Path(__file__).parent.parent / "data" / "webhooks"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())  # type: ignore[no-any-return]


def test_shopify_products_update_as_documented() -> None:
    product = shopify_product(fixture("shopify_products_update.json"))
    assert product.keys == (
        "shopify:product:788032119674292922",
        "shopify:variant:642667041472713922",
        "shopify:variant:757650484644203962",
    )
    assert product.title == "Example T-Shirt"
    assert product.shop_category == "Shirts"
    assert product.brand == "Acme"
    # The documented example has no image, SKUs or barcodes, and the payload names no shop address.
    assert (product.image_url, product.sku, product.gtin, product.url) == ("", "", "", "")
    assert product.mpn is None  # Shopify says nothing about it: a stored value stays
    assert not product.deleted


def test_shopify_image_url_variant_skus_and_barcodes() -> None:
    payload = fixture("shopify_products_update.json")
    payload["variants"][0] |= {"sku": "TEE-S", "barcode": "4006381333931"}
    payload["variants"][1] |= {"sku": "TEE-M", "barcode": None}
    payload["images"] = [{"id": 1, "src": "https://cdn.shopify.com/s/files/1/tee-front.jpg"}]
    product = shopify_product(payload, shop_url="https://tees.example/")
    assert product.keys[-2:] == ("sku:TEE-S", "sku:TEE-M")
    assert (product.sku, product.gtin) == ("TEE-S", "4006381333931")
    assert product.image_url == "https://cdn.shopify.com/s/files/1/tee-front.jpg"
    assert product.url == "https://tees.example/products/example-t-shirt"

    payload["image"] = {"src": "https://cdn.shopify.com/s/files/1/tee-featured.jpg"}
    assert shopify_product(payload).image_url == "https://cdn.shopify.com/s/files/1/tee-featured.jpg"


def test_shopify_standard_category_when_product_type_is_empty() -> None:
    payload = fixture("shopify_products_update.json") | {"product_type": ""}
    payload["category"] = {
        "admin_graphql_api_id": "gid://shopify/TaxonomyCategory/aa-1-13-8",
        "name": "T-Shirts",
        "full_name": "Apparel & Accessories > Clothing > Clothing Tops > T-Shirts",
    }
    assert shopify_product(payload).shop_category == "Apparel & Accessories > Clothing > Clothing Tops > T-Shirts"
    del payload["category"]["full_name"]
    assert shopify_product(payload).shop_category == "T-Shirts"
    payload["category"] = {"admin_graphql_api_id": "gid://shopify/TaxonomyCategory/na", "name": "Uncategorized"}
    assert shopify_product(payload).shop_category == ""


def test_shopify_delete_names_only_the_product() -> None:
    product = product_from_webhook("shopify", "products/delete", {"id": 788032119674292922})
    assert product is not None and product.deleted
    assert product.keys == ("shopify:product:788032119674292922",)


def test_woocommerce_product_updated_as_documented() -> None:
    product = woocommerce_product(fixture("woocommerce_product_updated.json"))
    assert product.keys == ("woocommerce:product:794",)  # no SKU, no variations
    assert product.title == "Premium Quality"
    assert product.shop_category == "Clothing"  # the first of its categories
    assert product.image_url == "https://example.com/wp-content/uploads/2017/03/T_2_front-4.jpg"
    assert product.url == "https://example.com/product/premium-quality-19/"
    assert product.sku == ""
    assert (product.gtin, product.brand, product.mpn) == (None, None, None)
    assert not product.deleted


def test_woocommerce_variations_sku_and_escaped_names() -> None:
    payload = fixture("woocommerce_product_updated.json") | {
        "sku": "PQ-TEE",
        "type": "variable",
        "variations": [801, 802],
        "global_unique_id": "4006381333931",
        "brands": [{"id": 3, "name": "Woo &amp; Co"}],
    }
    payload["categories"][0]["name"] = "Home &amp; Garden"
    product = woocommerce_product(payload)
    assert product.keys == (
        "woocommerce:product:794",
        "woocommerce:variation:801",
        "woocommerce:variation:802",
        "sku:PQ-TEE",
    )
    assert (product.shop_category, product.brand, product.gtin) == ("Home & Garden", "Woo & Co", "4006381333931")


def test_a_woocommerce_variation_only_adds_its_keys_to_its_parent() -> None:
    payload = fixture("woocommerce_product_updated.json") | {"id": 801, "type": "variation", "parent_id": 794}
    payload["sku"] = "PQ-TEE-S"
    product = woocommerce_product(payload)
    assert product.keys == ("woocommerce:product:794", "woocommerce:variation:801", "sku:PQ-TEE-S")
    assert product.values() == {}  # nothing else of the parent changes


def test_woocommerce_trash_and_delete_mark_the_product_deleted() -> None:
    trashed = product_from_webhook(
        "woocommerce", "product.updated", fixture("woocommerce_product_updated.json") | {"status": "trash"}
    )
    deleted = product_from_webhook("woocommerce", "product.deleted", {"id": 794})
    assert trashed is not None and trashed.deleted
    assert deleted is not None and deleted.deleted and deleted.keys == ("woocommerce:product:794",)


def test_other_topics_are_not_products_and_a_missing_id_is_an_error() -> None:
    assert product_from_webhook("shopify", "orders/create", {"id": 1}) is None
    assert product_from_webhook("woocommerce", "order.updated", {"id": 1}) is None
    with pytest.raises(ProductPayloadError, match="`id`"):
        product_from_webhook("shopify", "products/update", {"title": "No id"})
    with pytest.raises(ProductPayloadError):
        product_from_webhook("woocommerce", "product.deleted", {"id": "abc"})


def test_long_values_are_cut_to_their_columns() -> None:
    payload = fixture("shopify_products_update.json") | {"title": "T" * 400, "vendor": "V" * 150}
    values = shopify_product(payload).values()
    assert (len(values["title"]), len(values["brand"])) == (300, 100)


def test_unsafe_image_addresses_are_dropped() -> None:
    assert safe_image_url("https://cdn.example/a.jpg") == "https://cdn.example/a.jpg"
    assert safe_image_url("/static/demo/products/kettle.png") == "/static/demo/products/kettle.png"
    for bad in ("javascript:alert(1)", "data:image/png;base64,AAAA", "//evil.example/a.png", "/static/../app.py"):
        assert safe_image_url(bad) == "", bad
    payload = fixture("woocommerce_product_updated.json")
    payload["images"][0]["src"] = "javascript:alert(1)"
    assert woocommerce_product(payload).image_url == ""
    assert absolute_url("/static/a.png", "http://shop.example/") == "http://shop.example/static/a.png"
    assert absolute_url("https://cdn.example/a.png", "http://shop.example") == "https://cdn.example/a.png"


def test_order_platform_and_item_keys() -> None:
    assert [order_platform(x) for x in ("5813749661986", "wc-727", "A-1001", "wc-x")] == [
        "shopify",
        "woocommerce",
        "",
        "",
    ]
    assert item_keys("5813749661986", "TEE-S", "788", "642") == [
        "shopify:variant:642",
        "shopify:product:788",
        "sku:TEE-S",
    ]
    assert item_keys("wc-727", "PQ-TEE", "794", "801") == [
        "woocommerce:variation:801",
        "woocommerce:product:794",
        "sku:PQ-TEE",
    ]
    assert item_keys("A-1001", "KETTLE-1", "", "") == ["sku:KETTLE-1"]
    # Items stored before their platform ids were kept: the stand-in SKU still names the variant.
    assert item_keys("5813749661986", "variant-642")[0] == "shopify:variant:642"
    assert item_keys("wc-727", "variation-801")[0] == "woocommerce:variation:801"


def test_item_category_rule() -> None:
    assert item_category("", False, "Shirts", None) == "shirts"
    assert item_category("shirts", False, "Tees", None) == "tees"  # a platform item follows its product
    assert item_category("apparel", True, "Tees", None) == "apparel"  # an API item keeps its own
    assert item_category("apparel", True, "Tees", "clothing") == "clothing"  # the owner's mapping wins
    assert item_category("", True, "Tees", None) == "tees"
    assert item_category("kitchen", False, "", None) == "kitchen"  # no shop category: nothing to say


def test_gtin_check_digit() -> None:
    assert gtin_problem("4006381333931") == ""
    assert gtin_problem("96385074") == ""  # GTIN-8
    assert "check digit" in gtin_problem("4006381333932")
    assert "digits" in gtin_problem("12345")
    assert "digits" in gtin_problem("400638133393X")
