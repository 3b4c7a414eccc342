"""Reading feedback from where it was written: survey responses, product reviews and the suggestion box.

Each reader returns a `Snapshot`: the plain values a feedback item copies, so surveys and reviews never need to
know that feedback exists (they only announce "source N changed")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from afterglow.kinds import COLUMN_SCALES
from feedback.tables import Suggestion
from reviews.tables import Review
from shop.tables import OrderItem
from surveys.tables import Response

SOURCES = ("survey", "review", "suggestion")


class UnknownSource(LookupError):
    """The source row does not exist (deleted, or a wrong id)."""


@dataclass(frozen=True)
class Snapshot:
    source: str
    source_id: int
    kind: str  # order | support | review | suggestion
    created_at: datetime
    updated_at: datetime
    customer: int | None = None
    order: int | None = None
    email: str = ""
    name: str = ""
    csat: int | None = None
    nps: int | None = None
    rating: int | None = None
    title: str = ""
    text: str = ""
    locale: str = ""
    channel: str = ""
    categories: tuple[str, ...] = field(default_factory=tuple)
    sku: str = ""
    product_name: str = ""
    agent: str = ""
    #: A review imported from another tool: history, tagged but never routed to an inbox.
    imported: bool = False

    @property
    def key(self) -> str:
        return source_key(self.source, self.source_id)

    @property
    def analysed_text(self) -> str:
        """What the analyser reads: a review's title and text as one text."""
        title = self.title.strip()
        if title and title[-1] not in ".!?":
            title += "."
        return f"{title} {self.text.strip()}".strip()

    @property
    def score(self) -> tuple[int | None, tuple[int, int] | None]:
        """The score that weighs into the label, and its scale: CSAT (else NPS) of a survey, a review's stars."""
        if self.kind == "review" and self.rating is not None:
            return self.rating, COLUMN_SCALES["rating"]
        if self.csat is not None:
            return self.csat, COLUMN_SCALES["csat"]
        if self.nps is not None:
            return self.nps, COLUMN_SCALES["nps"]
        return None, None


def source_key(source: str, source_id: int) -> str:
    return f"{source}:{source_id}"


async def _categories(order_id: int | None) -> tuple[str, ...]:
    if order_id is None:
        return ()
    rows = await OrderItem.select(OrderItem.category).where(OrderItem.order == order_id).order_by(OrderItem.id)
    return tuple(dict.fromkeys(r["category"] for r in rows if r["category"]))


async def read_response(response_id: int) -> Snapshot:
    row = (
        await Response.select(
            Response.id,
            Response.csat,
            Response.nps,
            Response.comment,
            Response.locale,
            Response.created_at,
            Response.updated_at,
            Response.invitation.kind,
            Response.invitation.agent,
            Response.invitation.customer,
            Response.invitation.customer.email,
            Response.invitation.customer.name,
            Response.invitation.order,
            Response.invitation.order.channel,
        )
        .where(Response.id == response_id)
        .first()
    )
    if row is None:
        raise UnknownSource(source_key("survey", response_id))
    support = row["invitation.kind"] == "support"
    return Snapshot(
        source="survey",
        source_id=response_id,
        kind="support" if support else "order",
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        customer=row["invitation.customer"],
        order=row["invitation.order"],
        email=row["invitation.customer.email"],
        name=row["invitation.customer.name"],
        csat=row["csat"],
        nps=None if support else row["nps"],
        text=row["comment"],
        locale=row["locale"],
        channel=row["invitation.order.channel"] or "",
        categories=() if support else await _categories(row["invitation.order"]),
        agent=row["invitation.agent"] if support else "",
    )


async def read_review(review_id: int) -> Snapshot:
    row = (
        await Review.select(
            Review.id,
            Review.rating,
            Review.title,
            Review.text,
            Review.language,
            Review.sku,
            Review.product_name,
            Review.category,
            Review.source,
            Review.author_name,
            Review.created_at,
            Review.updated_at,
            Review.customer,
            Review.customer.email,
            Review.customer.name,
            Review.order_item.order,
            Review.order_item.order.channel,
        )
        .where(Review.id == review_id)
        .first()
    )
    if row is None:
        raise UnknownSource(source_key("review", review_id))
    return Snapshot(
        source="review",
        source_id=review_id,
        kind="review",
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        customer=row["customer"],
        order=row["order_item.order"],
        # An imported review may have no customer here: then only the name it was shown with is known.
        email=row["customer.email"] or "",
        name=row["customer.name"] or row["author_name"],
        rating=row["rating"],
        title=row["title"],
        text=row["text"],
        locale=row["language"],
        channel=row["order_item.order.channel"] or "",
        categories=(row["category"],) if row["category"] else (),
        sku=row["sku"],
        product_name=row["product_name"],
        imported=bool(row["source"]),
    )


async def read_suggestion(suggestion_id: int) -> Snapshot:
    row = await Suggestion.select().where(Suggestion.id == suggestion_id).first()
    if row is None:
        raise UnknownSource(source_key("suggestion", suggestion_id))
    return Snapshot(
        source="suggestion",
        source_id=suggestion_id,
        kind="suggestion",
        created_at=row["created_at"],
        updated_at=row["created_at"],
        email=row["email"],
        name=row["name"],
        text=row["text"],
        locale=row["locale"],
        channel="suggestion box",
    )


async def read_source(source: str, source_id: int) -> Snapshot:
    """The source row as a snapshot; UnknownSource when it is gone, ValueError for a source we do not know."""
    readers = {"survey": read_response, "review": read_review, "suggestion": read_suggestion}
    if source not in readers:
        raise ValueError(f"unknown feedback source {source!r}; one of {', '.join(SOURCES)}")
    return await readers[source](source_id)
