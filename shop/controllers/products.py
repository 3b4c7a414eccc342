"""The catalogue API: a shop without product webhooks sends its products by SKU, authenticated by API key.

`PUT /api/v1/products/{sku}` creates or updates the product sold under that SKU; a field left out keeps its stored
value and "" clears it. `category` is the shop's own category; what its order items are counted as follows the
owner's mapping at /app/admin/catalogue (`item_category` in the answer)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, put
from litestar.exceptions import ClientException, NotFoundException
from litestar.params import Body, FromPath
from msgspec import Meta

from accounts.auth import API_LIMITS, require_api_key
from afterglow.apidocs import API_KEY_SECURITY
from afterglow.web import Now
from shop.platforms.products import FIELDS, LIMITS, ProductData, field_problem
from shop.services.catalogue import CatalogueEntry, entry_for_sku, store_product

#: Each field's longest value, as the catalogue stores it.
Title = Annotated[str, Meta(max_length=LIMITS["title"])]
Category = Annotated[str, Meta(max_length=LIMITS["shop_category"])]
Address = Annotated[str, Meta(max_length=LIMITS["url"])]
Gtin = Annotated[str, Meta(max_length=LIMITS["gtin"])]
Mpn = Annotated[str, Meta(max_length=LIMITS["mpn"])]
Brand = Annotated[str, Meta(max_length=LIMITS["brand"])]


class ProductIn(msgspec.Struct, forbid_unknown_fields=True):
    """A product as the shop describes it. Unknown fields are refused, so a misspelt one is not silently lost."""

    title: Title | None = None
    category: Category | None = None
    image_url: Address | None = None
    url: Address | None = None
    gtin: Gtin | None = None
    mpn: Mpn | None = None
    brand: Brand | None = None

    def __post_init__(self) -> None:
        for name in FIELDS:
            value = getattr(self, name)
            if value is not None and (problem := field_problem(name, value)):
                raise ValueError(problem)


class ProductOut(msgspec.Struct):
    sku: str
    source: str
    title: str
    category: str
    #: What the product's order items are counted as: the mapped category, else `category` in lower case.
    item_category: str
    image_url: str
    url: str
    gtin: str
    mpn: str
    brand: str
    updated_at: datetime
    deleted_at: datetime | None


def product_out(entry: CatalogueEntry) -> ProductOut:
    return ProductOut(
        sku=entry.sku,
        source=entry.source,
        title=entry.title,
        category=entry.shop_category,
        item_category=entry.category,
        image_url=entry.image_url,
        url=entry.url,
        gtin=entry.gtin,
        mpn=entry.mpn,
        brand=entry.brand,
        updated_at=entry.updated_at,
        deleted_at=entry.deleted_at,
    )


class ProductsController(Controller):
    path = "/api/v1/products"
    guards = [require_api_key]
    middleware = API_LIMITS
    tags = ["catalogue"]
    security = API_KEY_SECURITY

    @put("/{sku:str}", name="shop:product-put", operation_id="PutProduct", status_code=200)
    async def put(self, sku: FromPath[str], data: Annotated[ProductIn, Body()], now: Now) -> Response[ProductOut]:
        """Create or update the product sold under `sku` (201 when new). Fields left out keep their stored value;
        "" clears one. Order items of this SKU, also those stored before, are categorised again."""
        sku = _checked_sku(sku)
        stored = await store_product(
            ProductData(
                source="api",
                keys=(f"sku:{sku}",),
                sku=sku,
                title=data.title,
                shop_category=data.category,
                image_url=data.image_url,
                url=data.url,
                gtin=data.gtin,
                mpn=data.mpn,
                brand=data.brand,
            ),
            now,
        )
        entry = await entry_for_sku(sku)
        assert entry is not None
        return Response(product_out(entry), status_code=201 if stored.created else 200)

    @get("/{sku:str}", name="shop:product", operation_id="GetProduct")
    async def detail(self, sku: FromPath[str]) -> ProductOut:
        """The catalogue entry of the product sold under `sku`."""
        entry = await entry_for_sku(sku)
        if entry is None:
            raise NotFoundException(detail=f"product {sku!r} is not in the catalogue")
        return product_out(entry)


def _checked_sku(sku: str) -> str:
    if problem := field_problem("sku", sku):
        raise ClientException(detail=problem, extra=[{"key": "sku", "message": problem}])
    return sku
