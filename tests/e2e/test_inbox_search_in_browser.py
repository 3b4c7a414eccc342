"""The inbox search in Chromium, on a phone and on a laptop: a Support member types an order number (in lower case),
htmx swaps only the list and puts the search in the address, the Support item is there and the Logistics item whose
order number starts the same is not; the address opened again (a bookmark) shows the same search. Then a member
finds an item by its order number and assigns it to themself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.harness import run_python
from tests.e2e.conftest import LAPTOP, STAFF_PASSWORD, LiveApp

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
ORDER = "AG-77123"
#: Two reviews of orders from their own sales channels, routed by rules on those channels: the first to Support,
#: the second (whose order number begins with the first's) to Logistics. Run once per app: later runs add nothing.
SEED = """
import asyncio, sys
from datetime import UTC, datetime
from decimal import Decimal
from accounts.services import AccountError, create_team, team_id
from feedback.policy import Rule
from feedback.services.intake import ingest
from feedback.services.rules import create_rule
from reviews.tables import Review
from shop.tables import Customer, Order, OrderItem

async def review(order: str, channel: str, name: str, email: str, text: str, now: datetime) -> None:
    customer = (await Customer.insert(Customer(email=email, name=name)).returning(Customer.id))[0]["id"]
    placed = Order(external_id=order, channel=channel, placed_at=now, total=Decimal("20.00"), customer=customer)
    order_id = (await Order.insert(placed).returning(Order.id))[0]["id"]
    line = OrderItem(order=order_id, sku="TEAPOT-1", name="Cast iron teapot", price=Decimal("20.00"))
    item = (await OrderItem.insert(line).returning(OrderItem.id))[0]["id"]
    written = Review(
        order_item=item, customer=customer, sku="TEAPOT-1", product_name="Cast iron teapot", rating=2, text=text,
        author_name=name, verified=True, created_at=now, updated_at=now,
    )
    review_id = (await Review.insert(written).returning(Review.id))[0]["id"]
    await ingest("review", review_id, now)

async def main(order: str) -> None:
    if await Order.exists().where(Order.external_id == order):
        return
    now = datetime.now(UTC)
    try:
        await create_team("Logistics")
    except AccountError:
        pass  # made by another test of this run
    if not await Order.exists().where(Order.channel == "e2e-search"):  # the rules: once per app
        for channel, team in (("e2e-search", "support"), ("e2e-search-other", "logistics")):
            rule = Rule(0, f"{channel} → {team}", channels=frozenset({channel}), teams=(await team_id(team),))
            await create_rule(rule, None, now)
    mark = order.lower()
    await review(order, "e2e-search", "Bruno Berg", f"bruno.{mark}@example.com", "The teapot lid rattles.", now)
    await review(order + "-9", "e2e-search-other", "Lena Lorenz", f"lena.{mark}@example.com", "Box dented.", now)

asyncio.run(main(sys.argv[1]))
"""


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone-390", "laptop-1280"])
def test_member_finds_their_teams_item_by_order_number(
    live_app: LiveApp, browser: Any, artifacts: Path, staff_users: None, device: dict[str, Any]
) -> None:
    run_python("-c", SEED, ORDER, env=live_app.env)
    context = browser.new_context(**device)
    page = context.new_page()
    width = device["viewport"]["width"]
    try:
        page.goto(f"{live_app.base_url}/login")
        page.fill("#username", "e2e-member")
        page.fill("#password", STAFF_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_app.base_url}/app/inbox")
        page.evaluate("window.stillThisPage = true")  # gone if anything below reloads the page

        page.fill("#inbox-q", ORDER.lower())
        page.wait_for_url(f"**/app/inbox?q={ORDER.lower()}")
        rows = page.locator("#inbox-list tbody tr")
        rows.first.wait_for()
        assert rows.count() == 1, "the Logistics item with a longer order number stays out"
        assert f"Order {ORDER}" in rows.first.inner_text() and "Bruno Berg" in rows.first.inner_text()
        assert page.evaluate("window.stillThisPage === true"), "the search swapped the list, not the page"
        box = page.locator("#inbox-q").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, "the box fits the screen"
        page.screenshot(path=str(artifacts / f"inbox-search-{width}.png"), full_page=True)

        page.goto(f"{live_app.base_url}/app/inbox?q={ORDER.lower()}")
        assert page.locator("#inbox-q").input_value() == ORDER.lower()
        assert page.locator("#inbox-list tbody tr").count() == 1

        page.fill("#inbox-q", "lena lorenz")
        page.wait_for_url("**/app/inbox?q=lena+lorenz")
        page.locator("#inbox-list", has_text="No feedback matches").wait_for()
    finally:
        context.close()


@pytest.mark.parametrize("device", [PHONE, LAPTOP], ids=["phone-390", "laptop-1280"])
def test_member_assigns_an_item_to_themself(
    live_app: LiveApp, browser: Any, artifacts: Path, staff_users: None, device: dict[str, Any]
) -> None:
    width = device["viewport"]["width"]
    order = f"AG-88{width}"  # an item of its own for each screen
    run_python("-c", SEED, order, env=live_app.env)
    context = browser.new_context(**device)
    page = context.new_page()
    try:
        page.goto(f"{live_app.base_url}/login")
        page.fill("#username", "e2e-member")
        page.fill("#password", STAFF_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_app.base_url}/app/inbox")
        page.goto(f"{live_app.base_url}/app/inbox?q={order.lower()}")
        page.locator("#inbox-list tbody tr a").first.click()
        page.wait_for_url("**/app/inbox/*")
        assignee = page.locator("#handling dt:text-is('Assignee') + dd")
        assert assignee.inner_text() == "nobody"

        page.get_by_role("button", name="Assign to me").click()
        page.locator("#handling dt:text-is('Assignee') + dd", has_text="e2e-member").wait_for()
        assert page.get_by_role("button", name="Assign to me").count() == 0
        page.screenshot(path=str(artifacts / f"inbox-assign-me-{width}.png"), full_page=True)
        page.reload()
        assert page.locator("#handling dt:text-is('Assignee') + dd").inner_text() == "e2e-member"
    finally:
        context.close()
