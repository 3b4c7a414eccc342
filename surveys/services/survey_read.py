"""The survey page's reads as one hand-written statement (see `afterglow.hotsql`): the invitation with its
customer, order, items and answer, and the owner's wording of the page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from afterglow import hotsql
from surveys.wording_rules import slot

_SELECT = """
SELECT i.id, i.kind, i.token, i.agent, i.answered_at, i.opened_at,
       c.email AS customer_email, c.name AS customer_name, c.locale AS customer_locale,
       o.id AS order_id, o.external_id AS order_external_id,
       r.csat, r.nps, r.comment,
       oi.id AS item_id, oi.sku AS item_sku, oi.name AS item_name, oi.quantity AS item_quantity,
       oi.product_ref AS item_product_ref, oi.variant_ref AS item_variant_ref,
       (SELECT {wording} FROM template_override WHERE slot LIKE 'survey_page:%') AS wording,
       {section_version} AS section_version
FROM invitation i
JOIN customer c ON c.id = i.customer
LEFT JOIN "order" o ON o.id = i."order"
LEFT JOIN response r ON r.invitation = i.id
LEFT JOIN order_item oi ON oi."order" = i."order" AND oi.returned_at IS NULL
"""


@lru_cache(maxsize=8)
def _statement(where: str, postgres: bool, section_version: str) -> str:
    wording = hotsql.json_object_agg("slot", "fields")
    return _SELECT.format(wording=wording, section_version=section_version) + f"WHERE {where} ORDER BY oi.id"


@dataclass
class SurveyRead:
    """One invitation as the survey page needs it. `invitation` has the keys `invitation_with_items` gives;
    each item has `id`, `sku`, `name`, `quantity`, `product_ref`, `variant_ref` and `order.external_id`."""

    invitation: dict[str, Any]
    items: list[dict[str, Any]] = field(default_factory=list)
    response: dict[str, Any] | None = None
    #: The owner's wording of the survey page by language (Admin → Templates); a language not here has none.
    wording: dict[str, dict[str, str]] = field(default_factory=dict)
    #: What the item section's `version_sql` read with the items (see `answers.ItemSection`).
    section_version: str | None = None

    def page_wording(self, language: str) -> dict[str, str] | None:
        return self.wording.get(slot("survey_page", language))


def _assemble(rows: list[hotsql.Row]) -> SurveyRead | None:
    if not rows:
        return None
    first = rows[0]
    invitation = {
        "id": first["id"],
        "kind": first["kind"],
        "token": first["token"],
        "agent": first["agent"],
        "answered_at": first["answered_at"],
        "opened_at": first["opened_at"],
        "customer.email": first["customer_email"],
        "customer.name": first["customer_name"],
        "customer.locale": first["customer_locale"],
        "order.id": first["order_id"],
        "order.external_id": first["order_external_id"],
    }
    items = [
        {
            "id": row["item_id"],
            "sku": row["item_sku"],
            "name": row["item_name"],
            "quantity": row["item_quantity"],
            "product_ref": row["item_product_ref"],
            "variant_ref": row["item_variant_ref"],
            "order.external_id": first["order_external_id"],
        }
        for row in rows
        if row["item_id"] is not None
    ]
    has_response = any(first[name] is not None for name in ("csat", "nps", "comment"))
    response = {"csat": first["csat"], "nps": first["nps"], "comment": first["comment"]} if has_response else None
    stored = first["wording"]
    wording = json.loads(stored) if isinstance(stored, str) else (stored or {})
    version = first["section_version"]
    return SurveyRead(invitation, items, response, wording, None if version is None else str(version))


async def read_by_token(token: str, section_version: str = "NULL") -> SurveyRead | None:
    """The invitation with this token; `section_version` is an `ItemSection.version_sql`."""
    return _assemble(await hotsql.fetch(_statement("i.token = $1", hotsql.postgres(), section_version), token))


async def read_by_id(invitation_id: int, section_version: str = "NULL") -> SurveyRead | None:
    return _assemble(await hotsql.fetch(_statement("i.id = $1", hotsql.postgres(), section_version), invitation_id))
