"""Every address the app writes out names the configured public URL (AFTERGLOW_BASE_URL), never the host and
port it happens to be served on: one representative of each kind. Emails (tests/unit/test_survey_pages.py,
test_notifications.py) and the widget's snippet (test_reviews_widget.py) are checked where they are made."""

from __future__ import annotations

import signal
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner
from litestar.testing import AsyncTestClient

from afterglow.settings import Settings, get_settings
from app import create_app
from operations.cli import main

PUBLIC = "https://feedback.shop.example"


async def test_the_api_docs_send_their_calls_to_the_public_address(settings: Settings) -> None:
    async with AsyncTestClient(app=create_app(replace(settings, base_url=PUBLIC))) as client:
        schema = (await client.get("/schema/openapi.json")).json()
    assert schema["servers"] == [{"url": PUBLIC}]


async def test_the_start_pages_curl_example_names_the_public_address(settings: Settings, tmp_path: Path) -> None:
    dev = replace(settings, env="dev", api_key="dev-key-123", data_dir=tmp_path, base_url=PUBLIC)
    async with AsyncTestClient(app=create_app(dev)) as client:
        page = (await client.get("/")).text
    assert f"curl -X POST {PUBLIC}/api/v1/orders" in page
    assert "testserver" not in page and "127.0.0.1" not in page


def test_afterglow_run_shows_the_dev_outbox_at_the_public_address(monkeypatch, tmp_path: Path) -> None:
    import operations.cli as cli

    monkeypatch.setenv("AFTERGLOW_BASE_URL", PUBLIC)
    monkeypatch.setenv("AFTERGLOW_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AFTERGLOW_SMTP_HOST", raising=False)
    monkeypatch.setattr(signal, "signal", lambda *_args: None)
    monkeypatch.setattr(cli, "migrate", lambda: None)
    monkeypatch.setattr("operations.demo.seed_if_empty", _not_seeded)
    monkeypatch.setattr(cli, "_serve", lambda *_args, **_kw: None)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["run", "--port", "8101", "--no-worker"])
        assert result.exit_code == 0, result.output
        assert f"Dev outbox: {PUBLIC}/dev/outbox" in result.output
    finally:
        get_settings.cache_clear()


async def _not_seeded(_now: object) -> bool:
    return False
