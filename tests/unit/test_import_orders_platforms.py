"""`afterglow import-orders` on the files shops already have: Shopify's and WooCommerce's order exports as they are."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from operations.cli import main
from shop.imports.orders import import_orders
from shop.tables import Customer, Order, OrderEvent, OrderItem
from surveys.tables import Invitation

EXPORTS = Path(__file__).parent.parent / "data" / "exports"
SHOPIFY = EXPORTS / "shopify_orders_export.csv"
WOOCOMMERCE = EXPORTS / "woocommerce_orders_export.csv"
NOW = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


async def items_of(external_id: str) -> list[dict[str, object]]:
    order = await Order.select(Order.id).where(Order.external_id == external_id).first()
    return (
        await OrderItem.select(OrderItem.sku, OrderItem.name, OrderItem.quantity, OrderItem.price)
        .where(OrderItem.order == order["id"])
        .order_by(OrderItem.id)
    )


async def test_shopify_export_imports_orders_spanning_rows() -> None:
    report = await import_orders(SHOPIFY, now=NOW)
    assert report.format == "shopify"
    assert (report.rows, report.orders_created) == (5, 3)
    order = await Order.select().where(Order.external_id == "5550000001").first()
    assert order["channel"] == "shopify"
    assert order["placed_at"] == datetime(2026, 9, 3, 8, 15, tzinfo=UTC)
    assert (order["total"], order["currency"]) == (Decimal("89.70"), "EUR")
    # The second line item has no SKU in Shopify: it is known by its name.
    assert await items_of("5550000001") == [
        {"sku": "KNIFE-CHEF-20", "name": "Chef's knife, 20 cm", "quantity": 1, "price": Decimal("59.90")},
        {"sku": "Bath towel set", "name": "Bath towel set", "quantity": 1, "price": Decimal("29.80")},
    ]
    customer = await Customer.select(Customer.name).where(Customer.email == "ada@example.com").first()
    assert customer["name"] == "Ada Example"


async def test_shopify_export_records_cancellations_but_no_deliveries() -> None:
    await import_orders(SHOPIFY, now=NOW)
    events = await OrderEvent.select(OrderEvent.order.external_id, OrderEvent.type, OrderEvent.at)
    assert events == [
        {"order.external_id": "5550000002", "type": "cancelled", "at": datetime(2026, 9, 10, 10, 0, tzinfo=UTC)}
    ]
    # "Fulfilled at" is when the parcel left: no delivery, so importing history asks nobody.
    assert await Order.count().where(Order.delivered_at.is_not_null()) == 0
    assert await Invitation.count() == 0


async def test_shopify_orders_without_email_are_stored_never_asked_and_bad_rows_reported_by_line() -> None:
    report = await import_orders(SHOPIFY, now=NOW)
    assert report.without_email == 1
    point_of_sale = await Order.select(Order.customer, Order.not_asked).where(Order.external_id == "5550000003").first()
    assert point_of_sale == {"customer": None, "not_asked": "no_email"}
    assert report.errors == [
        (6, "`Lineitem price` is not an amount such as 12.50: '12,50' (order '#1004' skipped)"),
    ]
    assert not await Order.exists().where(Order.external_id == "5550000004")


async def test_woocommerce_export_imports_in_the_shops_time_zone() -> None:
    report = await import_orders(WOOCOMMERCE, now=NOW, shop_zone=ZoneInfo("Europe/Paris"))
    assert report.format == "woocommerce"
    assert (report.rows, report.orders_created, report.skipped) == (4, 2, {"status cancelled": 1})
    order = await Order.select().where(Order.external_id == "wc-727").first()
    assert order["placed_at"] == datetime(2026, 9, 5, 12, 2, 11, tzinfo=UTC)
    assert (order["channel"], order["total"], order["delivered_at"]) == ("woocommerce", Decimal("158.70"), None)
    # Without a SKU, the product id names the item, as WooCommerce's webhooks do.
    refs = await OrderItem.select(OrderItem.product_ref).where(OrderItem.order.external_id == "wc-727")
    assert [row["product_ref"] for row in refs] == ["41", "57"]
    assert await items_of("wc-727") == [
        {"sku": "LAMP-OAK-1", "name": "Oak table lamp", "quantity": 1, "price": Decimal("129.00")},
        {"sku": "product-57", "name": "Beeswax candle set", "quantity": 2, "price": Decimal("12.40")},
    ]
    assert not await Order.exists().where(Order.external_id == "wc-728")


@pytest.mark.parametrize("path", [SHOPIFY, WOOCOMMERCE])
async def test_a_second_run_imports_nothing_twice(path: Path) -> None:
    first = await import_orders(path, now=NOW)
    again = await import_orders(path, now=NOW)
    assert (again.orders_created, again.orders_existing, again.events_recorded) == (0, first.orders_created, 0)
    assert await Order.count() == first.orders_created


def test_an_unknown_header_gets_a_message_naming_the_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("Name,Email,Financial Status,Lineitem name,Created at\n#1,a@example.com,paid,Soap,2026-01-01\n")
    result = CliRunner().invoke(main, ["import-orders", str(path)])
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    message = result.stderr
    assert "Currency, Total, Lineitem quantity, Lineitem price, Lineitem sku" in message
    assert 'Shopify "Export orders"' in message


def test_the_command_summarises_what_it_skipped_and_why() -> None:
    result = CliRunner().invoke(main, ["import-orders", str(SHOPIFY)])
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["format"] == "shopify"
    assert (summary["orders_created"], summary["orders_without_email"], summary["errors"]) == (3, 1, 1)
    assert summary["skipped"] == {}
    assert "line 6" in result.stderr


def test_the_command_lists_the_orders_it_left_out_by_reason() -> None:
    result = CliRunner().invoke(main, ["import-orders", str(WOOCOMMERCE)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1])["skipped"] == {"status cancelled": 1}
    assert "left out 1 order(s): status cancelled" in result.stderr
