"""Shopify's mandatory privacy webhooks (`customers/data_request`, `customers/redact`, `shop/redact`) at their own
address, `/webhooks/shopify/privacy`: signed like every Shopify webhook (`X-Shopify-Hmac-Sha256`, the same
secret), answered by `operations.services.shopify_privacy`. The orders address hands these topics here too."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, post
from litestar.exceptions import ClientException, NotAuthorizedException

from afterglow.ratelimit import WEBHOOK_LIMITS
from afterglow.web import AppSettings, Now
from operations.services.shopify_privacy import answer_shopify_privacy
from shop.platforms.orders import PayloadError, parse_json, signature_valid


class ShopifyPrivacyController(Controller):
    path = "/webhooks/shopify/privacy"
    middleware = WEBHOOK_LIMITS
    tags = ["webhooks"]

    @post("/", name="webhooks:shopify-privacy", operation_id="ShopifyPrivacyWebhook", status_code=200)
    async def privacy(self, request: Request[Any, Any, Any], settings: AppSettings, now: Now) -> dict[str, str]:
        """A customer's data request or erasure, or the shop's erasure, from Shopify."""
        body = await request.body()
        if not signature_valid(settings.shopify_secret, body, request.headers.get("x-shopify-hmac-sha256")):
            raise NotAuthorizedException(detail="invalid or missing X-Shopify-Hmac-Sha256 signature")
        try:
            payload = parse_json(body)
        except PayloadError as exc:
            raise ClientException(detail=str(exc)) from exc
        topic = request.headers.get("x-shopify-topic", "")
        return await answer_shopify_privacy(topic, payload, request.headers.get("x-shopify-webhook-id", ""), now)
