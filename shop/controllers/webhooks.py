"""Shop webhooks: Shopify and WooCommerce tell us about orders, deliveries, refunds, cancellations and products.

Both shops sign the exact body with base64(HMAC-SHA256(secret, body)); an unsigned or wrongly signed request, or
one that arrives while no secret is configured, is refused with 401 before anything is read or stored. This
controller only checks the signature, reads the body and hands it on; what each platform's payloads mean is read
in `shop.platforms.shopify` and `shop.platforms.woocommerce` (their docstrings list the topics), and done in
`shop.services.webhooks`.

Every signed delivery is answered 2xx unless its body is not what its topic promises (400, naming the field):
a shop retries a failing webhook, then removes it, and every later order would be lost. So orders without an
email are stored (never asked about), topics we do not use are answered `ignored` (and logged), and an event
for an order not stored yet is answered `unknown_order` and left unclaimed, so the shop's retry applies it.

- Product topics (Shopify `products/create|update|delete`, WooCommerce `product.created|updated|deleted|restored`)
  go to the catalogue (`shop.services.catalogue`).
- Shopify's mandatory privacy topics (`customers/data_request`, `customers/redact`, `shop/redact`) belong to the
  operations layer, which holds export and erasure: its own address is `/webhooks/shopify/privacy`, and when a
  shop sends them here they are handed to it through the `shopify_privacy` dependency that `app.py` provides.
- WooCommerce's test delivery when a webhook is saved (`webhook_id=NN`, form-encoded, unsigned) is answered
  `pong`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.exceptions import ClientException, NotAuthorizedException

from afterglow.ratelimit import WEBHOOK_LIMITS
from afterglow.web import AppSettings, Now
from shop.platforms.orders import SHOPIFY_PRIVACY_TOPICS, Change, PayloadError, parse_json, signature_valid
from shop.platforms.products import SHOPIFY_PRODUCT_TOPICS, WOOCOMMERCE_PRODUCT_TOPICS, ProductPayloadError
from shop.platforms.shopify import shopify_change
from shop.platforms.woocommerce import woocommerce_change
from shop.services.catalogue import apply_product_webhook
from shop.services.webhooks import handle_change

logger = logging.getLogger(__name__)
_PING = re.compile(rb"^webhook_id=\d+$")

#: Answers one of Shopify's privacy topics: (topic, payload, delivery id, now) → the JSON answer.
ShopifyPrivacy = NamedDependency[Callable[[str, Mapping[str, Any], str, datetime], Awaitable[dict[str, str]]]]


def is_woocommerce_ping(body: bytes) -> bool:
    """WooCommerce's test delivery when a webhook is created: `webhook_id=NN`, form-encoded, unsigned."""
    return bool(_PING.match(body.strip()))


class WebhooksController(Controller):
    path = "/webhooks"
    middleware = WEBHOOK_LIMITS
    tags = ["webhooks"]

    @post("/shopify", name="webhooks:shopify", operation_id="ShopifyWebhook", status_code=200)
    async def shopify(
        self,
        request: Request[Any, Any, Any],
        settings: AppSettings,
        now: Now,
        shopify_privacy: ShopifyPrivacy,
    ) -> dict[str, str]:
        """Orders, deliveries, refunds and products from Shopify, signed with `X-Shopify-Hmac-Sha256`."""
        body = await request.body()
        if not signature_valid(settings.shopify_secret, body, request.headers.get("x-shopify-hmac-sha256")):
            raise NotAuthorizedException(detail="invalid or missing X-Shopify-Hmac-Sha256 signature")
        topic = request.headers.get("x-shopify-topic", "")
        delivery_id = request.headers.get("x-shopify-webhook-id", "")
        payload = _payload(body)
        if topic in SHOPIFY_PRIVACY_TOPICS:
            return await shopify_privacy(topic, payload, delivery_id, now)
        if topic in SHOPIFY_PRODUCT_TOPICS:
            return await _product("shopify", topic, payload, now)
        try:
            change = shopify_change(topic, payload, now)
        except PayloadError as exc:
            raise ClientException(detail=str(exc)) from exc
        return await _handle("shopify", delivery_id, topic, change)

    @post("/woocommerce", name="webhooks:woocommerce", operation_id="WooCommerceWebhook", status_code=200)
    async def woocommerce(self, request: Request[Any, Any, Any], settings: AppSettings, now: Now) -> dict[str, str]:
        """Orders and products from WooCommerce, signed with `X-WC-Webhook-Signature`."""
        body = await request.body()
        if is_woocommerce_ping(body):
            return {"status": "pong"}
        if not signature_valid(settings.woocommerce_secret, body, request.headers.get("x-wc-webhook-signature")):
            raise NotAuthorizedException(detail="invalid or missing X-WC-Webhook-Signature signature")
        topic = request.headers.get("x-wc-webhook-topic", "")
        payload = _payload(body)
        if topic in WOOCOMMERCE_PRODUCT_TOPICS:
            return await _product("woocommerce", topic, payload, now)
        try:
            change = woocommerce_change(topic, payload, now, settings.woocommerce_delivered_status)
        except PayloadError as exc:
            raise ClientException(detail=str(exc)) from exc
        return await _handle("woocommerce", request.headers.get("x-wc-webhook-delivery-id", ""), topic, change)


def _payload(body: bytes) -> dict[str, Any]:
    try:
        return parse_json(body)
    except PayloadError as exc:
        raise ClientException(detail=str(exc)) from exc


async def _product(source: str, topic: str, payload: Mapping[str, Any], now: datetime) -> dict[str, str]:
    try:
        await apply_product_webhook(source, topic, payload, now)
    except ProductPayloadError as exc:
        raise ClientException(detail=str(exc)) from exc
    return {"status": "accepted"}


async def _handle(source: str, delivery_id: str, topic: str, change: Change | None) -> dict[str, str]:
    if change is None:
        logger.info("%s webhook %r ignored: nothing we act on", source, topic)
        return {"status": "ignored"}
    return {"status": await handle_change(source, delivery_id, topic, change)}
