"""schema.org Product markup in the widget page and the snippet: what Google's Product rich results require, and
nothing a reviewer writes can end the script element."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from reviews.jsonld import product_markup, script_json
from reviews.services.catalogue import ProductRating
from tests.unit.review_fixtures import WRITTEN_AT, add_review

PAGES = ["/widget/products/SKU-1", "/widget/products/SKU-1/summary"]
LD_SCRIPT = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def jsonld_blocks(html: str) -> list[dict[str, Any]]:
    """Every JSON-LD block, cut where a browser would end the element: at the first `</script>`."""
    return [json.loads(block) for block in LD_SCRIPT.findall(html)]


def assert_rating(node: dict[str, Any]) -> None:
    assert node["@type"] == "Rating"
    assert isinstance(node["ratingValue"], int) and 1 <= node["ratingValue"] <= 5
    assert (node["bestRating"], node["worstRating"]) == (5, 1)


def assert_product(markup: dict[str, Any], sku: str, name: str) -> None:
    assert markup["@context"] == "https://schema.org"
    assert markup["@type"] == "Product"
    assert (markup["sku"], markup["name"]) == (sku, name)
    aggregate = markup["aggregateRating"]
    assert aggregate["@type"] == "AggregateRating"
    assert isinstance(aggregate["ratingValue"], int | float) and not isinstance(aggregate["ratingValue"], bool)
    assert isinstance(aggregate["reviewCount"], int) and aggregate["reviewCount"] > 0
    assert (aggregate["bestRating"], aggregate["worstRating"]) == (5, 1)
    for review in markup.get("review", []):
        assert review["@type"] == "Review"
        assert review["author"]["@type"] == "Person" and review["author"]["name"].strip()
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", review["datePublished"])
        assert_rating(review["reviewRating"])


async def test_widget_page_marks_up_the_product_and_the_reviews_shown(client: AsyncTestClient) -> None:
    for day, rating in enumerate([5, 4, 4]):
        await add_review(
            rating=rating,
            product_name="Kettle",
            title=f"Title {day}",
            text=f"Text {day}",
            author_name=f"Reader {day}",
            created_at=WRITTEN_AT + timedelta(days=day),
        )
    await add_review(rating=1, product_name="Kettle", title="Held", status="held")

    [markup] = jsonld_blocks((await client.get("/widget/products/SKU-1")).text)

    assert_product(markup, "SKU-1", "Kettle")
    assert markup["aggregateRating"]["ratingValue"] == 4.33
    assert markup["aggregateRating"]["reviewCount"] == 3
    assert [r["name"] for r in markup["review"]] == ["Title 2", "Title 1", "Title 0"]
    assert markup["review"][0] == {
        "@type": "Review",
        "author": {"@type": "Person", "name": "Reader 2"},
        "datePublished": "2026-03-10",
        "reviewRating": {"@type": "Rating", "ratingValue": 4, "bestRating": 5, "worstRating": 1},
        "name": "Title 2",
        "reviewBody": "Text 2",
    }


async def test_markup_lists_only_the_reviews_on_the_page(client: AsyncTestClient) -> None:
    for day in range(12):
        await add_review(title=f"Title {day}", created_at=WRITTEN_AT + timedelta(days=day))

    [first] = jsonld_blocks((await client.get("/widget/products/SKU-1")).text)
    [second] = jsonld_blocks((await client.get("/widget/products/SKU-1?page=2")).text)

    assert len(first["review"]) == 10 and len(second["review"]) == 2
    assert first["aggregateRating"]["reviewCount"] == second["aggregateRating"]["reviewCount"] == 12


async def test_snippet_marks_up_the_aggregate_rating(client: AsyncTestClient) -> None:
    await add_review(rating=5, product_name="Kettle")
    await add_review(rating=2, product_name="Kettle")

    [markup] = jsonld_blocks((await client.get("/widget/products/SKU-1/summary")).text)

    assert_product(markup, "SKU-1", "Kettle")
    assert markup["aggregateRating"]["ratingValue"] == 3.5
    assert markup["aggregateRating"]["reviewCount"] == 2
    assert "review" not in markup  # the snippet shows no reviews


async def test_review_without_title_text_or_author(client: AsyncTestClient) -> None:
    await add_review(title="", text="", author_name="")

    [markup] = jsonld_blocks((await client.get("/widget/products/SKU-1")).text)

    [review] = markup["review"]
    assert review["author"] == {"@type": "Person", "name": "Anonymous"}
    assert "name" not in review and "reviewBody" not in review


@pytest.mark.parametrize("path", PAGES)
async def test_no_markup_without_published_reviews(client: AsyncTestClient, path: str) -> None:
    await add_review(status="held")
    await add_review(status="rejected")

    response = await client.get(path)

    assert response.status_code == 200
    assert "application/ld+json" not in response.text


@pytest.mark.parametrize("path", PAGES)
async def test_a_title_cannot_end_the_script_element(client: AsyncTestClient, path: str) -> None:
    title = "</script><script>alert(1)</script>"
    await add_review(title=title, text="Fish & chips <b>", author_name="</SCRIPT>")

    html = (await client.get(path)).text

    assert "<script>alert(1)" not in html and "</SCRIPT>" not in html
    [markup] = jsonld_blocks(html)
    if path.endswith("/summary"):
        assert "review" not in markup
    else:
        assert markup["review"][0]["name"] == title
        assert markup["review"][0]["reviewBody"] == "Fish & chips <b>"
        assert markup["review"][0]["author"]["name"] == "</SCRIPT>"


def test_script_json_escapes_what_html_would_read() -> None:
    text = script_json({"name": "</script><!-- & -->"})

    assert text == '{"name":"\\u003c/script\\u003e\\u003c!-- \\u0026 --\\u003e"}'
    assert json.loads(text) == {"name": "</script><!-- & -->"}


def test_no_markup_for_a_product_without_reviews() -> None:
    rating = ProductRating(sku="SKU-1", name="Kettle", distribution=dict.fromkeys(range(1, 6), 0))

    assert product_markup(rating) is None
