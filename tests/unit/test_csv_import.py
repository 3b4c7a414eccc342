from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from afterglow.csvfiles import count_rows
from shop.imports.orders import import_orders
from shop.tables import Customer, Order, OrderEvent, OrderItem

SAMPLE = Path(__file__).parent.parent / "data" / "orders_sample.csv"
HEADER = "external_id,placed_at,total,email,sku,item_name,price,quantity,delivered_at"


def write(tmp_path: Path, *lines: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding=encoding)
    return path


async def test_sample_file_is_imported() -> None:
    report = await import_orders(SAMPLE)
    assert (report.rows, report.orders_created, report.orders_existing) == (11, 8, 0)
    assert report.events_recorded == 9  # 7 deliveries, 1 return, 1 cancellation
    assert await Order.count() == 8
    assert await OrderEvent.count().where(OrderEvent.source == "csv") == 9


async def test_bad_rows_are_reported_by_line_while_good_orders_land() -> None:
    report = await import_orders(SAMPLE)
    assert [line for line, _ in report.errors] == [7, 10]
    price_error, email_error = (message for _, message in report.errors)
    assert "`price`" in price_error and "'12,50'" in price_error and "2024-0105" in price_error
    assert "`email`" in email_error
    assert not await Order.exists().where(Order.external_id.is_in(["2024-0105", "2024-0108"]))
    assert await Order.exists().where(Order.external_id == "2024-0109")


async def test_rows_of_one_order_are_grouped_wherever_they_are() -> None:
    await import_orders(SAMPLE)
    order = await Order.select(Order.id, Order.total).where(Order.external_id == "2024-0102").first()
    assert order["total"] == Decimal("84.80")
    items = await OrderItem.select(OrderItem.sku, OrderItem.quantity).where(OrderItem.order == order["id"])
    assert items == [{"sku": "TOWEL-SET-4", "quantity": 2}, {"sku": "DRIP-CER-01", "quantity": 1}]


async def test_reimport_duplicates_nothing() -> None:
    await import_orders(SAMPLE)
    again = await import_orders(SAMPLE)
    assert (again.orders_created, again.orders_existing, again.events_recorded) == (0, 8, 0)
    assert (await Order.count(), await OrderItem.count(), await OrderEvent.count(), await Customer.count()) == (
        8,
        9,
        9,
        8,
    )


async def test_delivered_event_is_recorded(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER, "A-1,2026-03-02T10:00:00+01:00,10.00,a@example.com,S-1,Soap,10.00,1,2026-03-04T12:00:00+01:00"
    )
    await import_orders(path)
    event = await OrderEvent.select(OrderEvent.type, OrderEvent.at, OrderEvent.source).first()
    assert event == {"type": "delivered", "at": datetime(2026, 3, 4, 11, 0, tzinfo=UTC), "source": "csv"}
    order = await Order.select(Order.delivered_at).first()
    assert order["delivered_at"] == datetime(2026, 3, 4, 11, 0, tzinfo=UTC)


async def test_naive_times_are_utc(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER, "A-1,2026-03-02 10:00:00,10.00,a@example.com,S-1,Soap,10.00,,2026-03-04T12:00")
    await import_orders(path)
    order = await Order.select(Order.placed_at, Order.delivered_at).first()
    assert order["placed_at"] == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert order["delivered_at"] == datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


async def test_missing_columns_are_named(tmp_path: Path) -> None:
    path = write(tmp_path, "external_id,placed_at,email,sku", "A-1,2026-03-02T10:00:00Z,a@example.com,S-1")
    with pytest.raises(ValueError, match="total, item_name, price"):
        await import_orders(path)


async def test_empty_file_has_no_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(ValueError, match="external_id"):
        await import_orders(path)
    assert count_rows(path) == 0


async def test_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = write(
        tmp_path, HEADER, "A-1,2026-03-02T10:00:00Z,10.00,a@example.com,S-1,Soap,10.00,1,", encoding="utf-8-sig"
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    report = await import_orders(path)
    assert (report.orders_created, report.errors) == (1, [])


async def test_every_bad_row_of_an_order_is_reported(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        HEADER,
        "A-1,2026-03-02T10:00:00Z,30.00,a@example.com,S-1,Soap,10.00,two,",
        "B-1,2026-03-02T11:00:00Z,5.00,b@example.com,S-3,Brush,5.00,1,",
        "A-1,2026-03-02T10:00:00Z,31.00,a@example.com,,Sponge,20.00,1,",
    )
    report = await import_orders(path)
    assert sorted(report.errors) == [
        (2, "`quantity` is not a whole number: 'two' (order 'A-1' skipped)"),
        (4, "`sku` is empty (order 'A-1' skipped)"),
        (4, "`total` is '31.00' here but '30.00' on line 2 (order 'A-1' skipped)"),
    ]
    assert await Order.select(Order.external_id).output(as_list=True) == ["B-1"]


async def test_schema_errors_name_the_column_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "external_id,placed_at,total,email,sku,item_name,price,timezone",
        "A-1,2026-03-02T10:00:00Z,10.00,a@example.com,S-1,Soap,10.00,Mars/Olympus",
        "B-1,2026-03-02T10:00:00Z,10.00,b@example.com,S-1,Soap,-1,",
    )
    report = await import_orders(path)
    assert [(line, message.split(" ")[0]) for line, message in report.errors] == [(2, "`timezone`"), (3, "`price`")]


async def test_progress_counts_rows(tmp_path: Path) -> None:
    seen: list[int] = []
    await import_orders(SAMPLE, on_progress=seen.append)
    assert seen == list(range(1, count_rows(SAMPLE) + 1))
    assert count_rows(SAMPLE) == 11


def test_docs_example_matches_the_test_sample() -> None:
    example = Path(__file__).parent.parent.parent / "docs" / "examples" / "orders.csv"
    assert example.read_bytes() == SAMPLE.read_bytes()
