"""What the shop tells us: customers, orders, their items and what happened to them."""

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
    customer = ForeignKey(references=Customer, index=True)
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
