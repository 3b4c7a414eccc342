"""The public reviews API: products, a product's published reviews (pages, sorts, star filter) and its rating.
No key, no sign-in; held and rejected reviews never show; answers may be cached for a minute."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from reviews.tables import Review
from tests.unit.review_fixtures import WRITTEN_AT, add_review


async def reviews_at(sku: str, ratings: list[int], **fields: object) -> list[int]:
    """Reviews of `sku`, one a day from WRITTEN_AT on, in the given order of ratings; their ids, oldest first."""
    return [
        await add_review(sku=sku, rating=rating, created_at=WRITTEN_AT + timedelta(days=i), **fields)  # type: ignore[arg-type]
        for i, rating in enumerate(ratings)
    ]


async def ids_of(client: AsyncTestClient, query: str, sku: str = "SKU-1") -> list[int]:
    response = await client.get(f"/api/v1/products/{sku}/reviews?{query}")
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


# Products ---------------------------------------------------------------------------------------------------


async def test_products_are_listed_most_reviewed_first_then_by_sku(client: AsyncTestClient) -> None:
    await reviews_at("B-2", [5, 4], product_name="Teapot")
    await reviews_at("A-1", [3, 4], product_name="Kettle")
    await reviews_at("C-3", [1, 2, 2], product_name="Mug")

    response = await client.get("/api/v1/products")

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {"sku": "C-3", "name": "Mug", "average_rating": 1.67, "review_count": 3},
            {"sku": "A-1", "name": "Kettle", "average_rating": 3.5, "review_count": 2},
            {"sku": "B-2", "name": "Teapot", "average_rating": 4.5, "review_count": 2},
        ],
        "page": 1,
        "per_page": 20,
        "total": 3,
        "pages": 1,
    }


async def test_products_without_a_published_review_are_not_listed(client: AsyncTestClient) -> None:
    await add_review(sku="HELD", status="held", held_rule="link")
    await add_review(sku="GONE", status="rejected")
    await add_review(sku="MIXED", rating=2)
    await add_review(sku="MIXED", rating=5, status="held")

    body = (await client.get("/api/v1/products")).json()

    assert body["items"] == [{"sku": "MIXED", "name": "Item 1", "average_rating": 2.0, "review_count": 1}]
    assert body["total"] == 1


async def test_products_come_in_pages(client: AsyncTestClient) -> None:
    for n, sku in enumerate(["P-1", "P-2", "P-3"]):
        await reviews_at(sku, [4] * (3 - n))

    first = (await client.get("/api/v1/products?per_page=2")).json()
    last = (await client.get("/api/v1/products?per_page=2&page=2")).json()
    beyond = (await client.get("/api/v1/products?per_page=2&page=3")).json()

    assert [p["sku"] for p in first["items"]] == ["P-1", "P-2"]
    assert (first["page"], first["per_page"], first["total"], first["pages"]) == (1, 2, 3, 2)
    assert [p["sku"] for p in last["items"]] == ["P-3"]
    assert beyond["items"] == [] and beyond["total"] == 3


async def test_product_name_is_the_newest_published_reviews(client: AsyncTestClient) -> None:
    await add_review(product_name="Kettle", created_at=WRITTEN_AT)
    await add_review(product_name="Kettle 2.0", created_at=WRITTEN_AT + timedelta(days=1))
    await add_review(product_name="Held name", created_at=WRITTEN_AT + timedelta(days=2), status="held")

    listed = (await client.get("/api/v1/products")).json()["items"][0]
    rated = (await client.get("/api/v1/products/SKU-1/rating")).json()

    assert listed["name"] == rated["name"] == "Kettle 2.0"


# A product's reviews ----------------------------------------------------------------------------------------


async def test_reviews_come_in_pages_of_the_size_asked(client: AsyncTestClient) -> None:
    ids = await reviews_at("SKU-1", [5] * 25)
    newest_first = ids[::-1]

    default = (await client.get("/api/v1/products/SKU-1/reviews")).json()
    page_1 = (await client.get("/api/v1/products/SKU-1/reviews?per_page=10")).json()
    page_3 = (await client.get("/api/v1/products/SKU-1/reviews?per_page=10&page=3")).json()
    beyond = (await client.get("/api/v1/products/SKU-1/reviews?per_page=10&page=4")).json()

    assert len(default["items"]) == 20 and default["per_page"] == 20 and default["pages"] == 2
    assert [r["id"] for r in page_1["items"]] == newest_first[:10]
    assert (page_1["page"], page_1["total"], page_1["pages"]) == (1, 25, 3)
    assert [r["id"] for r in page_3["items"]] == newest_first[20:]
    assert beyond["items"] == []
    assert (beyond["page"], beyond["total"], beyond["pages"]) == (4, 25, 3)


async def test_largest_page_size_is_100(client: AsyncTestClient) -> None:
    await reviews_at("SKU-1", [4] * 3)

    assert (await client.get("/api/v1/products/SKU-1/reviews?per_page=100")).status_code == 200
    assert (await client.get("/api/v1/products/SKU-1/reviews?per_page=101")).status_code == 400


async def test_newest_sort_puts_the_latest_first_and_same_moment_by_id(client: AsyncTestClient) -> None:
    older, newer = await reviews_at("SKU-1", [3, 3])
    same_a = await add_review(created_at=WRITTEN_AT + timedelta(days=5))
    same_b = await add_review(created_at=WRITTEN_AT + timedelta(days=5))

    assert await ids_of(client, "sort=newest") == [same_b, same_a, newer, older]
    assert await ids_of(client, "") == [same_b, same_a, newer, older]


@pytest.mark.parametrize(
    "sort,expected",
    [
        # Ratings by day: 0 → 3, 1 → 5, 2 → 1, 3 → 5, 4 → 3; ties go to the newest.
        ("rating", [3, 1, 4, 0, 2]),
        ("rating_asc", [2, 4, 0, 3, 1]),
    ],
)
async def test_rating_sorts_then_newest(client: AsyncTestClient, sort: str, expected: list[int]) -> None:
    ids = await reviews_at("SKU-1", [3, 5, 1, 5, 3])

    assert await ids_of(client, f"sort={sort}") == [ids[day] for day in expected]


async def test_helpful_sort_puts_the_most_helpful_first_then_newest(client: AsyncTestClient) -> None:
    a = await add_review(helpful_count=2, created_at=WRITTEN_AT)
    b = await add_review(helpful_count=9, created_at=WRITTEN_AT + timedelta(days=1))
    c = await add_review(helpful_count=2, created_at=WRITTEN_AT + timedelta(days=2))
    d = await add_review(helpful_count=0, created_at=WRITTEN_AT + timedelta(days=3))

    assert await ids_of(client, "sort=helpful") == [b, c, a, d]


async def test_rating_filter_shows_only_reviews_with_those_stars(client: AsyncTestClient) -> None:
    ids = await reviews_at("SKU-1", [5, 4, 5, 1, 5])

    body = (await client.get("/api/v1/products/SKU-1/reviews?rating=5&per_page=2")).json()
    none = (await client.get("/api/v1/products/SKU-1/reviews?rating=2")).json()

    assert [r["id"] for r in body["items"]] == [ids[4], ids[2]]
    assert (body["total"], body["pages"]) == (3, 2)
    assert none["items"] == [] and none["total"] == 0 and none["pages"] == 0


async def test_a_review_shows_its_fields(client: AsyncTestClient) -> None:
    review = await add_review(
        rating=4, title="Quiet", text="Boils fast.", author_name="Rita K.", locale="de", helpful_count=3
    )

    item = (await client.get("/api/v1/products/SKU-1/reviews")).json()["items"][0]

    assert item == {
        "id": review,
        "rating": 4,
        "title": "Quiet",
        "text": "Boils fast.",
        "author": "Rita K.",
        "verified": True,
        "language": "de",
        "created_at": "2026-03-08T12:00:00Z",
        "helpful_count": 3,
        "photos": [],
        "reply": None,
    }


async def test_photos_are_listed_with_their_urls(client: AsyncTestClient, settings: Settings) -> None:
    await add_review(photos=(("a1.jpg", "image/jpeg"), ("b2.png", "image/png")))
    settings.photo_folder.mkdir(parents=True, exist_ok=True)
    (settings.photo_folder / "a1.jpg").write_bytes(b"jpeg bytes")

    photos = (await client.get("/api/v1/products/SKU-1/reviews")).json()["items"][0]["photos"]
    served = await client.get(photos[0]["url"])

    assert photos == [
        {"url": "http://testserver.local/media/reviews/a1.jpg", "width": 10, "height": 10},
        {"url": "http://testserver.local/media/reviews/b2.png", "width": 10, "height": 10},
    ]
    assert served.status_code == 200 and served.content == b"jpeg bytes"


async def test_the_shops_reply_is_shown_with_its_date(client: AsyncTestClient) -> None:
    replied = await add_review(created_at=WRITTEN_AT)
    await add_review(created_at=WRITTEN_AT - timedelta(days=1))
    await Review.update({Review.reply_text: "Thank you, Anna!", Review.reply_at: WRITTEN_AT + timedelta(days=1)}).where(
        Review.id == replied
    )

    items = (await client.get("/api/v1/products/SKU-1/reviews")).json()["items"]

    assert items[0]["reply"] == {"text": "Thank you, Anna!", "at": "2026-03-09T12:00:00Z"}
    assert items[1]["reply"] is None


async def test_held_and_rejected_reviews_never_show(client: AsyncTestClient) -> None:
    shown = await add_review(rating=5)
    await add_review(rating=1, status="held", held_rule="link")
    await add_review(rating=1, status="rejected")

    for sort in ("newest", "rating", "rating_asc", "helpful"):
        assert await ids_of(client, f"sort={sort}") == [shown]
    assert await ids_of(client, "rating=1") == []
    body = (await client.get("/api/v1/products/SKU-1/reviews")).json()
    assert body["total"] == 1


# Rating -----------------------------------------------------------------------------------------------------


async def test_rating_counts_published_reviews_by_stars(client: AsyncTestClient) -> None:
    await reviews_at("SKU-1", [5, 5, 4, 1], product_name="Kettle")
    await add_review(rating=1, status="held")
    await add_review(rating=2, status="rejected")

    response = await client.get("/api/v1/products/SKU-1/rating")

    assert response.status_code == 200
    assert response.json() == {
        "sku": "SKU-1",
        "name": "Kettle",
        "average_rating": 3.75,
        "review_count": 4,
        "distribution": {"1": 1, "2": 0, "3": 0, "4": 1, "5": 2},
    }


async def test_average_is_rounded_to_two_places(client: AsyncTestClient) -> None:
    await reviews_at("SKU-1", [5, 4, 4])

    assert (await client.get("/api/v1/products/SKU-1/rating")).json()["average_rating"] == 4.33


async def test_a_product_with_only_held_reviews_has_no_rating_yet(client: AsyncTestClient) -> None:
    await add_review(rating=1, status="held", product_name="Kettle")

    rating = await client.get("/api/v1/products/SKU-1/rating")
    reviews = await client.get("/api/v1/products/SKU-1/reviews")

    assert rating.status_code == 200
    assert rating.json() == {
        "sku": "SKU-1",
        "name": "Kettle",
        "average_rating": None,
        "review_count": 0,
        "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0},
    }
    assert reviews.status_code == 200
    assert reviews.json() == {"items": [], "page": 1, "per_page": 20, "total": 0, "pages": 0}


# Errors, caching, access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/products/NOPE/reviews", "/api/v1/products/NOPE/rating"])
async def test_unknown_product_is_404(client: AsyncTestClient, path: str) -> None:
    await add_review(sku="SKU-1")

    response = await client.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert "NOPE" in response.json()["detail"]


@pytest.mark.parametrize(
    "query,parameter",
    [
        ("sort=best", "sort"),
        ("rating=0", "rating"),
        ("rating=6", "rating"),
        ("rating=five", "rating"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("per_page=0", "per_page"),
        ("per_page=101", "per_page"),
    ],
)
async def test_invalid_query_is_400_naming_the_parameter(client: AsyncTestClient, query: str, parameter: str) -> None:
    await add_review()

    response = await client.get(f"/api/v1/products/SKU-1/reviews?{query}")

    assert response.status_code == 400
    assert [problem["key"] for problem in response.json()["extra"]] == [parameter]


@pytest.mark.parametrize("query,parameter", [("page=0", "page"), ("per_page=500", "per_page")])
async def test_invalid_product_list_query_is_400_naming_the_parameter(
    client: AsyncTestClient, query: str, parameter: str
) -> None:
    response = await client.get(f"/api/v1/products?{query}")

    assert response.status_code == 400
    assert [problem["key"] for problem in response.json()["extra"]] == [parameter]


@pytest.mark.parametrize(
    "path", ["/api/v1/products", "/api/v1/products/SKU-1/reviews", "/api/v1/products/SKU-1/rating"]
)
async def test_answers_may_be_cached_for_a_minute_and_need_no_key(client: AsyncTestClient, path: str) -> None:
    await add_review()

    anonymous = await client.get(path)
    wrong_key = await client.get(path, headers={"Authorization": "Bearer not-a-key"})

    assert anonymous.status_code == wrong_key.status_code == 200
    assert anonymous.headers["cache-control"] in ("public, max-age=60", "max-age=60, public")


async def test_the_api_is_documented_under_reviews(client: AsyncTestClient) -> None:
    schema = (await client.get("/schema/openapi.json")).json()

    operations = {
        op["operationId"]: op
        for path, item in schema["paths"].items()
        if path.startswith("/api/v1/products")
        for op in item.values()
    }
    reviews = {name: op for name, op in operations.items() if op["tags"] == ["reviews"]}
    assert set(reviews) == {"ListProducts", "ListProductReviews", "GetProductRating"}
    assert not any(op.get("security") for op in reviews.values())
    # The catalogue shares the path and needs the API key.
    catalogue = {name: op for name, op in operations.items() if name not in reviews}
    assert set(catalogue) == {"GetProduct", "PutProduct"}
    assert all(op["tags"] == ["catalogue"] and op.get("security") for op in catalogue.values())
