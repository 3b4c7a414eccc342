"""Readers marking a published review helpful: one vote per browser per review."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from afterglow.db import UNIQUE_VIOLATIONS
from reviews.tables import HelpfulVote, Review


class UnknownReview(LookupError):
    """No published review has this id (it may be held, rejected or deleted)."""


@dataclass(frozen=True)
class Vote:
    """The review's count after the vote; `counted` is False when this browser had voted for it before."""

    review_id: int
    sku: str
    helpful_count: int
    counted: bool


def voter_key(review_id: int, voter: str, secret_key: str) -> str:
    """The stored key: the browser's random voter id, hashed with our secret so the table cannot link browsers."""
    return f"{review_id}:{hashlib.sha256((secret_key + voter).encode()).hexdigest()[:32]}"


async def vote_helpful(review_id: int, key: str) -> Vote:
    """Count a "helpful" for a published review once per `key` (see `voter_key`). UnknownReview otherwise."""
    published = (Review.id == review_id) & (Review.status == "published")
    try:
        async with Review._meta.db.transaction():
            # The write comes first: it takes the write lock (SQLite) or the row lock (PostgreSQL) straight away,
            # and the count only ever moves in SQL, so concurrent votes cannot lose one another.
            rows = (
                await Review.update({Review.helpful_count: Review.helpful_count + 1})
                .where(published)
                .returning(Review.sku, Review.helpful_count)
            )
            if not rows:
                raise UnknownReview(review_id)
            await HelpfulVote.insert(HelpfulVote(review=review_id, key=key))
    except UNIQUE_VIOLATIONS:
        # Voted before: the whole transaction, the increment included, was rolled back.
        row = await Review.select(Review.sku, Review.helpful_count).where(published).first()
        if row is None:
            raise UnknownReview(review_id) from None
        return Vote(review_id, row["sku"], int(row["helpful_count"]), counted=False)
    return Vote(review_id, rows[0]["sku"], int(rows[0]["helpful_count"]), counted=True)
