"""Product reviews written by customers for the items they received, their photos, replies and votes."""

from piccolo.columns import JSON, BigInt, Boolean, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from shop.tables import Customer, OrderItem
from surveys.tables import Invitation


class Review(Table):
    """One review per delivered order item (so one per customer, product and order); editing updates it.

    status: published | held (a content rule matched: `held_rule`) | rejected (`reject_reason`).
    An imported review (`source`) may have no order item or customer here, and is verified only where its order is.
    """

    #: Null for a review imported from another tool whose order is not known here.
    order_item = ForeignKey(references=OrderItem, unique=True, null=True, default=None)
    customer = ForeignKey(references=Customer, index=True, null=True, default=None)
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
    #: Where an imported review came from ("" when collected here): judgeme, yotpo, stamped, shopify, trustpilot.
    source = Varchar(length=16, default="")
    #: `<source>:<the tool's review id>` (or a digest of its row): a second import of the same file adds nothing.
    import_key = Varchar(length=200, null=True, default=None)  # unique: an index made by its migration
    #: Photo addresses an imported review carried, shown as links; nothing is fetched.
    photo_urls = JSON(default=[])
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


class WidgetVersion(Table):
    """A number that grows whenever what the public sees of a product changes, so that the widget and rating
    caches know when to read again. Bumped by triggers (see the migration), in the writer's own transaction:
    `sku:<sku>` for the product's published reviews, their photos, replies, votes and order items; `all` for the
    catalogue (titles, keys), which may rename any product."""

    key = Varchar(length=200, primary_key=True)
    version = BigInt(default=0)
