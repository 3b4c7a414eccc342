"""Shop webhooks (Shopify, WooCommerce): placeholder until the webhook module lands."""

from litestar import Controller


class WebhooksController(Controller):
    path = "/webhooks"
