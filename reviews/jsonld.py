"""schema.org `Product` markup (JSON-LD) for a product's published reviews, as search engines read it.

Follows Google's Product rich-result rules: a Product needs `name` and one of review / aggregateRating / offers;
an AggregateRating needs `ratingValue` and a `reviewCount` above 0; a Review needs `author.name` and
`reviewRating.ratingValue`. A product without published reviews therefore gets no markup at all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from reviews.services.catalogue import ProductRating, ShownReview

BEST, WORST = 5, 1
ANONYMOUS = "Anonymous"
#: What could end a <script> element or open a comment or CDATA section in it, as JSON escapes.
_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"})


def review_markup(review: ShownReview) -> dict[str, Any]:
    markup: dict[str, Any] = {
        "@type": "Review",
        "author": {"@type": "Person", "name": review.author.strip() or ANONYMOUS},
        "datePublished": review.created_at.date().isoformat(),
        "reviewRating": {"@type": "Rating", "ratingValue": review.rating, "bestRating": BEST, "worstRating": WORST},
    }
    if review.title:
        markup["name"] = review.title
    if review.text:
        markup["reviewBody"] = review.text
    return markup


def product_markup(rating: ProductRating, reviews: Sequence[ShownReview] = ()) -> dict[str, Any] | None:
    """The Product with its aggregate rating and `reviews` (those shown on the page); None without reviews."""
    if rating.review_count <= 0 or rating.average_rating is None:
        return None
    markup: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": rating.name or rating.sku,
        "sku": rating.sku,
        "aggregateRating": {
            "@type": "AggregateRating",
            "ratingValue": rating.average_rating,
            "reviewCount": rating.review_count,
            "bestRating": BEST,
            "worstRating": WORST,
        },
    }
    if reviews:
        markup["review"] = [review_markup(review) for review in reviews]
    return markup


def script_json(markup: dict[str, Any]) -> str:
    """JSON for inside `<script type="application/ld+json">`: no text in it can close the element."""
    return json.dumps(markup, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_SAFE)


def product_jsonld(rating: ProductRating, reviews: Sequence[ShownReview] = ()) -> str | None:
    """The script element's content for the product, or None when there is nothing to mark up."""
    markup = product_markup(rating, reviews)
    return None if markup is None else script_json(markup)
