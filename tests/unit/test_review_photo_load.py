"""Customers saving review photos do not hold up the web process: photos are decoded off the event loop, so other
requests are answered meanwhile. (How long `/healthz` takes under such load is measured by
`python -m bench.review_photos`, not asserted here.)"""

from __future__ import annotations

import asyncio
import io
import threading

import pytest
from PIL import Image

from afterglow.settings import Settings
from reviews.services import photos


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


async def test_the_event_loop_runs_while_a_photo_is_decoded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The decoder waits until the event loop has run a task after decoding began: were it decoding on the loop,
    the loop could not run that task and the decoder would give up waiting."""
    decoding, loop_ran = threading.Event(), threading.Event()
    real = photos._cleaned

    def cleaned(image: Image.Image, name: str) -> photos.CheckedPhoto:
        decoding.set()
        assert loop_ran.wait(timeout=30), "the event loop was held while a photo was decoded"
        return real(image, name)

    async def answer_meanwhile() -> None:
        while not decoding.is_set():
            await asyncio.sleep(0.005)
        loop_ran.set()

    monkeypatch.setattr(photos, "_cleaned", cleaned)
    meanwhile = asyncio.create_task(answer_meanwhile())
    checked = await photos.clean_photos([("shelf.jpg", _jpeg())], settings)
    await meanwhile
    assert [photo.width for photo in checked] == [64]
