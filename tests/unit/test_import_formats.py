"""Telling the files shops and review tools export apart by their header, and reading their rows. No database."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from reviews import import_formats as reviews
from shop.imports import order_formats as orders

EXPORTS = Path(__file__).parent.parent / "data" / "exports"


def header_of(name: str) -> list[str]:
    with (EXPORTS / name).open(newline="", encoding="utf-8-sig") as file:
        return next(csv.reader(file))


def rows_of(name: str) -> list[dict[str, str]]:
    with (EXPORTS / name).open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        reader.fieldnames = [column.strip().lower() for column in reader.fieldnames or []]
        return list(reader)


# Orders ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("shopify_orders_export.csv", "shopify"),
        ("woocommerce_orders_export.csv", "woocommerce"),
        ("../orders_sample.csv", "afterglow"),
    ],
)
def test_order_files_are_recognised_by_their_header(name: str, key: str) -> None:
    assert orders.recognise(orders.normalise_header(header_of(name))).key == key


def test_shopifys_export_has_79_columns() -> None:
    assert len(header_of("shopify_orders_export.csv")) == 79


def test_an_unknown_order_header_names_the_columns_missing_for_the_closest_format() -> None:
    with pytest.raises(orders.UnknownHeader, match=r"lacks the column\(s\) total, item_name, price of Afterglow"):
        orders.recognise(["external_id", "placed_at", "email", "sku"])
    with pytest.raises(orders.UnknownHeader, match=r"Lineitem sku of Shopify"):
        orders.recognise(["name", "email", "financial status", "created at", "currency", "total", "lineitem quantity",
                          "lineitem name", "lineitem price"])  # fmt: skip
    with pytest.raises(orders.UnknownHeader, match="external_id"):
        orders.recognise([])


def test_a_shopify_row_in_our_terms() -> None:
    first, second = rows_of("shopify_orders_export.csv")[:2]
    row = orders.SHOPIFY.read(first)
    assert row.group == "#1001"
    assert row.values["external_id"] == "5550000001"
    assert (row.values["placed_at"], row.values["total"], row.values["email"]) == (
        "2026-09-03 10:15:00 +0200",
        "89.70",
        "ada@example.com",
    )
    assert (row.values["sku"], row.values["price"], row.values["name"]) == ("KNIFE-CHEF-20", "59.90", "Ada Example")
    assert "delivered_at" not in row.values  # "Fulfilled at" is when it left, not when it arrived
    # Later rows of an order carry the item only; an item without a SKU is known by its name.
    later = orders.SHOPIFY.read(second)
    assert (later.group, later.values["email"], later.values["sku"]) == ("#1001", "", "Bath towel set")


def test_a_woocommerce_row_in_our_terms() -> None:
    completed, no_sku, cancelled, _ = rows_of("woocommerce_orders_export.csv")
    row = orders.WOOCOMMERCE.read(completed)
    assert (row.group, row.values["external_id"], row.skip) == ("727", "wc-727", "")
    assert (row.values["price"], row.values["name"], row.values["product_ref"]) == ("129.00", "Claire Example", "41")
    assert orders.WOOCOMMERCE.read(no_sku).values["sku"] == "product-57"
    assert orders.WOOCOMMERCE.read(cancelled).skip == "status cancelled"
    assert orders.WOOCOMMERCE.local_times and orders.WOOCOMMERCE.email_optional


def test_woocommerce_values_lose_the_quote_that_guards_spreadsheets() -> None:
    row = orders.WOOCOMMERCE.read({"order_id": "1", "billing_first_name": "'=Ann", "item_price": "3.3333333"})
    assert (row.values["name"], row.values["price"]) == ("=Ann", "3.33")


def test_errors_name_the_files_own_columns() -> None:
    assert orders.SHOPIFY.label("placed_at") == "Created at"
    assert orders.WOOCOMMERCE.label("price") == "item_price"
    assert orders.AFTERGLOW.label("price") == "price"


# Reviews -----------------------------------------------------------------------------------------------------------

SAMPLES = {
    "judgeme_reviews.csv": "judgeme",
    "yotpo_reviews.csv": "yotpo",
    "stamped_reviews.csv": "stamped",
    "shopify_product_reviews.csv": "shopify",
    "trustpilot_reviews.csv": "trustpilot",
}


@pytest.mark.parametrize(("name", "source"), list(SAMPLES.items()))
def test_review_exports_are_recognised_by_their_header(name: str, source: str) -> None:
    assert reviews.recognise(reviews.normalise_header(header_of(name))).source == source


def test_an_unknown_review_header_names_the_columns_missing_for_the_closest_export() -> None:
    with pytest.raises(reviews.UnknownHeader, match=r"lacks the column\(s\) Review Title, Review Content of Trust"):
        reviews.recognise(["review created (utc)", "review stars"])
    with pytest.raises(
        reviews.UnknownHeader, match=r"read: Judge.me, Yotpo, Yotpo \(newer export\), Stamped, Shopify Product Reviews"
    ):
        reviews.recognise(["name", "stars"])


def test_a_judgeme_row() -> None:
    ada, _, spam, pending, bad, _ = rows_of("judgeme_reviews.csv")
    review = reviews.JUDGEME.read(ada)
    assert (review.rating, review.title, review.author, review.email) == (
        5,
        "Sharp and well balanced",
        "Ada Example",
        "ada@example.com",
    )
    assert review.created_at == datetime(2026, 9, 20, 10, 12, tzinfo=UTC)
    assert review.product == reviews.ProductRef(platform_id="8012345678", handle="chef-knife-20")
    assert len(review.photo_urls) == 2 and not review.held
    # No review ids in Judge.me's export: the key is a digest, the same for the same review every time.
    assert review.key == reviews.JUDGEME.read(dict(ada, reply="A later reply", curated="ok")).key
    assert review.key != reviews.JUDGEME.read(dict(ada, body="Edited")).key
    with pytest.raises(reviews.Skipped, match="spam"):
        reviews.JUDGEME.read(spam)
    assert reviews.JUDGEME.read(pending).held
    with pytest.raises(reviews.BadRow, match="`rating` is not a rating: 'six'"):
        reviews.JUDGEME.read(bad)


def test_a_yotpo_site_review_is_about_the_shop_and_private_comments_stay_in_yotpo() -> None:
    towels, site, hidden = rows_of("yotpo_reviews.csv")
    review = reviews.YOTPO.read(towels)
    assert (review.key, review.reply, review.product.handle) == ("yotpo:501", "Glad you like them!", "bath-towel-set")
    site_review = reviews.YOTPO.read(site)
    assert site_review.product.shop and site_review.reply == ""
    with pytest.raises(reviews.Skipped, match="not published in Yotpo"):
        reviews.YOTPO.read(hidden)


def test_a_stamped_row_names_its_photos_by_file() -> None:
    review = reviews.STAMPED.read(rows_of("stamped_reviews.csv")[0])
    assert review.photo_urls == ("https://cdn.stamped.io/uploads/photos/9001_demo_photo.jpg",)
    assert (review.key, review.product.sku, review.rating) == ("stamped:9001", "DRIP-CER-01", 3)


def test_a_trustpilot_row_is_a_review_of_the_shop_naming_its_order() -> None:
    first, second = rows_of("trustpilot_reviews.csv")
    review = reviews.TRUSTPILOT.read(first)
    assert review.product.shop and review.order_ref == "5550000001"
    assert (review.reply, review.reply_at) == ("Thanks for the kind words!", datetime(2026, 9, 30, 8, tzinfo=UTC))
    assert reviews.TRUSTPILOT.read(second).language == "de"


@pytest.mark.parametrize(
    ("value", "scale", "stars"),
    [("5", 5, 5), ("4.0", 5, 4), ("4.5", 5, 5), ("10", 10, 5), ("7", 10, 4), ("1", 10, 1)],
)
def test_ratings_become_one_to_five_stars(value: str, scale: int, stars: int) -> None:
    assert reviews.rating(value, "rating", scale) == stars


@pytest.mark.parametrize("value", ["0", "6", "", "-1", "nan", "five"])
def test_ratings_outside_the_scale_are_bad_rows(value: str) -> None:
    with pytest.raises(reviews.BadRow, match="`rating`"):
        reviews.rating(value, "rating")


@pytest.mark.parametrize(
    ("value", "at"),
    [
        ("2026-09-20 10:12:00 UTC", datetime(2026, 9, 20, 10, 12, tzinfo=UTC)),
        ("2026-07-15", datetime(2026, 7, 15, tzinfo=UTC)),
        ("2026-06-01T10:00:00-04:00", datetime(2026, 6, 1, 10, tzinfo=timezone(timedelta(hours=-4)))),
        ("2026-09-18T07:45:00.000Z", datetime(2026, 9, 18, 7, 45, tzinfo=UTC)),
        ("09/18/2026", datetime(2026, 9, 18, tzinfo=UTC)),
    ],
)
def test_export_dates(value: str, at: datetime) -> None:
    assert reviews.when(value, "date") == at


def test_only_web_addresses_are_kept_as_photo_links() -> None:
    assert reviews.photo_urls("https://a.example/1.jpg; javascript:alert(1) https://a.example/1.jpg,x.jpg") == (
        "https://a.example/1.jpg",
    )
    assert reviews.handle_in("https://shop.example.com/products/bath-towel-set?variant=1") == "bath-towel-set"


def test_yotpos_newer_export_names_the_order_and_the_status() -> None:
    header = ["Review ID", "Review Type", "Product ID", "Review Score", "Review Title", "Review Content",
              "Review Status", "Review Creation Date", "Reviewer Display Name", "Reviewer Email", "Order ID",
              "Published Image URLs"]  # fmt: skip
    fmt = reviews.recognise(reviews.normalise_header(header))
    assert fmt is reviews.YOTPO_TITLED
    row = {
        "review id": "77",
        "review type": "product_review",
        "product id": "8012345001",
        "review score": "4",
        "review content": "Soft.",
        "review status": "Published",
        "review creation date": "2026-09-25T14:00:00Z",
        "reviewer display name": "Bo Placeholder",
        "order id": "5550000002",
        "published image urls": "https://a.example/1.jpg; https://a.example/2.jpg",
    }
    review = fmt.read(row)
    assert (review.key, review.order_ref, review.product.platform_id) == ("yotpo:77", "5550000002", "8012345001")
    assert review.photo_urls == ("https://a.example/1.jpg", "https://a.example/2.jpg")
    assert fmt.read(dict(row, **{"review type": "site_review"})).product.shop
    with pytest.raises(reviews.Skipped, match="pending in Yotpo"):
        fmt.read(dict(row, **{"review status": "Pending"}))
