"""Moderating product reviews: the queues by status, approving, rejecting with a reason, the shop's public reply.

Content rules hold a review (reviews.policy); a person decides here. The rating never matters: a one-star review
is approved like a five-star one. Every decision is audited; the rejection email is sent by the caller's task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from accounts.services import Staff, audit
from afterglow.errors import FieldError
from afterglow.i18n import N_, translate
from reviews.services.photos import photos_of
from reviews.tables import Review

STATUSES = ("held", "published", "rejected")
PAGE_SIZE = 20
REASON_MIN = 3
REASON_MAX = 1000
REPLY_MAX = 2000
#: Which states each decision applies to: a published review can still be taken down, a rejected one restored.
APPROVABLE = ("held", "rejected")
REJECTABLE = ("held", "published")

#: Why a review waits, as the moderator reads it (keys are `reviews.policy.RULES`).
RULE_LABELS = {
    "profanity": "contains strong language",
    "email": "contains an email address",
    "phone": "contains a phone number",
    "link": "contains a link",
    "all_caps": "written in capital letters",
    "undecided": "imported before its tool had decided on it",
}

#: Reasons moderators often give; the customer reads them (in their language: `reason_in`), so they say what to
#: change.
PRESET_REASONS = (
    N_("Reviews cannot include contact details such as email addresses or phone numbers."),
    N_("Reviews cannot include links to other websites."),
    N_("We cannot publish insults or strong language. Please tell us what you think in other words."),
    N_("Please write in normal sentence case: text in capital letters is hard to read."),
    N_("Reviews cannot include personal details about other people."),
)

_CARD_COLUMNS = (
    Review.id,
    Review.order_item,
    Review.invitation,
    Review.sku,
    Review.product_name,
    Review.rating,
    Review.title,
    Review.text,
    Review.language,
    Review.author_name,
    Review.verified,
    Review.status,
    Review.held_rule,
    Review.reject_reason,
    Review.moderated_at,
    Review.reply_text,
    Review.reply_at,
    Review.source,
    Review.photo_urls,
    Review.created_at,
    Review.updated_at,
)


class ModerationError(ValueError):
    """A moderation request that cannot be done as asked."""


class UnknownReview(ModerationError, LookupError):
    """No review with this id."""


class InvalidModeration(ModerationError, FieldError):
    """The moderator's input cannot be used: `field` names the input, `message` says why."""


class NotModeratable(ModerationError):
    """The decision does not apply to the review in its current state (someone may have decided already)."""

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ReviewPage:
    """One page of reviews in one status, each with its photos."""

    status: str
    reviews: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def rule_label(rule: str) -> str:
    """The content rule that held a review, in plain words."""
    return RULE_LABELS.get(rule, rule.replace("_", " ") or "no rule recorded")


async def status_counts() -> dict[str, int]:
    """How many reviews are in each status (the tabs show them)."""
    return {status: await Review.count().where(Review.status == status) for status in STATUSES}


async def held_queue(status: str = "held", page: int = 1, per_page: int = PAGE_SIZE) -> ReviewPage:
    """One page of reviews in `status`: held ones oldest first (a fair queue), others most recently changed first."""
    if status not in STATUSES:
        raise InvalidModeration("status", f"status must be one of {', '.join(STATUSES)}")
    total = await Review.count().where(Review.status == status)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    oldest_first = status == "held"
    rows = (
        await Review.select(*_CARD_COLUMNS)
        .where(Review.status == status)
        .order_by(Review.moderated_at if status == "rejected" else Review.updated_at, ascending=oldest_first)
        .order_by(Review.id, ascending=oldest_first)
        .limit(per_page)
        .offset((page - 1) * per_page)
        .output(load_json=True)
    )
    return ReviewPage(status, await _with_photos(rows), page, pages, total)


async def review_card(review_id: int) -> dict[str, Any]:
    """One review as the moderation page shows it; UnknownReview if there is none."""
    row = await Review.select(*_CARD_COLUMNS).where(Review.id == review_id).output(load_json=True).first()
    if row is None:
        raise UnknownReview(f"no review #{review_id}")
    return (await _with_photos([row]))[0]


async def approve(review_id: int, staff: Staff, now: datetime) -> dict[str, Any]:
    """Publish a held or rejected review. Returns the review as it is now."""
    before = await review_card(review_id)
    if before["status"] not in APPROVABLE:
        raise NotModeratable(before["status"], "This review is published already.")
    changed = await _decide(review_id, APPROVABLE, {Review.status: "published", Review.reject_reason: ""}, now)
    detail: dict[str, Any] = {"previous": before["status"]}
    if before["status"] == "held":
        detail["rule"] = before["held_rule"]
    await audit(staff, "review_approved", f"review:{review_id}", now, **detail)
    return changed


async def reject(review_id: int, reason: str, staff: Staff, now: datetime) -> dict[str, Any]:
    """Take a held or published review off the shop with a reason the customer will read. The caller sends the
    rejection email (reviews.tasks) once this returns; the review's `moderated_at` makes that email unique."""
    reason = _clean(reason)
    if len(reason) < REASON_MIN:
        raise InvalidModeration("reason", "Please give the customer a reason (at least 3 characters).")
    if len(reason) > REASON_MAX:
        raise InvalidModeration("reason", f"Please keep the reason under {REASON_MAX} characters.")
    before = await review_card(review_id)
    if before["status"] not in REJECTABLE:
        raise NotModeratable(before["status"], "This review is rejected already.")
    changed = await _decide(review_id, REJECTABLE, {Review.status: "rejected", Review.reject_reason: reason}, now)
    await audit(staff, "review_rejected", f"review:{review_id}", now, previous=before["status"], reason=reason)
    return changed


async def set_reply(review_id: int, text: str, staff: Staff, now: datetime) -> dict[str, Any]:
    """Write, replace or (with empty text) remove the shop's one public reply to a review."""
    text = _clean(text)
    if len(text) > REPLY_MAX:
        raise InvalidModeration("reply", f"Please keep the reply under {REPLY_MAX} characters.")
    before = await review_card(review_id)
    if text == before["reply_text"]:
        return before
    await Review.update({Review.reply_text: text, Review.reply_at: now if text else None}).where(Review.id == review_id)
    if not text:
        action = "review_reply_removed"
    elif before["reply_text"]:
        action = "review_reply_edited"
    else:
        action = "review_reply_added"
    await audit(staff, action, f"review:{review_id}", now, length=len(text))
    return await review_card(review_id)


async def _decide(review_id: int, allowed: tuple[str, ...], values: dict[Any, Any], now: datetime) -> dict[str, Any]:
    """Apply a decision only if the review is still in an allowed state: a customer's edit or another moderator
    may have changed it since it was read."""
    updated = (
        await Review.update({**values, Review.moderated_at: now})
        .where((Review.id == review_id) & Review.status.is_in(list(allowed)))
        .returning(Review.id)
    )
    after = await review_card(review_id)
    if not updated:
        raise NotModeratable(after["status"], f"This review is {after['status']} now; nothing was changed.")
    return after


async def _with_photos(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    photos = await photos_of([row["id"] for row in rows])
    return [{**row, "photos": photos.get(row["id"], [])} for row in rows]


def reason_in(reason: str, language: str) -> str:
    """A rejection reason as the customer reads it: each paragraph that is a common reason in their language, the
    moderator's own words as they wrote them (the form puts a common reason and own words in paragraphs)."""
    return "\n\n".join(translate(language, part) if part in PRESET_REASONS else part for part in reason.split("\n\n"))


def _clean(value: str) -> str:
    return value.replace("\r\n", "\n").strip()
