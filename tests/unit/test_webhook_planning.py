"""Who is asked after orders that came from Shopify's webhooks (real bodies): an order without an email and a fully
refunded order never are; a partly refunded one is, about the lines the customer kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from reviews.services.collect import reviewable_items
from surveys.services.invitations import invitation_with_items
from surveys.tables import Invitation
from tests.unit.test_scheduling import run
from tests.unit.test_webhooks import fixture, shopify

DELIVERED = datetime(2024, 1, 8, 13, 0, tzinfo=UTC)  # a Monday, after the refunds of 2 January


async def deliver(client: AsyncTestClient, api_headers: dict[str, str], external_id: str) -> None:
    """The shop reports the delivery through the ingest API."""
    body = {"type": "delivered", "at": DELIVERED.isoformat()}
    response = await client.post(f"/api/v1/orders/{external_id}/events", json=body, headers=api_headers)
    assert response.status_code == 202, response.text


async def invitations() -> list[dict]:
    return await Invitation.select(
        Invitation.id, Invitation.order.external_id, Invitation.status, Invitation.skip_reason
    )


async def test_no_email_order_is_never_asked_and_a_partly_refunded_one_is(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    await shopify(client, settings, "orders/create", fixture("shopify_order_1073459969.json"), webhook_id="a")
    await shopify(client, settings, "orders/create", fixture("shopify_order_450789469.json"), webhook_id="b")
    await shopify(client, settings, "refunds/create", fixture("shopify_refund_509562969.json"), webhook_id="c")
    for external_id in ("1073459969", "450789469"):
        await deliver(client, api_headers, external_id)

    await run(DELIVERED + timedelta(hours=1), settings)
    [planned] = await invitations()
    assert planned["order.external_id"] == "450789469"
    # The black and the green one went back: only the red one is shown and offered for review.
    _, shown = await invitation_with_items(planned["id"])  # type: ignore[misc]
    assert [item["sku"] for item in shown] == ["IPOD2008RED"]
    assert [item.sku for item in await reviewable_items(planned["id"])] == ["IPOD2008RED"]


async def test_fully_refunded_order_is_never_asked(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    await shopify(client, settings, "orders/create", fixture("shopify_order_450789469.json"), webhook_id="a")
    await shopify(client, settings, "refunds/create", fixture("shopify_refund_509562969.json"), webhook_id="b")
    await shopify(client, settings, "refunds/create", fixture("shopify_refund_929361466.json"), webhook_id="c")
    await deliver(client, api_headers, "450789469")
    await run(DELIVERED + timedelta(hours=1), settings)
    assert await invitations() == []


async def test_refund_after_planning_skips_the_invitation(
    client: AsyncTestClient, settings: Settings, api_headers: dict[str, str]
) -> None:
    await shopify(client, settings, "orders/create", fixture("shopify_order_450789469.json"), webhook_id="a")
    await deliver(client, api_headers, "450789469")
    await run(DELIVERED + timedelta(hours=1), settings)
    assert [row["status"] for row in await invitations()] == ["scheduled"]
    await shopify(client, settings, "refunds/create", fixture("shopify_refund_509562969.json"), webhook_id="b")
    await shopify(client, settings, "refunds/create", fixture("shopify_refund_929361466.json"), webhook_id="c")
    assert await run(DELIVERED + timedelta(days=3, hours=1), settings) == []
    [row] = await invitations()
    assert (row["status"], row["skip_reason"]) == ("skipped", "returned")
