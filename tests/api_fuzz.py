"""Schemathesis against the app's OpenAPI schema: every documented operation, with generated valid and invalid
input, never answers 5xx and never stores what the API would refuse. tests/unit (SQLite) and tests/integration
(PostgreSQL, which rejects what SQLite takes, such as NUL characters) both run it."""

from __future__ import annotations

import asyncio
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from litestar import Litestar

from shop.schemas import EMAIL_RE
from shop.tables import Customer, Order, OrderEvent, OrderItem

SCHEMA_PATH = "/schema/openapi.json"
EXAMPLES = 40


def schema_of(app: Litestar) -> Any:
    return schemathesis.openapi.from_asgi(SCHEMA_PATH, app)


#: Hypothesis settings for each operation: enough examples to find what breaks, bounded in time.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


def call_and_check(case: Any, api_key: str) -> None:
    """Send one generated request: the answer is never a server error, and nothing refused is stored."""
    response = case.call(headers={"Authorization": f"Bearer {api_key}"})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text}"
    case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])
    if case.method == "POST":
        assert asyncio.run(stored_garbage()) == []


async def stored_garbage() -> list[str]:
    """What the ingest API must never have stored, whatever it was sent."""
    problems = []
    for customer in await Customer.select(Customer.email, Customer.timezone):
        if not EMAIL_RE.match(customer["email"]):
            problems.append(f"customer email {customer['email']!r}")
    for order in await Order.select(Order.external_id, Order.total):
        if not order["external_id"].strip() or order["total"] < 0:
            problems.append(f"order {order['external_id']!r} total {order['total']}")
        if "\x00" in order["external_id"]:
            problems.append(f"order id with NUL {order['external_id']!r}")
    if await Order.exists() and not await OrderItem.exists():
        problems.append("orders without items")
    for event in await OrderEvent.select(OrderEvent.type):
        if event["type"] not in {
            "delivered",
            "returned",
            "cancelled",
            "complaint_opened",
            "complaint_closed",
            "support_resolved",
        }:
            problems.append(f"event {event['type']!r}")
    return problems
