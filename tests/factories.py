"""Building orders the way a shop sends them."""

from __future__ import annotations

from datetime import datetime
from typing import Any


def order_payload(
    external_id: str = "1001",
    *,
    email: str = "anna@example.com",
    name: str = "Anna Schmidt",
    locale: str = "en",
    timezone: str = "Europe/Berlin",
    placed_at: str = "2026-03-02T10:00:00+00:00",
    categories: tuple[str, ...] = ("kitchen",),
    channel: str = "web",
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "channel": channel,
        "placed_at": placed_at,
        "currency": "EUR",
        "total": "59.90",
        "customer": {"email": email, "name": name, "locale": locale, "timezone": timezone},
        "items": [
            {"sku": f"SKU-{i}", "name": f"Item {i}", "category": c, "quantity": 1, "price": "29.95"}
            for i, c in enumerate(categories, start=1)
        ],
    }


def event_payload(type_: str, at: datetime | str, agent: str = "") -> dict[str, Any]:
    body: dict[str, Any] = {"type": type_, "at": at if isinstance(at, str) else at.isoformat()}
    if agent:
        body["agent"] = agent
    return body
