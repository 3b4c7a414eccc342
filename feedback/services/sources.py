"""Reading feedback from where it was written: survey responses, product reviews and the suggestion box.

Each reader returns a `Snapshot`: the plain values a feedback item copies, so surveys and reviews never need to
know that feedback exists (they only announce "source N changed")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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


#: A source as announced: ("survey" | "review" | "suggestion", its id).
Key = tuple[str, int]


async def _categories(order_ids: list[int]) -> dict[int, tuple[str, ...]]:
    """Each order's product categories, in the order of its items."""
    if not order_ids:
        return {}
    rows = (
        await OrderItem.select(OrderItem.order, OrderItem.category)
        .where(OrderItem.order.is_in(sorted(set(order_ids))))
        .order_by(OrderItem.id)
    )
    found: dict[int, list[str]] = {}
    for r in rows:
        if r["category"]:
            found.setdefault(r["order"], []).append(r["category"])
    return {order: tuple(dict.fromkeys(categories)) for order, categories in found.items()}


RESPONSE_COLUMNS = (
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


def response_snapshot(row: dict[str, Any], categories: dict[int, tuple[str, ...]]) -> Snapshot:
    support = row["invitation.kind"] == "support"
    return Snapshot(
        source="survey",
        source_id=row["id"],
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
        categories=() if support else categories.get(row["invitation.order"], ()),
        agent=row["invitation.agent"] if support else "",
    )


REVIEW_COLUMNS = (
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


def review_snapshot(row: dict[str, Any]) -> Snapshot:
    return Snapshot(
        source="review",
        source_id=row["id"],
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


def suggestion_snapshot(row: dict[str, Any]) -> Snapshot:
    return Snapshot(
        source="suggestion",
        source_id=row["id"],
        kind="suggestion",
        created_at=row["created_at"],
        updated_at=row["created_at"],
        email=row["email"],
        name=row["name"],
        text=row["text"],
        locale=row["locale"],
        channel="suggestion box",
    )


@dataclass
class Read:
    """What `read_sources` found: snapshots by key; keys whose row is gone; rows that could not be read."""

    snapshots: dict[Key, Snapshot] = field(default_factory=dict)
    gone: list[Key] = field(default_factory=list)
    bad: dict[Key, Exception] = field(default_factory=dict)


async def read_sources(keys: list[Key]) -> Read:
    """Many sources in one query per kind (and one for the orders' categories). A row that cannot be made into a
    snapshot is reported in `bad`, not raised: the others are still read."""
    unknown = [source for source, _ in keys if source not in SOURCES]
    if unknown:
        raise ValueError(f"unknown feedback source {unknown[0]!r}; one of {', '.join(SOURCES)}")
    wanted: dict[str, list[int]] = {}
    for source, source_id in keys:
        wanted.setdefault(source, []).append(source_id)
    rows: dict[Key, Any] = {}
    if ids := wanted.get("survey"):
        found = await Response.select(*RESPONSE_COLUMNS).where(Response.id.is_in(ids))
        categories = await _categories([r["invitation.order"] for r in found if r["invitation.order"]])
        rows.update({("survey", r["id"]): lambda r=r: response_snapshot(r, categories) for r in found})
    if ids := wanted.get("review"):
        found = await Review.select(*REVIEW_COLUMNS).where(Review.id.is_in(ids))
        rows.update({("review", r["id"]): lambda r=r: review_snapshot(r) for r in found})
    if ids := wanted.get("suggestion"):
        found = await Suggestion.select().where(Suggestion.id.is_in(ids))
        rows.update({("suggestion", r["id"]): lambda r=r: suggestion_snapshot(r) for r in found})
    read = Read()
    for key in dict.fromkeys(keys):
        if key not in rows:
            read.gone.append(key)
            continue
        try:
            read.snapshots[key] = rows[key]()
        except Exception as exc:  # a row no snapshot can be made of: reported, the others go on
            read.bad[key] = exc
    return read


async def read_source(source: str, source_id: int) -> Snapshot:
    """The source row as a snapshot; UnknownSource when it is gone, ValueError for a source we do not know."""
    read = await read_sources([(source, source_id)])
    if (source, source_id) in read.bad:
        raise read.bad[(source, source_id)]
    if (source, source_id) not in read.snapshots:
        raise UnknownSource(source_key(source, source_id))
    return read.snapshots[(source, source_id)]
