"""Product reviews written by customers for the items they received."""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from shop.tables import Customer, OrderItem
from surveys.tables import Invitation


class Review(Table):
    order_item = ForeignKey(references=OrderItem, unique=True)
    customer = ForeignKey(references=Customer, index=True)
    invitation = ForeignKey(references=Invitation, null=True, default=None)
    sku = Varchar(length=128, index=True)
    rating = Integer()
    title = Varchar(length=150, default="")
    text = Text(default="")
    verified = Boolean(default=False)
    status = Varchar(length=16, default="published", index=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())
