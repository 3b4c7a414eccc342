"""Importing reviews collected by another tool (`afterglow import-reviews FILE`): Judge.me, Yotpo, Stamped, Shopify
Product Reviews and Trustpilot exports, recognised by their header row (reviews/import_formats.py).

Each review is stored once (`Review.import_key`), with the tool's date, stars, title, text, reviewer's shown name,
the shop's public reply and photo addresses (kept as links, never fetched). Its product is found in the catalogue
(by the platform's product id, SKU, handle or name) or among the items sold; a review whose product is not found is
left out, so a later run, after the catalogue or the orders are imported, picks it up. It is verified only when its
order is known here: found by the export's order reference, or by the reviewer's email, with the product among the
order's items. Nothing is sent for an imported review: no invitation, no email; feedback intake tags it without
routing it to an inbox.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from afterglow.csvfiles import header_row
from afterglow.db import UNIQUE_VIOLATIONS
from reviews.import_formats import (
    BadRow,
    ImportedReview,
    ProductRef,
    ReviewFormat,
    Skipped,
    handle_in,
    normalise_header,
    recognise,
)
from reviews.policy import display_name, held_rule
from reviews.services.collect import TITLE_MAX
from reviews.tables import Review
from shop.policy import ImplausibleDate, check_date
from shop.tables import CategoryMap, Customer, Order, OrderItem, Product, ProductKey

#: `Review.held_rule` of a review the tool had not decided on.
UNDECIDED = "undecided"
PHOTO_LINKS_MAX = 10
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class ReviewImportReport:
    """What an import did; `errors` holds (line, message) for every row that could not be read; `skipped` counts
    the reviews left out on purpose, by reason; `new_ids` are the reviews this run stored."""

    source: str = ""
    rows: int = 0
    imported: int = 0
    verified: int = 0
    held: int = 0
    already_imported: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    new_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Product:
    sku: str
    name: str
    category: str


SHOP_ITSELF = _Product("", "", "")


def file_format(path: Path) -> ReviewFormat:
    """The export the file comes from, by its header row; ValueError naming the missing columns otherwise."""
    header = header_row(path)
    try:
        return recognise(normalise_header(header))
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None


async def import_reviews(
    path: Path,
    *,
    now: datetime | None = None,
    on_progress: Callable[[int], None] | None = None,
    language_of: Callable[[str], str] | None = None,
) -> ReviewImportReport:
    """Import the reviews of a review tool's export. A row that cannot be read is reported by line and the rest
    imported; a second run imports nothing twice. `language_of` names a text's language ("" when unsure)."""
    now = now or datetime.now(UTC)
    fmt = file_format(path)
    report = ReviewImportReport(source=fmt.source)
    known = {
        row["import_key"]
        for row in await Review.select(Review.import_key).where(Review.source == fmt.source)
        if row["import_key"]
    }
    finder = _Finder()
    with path.open(newline="", encoding="utf-8-sig") as file:
        reader = csv.DictReader(file)
        reader.fieldnames = normalise_header(reader.fieldnames or [])
        try:
            for raw in reader:
                report.rows += 1
                row = {k: (v or "").strip() for k, v in raw.items() if isinstance(k, str)}
                await _import_row(fmt, reader.line_num, row, report, known, finder, now, language_of)
                if on_progress is not None:
                    on_progress(report.rows)
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path.name}: not UTF-8 text near line {reader.line_num + 1}") from exc
    return report


async def _import_row(
    fmt: ReviewFormat,
    line: int,
    row: dict[str, str],
    report: ReviewImportReport,
    known: set[str],
    finder: _Finder,
    now: datetime,
    language_of: Callable[[str], str] | None,
) -> None:
    try:
        review = fmt.read(row)
        check_date("review date", review.created_at, now)
    except Skipped as skipped:
        report.skipped[str(skipped)] += 1
        return
    except (BadRow, ImplausibleDate) as bad:
        report.errors.append((line, getattr(bad, "message", str(bad))))
        return
    if review.key in known:
        report.already_imported += 1
        return
    product = await finder.product(review.product)
    if product is None:
        report.skipped["product not found"] += 1
        return
    match = await _match_order(review, product)
    text = f"{review.title} {review.text}".strip()
    language = review.language or (language_of(text) if language_of and text else "")
    rule = held_rule(review.title, review.text)
    held = review.held or rule is not None
    values = Review(
        order_item=match.item,
        customer=match.customer,
        sku=product.sku,
        product_name=product.name[:300],
        category=product.category,
        rating=review.rating,
        title=" ".join(review.title.split())[:TITLE_MAX],
        text=review.text.replace("\r\n", "\n"),
        language=language.replace("_", "-").split("-")[0].lower()[:8] or "en",
        # A tool that shows email addresses as names must not have them shown here.
        author_name="" if "@" in review.author else display_name(review.author)[:100],
        verified=match.verified,
        status="held" if held else "published",
        held_rule=(rule or UNDECIDED) if held else "",
        reply_text=review.reply,
        reply_at=(review.reply_at or review.created_at) if review.reply else None,
        source=fmt.source,
        import_key=review.key,
        photo_urls=list(review.photo_urls[:PHOTO_LINKS_MAX]),
        created_at=review.created_at,
        updated_at=review.created_at,
    )
    try:
        review_id = int((await Review.insert(values).returning(Review.id))[0]["id"])
    except UNIQUE_VIOLATIONS:
        report.already_imported += 1  # a twin run stored it first
        return
    known.add(review.key)
    report.imported += 1
    report.verified += match.verified
    report.held += held
    report.new_ids.append(review_id)


@dataclass(frozen=True)
class _Match:
    verified: bool = False
    customer: int | None = None
    item: int | None = None


async def _match_order(review: ImportedReview, product: _Product) -> _Match:
    """The order the review is of, when it is known here: by the export's order reference, else (or when the
    reference names no order here) by the reviewer's email; verified only with the product among the order's items
    (for a review of the shop, the order itself)."""
    email = review.email.strip().lower()
    customer = await Customer.select(Customer.id).where(Customer.email == email).first() if email else None
    customer_id = int(customer["id"]) if customer else None
    ways = []
    if review.order_ref:
        ref = review.order_ref.lstrip("#")
        ways.append(Order.external_id.is_in([review.order_ref, ref, f"wc-{ref}"]))
    if customer_id is not None:
        ways.append(Order.customer == customer_id)
    for where in ways:
        if product is SHOP_ITSELF:
            order = await Order.select(Order.customer).where(where).order_by(Order.placed_at, ascending=False).first()
            if order is not None:
                return _Match(True, order["customer"] or customer_id)
            continue
        item = (
            await OrderItem.select(OrderItem.id, OrderItem.order.customer)
            .where(OrderItem.order.is_in(Order.select(Order.id).where(where)) & (OrderItem.sku == product.sku))
            .order_by(OrderItem.order.placed_at, ascending=False)
            .first()
        )
        if item is not None:
            # An item has one review: one collected here keeps it, and the imported one stands beside it.
            reviewed = await Review.exists().where(Review.order_item == item["id"])
            return _Match(True, item["order.customer"] or customer_id, None if reviewed else int(item["id"]))
    return _Match(customer=customer_id)


class _Finder:
    """Finds each product the export names once: in the catalogue, else among the items sold."""

    def __init__(self) -> None:
        self._found: dict[ProductRef, _Product | None] = {}
        self._catalogue: list[dict[str, Any]] | None = None
        self._mapping: dict[str, str] | None = None

    async def product(self, ref: ProductRef) -> _Product | None:
        if ref.shop:
            return SHOP_ITSELF
        if ref not in self._found:
            self._found[ref] = await self._find(ref)
        return self._found[ref]

    async def _find(self, ref: ProductRef) -> _Product | None:
        keys = [f"{platform}:product:{ref.platform_id}" for platform in ("shopify", "woocommerce") if ref.platform_id]
        keys += [f"sku:{ref.sku}"] if ref.sku else []
        row = None
        if keys:
            row = (
                await ProductKey.select(*ProductKey.product.all_columns())
                .where(ProductKey.key.is_in(keys))
                .order_by(ProductKey.id)
                .first()
            )
            row = {k.removeprefix("product."): v for k, v in row.items()} if row else None
        if row is None and (ref.handle or ref.name):
            row = await self._by_handle_or_title(ref)
        if row is not None:
            sku = row["sku"] or await self._sold_sku(row["id"])
            if sku:
                return _Product(sku, row["title"] or ref.name, await self._category(sku, row["shop_category"]))
        return await self._sold(ref)

    async def _by_handle_or_title(self, ref: ProductRef) -> dict[str, Any] | None:
        if self._catalogue is None:
            self._catalogue = await Product.select(
                Product.id, Product.sku, Product.title, Product.shop_category, Product.url
            ).order_by(Product.id)
        handle, name = ref.handle.lower(), ref.name.strip().lower()
        for product in self._catalogue:
            if handle and (handle_in(product["url"]).lower() == handle or _slug(product["title"]) == handle):
                return product
        for product in self._catalogue:
            if name and product["title"].strip().lower() == name:
                return product
        return None

    async def _sold_sku(self, product_id: int) -> str:
        """The SKU the shop's line items know a catalogue entry without a SKU by (its platform ids')."""
        refs = [
            row["key"].rsplit(":", 1)[1]
            for row in await ProductKey.select(ProductKey.key).where(ProductKey.product == product_id)
        ]
        if not refs:
            return ""
        item = (
            await OrderItem.select(OrderItem.sku)
            .where(OrderItem.product_ref.is_in(refs) | OrderItem.variant_ref.is_in(refs))
            .order_by(OrderItem.id, ascending=False)
            .first()
        )
        return item["sku"] if item else ""

    async def _sold(self, ref: ProductRef) -> _Product | None:
        """A product never catalogued, found among the items sold: by its platform id, SKU or name."""
        where = None
        if ref.platform_id:
            where = (OrderItem.product_ref == ref.platform_id) | (OrderItem.sku == f"product-{ref.platform_id}")
        if ref.sku:
            where = OrderItem.sku == ref.sku if where is None else where | (OrderItem.sku == ref.sku)
        if ref.name:
            where = OrderItem.name == ref.name if where is None else where | (OrderItem.name == ref.name)
        if where is None:
            return None
        item = (
            await OrderItem.select(OrderItem.sku, OrderItem.name, OrderItem.category)
            .where(where)
            .order_by(OrderItem.id, ascending=False)
            .first()
        )
        return _Product(item["sku"], item["name"], item["category"]) if item else None

    async def _category(self, sku: str, shop_category: str) -> str:
        """The category collected reviews of this product have: their items', else the owner's mapping of the
        product's shop category, else that shop category in lower case."""
        item = (
            await OrderItem.select(OrderItem.category)
            .where((OrderItem.sku == sku) & (OrderItem.category != ""))
            .order_by(OrderItem.id, ascending=False)
            .first()
        )
        if item:
            return str(item["category"])
        if self._mapping is None:
            self._mapping = {row["shop_category"]: row["category"] for row in await CategoryMap.select()}
        return self._mapping.get(shop_category) or " ".join(shop_category.split()).lower()[:100]


def _slug(title: str) -> str:
    return _NOT_SLUG.sub("-", title.lower()).strip("-")
