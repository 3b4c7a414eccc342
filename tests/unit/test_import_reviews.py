"""`afterglow import-reviews`: the exports of Judge.me, Yotpo, Stamped, Shopify Product Reviews and Trustpilot, as
they are, into reviews that show like collected ones and never make anyone get an email."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from accounts.services import staff
from afterglow.settings import Settings
from feedback.tables import FeedbackItem, InboxItem
from operations.cli import main
from reviews.services import moderation
from reviews.services.imports import import_reviews
from reviews.services.rejection_email import send_rejection_email, unsent_rejections
from reviews.tables import Review
from shop.imports.orders import import_orders
from shop.tables import Product, ProductKey
from surveys.tables import Invitation, SentEmail
from tests.unit.staff_fixtures import make_staff, sign_in

EXPORTS = Path(__file__).parent.parent / "data" / "exports"
NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
async def shop() -> None:
    """The shop's catalogue and its Shopify order history (Ada bought the chef's knife in order 5550000001)."""
    catalogue = [
        ("KNIFE-CHEF-20", "Chef's knife, 20 cm", "Knives", "chef-knife-20", "8012345678"),
        ("TOWEL-SET-4", "Bath towel set", "Bathroom", "bath-towel-set", "8012345001"),
        ("CANDLE-BW-3", "Beeswax candle set", "Home", "beeswax-candle-set", ""),
        ("DRIP-CER-01", "Ceramic coffee dripper", "Kitchen", "ceramic-coffee-dripper", ""),
    ]
    for sku, title, category, handle, product_id in catalogue:
        row = Product(
            source="shopify",
            sku=sku,
            title=title,
            shop_category=category,
            url=f"https://shop.example.com/products/{handle}",
        )
        product = (await Product.insert(row).returning(Product.id))[0]["id"]
        await ProductKey.insert(ProductKey(product=product, key=f"sku:{sku}"))
        if product_id:
            await ProductKey.insert(ProductKey(product=product, key=f"shopify:product:{product_id}"))
    await import_orders(EXPORTS / "shopify_orders_export.csv", now=NOW)


EXPECTED = {
    "judgeme_reviews.csv": ("judgeme", 6, 3, 1, {"spam in Judge.me": 1, "product not found": 1}, [6]),
    "shopify_product_reviews.csv": ("shopify", 2, 1, 0, {"unpublished in Shopify Product Reviews": 1}, []),
    "yotpo_reviews.csv": ("yotpo", 3, 2, 0, {"not published in Yotpo": 1}, []),
    "stamped_reviews.csv": ("stamped", 1, 1, 0, {}, []),
    "trustpilot_reviews.csv": ("trustpilot", 2, 2, 1, {}, []),
}


@pytest.mark.parametrize("name", list(EXPECTED))
async def test_each_tools_export_imports(name: str) -> None:
    source, rows, count, verified, skipped, bad_lines = EXPECTED[name]
    report = await import_reviews(EXPORTS / name, now=NOW)
    assert (report.source, report.rows, report.imported, report.verified) == (source, rows, count, verified)
    assert report.skipped == skipped
    assert [line for line, _ in report.errors] == bad_lines
    assert await Review.count().where(Review.source == source) == count


async def test_judgeme_reviews_keep_their_dates_replies_and_photo_links() -> None:
    report = await import_reviews(EXPORTS / "judgeme_reviews.csv", now=NOW)
    assert report.errors == [(6, "`rating` is not a rating: 'six'")]
    ada = await Review.select().where(Review.author_name == "Ada E.").output(load_json=True).first()
    assert (ada["sku"], ada["product_name"], ada["category"]) == ("KNIFE-CHEF-20", "Chef's knife, 20 cm", "knives")
    assert (ada["rating"], ada["title"], ada["status"]) == (5, "Sharp and well balanced", "published")
    assert ada["created_at"] == datetime(2026, 9, 20, 10, 12, tzinfo=UTC)
    assert (ada["reply_text"], ada["reply_at"]) == ("Thank you, Ada!", datetime(2026, 9, 21, 9, 0, tzinfo=UTC))
    assert ada["photo_urls"] == [
        "https://judgeme.imgix.net/demo/knife-1.jpg",
        "https://judgeme.imgix.net/demo/knife-2.jpg",
    ]
    assert ada["import_key"].startswith("judgeme:") and ada["language"] == "en"
    # A review the tool had not decided on waits for a moderator here.
    ivy = await Review.select(Review.status, Review.held_rule).where(Review.author_name == "Ivy P.").first()
    assert ivy == {"status": "held", "held_rule": "undecided"}


async def test_verified_only_where_the_order_is_known_here() -> None:
    for name in EXPECTED:
        await import_reviews(EXPORTS / name, now=NOW)
    rows = await Review.select(Review.author_name, Review.verified, Review.order_item.sku, Review.customer.email).where(
        Review.sku != ""
    )
    by_author = {row["author_name"]: row for row in rows}
    # Ada bought the knife in Shopify order 5550000001: her review is of that order item.
    assert by_author["Ada E."]["verified"] is True and by_author["Ada E."]["order_item.sku"] == "KNIFE-CHEF-20"
    # Bo is a customer, but never bought the towels he reviewed: known, not verified.
    assert (by_author["Bo P."]["verified"], by_author["Bo P."]["customer.email"]) == (False, "bo@example.com")
    # Gus and Mo are not customers here.
    assert by_author["Gus S."]["verified"] is False and by_author["Gus S."]["customer.email"] is None
    assert by_author["Mo E."]["verified"] is False
    # Trustpilot names Ada's order by its reference: a verified review of the shop itself.
    shop_reviews = await Review.select(Review.author_name, Review.verified).where(Review.sku == "")
    assert sorted((r["author_name"], r["verified"]) for r in shop_reviews) == [
        ("Ada E.", True),
        ("Lu S.", False),
        ("Nina S.", False),
    ]


async def test_a_second_run_imports_nothing_twice() -> None:
    for name in EXPECTED:
        first = await import_reviews(EXPORTS / name, now=NOW)
        again = await import_reviews(EXPORTS / name, now=NOW)
        assert (again.imported, again.already_imported) == (0, first.imported)
    assert await Review.count() == sum(count for _, _, count, *_ in EXPECTED.values())


async def test_a_review_whose_product_is_found_later_is_imported_by_the_next_run() -> None:
    await import_reviews(EXPORTS / "judgeme_reviews.csv", now=NOW)
    row = Product(sku="MUG-1", title="Big mug", url="https://shop.example.com/products/mug-we-never-sold")
    await Product.insert(row)
    again = await import_reviews(EXPORTS / "judgeme_reviews.csv", now=NOW)
    assert (again.imported, again.skipped["product not found"]) == (1, 0)


async def test_yotpo_keeps_only_the_shops_public_comment_as_its_reply() -> None:
    await import_reviews(EXPORTS / "yotpo_reviews.csv", now=NOW)
    replies = await Review.select(Review.author_name, Review.reply_text).order_by(Review.author_name)
    assert replies == [
        {"author_name": "Bo P.", "reply_text": "Glad you like them!"},
        {"author_name": "Lu S.", "reply_text": ""},
    ]


async def test_imported_reviews_show_in_the_widget_and_its_api(client: AsyncTestClient) -> None:
    await import_reviews(EXPORTS / "judgeme_reviews.csv", now=NOW)
    await import_reviews(EXPORTS / "shopify_product_reviews.csv", now=NOW)
    body = (await client.get("/api/v1/products/KNIFE-CHEF-20/reviews")).json()
    assert [(item["author"], item["verified"]) for item in body["items"]] == [("Ada E.", True), ("Hal E.", False)]
    assert body["items"][0]["reply"]["text"] == "Thank you, Ada!"
    widget = await client.get("/widget/products/KNIFE-CHEF-20")
    assert widget.status_code == 200
    assert 'href="https://judgeme.imgix.net/demo/knife-2.jpg"' in widget.text
    assert "Good, but the box arrived dented." in widget.text
    # A review of the shop itself is no product's.
    await import_reviews(EXPORTS / "trustpilot_reviews.csv", now=NOW)
    listed = (await client.get("/api/v1/products")).json()["items"]
    assert "" not in [item["sku"] for item in listed]


async def test_imported_reviews_show_on_the_staff_pages(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    for name in EXPECTED:
        await import_reviews(EXPORTS / name, now=NOW)
    held = await client.get("/app/reviews")
    assert held.status_code == 200 and "Imported from judgeme" in held.text
    published = await client.get("/app/reviews?status=published")
    assert published.status_code == 200
    assert "The shop itself" in published.text and "Imported from trustpilot" in published.text


def test_the_command_tags_imported_reviews_and_nobody_is_emailed() -> None:
    result = CliRunner().invoke(main, ["import-reviews", str(EXPORTS / "judgeme_reviews.csv")])
    assert result.exit_code == 1, result.output  # one bad row; the rest imported
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["source"], summary["imported"], summary["verified"], summary["tagged"]) == ("judgeme", 3, 1, 3)
    assert summary["skipped"] == {"product not found": 1, "spam in Judge.me": 1}
    assert "line 6" in result.stderr and "left out 1 review(s): spam in Judge.me" in result.stderr
    # Tagged like collected reviews (so they teach the learned model), but routed to no inbox.
    assert FeedbackItem.count().where(FeedbackItem.source == "review").run_sync() == 3
    assert FeedbackItem.count().where(FeedbackItem.label != "").run_sync() == 3
    assert InboxItem.count().run_sync() == 0
    assert Invitation.count().run_sync() == 0
    assert SentEmail.count().run_sync() == 0
    again = json.loads(
        CliRunner().invoke(main, ["import-reviews", str(EXPORTS / "judgeme_reviews.csv")]).stdout.splitlines()[-1]
    )
    assert (again["imported"], again["already_imported"], again["tagged"]) == (0, 3, 0)


async def test_rejecting_an_imported_review_emails_nobody(settings: Settings) -> None:
    await import_reviews(EXPORTS / "judgeme_reviews.csv", now=NOW)
    moderator = await staff((await make_staff())["admin"])
    assert moderator is not None
    ada = await Review.select(Review.id).where(Review.author_name == "Ada E.").first()
    await moderation.reject(ada["id"], "Not about the product.", moderator, NOW)
    assert await send_rejection_email(ada["id"], NOW, settings) == "imported"
    assert await unsent_rejections(NOW, settings) == []
    assert await SentEmail.count() == 0


def test_an_unknown_header_gets_a_message_naming_the_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "reviews.csv"
    path.write_text("title,body,rating,curated,reviewer_name,review_date\nNice,Good,5,ok,Ada,2026-01-01\n")
    result = CliRunner().invoke(main, ["import-reviews", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "lacks the column(s) product_id, product_handle of Judge.me" in result.stderr
    assert Review.count().run_sync() == 0
