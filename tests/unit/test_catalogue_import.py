"""`afterglow import-products FILE`: bad rows reported by line, the rest imported; a second run updates."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from operations.cli import main
from shop.imports.products import import_products
from shop.services.catalogue import entry_for_sku
from shop.tables import Product, ProductKey

CSV = """\
SKU,Title,Category,Image_URL,URL,GTIN,MPN,Brand,Price
KETTLE-1,Stone kettle 1.5 l,Kettles & Teapots,https://cdn.shop.example/kettle.jpg,https://shop.example/kettle,4006381333931,SK-15,Stonework,49.00
MUG-SET,"Glazed mug set (4)",Cups & Mugs,/static/demo/products/mug-set.png,,,,,32.00
,No SKU here,Mugs,,,,,,
LAMP-ARC,Arc floor lamp,Floor Lamps,javascript:alert(1),,123,,,
CHAIR-OAK,Oak dining chair,Dining Chairs,,,,,,189.00
"""


def write(tmp_path: Path, text: str, name: str = "products.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_bad_rows_are_reported_by_line_and_the_rest_imported(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import-products", str(write(tmp_path, CSV))])
    assert result.exit_code == 1
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {
        "rows": 5,
        "products_created": 3,
        "products_updated": 0,
        "items_recategorised": 0,
        "errors": 2,
    }
    assert "line 4" in result.stderr and "`sku` must be" in result.stderr
    assert "line 5" in result.stderr and "image_url" in result.stderr and "gtin" in result.stderr

    kettle = asyncio.run(entry_for_sku("KETTLE-1"))
    assert kettle is not None
    assert (kettle.title, kettle.shop_category, kettle.gtin, kettle.brand, kettle.source) == (
        "Stone kettle 1.5 l",
        "Kettles & Teapots",
        "4006381333931",
        "Stonework",
        "csv",
    )
    mugs = asyncio.run(entry_for_sku("MUG-SET"))
    assert mugs is not None and mugs.image_url == "/static/demo/products/mug-set.png"
    assert asyncio.run(entry_for_sku("LAMP-ARC")) is None


def test_a_second_run_updates_and_never_duplicates(tmp_path: Path) -> None:
    CliRunner().invoke(main, ["import-products", str(write(tmp_path, CSV))])
    changed = "sku,title,brand\nKETTLE-1,Stone kettle 1.7 l,\nCHAIR-OAK,,Oakwright\nNEW-1,Tea towel,\n"
    result = CliRunner().invoke(main, ["import-products", str(write(tmp_path, changed, "again.csv"))])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert (summary["products_created"], summary["products_updated"], summary["errors"]) == (1, 2, 0)
    assert asyncio.run(Product.count().run()) == 4
    assert asyncio.run(ProductKey.count().run()) == 4
    kettle = asyncio.run(entry_for_sku("KETTLE-1"))
    chair = asyncio.run(entry_for_sku("CHAIR-OAK"))
    assert kettle is not None and (kettle.title, kettle.brand) == ("Stone kettle 1.7 l", "Stonework")  # "" keeps
    assert chair is not None and (chair.title, chair.brand) == ("Oak dining chair", "Oakwright")


def test_a_file_without_a_sku_column_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["import-products", str(write(tmp_path, "title,brand\nKettle,Stonework\n"))])
    assert result.exit_code == 1
    assert "lacks the column sku" in result.output
    latin = tmp_path / "latin.csv"
    latin.write_bytes("sku,title\nK-1,Wasserkessel für Tee\n".encode("latin-1"))
    with pytest.raises(ValueError, match="not UTF-8"):
        asyncio.run(import_products(latin))
    refused = CliRunner().invoke(main, ["import-products", str(latin)])
    assert refused.exit_code == 1 and "not UTF-8" in refused.output
