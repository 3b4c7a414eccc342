"""Reviews written straight into the tables, for tests of what happens after collection (moderation, API, widget)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from decimal import Decimal

from reviews.tables import Review, ReviewPhoto
from shop.tables import Customer, Order, OrderItem

WRITTEN_AT = datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
_serial = itertools.count(1)


async def add_review(
    *,
    sku: str = "SKU-1",
    product_name: str = "Item 1",
    category: str = "kitchen",
    rating: int = 5,
    title: str = "",
    text: str = "",
    status: str = "published",
    held_rule: str = "",
    author_name: str = "Anna S.",
    email: str | None = None,
    locale: str = "en",
    created_at: datetime = WRITTEN_AT,
    helpful_count: int = 0,
    verified: bool = True,
    photos: tuple[tuple[str, str], ...] = (),
) -> int:
    """One published (or `status`) review by a new customer of a new order; returns the review id.

    `photos` are (file_name, content_type) rows only; tests that serve them write the files themselves."""
    n = next(_serial)
    customer = (
        await Customer.insert(
            Customer(email=email or f"reviewer{n}@example.com", name=author_name, locale=locale)
        ).returning(Customer.id)
    )[0]["id"]
    order = (
        await Order.insert(
            Order(external_id=f"R{n}", placed_at=created_at, total=Decimal("10.00"), customer=customer)
        ).returning(Order.id)
    )[0]["id"]
    item = (
        await OrderItem.insert(
            OrderItem(order=order, sku=sku, name=product_name, category=category, price=Decimal("10.00"))
        ).returning(OrderItem.id)
    )[0]["id"]
    review = (
        await Review.insert(
            Review(
                order_item=item,
                customer=customer,
                sku=sku,
                product_name=product_name,
                category=category,
                rating=rating,
                title=title,
                text=text,
                language=locale,
                author_name=author_name,
                verified=verified,
                status=status,
                held_rule=held_rule,
                helpful_count=helpful_count,
                created_at=created_at,
                updated_at=created_at,
            )
        ).returning(Review.id)
    )[0]["id"]
    for position, (file_name, content_type) in enumerate(photos):
        await ReviewPhoto.insert(
            ReviewPhoto(
                review=review,
                file_name=file_name,
                content_type=content_type,
                width=10,
                height=10,
                size=100,
                position=position,
            )
        )
    return int(review)
