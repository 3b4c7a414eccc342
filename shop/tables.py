"""What the shop tells us: customers, orders, their items, what happened to them, and its products."""

from piccolo.columns import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Customer(Table):
    email = Varchar(length=320, unique=True, index=True)
    name = Varchar(length=200, default="")
    locale = Varchar(length=16, default="en")
    timezone = Varchar(length=64, default="")
    unsubscribed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class Order(Table):
    external_id = Varchar(length=128, unique=True, index=True)
    channel = Varchar(length=64, default="web")
    placed_at = Timestamptz(index=True)
    currency = Varchar(length=3, default="EUR")
    total = Numeric(digits=(12, 2))
    #: None when the shop sent no email (Shopify draft, POS and phone orders): stored, never asked.
    customer = ForeignKey(references=Customer, index=True, null=True, default=None)
    #: Why this order is never asked about ("" when it may be): "no_email", "refunded".
    not_asked = Varchar(length=32, default="")
    delivered_at = Timestamptz(null=True, default=None)
    returned_at = Timestamptz(null=True, default=None)
    cancelled_at = Timestamptz(null=True, default=None)
    complaint_open = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class OrderItem(Table):
    order = ForeignKey(references=Order, index=True)
    sku = Varchar(length=128, index=True)
    name = Varchar(length=300)
    category = Varchar(length=100, default="")
    quantity = Integer(default=1)
    price = Numeric(digits=(12, 2))
    #: The platform's ids for the product and variant ("" when unknown): how the item finds its catalogue entry.
    product_ref = Varchar(length=64, default="", index=True)
    variant_ref = Varchar(length=64, default="")
    #: When the shop refunded this line; a refunded item is not asked about, the rest of the order still is.
    returned_at = Timestamptz(null=True, default=None)


class OrderEvent(Table):
    """Every event the shop reported, in the order received: the order's history."""

    order = ForeignKey(references=Order, index=True)
    type = Varchar(length=32)
    at = Timestamptz()
    agent = Varchar(length=200, default="")
    source = Varchar(length=32, default="api")
    received_at = Timestamptz(default=TimestamptzNow())


class WebhookReceipt(Table):
    """A webhook delivery already handled, so a redelivery is acknowledged and ignored."""

    source = Varchar(length=32)
    delivery_id = Varchar(length=200, unique=True)
    topic = Varchar(length=64, default="")
    payload = JSON(default={})
    received_at = Timestamptz(default=TimestamptzNow())


class Product(Table):
    """One product of the shop's catalogue, from the platforms' product webhooks, the API or a CSV import."""

    source = Varchar(length=16, default="api")
    sku = Varchar(length=128, default="", index=True)
    title = Varchar(length=300, default="")
    #: The shop's own category (Shopify `product_type` or standard category, WooCommerce categories).
    shop_category = Varchar(length=200, default="", index=True)
    image_url = Varchar(length=2000, default="")
    url = Varchar(length=2000, default="")
    gtin = Varchar(length=32, default="")
    mpn = Varchar(length=70, default="")
    brand = Varchar(length=100, default="")
    deleted_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(default=TimestamptzNow())


class ProductKey(Table):
    """One name a line item may know a product by: `shopify:product:<id>`, `shopify:variant:<id>`,
    `woocommerce:product:<id>`, `woocommerce:variation:<id>` or `sku:<sku>`."""

    product = ForeignKey(references=Product, index=True)
    key = Varchar(length=200, unique=True)


class CategoryMap(Table):
    """The owner's mapping of a shop category onto the category that delays and dashboard segments use."""

    shop_category = Varchar(length=200, unique=True)
    category = Varchar(length=100)
