"""The order files `afterglow import-orders` reads, told apart by their header row. Pure: no database, no clock.

Each format turns one row of its file (keys are the header's names, lower-cased) into an `OrderRow` in the terms of
our own format (the columns documented in shop/imports/orders.py):

- Afterglow's own CSV: one row per item, rows sharing an `external_id` form an order.
- Shopify's "Export orders" CSV (Admin > Orders > Export; 79 columns): one row per line item; an order's rows share
  its `Name` (#1001), and its own fields (email, total, dates, `Id`) are on its first row only. The external id is
  Shopify's numeric order `Id`, as Shopify's webhooks name the order, so a webhook finds an imported order.
- WooCommerce's "Default - One Row per Item" CSV of the Customer / Order / Coupon Export extension: every row
  repeats its order's fields; the external id is `wc-<order_id>`, as WooCommerce's webhooks name the order.

Neither platform export has a delivery date: Shopify's `Fulfilled at` is when the parcel left (its webhooks treat
"fulfilled" the same way), and WooCommerce's export has no completion date. Such orders are imported without a
delivery, so importing history never schedules an invitation; a later delivery report from the shop's webhooks
does. Afterglow's own format carries `delivered_at` for the owner who wants recent customers asked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Re-exported: the importers and tests read these from the format module.
from afterglow.csvfiles import UnknownHeader as UnknownHeader
from afterglow.csvfiles import normalise_header as normalise_header
from afterglow.csvfiles import recognise_header

Row = Mapping[str, str]

#: Our own columns.
REQUIRED_COLUMNS = ("external_id", "placed_at", "total", "email", "sku", "item_name", "price")
OPTIONAL_COLUMNS = (
    "channel",
    "currency",
    "name",
    "locale",
    "timezone",
    "category",
    "quantity",
    "delivered_at",
    "returned_at",
    "cancelled_at",
)
#: WooCommerce statuses of orders that were never bought: such an order is left out.
WOOCOMMERCE_NOT_BOUGHT = frozenset({"pending", "failed", "cancelled", "checkout-draft", "trash"})
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class OrderRow:
    """One line item: `group` names its order in the file; `values` are our columns; `skip` says why its whole
    order is left out ("" to import it)."""

    group: str
    values: dict[str, str]
    skip: str = ""


@dataclass(frozen=True)
class OrderFormat:
    key: str
    title: str
    #: Header names a file of this format must have (compared without case).
    required: tuple[str, ...]
    #: Header names only this format has: a header with all of them is this format.
    signature: tuple[str, ...]
    read: Callable[[Row], OrderRow]
    #: The file's header name for each of our columns, so that an error names the column the owner sees.
    labels: Mapping[str, str] = field(default_factory=dict)
    #: Times without an offset are the shop's local time (else UTC).
    local_times: bool = False
    #: An order may have no email: it is stored without a customer and never asked about (else it is an error).
    email_optional: bool = False

    def label(self, column: str) -> str:
        return self.labels.get(column, column)


def _ours(row: Row) -> OrderRow:
    values = {column: row.get(column, "") for column in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    return OrderRow(values["external_id"], values)


def _shopify(row: Row) -> OrderRow:
    item_name = row.get("lineitem name", "")
    values = {
        "external_id": row.get("id", ""),
        "channel": "shopify",
        "placed_at": row.get("created at", ""),
        "currency": row.get("currency", ""),
        "total": row.get("total", ""),
        "email": row.get("email", ""),
        "name": row.get("billing name", "") or row.get("shipping name", ""),
        "cancelled_at": row.get("cancelled at", ""),
        # Shopify products often have no SKU; the item is then known by its name.
        "sku": row.get("lineitem sku", "") or item_name[:128],
        "item_name": item_name,
        "quantity": row.get("lineitem quantity", ""),
        "price": row.get("lineitem price", ""),
    }
    return OrderRow(row.get("name", ""), values)


def _woocommerce(row: Row) -> OrderRow:
    def get(column: str) -> str:
        value = row.get(column, "")
        # The extension puts a ' before a value starting with = + - @ so that spreadsheets do not run it.
        return value[1:] if value[:2] in {"'=", "'+", "'-", "'@"} else value

    order_id, product_id = get("order_id"), get("item_product_id")
    status = get("status").removeprefix("wc-")
    values = {
        "external_id": f"wc-{order_id}" if order_id else "",
        "channel": "woocommerce",
        "placed_at": get("date"),
        "currency": get("order_currency"),
        "total": get("order_total"),
        "email": get("billing_email"),
        "name": f"{get('billing_first_name')} {get('billing_last_name')}".strip(),
        # Without a SKU, the product id names the item, as WooCommerce's webhooks do.
        "sku": get("item_sku") or (f"product-{product_id}" if product_id else get("item_name")[:128]),
        "item_name": get("item_name"),
        "quantity": get("item_quantity"),
        "price": _cents(get("item_price")) or _unit_price(get("item_subtotal"), get("item_quantity")),
        "product_ref": product_id,
    }
    skip = f"status {status}" if status in WOOCOMMERCE_NOT_BOUGHT else ""
    return OrderRow(order_id, values, skip)


def _cents(value: str) -> str:
    """An amount rounded to cents ("" stays ""; anything unreadable is passed on for the amount check to name)."""
    try:
        return str(Decimal(value).quantize(_CENT, ROUND_HALF_UP)) if value else ""
    except InvalidOperation:
        return value


def _unit_price(subtotal: str, quantity: str) -> str:
    try:
        return str((Decimal(subtotal) / Decimal(quantity)).quantize(_CENT, ROUND_HALF_UP))
    except (InvalidOperation, ArithmeticError):
        return subtotal


AFTERGLOW = OrderFormat(
    key="afterglow",
    title="Afterglow's own format",
    required=REQUIRED_COLUMNS,
    signature=("external_id",),
    read=_ours,
)
SHOPIFY = OrderFormat(
    key="shopify",
    title='Shopify "Export orders"',
    required=(
        "Name",
        "Email",
        "Created at",
        "Currency",
        "Total",
        "Lineitem quantity",
        "Lineitem name",
        "Lineitem price",
        "Lineitem sku",
    ),
    signature=("Name", "Lineitem name", "Financial Status"),
    read=_shopify,
    labels={
        "external_id": "Id",
        "placed_at": "Created at",
        "currency": "Currency",
        "total": "Total",
        "email": "Email",
        "name": "Billing Name",
        "cancelled_at": "Cancelled at",
        "sku": "Lineitem sku",
        "item_name": "Lineitem name",
        "quantity": "Lineitem quantity",
        "price": "Lineitem price",
    },
    email_optional=True,  # point-of-sale and draft orders
)
WOOCOMMERCE = OrderFormat(
    key="woocommerce",
    title='WooCommerce Customer/Order/Coupon Export "One Row per Item"',
    required=(
        "order_id",
        "date",
        "status",
        "order_total",
        "order_currency",
        "billing_email",
        "item_name",
        "item_sku",
        "item_quantity",
        "item_price",
    ),
    signature=("order_id", "billing_email", "item_sku"),
    read=_woocommerce,
    labels={
        "external_id": "order_id",
        "placed_at": "date",
        "currency": "order_currency",
        "total": "order_total",
        "email": "billing_email",
        "name": "billing_first_name",
        "sku": "item_sku",
        "item_name": "item_name",
        "quantity": "item_quantity",
        "price": "item_price",
    },
    local_times=True,
    email_optional=True,  # orders entered by hand may have no billing email
)
FORMATS = (AFTERGLOW, SHOPIFY, WOOCOMMERCE)


def recognise(header: Sequence[str]) -> OrderFormat:
    """The format of a file with this header row (names as `normalise_header` gives them); UnknownHeader naming the
    columns missing for the closest format otherwise (ties go to our own, the one people write by hand)."""
    return recognise_header(header, FORMATS, signatures_first=(SHOPIFY, WOOCOMMERCE, AFTERGLOW), separator="; ")
