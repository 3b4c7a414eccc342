"""A web process sends one announcement at a time: the saves made while one is on its way to the broker ride
together on the next (under load, with those of a short pause after it), and each request returns once its own save
was announced."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from afterglow import celery_app


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    """`announce_feedback` recording each message; the first waits until `release` is set."""
    state: dict[str, object] = {"messages": [], "release": threading.Event(), "fail": False}

    def announce(source: str, source_id: int, more: Sequence[tuple[str, int]] = ()) -> None:
        messages = state["messages"]
        assert isinstance(messages, list)
        if not messages:
            assert state["release"].wait(timeout=30)  # type: ignore[attr-defined]
        messages.append([(source, source_id), *more])
        if state["fail"]:
            raise RuntimeError("the broker library failed")

    monkeypatch.setattr(celery_app, "announce_feedback", announce)
    return state


async def test_saves_announced_meanwhile_ride_on_one_message(broker: dict[str, object]) -> None:
    first = asyncio.create_task(celery_app.announce_saved("survey", 1))
    await asyncio.sleep(0.05)  # the first message is on its way, held by the broker
    later = [asyncio.create_task(celery_app.announce_saved("review", n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    assert not first.done() and not any(task.done() for task in later)

    broker["release"].set()  # type: ignore[attr-defined]
    await asyncio.gather(first, *later)

    assert broker["messages"] == [[("survey", 1)], [("review", 2), ("review", 3), ("review", 4)]]


async def test_a_failed_message_fails_the_requests_it_carried(broker: dict[str, object]) -> None:
    broker["release"].set()  # type: ignore[attr-defined]
    broker["fail"] = True
    with pytest.raises(RuntimeError, match="broker library"):
        await celery_app.announce_saved("survey", 1)
    broker["fail"] = False
    await celery_app.announce_saved("survey", 2)  # the next message goes out as usual
    assert broker["messages"] == [[("survey", 1)], [("survey", 2)]]


async def test_under_load_the_next_message_gathers_the_saves_of_a_short_pause(
    broker: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    gathering, gathered = asyncio.Event(), asyncio.Event()

    async def pause() -> None:
        gathering.set()
        await gathered.wait()

    monkeypatch.setattr(celery_app, "_gather", pause)
    first = asyncio.create_task(celery_app.announce_saved("survey", 1))
    await asyncio.sleep(0.05)  # the first message is on its way, held by the broker
    second = asyncio.create_task(celery_app.announce_saved("survey", 2))
    broker["release"].set()  # type: ignore[attr-defined]
    await first
    await asyncio.wait_for(gathering.wait(), 30)  # a save was waiting: the next message pauses for more
    third = asyncio.create_task(celery_app.announce_saved("review", 3))
    await asyncio.sleep(0)
    assert not second.done() and not third.done()

    gathered.set()
    await asyncio.gather(second, third)
    assert broker["messages"] == [[("survey", 1)], [("survey", 2), ("review", 3)]]


async def test_an_idle_process_announces_at_once(broker: dict[str, object], monkeypatch: pytest.MonkeyPatch) -> None:
    async def never() -> None:
        raise AssertionError("no save was waiting: nothing to gather")

    monkeypatch.setattr(celery_app, "_gather", never)
    broker["release"].set()  # type: ignore[attr-defined]
    await celery_app.announce_saved("survey", 1)
    await celery_app.announce_saved("survey", 2)
    assert broker["messages"] == [[("survey", 1)], [("survey", 2)]]
