"""Feedback in team inboxes, made the real way for the inbox tests: an invitation answered (or a review written),
then ingested (copied, tagged, routed by rules saved through the rules service)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import httpx
from litestar.testing import AsyncTestClient

from accounts.services import Staff, staff, team_id
from afterglow.settings import Settings
from feedback.policy import Rule
from feedback.services.intake import ingest
from feedback.services.rules import create_rule
from feedback.tables import FeedbackItem, InboxItem
from reviews.tables import Review
from shop.tables import OrderItem
from surveys.services.answers import Answers, save_answers
from surveys.tables import Invitation
from tests.unit.review_fixtures import add_review
from tests.unit.survey_fixtures import SEND_AT, invite

HTMX = {"HX-Request": "true"}
#: When the customers answer; rule SLAs count from here.
ANSWERED_AT = SEND_AT + timedelta(hours=1)
_orders = itertools.count(1)


async def rule(name: str, teams: tuple[str, ...] = (), **conditions: Any) -> int:
    """A routing rule to these teams (by slug), saved as admins save them."""
    ids = tuple([await team_id(slug) for slug in teams])
    return await create_rule(Rule(0, name, teams=ids, **conditions), None, ANSWERED_AT)


async def answered(
    client: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    *,
    csat: int | None = None,
    nps: int | None = None,
    comment: str = "",
    email: str | None = None,
    agent: str | None = None,
    locale: str = "en",
    categories: tuple[str, ...] = ("kitchen",),
    at: datetime = ANSWERED_AT,
) -> int:
    """A customer invited after delivery (or a support contact with `agent`) answers; returns the feedback id."""
    n = next(_orders)
    invited = await invite(
        client,
        api_headers,
        settings,
        external_id=f"{'S' if agent else 'O'}-{n}",
        email=email or f"customer{n}@example.com",
        locale=locale,
        categories=categories,
        support_agent=agent,
    )
    response_id = await save_answers(invited.invitation_id, Answers(csat=csat, nps=nps, comment=comment), locale, at)
    found = await ingest("survey", response_id, at)
    assert found.feedback_id is not None
    return found.feedback_id


async def reviewed(*, at: datetime = ANSWERED_AT, **values: Any) -> int:
    """A product review by a new customer (tests.unit.review_fixtures.add_review), ingested; the feedback id."""
    review_id = await add_review(created_at=at, **values)
    found = await ingest("review", review_id, at)
    assert found.feedback_id is not None
    return found.feedback_id


async def reviewed_by_same_customer(answer: int, sku: str, rating: int, text: str, at: datetime) -> int:
    """The customer behind an answered invitation (feedback `answer`) reviews an item of that order; the feedback
    id of the review."""
    row = await FeedbackItem.select(FeedbackItem.order, FeedbackItem.customer).where(FeedbackItem.id == answer)
    order, customer = row[0]["order"], row[0]["customer"]
    item = await OrderItem.select(OrderItem.id, OrderItem.name).where(
        (OrderItem.order == order) & (OrderItem.sku == sku)
    )
    invitation = await Invitation.select(Invitation.id).where(Invitation.order == order).first()
    review = Review(
        order_item=item[0]["id"],
        customer=customer,
        invitation=invitation["id"] if invitation else None,
        sku=sku,
        product_name=item[0]["name"],
        rating=rating,
        text=text,
        author_name="Anna S.",
        verified=True,
        created_at=at,
        updated_at=at,
    )
    review_id = (await Review.insert(review).returning(Review.id))[0]["id"]
    found = await ingest("review", review_id, at)
    assert found.feedback_id is not None
    return found.feedback_id


async def inbox_item(feedback_id: int, team: str | None) -> int:
    """The inbox item of this feedback in a team's inbox (by slug), or in triage (None)."""
    slot = str(await team_id(team)) if team else "triage"
    row = await InboxItem.select(InboxItem.id).where(InboxItem.key == f"{feedback_id}:{slot}").first()
    assert row is not None, f"feedback {feedback_id} is not in {team or 'triage'}"
    return int(row["id"])


async def item_row(item_id: int) -> dict[str, Any]:
    row = await InboxItem.select().where(InboxItem.id == item_id).first()
    assert row is not None
    return row


async def as_staff(user_id: int) -> Staff:
    """The staff user as services get them from a signed-in request."""
    found = await staff(user_id)
    assert found is not None
    return found


async def post(
    client: AsyncTestClient, path: str, data: dict[str, Any] | None = None, *, htmx: bool = False
) -> httpx.Response:
    """A form post with the CSRF token, as the page's forms send it."""
    form = {**(data or {}), "_csrf_token": client.cookies.get("csrftoken")}
    return await client.post(path, data=form, headers=HTMX if htmx else {}, follow_redirects=False)
