"""Shopify's mandatory privacy webhooks, answered with the export and erasure every customer already has.

- `customers/data_request`: a customer asked the shop for their data. Nothing leaves Afterglow by itself: the
  request is written to the audit log (`shopify.data_request`, naming the customer by id only) and logged, and an
  admin downloads the export on the Privacy page, as for any other request.
- `customers/redact`: erase that customer (found by the email Shopify sends, and by the orders it names), as the
  Privacy page's erasure does.
- `shop/redact` (48 hours after the shop uninstalled the app): erase every customer who has an order from Shopify.
  Their scores, ratings and order figures stay, anonymous, as after any erasure; customers known only from other
  channels are not touched.

Each is recorded in the audit log with the counts; a delivery Shopify retries is answered `duplicate`."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from accounts.services import audit
from operations.services.privacy import ERASED_DOMAIN, UnknownCustomer, erase_customer, subject_of
from operations.services.traces import compact_database
from shop.platforms.orders import as_object, usable_email
from shop.services.orders import claim_webhook
from shop.services.webhooks import delivery_seen
from shop.tables import Customer, Order

logger = logging.getLogger(__name__)


async def answer_shopify_privacy(
    topic: str, payload: Mapping[str, Any], delivery_id: str, now: datetime
) -> dict[str, str]:
    """Do what one of Shopify's privacy topics asks; the JSON answer (`status`). Other topics are `ignored`."""
    if await delivery_seen("shopify", delivery_id):
        return {"status": "duplicate"}
    if topic == "customers/data_request":
        status = await data_request(payload, now)
    elif topic == "customers/redact":
        status = await redact_customer(payload, now)
    elif topic == "shop/redact":
        status = await redact_shop(payload, now)
    else:
        logger.info("Shopify privacy webhook %r ignored: not a privacy topic", topic)
        return {"status": "ignored"}
    if delivery_id:
        await claim_webhook("shopify", delivery_id, topic, {"status": status})
    return {"status": status}


async def data_request(payload: Mapping[str, Any], now: datetime) -> str:
    """Record that the shop asked for a customer's data; "recorded", or "nothing_held" when we hold none."""
    shopify_customer = as_object(payload.get("customer"))
    subjects = [await _subject(email) for email in await _emails(payload, "orders_requested")]
    held = [subject for subject in subjects if subject]
    request = as_object(payload.get("data_request")).get("id")
    for subject in held or [f"shopify-customer:{shopify_customer.get('id', '')}"]:
        await audit(None, "shopify.data_request", subject, now, data_request=request, held=bool(held))
    if held:
        logger.warning(
            "Shopify forwards data request %s for %s: export it on the Privacy page (admin)", request, ", ".join(held)
        )
    return "recorded" if held else "nothing_held"


async def redact_customer(payload: Mapping[str, Any], now: datetime) -> str:
    """Erase the customer Shopify names; "erased", or "nothing_held"."""
    erased = 0
    for email in await _emails(payload, "orders_to_redact"):
        subject = await _subject(email)
        if not subject:
            continue
        counts = await erase_customer(email, now)
        await audit(None, "shopify.customers_redact", subject, now, **counts)
        erased += 1
    return "erased" if erased else "nothing_held"


async def redact_shop(payload: Mapping[str, Any], now: datetime) -> str:
    """Erase every customer with a Shopify order, compacting SQLite once at the end; "erased" (with none left
    to erase, too: a retry after a timeout finishes the work)."""
    shopify_orders = Order.select(Order.customer).where((Order.channel == "shopify") & Order.customer.is_not_null())
    rows = await Customer.select(Customer.email).where(
        Customer.id.is_in(shopify_orders) & Customer.email.not_like(f"%@{ERASED_DOMAIN}")
    )
    for row in rows:
        try:
            await erase_customer(row["email"], now, compact=False)
        except UnknownCustomer:
            continue  # erased meanwhile by someone else
    await compact_database(Customer._meta.db)
    shop = str(payload.get("shop_domain") or payload.get("shop_id") or "")
    await audit(None, "shopify.shop_redact", f"shop:{shop}", now, customers=len(rows))
    logger.warning("Shopify asked to erase the shop's data (%s): %d customers erased", shop, len(rows))
    return "erased"


async def _emails(payload: Mapping[str, Any], orders_key: str) -> list[str]:
    """The addresses of the customer the payload names: its email, and the customers of the orders it lists."""
    emails = [usable_email(as_object(payload.get("customer")).get("email"))]
    order_ids = [str(value) for value in payload.get(orders_key) or [] if isinstance(value, int | str)]
    if order_ids:
        rows = await Order.select(Order.customer.email).where(
            Order.external_id.is_in(order_ids) & Order.customer.is_not_null()
        )
        emails += [row["customer.email"] for row in rows]
    return [email for email in dict.fromkeys(emails) if email and not email.endswith(f"@{ERASED_DOMAIN}")]


async def _subject(email: str) -> str:
    try:
        return await subject_of(email)
    except UnknownCustomer:
        return ""
