"""Customers reviewing what they received: one review per delivered item of an invitation's order, editable."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from afterglow import i18n
from afterglow.celery_app import announce_saved
from afterglow.db import UNIQUE_VIOLATIONS
from afterglow.errors import FieldError
from afterglow.settings import Settings
from reviews.policy import display_name, held_rule, parse_rating
from reviews.services import versions
from reviews.services.item_read import item_section
from reviews.services.photos import (
    MAX_PHOTOS,
    CheckedPhoto,
    PhotoRejected,
    clean_photos,
    remove_photo_file,
    store_photo,
)
from reviews.tables import Review, ReviewPhoto
from shop.tables import OrderItem
from surveys.services.answers import ItemSection
from surveys.tables import Invitation

TITLE_MAX = 150
TEXT_MAX = 5000


class InvalidReview(FieldError):
    """What the customer sent cannot be saved as it is; `field` names the input, `message` tells them why."""


class UnknownItem(LookupError):
    """The item is not part of the order this survey link is for."""


@dataclass
class ReviewInput:
    rating: int
    title: str = ""
    text: str = ""
    remove_photos: list[str] = field(default_factory=list)


@dataclass
class ItemReview:
    """A delivered item as the survey page shows it, with the customer's review of it when there is one."""

    id: int  # the order item
    sku: str
    name: str
    review_id: int | None = None
    rating: int | None = None
    title: str = ""
    text: str = ""
    status: str = ""
    reject_reason: str = ""
    reply_text: str = ""
    photos: list[dict[str, Any]] = field(default_factory=list)
    #: Every order item of this product (an order may list a product twice); links to any of them lead here.
    item_ids: list[int] = field(default_factory=list)
    #: The catalogue's title and image of the product ("" when the catalogue does not know it).
    product_title: str = ""
    product_image: str = ""


def parse_review(form: dict[str, Any], language: str) -> ReviewInput:
    """Read a review form strictly: a rating of 1–5 stars, and a title and text within their lengths."""
    rating = parse_rating(str(form.get("rating") or ""))
    if rating is None:
        raise InvalidReview("rating", i18n.translate(language, "Please choose a star rating."))
    # A multipart form cannot be turned away for a NUL as a plain one is (afterglow.web): drop them here.
    title = " ".join(str(form.get("title") or "").replace("\x00", "").split())
    text = str(form.get("text") or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if len(title) > TITLE_MAX:
        message = i18n.translate(language, "Please keep the title under %(max)s characters.")
        raise InvalidReview("title", message % {"max": TITLE_MAX})
    if len(text) > TEXT_MAX:
        message = i18n.translate(language, "Please keep your review under %(max)s characters.")
        raise InvalidReview("text", message % {"max": TEXT_MAX})
    removed = form.get("remove_photo") or []
    removed = [removed] if isinstance(removed, str) else removed
    return ReviewInput(rating, title, text, [str(name) for name in removed])


def check_photo_count(item: ItemReview, given: ReviewInput, uploads: int, language: str) -> None:
    """InvalidReview when the photos kept and `uploads` new ones would pass MAX_PHOTOS; asked before any
    upload is decoded, so that a save that will be refused costs no decoding."""
    kept = [p for p in item.photos if p["file_name"] not in given.remove_photos]
    if len(kept) + uploads > MAX_PHOTOS:
        raise InvalidReview(
            "photos", i18n.translate(language, "Please attach at most %(max)s photos.") % {"max": MAX_PHOTOS}
        )


async def check_photos(uploads: list[tuple[str, bytes]], settings: Settings, language: str) -> list[CheckedPhoto]:
    """Each uploaded (file name, content) checked and cleaned off the event loop; InvalidReview names the first
    that is refused, and none is decoded when any is too many, too large or of the wrong type."""
    try:
        return await clean_photos(uploads, settings)
    except PhotoRejected as exc:
        if exc.reason == "count":
            message = i18n.translate(language, "Please attach at most %(max)s photos.")
        elif exc.reason == "type":
            message = i18n.translate(language, "%(name)s is not a JPEG, PNG or WebP photo.")
        elif exc.reason == "size":
            message = i18n.translate(language, "%(name)s is too large: photos can be up to %(mb)s MB.")
        elif exc.reason == "pixels":
            message = i18n.translate(language, "%(name)s has too many pixels: photos can have up to %(mp)s megapixels.")
        else:
            message = i18n.translate(language, "%(name)s could not be read as a photo.")
        values = {
            "name": exc.file_name or "photo",
            "max": MAX_PHOTOS,
            "mb": settings.review_photo_max_bytes // 1_000_000,
            "mp": settings.review_photo_max_pixels // 1_000_000,
        }
        raise InvalidReview("photos", message % values) from None


async def reviewable_items(invitation_id: int) -> list[ItemReview]:
    """The items of the invitation's order, one per product, with the customer's reviews; none for a support
    survey. Every delivered product is offered, whatever scores the customer gave: no review gating. A line the
    shop refunded is not offered."""
    inv = (
        await Invitation.select(Invitation.kind, Invitation.order, Invitation.order.external_id)
        .where(Invitation.id == invitation_id)
        .first()
    )
    if inv is None:
        return []
    rows = (
        await OrderItem.select(
            OrderItem.id, OrderItem.sku, OrderItem.name, OrderItem.product_ref, OrderItem.variant_ref
        )
        .where((OrderItem.order == inv["order"]) & OrderItem.returned_at.is_null())
        .order_by(OrderItem.id)
    )
    for row in rows:
        row["order.external_id"] = inv["order.external_id"]
    return await item_reviews(inv["kind"], rows)


#: Survey pages' review sections by the versions they were read under (`SURVEY_SECTION`), kind and items.
_sections = versions.cache(2048)
_ITEM_FIELDS = ("id", "sku", "name", "product_ref", "variant_ref", "order.external_id")


async def item_reviews(kind: str, rows: list[dict[str, Any]], version: str | None = None) -> list[ItemReview]:
    """The survey's items (`id`, `sku`, `name`, `product_ref`, `variant_ref`, `order.external_id`, in order), one
    per product, with the customer's reviews and the catalogue's title and image: one statement. Given the
    order's `version` (`versions.order_versions_sql`, read with the items), the answer is kept under it and
    shared by the pages that read the same: it is read-only."""
    if kind != "order" or not rows:
        return []
    if version is None:
        return await _item_reviews(rows)
    key = (version, kind, tuple(tuple(row[name] for name in _ITEM_FIELDS) for row in rows))
    kept: list[ItemReview] | None = _sections.get(key)
    if kept is None:
        kept = await _item_reviews(rows)
        _sections.put(key, kept)
    return kept


#: The survey page's section of items to review (app.py hands it to surveys).
SURVEY_SECTION = ItemSection(read=item_reviews, version_sql=versions.order_versions_sql('i."order"'))


async def _item_reviews(rows: list[dict[str, Any]]) -> list[ItemReview]:
    by_item, shown = await item_section(rows)
    items: dict[str, ItemReview] = {}
    for row in rows:
        review = by_item.get(row["id"])
        current = items.get(row["sku"])
        if current is not None:
            current.item_ids.append(row["id"])
            if current.review_id is not None or review is None:
                continue  # the same product twice in one order is reviewed once
        item = ItemReview(id=row["id"], sku=row["sku"], name=row["name"])
        item.item_ids = current.item_ids if current is not None else [row["id"]]
        if review is not None:
            item.review_id = review["id"]
            item.rating, item.title, item.text = review["rating"], review["title"], review["text"]
            item.status, item.reject_reason, item.reply_text = (
                review["status"],
                review["reject_reason"],
                review["reply_text"],
            )
            item.photos = review["photos"]
        items[row["sku"]] = item
    for item in items.values():
        if item.id in shown:
            item.product_title, item.product_image = shown[item.id]
    return list(items.values())


async def reviewable_item(invitation_id: int, item_id: int) -> ItemReview:
    """One item of the invitation's order; UnknownItem when it belongs to another order."""
    for item in await reviewable_items(invitation_id):
        if item_id in item.item_ids:
            return item
    raise UnknownItem(item_id)


async def save_review(
    invitation_id: int,
    item: ItemReview,
    given: ReviewInput,
    photos: list[CheckedPhoto],
    now: datetime,
    settings: Settings,
    language: str = "en",
) -> ItemReview:
    """Create or update the customer's review of one item, verified by the invitation it came through.

    The content rules decide again on every save whether it publishes now or waits for a moderator.
    An edit clears an earlier rejection (the customer has answered it); the shop's reply stays.
    `item` is the invitation's item as `reviewable_item` just read it."""
    check_photo_count(item, given, len(photos), language)
    kept = [p for p in item.photos if p["file_name"] not in given.remove_photos]
    rule = held_rule(given.title, given.text, settings.review_hold_rules)
    values: dict[Any, Any] = {
        Review.rating: given.rating,
        Review.title: given.title,
        Review.text: given.text,
        Review.language: language,
        Review.status: "held" if rule else "published",
        Review.held_rule: rule or "",
        Review.reject_reason: "",
        Review.moderated_at: None,
        Review.updated_at: now,
    }
    if item.review_id is None:
        review_id = await _insert(invitation_id, item.id, values, now)
    else:
        review_id = item.review_id
        await Review.update(values).where(Review.id == review_id)
    for photo in item.photos:
        if photo["file_name"] in given.remove_photos:
            await ReviewPhoto.delete().where(ReviewPhoto.file_name == photo["file_name"])
            remove_photo_file(photo["file_name"], settings)
    for position, photo in enumerate(photos, start=len(kept)):
        name = store_photo(photo, settings)
        await ReviewPhoto.insert(
            ReviewPhoto(
                review=review_id,
                file_name=name,
                content_type=photo.content_type,
                width=photo.width,
                height=photo.height,
                size=len(photo.data),
                position=position,
                created_at=now,
            )
        )
    return await reviewable_item(invitation_id, item.id)


async def submit_review(
    invitation_id: int,
    item: ItemReview,
    given: ReviewInput,
    photos: list[CheckedPhoto],
    now: datetime,
    settings: Settings,
    language: str = "en",
) -> ItemReview:
    """Save the review (`save_review`), then tell feedback intake that a review was saved."""
    saved = await save_review(invitation_id, item, given, photos, now, settings, language)
    if saved.review_id is not None:
        await announce_saved("review", saved.review_id)
    return saved


async def _insert(invitation_id: int, item_id: int, values: dict[Any, Any], now: datetime) -> int:
    """A new review of the item; when a double submit inserted it first, ours updates theirs."""
    about = (
        await OrderItem.select(
            OrderItem.sku, OrderItem.name, OrderItem.category, OrderItem.order.customer, OrderItem.order.customer.name
        )
        .where(OrderItem.id == item_id)
        .first()
    )
    assert about is not None
    row = Review(
        order_item=item_id,
        customer=about["order.customer"],
        invitation=invitation_id,
        sku=about["sku"],
        product_name=about["name"],
        category=about["category"],
        author_name=display_name(about["order.customer.name"]),
        verified=True,  # it came through an invitation for a delivered order
        created_at=now,
    )
    for column, value in values.items():
        setattr(row, column._meta.name, value)
    try:
        return int((await Review.insert(row).returning(Review.id))[0]["id"])
    except UNIQUE_VIOLATIONS:
        found = await Review.select(Review.id).where(Review.order_item == item_id).first()
        assert found is not None
        await Review.update(values).where(Review.id == found["id"])
        return int(found["id"])
