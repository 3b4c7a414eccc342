"""The platforms' payloads read into our terms, without a database (shop.platforms)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shop.platforms.orders import (
    PayloadError,
    Refund,
    RefundedLine,
    clean_name,
    merge_items,
    refunded_item_ids,
    usable_email,
)
from shop.platforms.shopify import shopify_change
from shop.platforms.woocommerce import normal_status, woocommerce_change
from tests.unit.test_webhooks import fixture

NOW = datetime(2026, 3, 1, tzinfo=UTC)
AT = datetime(2024, 1, 2, tzinfo=UTC)


def row(id_: int, sku: str, quantity: int = 1, product: str = "", variant: str = "") -> dict:
    return {"id": id_, "sku": sku, "product_ref": product, "variant_ref": variant, "quantity": quantity}


def test_names_are_trimmed_and_entities_decoded() -> None:
    assert clean_name("Customer   Example ") == "Customer Example"
    assert clean_name("Ship Your Idea &ndash; Color: Black", entities=True) == "Ship Your Idea – Color: Black"
    assert clean_name("Fish &amp; Chips") == "Fish &amp; Chips"  # Shopify does not escape: nothing to decode
    assert clean_name(None) == ""


def test_usable_email_takes_the_first_address() -> None:
    assert usable_email("", None, " Bob.Norman@HostMail.com ") == "bob.norman@hostmail.com"
    assert usable_email("jonas at example", "") == ""


def test_identical_lines_merge_only_at_the_same_price() -> None:
    line = {"sku": "CUP", "product_ref": "1", "variant_ref": "", "price": 3, "quantity": 2, "name": "Cup"}
    merged = merge_items([line, {**line, "quantity": 1}, {**line, "price": 4}])
    assert [(item["price"], item["quantity"]) for item in merged] == [(3, 3), (4, 2)]


def test_a_line_counts_as_returned_once_its_whole_quantity_is_refunded() -> None:
    rows = [row(1, "CUP", quantity=2), row(2, "PLATE")]
    one_cup = Refund(AT, (RefundedLine(("CUP", "", ""), 1),))
    assert refunded_item_ids(rows, one_cup) == []  # one of two cups kept: still reviewed
    both = Refund(AT, (RefundedLine(("CUP", "", ""), 1), RefundedLine(("CUP", "", ""), 1)))
    assert refunded_item_ids(rows, both) == [1]
    assert refunded_item_ids(rows, Refund(AT, everything=True)) == [1, 2]


def test_shopify_order_without_email_has_no_customer() -> None:
    change = shopify_change("orders/create", fixture("shopify_order_1073459969.json"), NOW)
    assert change is not None and change.order is not None
    assert change.order.customer is None
    assert (change.events, change.refund) == ((), None)


def test_shopify_orders_body_with_refunds_marks_them() -> None:
    # An orders/updated body after the refund (changed: the refund listed, as Shopify lists it in `refunds`).
    payload = {**fixture("shopify_order_450789469.json"), "refunds": [fixture("shopify_refund_509562969.json")]}
    change = shopify_change("orders/updated", payload, NOW)
    assert change is not None and change.refund is not None
    assert sorted(line.key[0] for line in change.refund.lines) == ["IPOD2008BLACK", "IPOD2008GREEN"]
    assert change.refund.at == datetime(2024, 1, 2, 13, 59, 11, tzinfo=UTC)
    refunded = shopify_change("orders/updated", {**payload, "financial_status": "refunded"}, NOW)
    assert refunded is not None and refunded.refund is not None and refunded.refund.everything


def test_shopify_failed_fulfillment_is_no_delivery() -> None:
    payload = fixture("shopify_orders_updated_2628173987889.json")
    payload["fulfillments"][0]["status"] = "failure"
    change = shopify_change("orders/updated", payload, NOW)
    assert change is not None and change.events == ()


def test_shopify_refund_without_its_order_id_names_the_field() -> None:
    refund = fixture("shopify_refund_929361466.json")
    del refund["order_id"]
    with pytest.raises(PayloadError, match="order_id"):
        shopify_change("refunds/create", refund, NOW)


@pytest.mark.parametrize(
    ("status", "configured", "event"),
    [("completed", "delivered", "delivered"), ("Delivered", "wc-delivered", "delivered"), ("shipped", "", None)],
)
def test_woocommerce_statuses(status: str, configured: str, event: str | None) -> None:
    payload = {**fixture("woocommerce_order_727.json"), "status": status}
    change = woocommerce_change("order.updated", payload, NOW, configured)
    assert change is not None
    assert [e.type for e in change.events] == ([event] if event else [])


def test_woocommerce_status_names() -> None:
    assert normal_status("wc-Delivered ") == "delivered"
    assert normal_status(None) == ""


def test_woocommerce_deleted_order_is_cancelled_when_it_arrives() -> None:
    change = woocommerce_change("order.deleted", {"id": 727}, NOW)
    assert change is not None
    assert (change.external_id, [(e.type, e.at) for e in change.events]) == ("wc-727", [("cancelled", NOW)])
