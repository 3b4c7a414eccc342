"""Product reviews written by customers for the items they received, their photos, replies and votes."""

from piccolo.columns import Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from shop.tables import Customer, OrderItem
from surveys.tables import Invitation


class Review(Table):
    """One review per delivered order item (so one per customer, product and order); editing updates it.

    status: published | held (a content rule matched: `held_rule`) | rejected (`reject_reason`).
    """

    order_item = ForeignKey(references=OrderItem, unique=True)
    customer = ForeignKey(references=Customer, index=True)
    invitation = ForeignKey(references=Invitation, null=True, default=None)
    sku = Varchar(length=128, index=True)
    product_name = Varchar(length=300, default="")
    category = Varchar(length=100, default="", index=True)
    rating = Integer(index=True)
    title = Varchar(length=150, default="")
    text = Text(default="")
    language = Varchar(length=8, default="en")
    author_name = Varchar(length=100, default="")
    verified = Boolean(default=False)
    status = Varchar(length=16, default="published", index=True)
    held_rule = Varchar(length=32, default="")
    reject_reason = Text(default="")
    moderated_at = Timestamptz(null=True, default=None)
    reply_text = Text(default="")
    reply_at = Timestamptz(null=True, default=None)
    helpful_count = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class ReviewPhoto(Table):
    """A customer photo, re-encoded without metadata, in `settings.photo_folder` under a random `<hex>.<ext>` name."""

    review = ForeignKey(references=Review, index=True)
    file_name = Varchar(length=80, unique=True)
    content_type = Varchar(length=32)
    width = Integer()
    height = Integer()
    size = Integer()
    position = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class HelpfulVote(Table):
    """One "helpful" per browser per review: `key` is `<review id>:<hash of the browser's voter id>`."""

    review = ForeignKey(references=Review, index=True)
    key = Varchar(length=100, unique=True)
    created_at = Timestamptz(default=TimestamptzNow())
