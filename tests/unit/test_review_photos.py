"""Photos are judged by what they are, not what they are called, and stored without where they were taken."""

from __future__ import annotations

import dataclasses
import io

import pytest
from PIL import ExifTags, Image

from afterglow.settings import Settings
from reviews.services.photos import (
    MAX_SIDE,
    THUMBNAIL_SIDE,
    PhotoRejected,
    check_photo,
    remove_photo_file,
    store_photo,
    thumbnail_name,
)
from tests.factories import photo_bytes


def exif_of(data: bytes) -> Image.Exif:
    return Image.open(io.BytesIO(data)).getexif()


def test_the_test_photo_really_carries_a_position() -> None:
    assert exif_of(photo_bytes(gps=True)).get_ifd(ExifTags.IFD.GPSInfo)[2] == (52.0, 31.0, 12.0)


@pytest.mark.parametrize(
    ("fmt", "content_type"), [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")]
)
def test_a_real_photo_is_stored_without_exif_or_gps(settings: Settings, fmt: str, content_type: str) -> None:
    checked = check_photo(photo_bytes(fmt, gps=True), settings, "holiday.jpg")
    assert checked.content_type == content_type
    assert (checked.width, checked.height) == (64, 48)
    assert len(exif_of(checked.data)) == 0
    assert b"PhoneCam" not in checked.data and b"GPS" not in checked.data
    stored = settings.photo_folder / store_photo(checked, settings)
    assert stored.read_bytes() == checked.data
    assert Image.open(stored).format == fmt


def test_the_camera_rotation_is_applied_before_exif_is_dropped(settings: Settings) -> None:
    checked = check_photo(photo_bytes(orientation=6), settings)  # "rotate 90° clockwise to view"
    assert (checked.width, checked.height) == (48, 64)
    upright = Image.open(io.BytesIO(checked.data)).convert("RGB")
    top_left = upright.getpixel((2, 2))
    assert top_left[0] < 100 and top_left[2] > 150  # the blue half is now on top


def test_large_photos_are_scaled_down(settings: Settings) -> None:
    checked = check_photo(photo_bytes(size=(4000, 1000)), settings)
    assert (checked.width, checked.height) == (MAX_SIDE, 500)


def test_a_thumbnail_is_made_without_metadata_and_removed_with_the_photo(settings: Settings) -> None:
    checked = check_photo(photo_bytes(size=(1600, 1200), gps=True), settings)
    thumbnail = Image.open(io.BytesIO(checked.thumbnail))
    assert thumbnail.size == (THUMBNAIL_SIDE, 360) and thumbnail.format == "JPEG"
    assert len(thumbnail.getexif()) == 0
    name = store_photo(checked, settings)
    assert (settings.photo_folder / thumbnail_name(name)).read_bytes() == checked.thumbnail
    remove_photo_file(name, settings)
    assert not (settings.photo_folder / name).exists()
    assert not (settings.photo_folder / thumbnail_name(name)).exists()


@pytest.mark.parametrize(
    ("data", "name", "reason"),
    [
        (b"<!doctype html><script>alert(1)</script>", "cat.png", "type"),
        (b"GIF89a" + b"\x00" * 64, "cat.jpg", "type"),
        (photo_bytes()[:200], "cut-off.jpg", "broken"),
        (b"", "empty.jpg", "type"),
    ],
)
def test_what_is_not_a_photo_is_refused_whatever_its_name(
    settings: Settings, data: bytes, name: str, reason: str
) -> None:
    with pytest.raises(PhotoRejected) as refused:
        check_photo(data, settings, name)
    assert (refused.value.reason, refused.value.file_name) == (reason, name)


def test_a_gif_is_refused_even_when_it_is_a_real_image(settings: Settings) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    with pytest.raises(PhotoRejected, match="type"):
        check_photo(out.getvalue(), settings, "anim.gif")


def test_photos_over_the_size_limit_are_refused(settings: Settings) -> None:
    small_limit = dataclasses.replace(settings, review_photo_max_bytes=500)
    with pytest.raises(PhotoRejected, match="size"):
        check_photo(photo_bytes(size=(400, 400)), small_limit, "big.jpg")


def test_a_small_file_claiming_a_huge_canvas_is_refused_before_decoding(settings: Settings) -> None:
    out = io.BytesIO()
    Image.new("1", (8000, 8000)).save(out, "PNG")  # 64 megapixels in a few kilobytes
    with pytest.raises(PhotoRejected, match="pixels"):
        check_photo(out.getvalue(), settings, "bomb.png")
