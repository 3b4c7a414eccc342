"""Customers reviewing each delivered item on the survey page or by the item's link in the email."""

from __future__ import annotations

import asyncio
import html
import io
import re
from typing import Any

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient
from PIL import Image, ImageFile

from afterglow.settings import Settings
from reviews.tables import Review, ReviewPhoto
from shop.tables import OrderItem
from tests.factories import photo_bytes
from tests.unit.survey_fixtures import OPEN_AT, Invited, invite

HTMX = {"HX-Request": "true"}
ITEM_LINK = re.compile(r"https?://[^\s/]+(/s/[A-Za-z0-9_.\-]+/items/\d+)")


@pytest.fixture(autouse=True)
def clock(time_machine: time_machine.TimeMachineFixture) -> None:
    time_machine.move_to(OPEN_AT, tick=True)


@pytest.fixture
async def invited(client: AsyncTestClient, api_headers: dict[str, str], settings: Settings) -> Invited:
    return await invite(client, api_headers, settings, categories=("kitchen", "garden"))


async def item_ids(invited: Invited) -> list[int]:
    rows = await OrderItem.select(OrderItem.id).where(OrderItem.order.external_id == "1001").order_by(OrderItem.id)
    return [row["id"] for row in rows]


def item_path(invited: Invited, item_id: int) -> str:
    return f"{invited.survey_path}/items/{item_id}"


async def post_review(
    client: AsyncTestClient,
    path: str,
    *,
    htmx: bool = True,
    photos: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    **form: Any,
) -> httpx.Response:
    files = [("photos", photo) for photo in photos] or [("photos", ("", b"", "application/octet-stream"))]
    return await client.post(
        path, data={"rating": "5", **form}, files=files, headers=HTMX if htmx else {}, follow_redirects=False
    )


async def only_review() -> dict[str, Any]:
    rows = await Review.select()
    assert len(rows) == 1, rows
    return rows[0]


def stored_files(settings: Settings) -> set[str]:
    folder = settings.photo_folder
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def card_text(page: str, item_id: int) -> str:
    match = re.search(rf'<textarea id="text-{item_id}"[^>]*>(.*?)</textarea>', page, re.S)
    assert match, page
    return html.unescape(match.group(1))


# Collecting -------------------------------------------------------------------------------------------------------


async def test_the_survey_page_offers_a_review_form_for_each_delivered_item(
    client: AsyncTestClient, invited: Invited
) -> None:
    page = (await client.get(invited.survey_path)).text
    for item_id in await item_ids(invited):
        assert f'id="item-{item_id}"' in page
        assert f'action="{item_path(invited, item_id)}"' in page
    assert page.count('type="file"') == 2 and page.count('name="rating"') == 10


async def test_every_customer_is_asked_whatever_score_they_gave(client: AsyncTestClient, invited: Invited) -> None:
    """No review gating: a detractor gets the same review forms as a promoter."""
    await client.post(invited.survey_path, data={"nps": "0", "csat": "1"})
    page = (await client.get(invited.survey_path)).text
    assert len(re.findall(r'class="card review-item"', page)) == 2
    thanks = (await client.get(f"{invited.survey_path}/thanks")).text
    assert thanks.count("/items/") == 2


async def test_the_email_links_each_item_to_its_review_page(client: AsyncTestClient, invited: Invited) -> None:
    links = ITEM_LINK.findall(invited.email["text"])
    assert links == [item_path(invited, item_id) for item_id in await item_ids(invited)]
    assert all(f'{link}" style=' in invited.email["html"] for link in links)
    page = await client.get(links[1])
    assert page.status_code == 200
    assert "Item 2" in page.text and 'id="item-' in page.text


async def test_a_review_is_saved_as_a_verified_buyers_and_published(client: AsyncTestClient, invited: Invited) -> None:
    first, _ = await item_ids(invited)
    response = await post_review(client, item_path(invited, first), rating="4", title=" Solid ", text="Boils fast.")
    assert response.status_code == 200
    assert "Your review is published" in response.text and response.text.lstrip().startswith("<section")
    review = await only_review()
    assert (review["rating"], review["title"], review["text"]) == (4, "Solid", "Boils fast.")
    assert review["verified"] is True and review["invitation"] == invited.invitation_id
    assert (review["sku"], review["product_name"], review["category"]) == ("SKU-1", "Item 1", "kitchen")
    assert review["author_name"] == "Anna S." and review["status"] == "published"


async def test_a_one_star_review_publishes_like_a_five_star_one(client: AsyncTestClient, invited: Invited) -> None:
    first, second = await item_ids(invited)
    await post_review(client, item_path(invited, first), rating="1", text="Broke after a day. Avoid.")
    await post_review(client, item_path(invited, second), rating="5", text="Lovely.")
    rows = await Review.select(Review.rating, Review.status).order_by(Review.rating)
    assert rows == [{"rating": 1, "status": "published"}, {"rating": 5, "status": "published"}]


async def test_editing_updates_the_one_review_of_that_item(client: AsyncTestClient, invited: Invited) -> None:
    first, _ = await item_ids(invited)
    await post_review(client, item_path(invited, first), rating="2", text="Meh.")
    again = await post_review(client, item_path(invited, first), rating="3", text="Better after descaling.")
    assert "Update review" in again.text
    review = await only_review()
    assert (review["rating"], review["text"]) == (3, "Better after descaling.")


async def test_a_double_submit_leaves_one_review(client: AsyncTestClient, invited: Invited) -> None:
    first, _ = await item_ids(invited)
    answers = await asyncio.gather(*(post_review(client, item_path(invited, first), text="Twice") for _ in range(2)))
    assert [a.status_code for a in answers] == [200, 200]
    assert (await only_review())["text"] == "Twice"


async def test_without_javascript_the_form_post_lands_on_the_items_page(
    client: AsyncTestClient, invited: Invited
) -> None:
    first, _ = await item_ids(invited)
    response = await post_review(client, item_path(invited, first), htmx=False, text="Plain form.")
    assert response.status_code == 303
    assert response.headers["location"] == f"{item_path(invited, first)}?saved=1"
    page = await client.get(response.headers["location"])
    assert "Thank you! Your review is published." in page.text


async def test_a_review_that_breaks_a_content_rule_waits_for_a_moderator(
    client: AsyncTestClient, invited: Invited
) -> None:
    first, _ = await item_ids(invited)
    response = await post_review(client, item_path(invited, first), text="Mail me: anna@example.com")
    assert "will appear once we have checked it" in response.text
    review = await only_review()
    assert (review["status"], review["held_rule"]) == ("held", "email")


async def test_editing_a_rejected_review_sends_it_through_the_rules_again(
    client: AsyncTestClient, invited: Invited
) -> None:
    first, _ = await item_ids(invited)
    await post_review(client, item_path(invited, first), text="Mail me: anna@example.com")
    await Review.update({Review.status: "rejected", Review.reject_reason: "No contact details, please."}).where(
        Review.id > 0
    )
    page = (await client.get(item_path(invited, first))).text
    assert "Your review was not published: No contact details, please." in page
    await post_review(client, item_path(invited, first), text="Works well.")
    review = await only_review()
    assert (review["status"], review["held_rule"], review["reject_reason"]) == ("published", "", "")


# Refusing, keeping what was typed ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"rating": ""}, "rating", "Please choose a star rating."),
        ({"rating": "6"}, "rating", "Please choose a star rating."),
        ({"title": "T" * 151}, "title", "Please keep the title under 150 characters."),
        ({"text": "word " * 1001}, "text", "Please keep your review under 5000 characters."),
    ],
)
async def test_invalid_input_is_refused_with_a_message_and_the_text_kept(
    client: AsyncTestClient, invited: Invited, form: dict[str, str], field: str, message: str
) -> None:
    first, _ = await item_ids(invited)
    typed = {"text": "Kept <b>exactly</b> as typed", **form}
    response = await post_review(client, item_path(invited, first), **typed)
    assert response.status_code == 422
    assert message in response.text
    assert card_text(response.text, first) == typed["text"]
    assert "<b>exactly</b>" not in response.text
    assert await Review.count() == 0
    whole_page = await post_review(client, item_path(invited, first), htmx=False, **typed)
    assert whole_page.status_code == 400 and "<html" in whole_page.text and message in whole_page.text


async def test_an_item_of_another_order_is_not_found(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings, invited: Invited
) -> None:
    other = await invite(client, api_headers, settings, external_id="2002", email="bob@example.com")
    first, _ = await item_ids(invited)
    assert (await client.get(item_path(other, first))).status_code == 404
    assert (await post_review(client, item_path(other, first))).status_code == 404
    assert await Review.count() == 0


async def test_a_tampered_link_saves_nothing(client: AsyncTestClient, invited: Invited) -> None:
    first, _ = await item_ids(invited)
    tampered = invited.survey_path[:-3] + ("aaa" if not invited.survey_path.endswith("aaa") else "bbb")
    assert (await post_review(client, item_path(Invited(0, "", tampered, "", {}), first))).status_code == 400
    assert await Review.count() == 0


async def test_a_support_survey_asks_for_no_reviews(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    support = await invite(client, api_headers, settings, support_agent="Maria")
    page = (await client.get(support.survey_path)).text
    assert "review-item" not in page
    item_id = (await OrderItem.select(OrderItem.id).first())["id"]  # type: ignore[index]
    assert (await client.get(f"{support.survey_path}/items/{item_id}")).status_code == 404


# Photos ------------------------------------------------------------------------------------------------------------


async def test_a_photo_with_gps_is_stored_without_it_and_served_with_its_type(
    client: AsyncTestClient, invited: Invited, settings: Settings
) -> None:
    first, _ = await item_ids(invited)
    response = await post_review(
        client, item_path(invited, first), photos=[("IMG_0001.JPG", photo_bytes(gps=True), "image/jpeg")]
    )
    assert response.status_code == 200
    photo = (await ReviewPhoto.select())[0]
    assert photo["content_type"] == "image/jpeg" and photo["file_name"].endswith(".jpg")
    stored = (settings.photo_folder / photo["file_name"]).read_bytes()
    assert len(Image.open(io.BytesIO(stored)).getexif()) == 0
    public = await client.get(f"/media/reviews/{photo['file_name']}")
    assert public.status_code == 200 and public.content == stored
    assert public.headers["content-type"] == "image/jpeg"
    assert public.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert public.headers["x-content-type-options"] == "nosniff"
    small = await client.get(f"/media/reviews/{photo['file_name']}?size=thumb")
    assert small.status_code == 200 and small.headers["content-type"] == "image/jpeg"
    assert Image.open(io.BytesIO(small.content)).size == (64, 48)  # already small: the thumbnail keeps its size
    assert (await client.get(f"/media/reviews/{photo['file_name']}?size=huge")).status_code == 400
    assert photo["file_name"] in response.text  # the author sees a thumbnail to keep or remove


async def test_an_html_file_named_png_is_refused_and_nothing_is_stored(
    client: AsyncTestClient, invited: Invited, settings: Settings
) -> None:
    first, _ = await item_ids(invited)
    files_before = stored_files(settings)
    evil = b"<!doctype html><script>alert(document.cookie)</script>"
    response = await post_review(
        client, item_path(invited, first), text="See photo", photos=[("cat.png", evil, "image/png")]
    )
    assert response.status_code == 422
    assert "cat.png is not a JPEG, PNG or WebP photo." in response.text
    assert card_text(response.text, first) == "See photo"
    assert await Review.count() == 0 and await ReviewPhoto.count() == 0
    assert stored_files(settings) == files_before


async def test_at_most_three_photos_per_review(client: AsyncTestClient, invited: Invited) -> None:
    first, _ = await item_ids(invited)
    two = [(f"p{i}.png", photo_bytes("PNG"), "image/png") for i in range(2)]
    assert (await post_review(client, item_path(invited, first), photos=two)).status_code == 200
    refused = await post_review(client, item_path(invited, first), photos=two)
    assert refused.status_code == 422 and "Please attach at most 3 photos." in refused.text
    assert await ReviewPhoto.count() == 2
    kept = [row["file_name"] for row in await ReviewPhoto.select(ReviewPhoto.file_name).order_by(ReviewPhoto.id)]
    swapped = await client.post(
        item_path(invited, first),
        data={"rating": "5", "remove_photo": kept[0]},
        files=[("photos", p) for p in two],
        headers=HTMX,
    )
    assert swapped.status_code == 200
    now_kept = [row["file_name"] for row in await ReviewPhoto.select(ReviewPhoto.file_name).order_by(ReviewPhoto.id)]
    assert len(now_kept) == 3 and kept[0] not in now_kept and kept[1] in now_kept


@pytest.fixture
def decoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The format of each image Pillow decodes from here on (in whichever thread)."""
    formats: list[str] = []
    load = ImageFile.ImageFile.load

    def counted(image: ImageFile.ImageFile) -> Any:
        if image.tile:  # still encoded: this call decodes it
            formats.append(str(image.format))
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", counted)
    return formats


async def test_a_save_refused_for_too_many_photos_decodes_none(
    client: AsyncTestClient, invited: Invited, decoded: list[str]
) -> None:
    first, _ = await item_ids(invited)
    two = [(f"p{i}.jpg", photo_bytes(size=(1600, 1200)), "image/jpeg") for i in range(2)]
    assert (await post_review(client, item_path(invited, first), photos=two)).status_code == 200
    assert decoded == ["JPEG", "JPEG"]
    decoded.clear()
    refused = await post_review(client, item_path(invited, first), photos=two)  # 2 kept + 2 new
    assert refused.status_code == 422 and "Please attach at most 3 photos." in refused.text
    assert decoded == [] and await ReviewPhoto.count() == 2


async def test_a_decompression_bomb_is_refused_by_its_header_and_nothing_is_decoded(
    client: AsyncTestClient, invited: Invited, decoded: list[str]
) -> None:
    first, _ = await item_ids(invited)
    bomb = io.BytesIO()
    Image.new("1", (8000, 8000)).save(bomb, "PNG")  # 64 megapixels in a few kilobytes
    photos = [("fine.jpg", photo_bytes(), "image/jpeg"), ("bomb.png", bomb.getvalue(), "image/png")]
    refused = await post_review(client, item_path(invited, first), htmx=False, photos=photos)
    assert refused.status_code == 400
    assert "bomb.png has too many pixels: photos can have up to 50 megapixels." in refused.text
    assert decoded == [] and await Review.count() == 0


async def test_a_held_reviews_photo_is_not_public_but_its_author_sees_it(
    client: AsyncTestClient, invited: Invited
) -> None:
    first, _ = await item_ids(invited)
    await post_review(
        client,
        item_path(invited, first),
        text="call +49 30 1234 5678",
        photos=[("p.webp", photo_bytes("WEBP"), "image/webp")],
    )
    name = (await ReviewPhoto.select(ReviewPhoto.file_name))[0]["file_name"]
    assert (await client.get(f"/media/reviews/{name}")).status_code == 404
    own = await client.get(f"{item_path(invited, first)}/photos/{name}")
    assert own.status_code == 200 and own.headers["content-type"] == "image/webp"
    assert own.headers["cache-control"].startswith("private")


async def test_customer_text_is_escaped_in_the_card(client: AsyncTestClient, invited: Invited) -> None:
    first, _ = await item_ids(invited)
    response = await post_review(
        client, item_path(invited, first), title='"><script>alert(1)</script>', text="<img src=x onerror=alert(1)>"
    )
    assert "<script>alert(1)" not in response.text and "<img src=x" not in response.text
    assert "&lt;script&gt;" in response.text
