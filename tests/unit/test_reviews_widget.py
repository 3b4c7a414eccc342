"""The review widget (a page for the shop's iframe), the server-side snippet, and readers' "helpful" votes."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from datetime import timedelta
from html import unescape

import pytest
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings
from app import create_app
from reviews.services.votes import vote_helpful, voter_key
from reviews.tables import HelpfulVote, Review
from tests.unit.review_fixtures import WRITTEN_AT, add_review

HTMX = {"HX-Request": "true"}
EVIL = "<script>alert(1)</script>"
#: What the CSP would block: inline scripts (JSON-LD is data, not script), style blocks and attributes, handlers.
INLINE = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/ld\+json\"))|<style|\sstyle=|\son[a-z]+=", re.I)


def article_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="review" id="review-(\d+)"', html)]


async def reviews_at(sku: str, ratings: list[int], **fields: object) -> list[int]:
    """One review a day from WRITTEN_AT on; their ids, oldest first."""
    return [
        await add_review(sku=sku, rating=rating, created_at=WRITTEN_AT + timedelta(days=i), **fields)  # type: ignore[arg-type]
        for i, rating in enumerate(ratings)
    ]


async def helpful_count(review_id: int) -> int:
    row = await Review.select(Review.helpful_count).where(Review.id == review_id).first()
    assert row is not None
    return int(row["helpful_count"])


# The widget page --------------------------------------------------------------------------------------------


async def test_widget_shows_the_rating_summary_and_the_reviews(client: AsyncTestClient) -> None:
    await reviews_at("SKU-1", [5, 4, 5, 1], product_name="Kettle")
    await add_review(
        rating=4, title="Boils in a minute", text="Quiet and quick.", author_name="Rita K.", helpful_count=7
    )

    response = await client.get("/widget/products/SKU-1")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<span class="value">3.8</span>' in html
    assert "★★★★☆" in html
    assert "5 reviews" in html
    for stars, n in ((5, 2), (4, 2), (3, 0), (2, 0), (1, 1)):
        assert f'<meter min="0" max="5" value="{n}">' in html
        assert f'href="/widget/products/SKU-1?rating={stars}"' in html
    assert "Boils in a minute" in html and "Quiet and quick." in html and "Rita K." in html
    assert "Verified buyer" in html
    assert '<time datetime="2026-03-08">Mar 8, 2026</time>' in html
    assert "Helpful (7)" in html
    assert '<link rel="stylesheet" href="/static/css/widget.css">' in html
    assert '<script src="/static/js/htmx.min.js" defer></script>' in html


async def test_widget_shows_only_published_reviews(client: AsyncTestClient) -> None:
    shown = await add_review(rating=5, title="Lovely")
    await add_review(rating=1, title="Held one", status="held", held_rule="link")
    await add_review(rating=1, title="Rejected one", status="rejected")

    html = (await client.get("/widget/products/SKU-1")).text
    one_star = (await client.get("/widget/products/SKU-1?rating=1")).text

    assert article_ids(html) == [shown]
    assert "Held one" not in html and "Rejected one" not in html
    assert "1 review" in html and '<span class="value">5.0</span>' in html
    assert '<meter min="0" max="1" value="0">' in html  # the one-star bar counts nothing
    assert article_ids(one_star) == []


async def test_unverified_reviews_have_no_badge(client: AsyncTestClient) -> None:
    await add_review(verified=False, author_name="")

    html = (await client.get("/widget/products/SKU-1")).text

    assert "Verified buyer" not in html
    assert "Anonymous" in html


async def test_photos_are_thumbnails_linking_to_the_full_photo(client: AsyncTestClient) -> None:
    await add_review(photos=(("a1.jpg", "image/jpeg"),))

    html = (await client.get("/widget/products/SKU-1")).text

    thumbnail_in_link = (
        r'<a href="/media/reviews/a1.jpg"[^>]*><img src="/media/reviews/a1.jpg\?size=thumb"[^>]*loading="lazy"'
    )
    assert re.search(thumbnail_in_link, html)


async def test_the_shops_reply_is_shown_under_the_review(client: AsyncTestClient, settings: Settings) -> None:
    review = await add_review(text="Lid broke.")
    await Review.update({Review.reply_text: "Sorry! A new lid is on its way.", Review.reply_at: WRITTEN_AT}).where(
        Review.id == review
    )

    html = (await client.get("/widget/products/SKU-1")).text

    reply = html.index("Sorry! A new lid is on its way.")
    assert html.index("Lid broke.") < reply < html.index("Helpful (0)")
    assert f"Reply from {settings.shop_name}" in html


async def test_user_text_is_escaped_everywhere(client: AsyncTestClient) -> None:
    review = await add_review(title=EVIL, text=EVIL, author_name=EVIL)
    await Review.update({Review.reply_text: EVIL}).where(Review.id == review)

    page = await client.get("/widget/products/SKU-1")
    snippet = await client.get("/widget/products/SKU-1/summary")

    for html in (page.text, snippet.text):
        assert "<script>alert" not in html
    assert page.text.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 4  # title, text, author, reply


async def test_widget_needs_no_inline_script_or_style(client: AsyncTestClient) -> None:
    await reviews_at("SKU-1", [5] * 12, title="Nice", text="Very nice.", photos=())
    pages = [
        await client.get("/widget/products/SKU-1"),
        await client.get("/widget/products/SKU-1?page=2&sort=rating&rating=5"),
        await client.get("/widget/products/SKU-1?page=2", headers=HTMX),
        await client.get("/widget/products/SKU-1/summary"),
        await client.get("/widget/products/NOPE"),
    ]

    for page in pages:
        assert not INLINE.search(page.text), (page.url, INLINE.search(page.text))


async def test_reviews_can_be_sorted_and_filtered(client: AsyncTestClient) -> None:
    ids = await reviews_at("SKU-1", [3, 5, 1, 5])

    newest = (await client.get("/widget/products/SKU-1")).text
    lowest = (await client.get("/widget/products/SKU-1?sort=rating_asc")).text
    fives = (await client.get("/widget/products/SKU-1?rating=5")).text

    assert article_ids(newest) == ids[::-1]
    assert article_ids(lowest) == [ids[2], ids[0], ids[3], ids[1]]
    assert '<option value="rating_asc" selected>' in lowest
    assert article_ids(fives) == [ids[3], ids[1]]
    assert "Showing reviews with 5 stars." in fives
    assert '<li class="active">' in fives


async def test_htmx_gets_the_list_alone_and_a_browser_the_whole_page(client: AsyncTestClient) -> None:
    ids = await reviews_at("SKU-1", [4] * 12)

    page = await client.get("/widget/products/SKU-1?page=2")
    partial = await client.get("/widget/products/SKU-1?page=2", headers=HTMX)

    assert page.text.lstrip().startswith("<!doctype html>")
    assert "<html" not in partial.text and "<body" not in partial.text and "summary" not in partial.text
    assert article_ids(page.text) == article_ids(partial.text) == ids[1::-1]
    assert "More reviews" not in partial.text  # the last page


async def test_more_reviews_works_with_htmx_and_without_javascript(client: AsyncTestClient) -> None:
    ids = await reviews_at("SKU-1", [4] * 25)
    newest_first = ids[::-1]

    first = (await client.get("/widget/products/SKU-1?sort=helpful")).text
    link = re.search(r'<p class="more">\s*<a class="button" href="([^"]+)" hx-get="([^"]+)"', first)
    assert link is not None
    href, hx_get = unescape(link.group(1)), unescape(link.group(2))
    second_page = await client.get(href)
    second_partial = await client.get(hx_get, headers=HTMX)

    assert article_ids(first) == newest_first[:10]
    assert href == hx_get == "/widget/products/SKU-1?sort=helpful&page=2"
    assert article_ids(second_page.text) == article_ids(second_partial.text) == newest_first[10:20]
    assert "sort=helpful&amp;page=3" in second_partial.text  # the next "More reviews" keeps the sort
    assert 'href="/widget/products/SKU-1?sort=helpful&amp;page=1"' in second_page.text  # and back, without JS


async def test_a_product_without_reviews_says_so(client: AsyncTestClient) -> None:
    await add_review(status="held")  # sold and reviewed, but nothing published yet

    response = await client.get("/widget/products/SKU-1")

    assert response.status_code == 200
    assert "No reviews yet." in response.text
    assert article_ids(response.text) == []


async def test_unknown_product_is_a_404_page(client: AsyncTestClient) -> None:
    response = await client.get("/widget/products/NOPE")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Product not found" in response.text


async def test_invalid_query_is_a_400_page(client: AsyncTestClient) -> None:
    await add_review()

    for query in ("page=0", "sort=best", "rating=9"):
        response = await client.get(f"/widget/products/SKU-1?{query}")
        assert response.status_code == 400, query
        assert response.headers["content-type"].startswith("text/html")


async def test_language_comes_from_lang_or_the_browser(client: AsyncTestClient) -> None:
    await reviews_at("SKU-1", [4] * 11)

    chosen = (await client.get("/widget/products/SKU-1?lang=de", headers={"Accept-Language": "hu"})).text
    browser = (await client.get("/widget/products/SKU-1", headers={"Accept-Language": "hu-HU,hu;q=0.9"})).text
    unknown = (await client.get("/widget/products/SKU-1?lang=xx")).text

    assert '<html lang="de">' in chosen and "lang=de&amp;page=2" in chosen
    assert '<time datetime="2026-03-18">18.03.2026</time>' in chosen
    assert '<html lang="hu">' in browser
    assert '<html lang="en">' in unknown


async def test_widget_may_be_framed_and_other_pages_may_not(client: AsyncTestClient) -> None:
    await add_review()

    widget = await client.get("/widget/products/SKU-1")
    missing = await client.get("/widget/products/NOPE")
    others = [await client.get("/widget/products/SKU-1/summary"), await client.get("/login")]

    for framable in (widget, missing):
        assert "x-frame-options" not in framable.headers
        assert "frame-ancestors" not in framable.headers["content-security-policy"]
        assert "script-src 'self'" in framable.headers["content-security-policy"]
    for page in others:
        assert page.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_widget_and_snippet_may_be_cached_for_a_minute(client: AsyncTestClient) -> None:
    await add_review()

    for path in ("/widget/products/SKU-1", "/widget/products/SKU-1/summary"):
        response = await client.get(path)
        assert response.headers["cache-control"] in ("public, max-age=60", "max-age=60, public")
        assert "Accept-Language" in response.headers["vary"]
    # The same URL answers htmx with a fragment: a shared cache must not hand that to a browser.
    assert "HX-Request" in (await client.get("/widget/products/SKU-1")).headers["vary"]


# The snippet ------------------------------------------------------------------------------------------------


async def test_snippet_is_a_fragment_with_stars_count_and_link(client: AsyncTestClient, settings: Settings) -> None:
    await reviews_at("SKU-1", [5, 4])
    await add_review(rating=1, status="held")

    response = await client.get("/widget/products/SKU-1/summary")

    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<div class="afterglow-rating">')
    assert "<html" not in html and "<body" not in html and "<head" not in html
    assert '<span class="afterglow-average">4.5</span>' in html and "★★★★★" in html
    assert f'<a class="afterglow-count" href="{settings.base_url}/widget/products/SKU-1">2 reviews</a>' in html
    assert '<script type="application/ld+json">' in html


async def test_snippet_for_a_product_without_reviews(client: AsyncTestClient) -> None:
    await add_review(status="held")

    known = await client.get("/widget/products/SKU-1/summary")
    unknown = await client.get("/widget/products/NOPE/summary")

    assert known.status_code == 200 and "No reviews yet." in known.text and "<script" not in known.text
    assert unknown.status_code == 404


# Helpful votes ----------------------------------------------------------------------------------------------


async def test_a_browser_counts_once_and_another_browser_again(settings: Settings) -> None:
    review = await add_review()
    app = create_app(settings)
    url = f"/widget/reviews/{review}/helpful"

    async with AsyncTestClient(app=app) as first, AsyncTestClient(app=app) as second:
        thanks = await first.post(url, headers=HTMX)
        again = await first.post(url, headers=HTMX)
        after_one = await helpful_count(review)
        other = await second.post(url, headers=HTMX)

    assert thanks.status_code == again.status_code == other.status_code == 200
    assert "Helpful (1)" in thanks.text and "Thanks for your feedback!" in thanks.text
    assert "Helpful (1)" in again.text and "You already found this helpful." in again.text
    assert after_one == 1
    assert "Helpful (2)" in other.text
    assert await helpful_count(review) == 2
    assert await HelpfulVote.count().where(HelpfulVote.review == review) == 2


async def test_voter_cookie_is_random_http_only_and_kept_for_a_year(client: AsyncTestClient) -> None:
    review = await add_review()

    first = await client.post(f"/widget/reviews/{review}/helpful", headers=HTMX)
    second = await client.post(f"/widget/reviews/{review}/helpful", headers=HTMX)

    cookie = first.headers["set-cookie"]
    assert re.match(r"afterglow_voter=[A-Za-z0-9_-]{22};", cookie)
    assert "HttpOnly" in cookie and "Max-Age=31536000" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert "set-cookie" not in second.headers  # kept, not replaced
    voter = first.cookies["afterglow_voter"]
    key = (await HelpfulVote.select(HelpfulVote.key).first() or {})["key"]
    assert key.startswith(f"{review}:") and voter not in key and len(key.split(":")[1]) == 32


async def test_in_production_the_voter_cookie_reaches_the_shops_iframe(settings: Settings) -> None:
    review = await add_review()
    production = dataclasses.replace(settings, env="production")

    async with AsyncTestClient(app=create_app(production), base_url="https://reviews.example") as client:
        response = await client.post(f"/widget/reviews/{review}/helpful", headers=HTMX)

    cookie = response.headers["set-cookie"]
    assert "SameSite=none" in cookie and "Secure" in cookie and "HttpOnly" in cookie


async def test_a_vote_without_javascript_goes_back_to_the_widget(client: AsyncTestClient) -> None:
    review = await add_review(sku="KETTLE-1")
    url = f"/widget/reviews/{review}/helpful?lang=de"

    first = await client.post(url, follow_redirects=False)
    again = await client.post(url, follow_redirects=False)
    shown = await client.get(first.headers["location"])

    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == f"/widget/products/KETTLE-1?voted={review}&lang=de#review-{review}"
    assert again.headers["location"] == f"/widget/products/KETTLE-1?voted={review}&again=1&lang=de#review-{review}"
    assert shown.status_code == 200 and "Hilfreich (1)" in shown.text and "Danke für Ihr Feedback!" in shown.text
    assert await helpful_count(review) == 1


@pytest.mark.parametrize("status", ["held", "rejected"])
async def test_votes_for_unpublished_reviews_are_404(client: AsyncTestClient, status: str) -> None:
    review = await add_review(status=status)

    response = await client.post(f"/widget/reviews/{review}/helpful", headers=HTMX)
    missing = await client.post(f"/widget/reviews/{review + 100}/helpful", headers=HTMX)

    assert response.status_code == missing.status_code == 404
    assert await helpful_count(review) == 0
    assert await HelpfulVote.count() == 0


async def test_votes_are_rate_limited_per_address(settings: Settings) -> None:
    reviews = [await add_review() for _ in range(3)]
    app = create_app(dataclasses.replace(settings, rate_votes_per_address=2))

    async with AsyncTestClient(app=app) as client:
        answers = [await client.post(f"/widget/reviews/{r}/helpful", headers=HTMX) for r in reviews]
        reading = await client.get("/widget/products/SKU-1")

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 0 < int(answers[2].headers["retry-after"]) <= 60
    assert await helpful_count(reviews[2]) == 0
    assert reading.status_code == 200  # reading has its own, larger limit


async def test_votes_at_the_same_moment_are_all_counted_once_each() -> None:
    review = await add_review()
    keys = [voter_key(review, f"browser-{n % 4}", "secret") for n in range(8)]  # four browsers, each twice

    votes = await asyncio.gather(*(vote_helpful(review, key) for key in keys))

    assert sum(vote.counted for vote in votes) == 4
    assert await helpful_count(review) == 4
