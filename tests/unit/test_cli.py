"""The operator commands, run as a shop's operator would run them."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec
from click.testing import CliRunner

from bench.harness import ROOT, Server, afterglow_env, free_port
from operations.cli import main
from shop.schemas import EventIn, OrderIn
from shop.services.orders import ingest_order, record_event
from shop.tables import Order, OrderEvent
from surveys.tables import SentEmail
from tests.factories import order_payload

SAMPLE = Path(__file__).parent.parent / "data" / "orders_sample.csv"


def test_import_orders_reports_bad_lines_and_keeps_the_good_orders() -> None:
    result = CliRunner().invoke(main, ["import-orders", str(SAMPLE)])
    assert result.exit_code == 1  # some rows were bad
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["errors"] == 2
    assert "line 7" in result.stderr and "line 10" in result.stderr
    assert summary["orders_created"] == 8


def test_import_lands_in_the_database() -> None:
    CliRunner().invoke(main, ["import-orders", str(SAMPLE)])
    assert Order.count().run_sync() == 8
    assert OrderEvent.count().where(OrderEvent.type == "delivered").run_sync() >= 1


def test_dispatch_runs_one_pass_as_of_a_moment_and_prints_its_report() -> None:
    result = CliRunner().invoke(main, ["dispatch", "--now", "2026-03-05T14:00:00+00:00"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert {"planned", "queued", "reminders_queued", "skipped", "sent_here"} <= report.keys()


def test_dispatch_command_sends_what_is_due() -> None:
    async def deliver() -> None:
        await ingest_order(msgspec.convert(order_payload(), OrderIn))
        await record_event("1001", EventIn(type="delivered", at=datetime(2026, 3, 2, 14, 0, tzinfo=UTC)))

    asyncio.run(deliver())
    result = CliRunner().invoke(main, ["dispatch", "--now", "2026-03-05T14:00:00+00:00"])
    report = json.loads(result.stdout)
    assert (report["planned"], report["queued"], report["sent_here"]) == (1, 1, 1)
    assert SentEmail.count().run_sync() == 1


def test_reanalyse_retags_everything_and_prints_its_summary() -> None:
    from feedback.services.intake import ingest
    from feedback.tables import FeedbackItem, Suggestion

    async def saved_and_ingested() -> None:
        rows = await Suggestion.insert(Suggestion(text="The parcel arrived damaged.")).returning(Suggestion.id)
        await ingest("suggestion", rows[0]["id"], datetime(2026, 3, 5, 14, 0, tzinfo=UTC))
        await FeedbackItem.update({FeedbackItem.auto_label: "", FeedbackItem.label: ""}, force=True)

    asyncio.run(saved_and_ingested())
    result = CliRunner().invoke(main, ["reanalyse", "--now", "2026-03-06T09:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "reanalysed": 1,
        "labels_changed": 1,
        "sources_gone": 0,
    }
    item = FeedbackItem.select(FeedbackItem.label, FeedbackItem.analysed_at).first().run_sync()
    assert item["label"] == "negative"
    assert item["analysed_at"] == datetime(2026, 3, 6, 9, 0, tzinfo=UTC)
    again = CliRunner().invoke(main, ["reanalyse", "--now", "2026-03-06T09:00:00+00:00"])
    assert json.loads(again.stdout.strip().splitlines()[-1])["labels_changed"] == 0


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_run_stops_its_worker_and_beat_when_it_is_terminated(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "run.log"
    env = afterglow_env(tmp_path, f"http://127.0.0.1:{port}")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "operations.cli", "run", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    children: list[int] = []
    try:
        Server(proc=proc, port=port, log_path=log).wait_healthy(timeout=120)
        children = _children(proc.pid)
        assert len(children) == 2, "a Celery worker and beat"

        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)

        assert [pid for pid in children if _running(pid)] == []
    finally:
        for pid in [proc.pid, *children]:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_run_on_another_port_announces_that_address_for_links(monkeypatch, tmp_path: Path) -> None:
    """`afterglow run --port 8101` with no AFTERGLOW_BASE_URL: the server, its worker and beat (they inherit the
    environment) and commands run beside it (`afterglow dispatch`, through the data folder) link to port 8101."""
    import operations.cli as cli
    from afterglow.settings import get_settings

    monkeypatch.delenv("AFTERGLOW_BASE_URL", raising=False)
    monkeypatch.setenv("AFTERGLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(signal, "signal", lambda *_args: None)
    monkeypatch.setattr(cli, "migrate", lambda: None)
    monkeypatch.setattr("operations.demo.seed_if_empty", _not_seeded)
    get_settings.cache_clear()
    seen: dict[str, str] = {}

    def serve(host: str, port: int, workers: int) -> None:
        seen["env"] = os.environ["AFTERGLOW_BASE_URL"]
        seen["settings"] = get_settings().base_url
        seen["file"] = (tmp_path / "dev-base-url").read_text()
        seen["dispatch"] = _base_url_seen_by_dispatch(monkeypatch)

    monkeypatch.setattr(cli, "_serve", serve)
    try:
        result = CliRunner().invoke(main, ["run", "--host", "0.0.0.0", "--port", "8101", "--no-worker"])
        assert result.exit_code == 0, result.output
        assert seen == dict.fromkeys(("env", "settings", "file", "dispatch"), "http://127.0.0.1:8101")
        assert not (tmp_path / "dev-base-url").exists()  # gone with the server
    finally:
        get_settings.cache_clear()


def test_run_keeps_an_explicit_base_url(monkeypatch, tmp_path: Path) -> None:
    import operations.cli as cli
    from afterglow.settings import get_settings

    monkeypatch.setenv("AFTERGLOW_BASE_URL", "https://feedback.shop.example")
    monkeypatch.setenv("AFTERGLOW_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(signal, "signal", lambda *_args: None)
    monkeypatch.setattr(cli, "migrate", lambda: None)
    monkeypatch.setattr("operations.demo.seed_if_empty", _not_seeded)
    get_settings.cache_clear()
    seen: list[str] = []
    monkeypatch.setattr(cli, "_serve", lambda *_args, **_kw: seen.append(get_settings().base_url))
    try:
        result = CliRunner().invoke(main, ["run", "--port", "8101", "--no-worker"])
        assert result.exit_code == 0, result.output
        assert seen == ["https://feedback.shop.example"]
        assert not (tmp_path / "dev-base-url").exists()
    finally:
        get_settings.cache_clear()


async def _not_seeded(_now: object) -> bool:
    return False


def _base_url_seen_by_dispatch(monkeypatch) -> str:
    """What `afterglow dispatch`, started from another shell (no AFTERGLOW_BASE_URL), would link to."""
    import operations.cli as cli
    from afterglow.settings import get_settings

    seen: list[str] = []

    async def dispatch(now: datetime, queue: bool) -> dict[str, object]:
        seen.append(get_settings().base_url)
        return {}

    with monkeypatch.context() as inner:
        inner.delenv("AFTERGLOW_BASE_URL")
        inner.setattr(cli, "run_dispatch", dispatch)
        get_settings.cache_clear()
        result = CliRunner().invoke(main, ["dispatch"])
        assert result.exit_code == 0, result.output
    get_settings.cache_clear()
    return seen[0]
