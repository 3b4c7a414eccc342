"""Browser tests: the real app in a uvicorn subprocess, driven by Debian's Chromium through Playwright.

The app process gets an explicit environment (its own SQLite file in a fresh folder, no SMTP so mail goes to
the dev outbox); it does not inherit the AFTERGLOW_* variables the other conftests set for in-process tests.
`AFTERGLOW_CHROMIUM` points at another Chromium; `AFTERGLOW_REQUIRE_BROWSER=1` turns a missing one into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bench.harness import Server, afterglow_env, free_port, run_python, start_uvicorn
from tests.conftest import ARTIFACTS

CHROMIUM = Path(os.environ.get("AFTERGLOW_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
MISSING_CHROMIUM = f"Chromium not found at {CHROMIUM}; install Debian's chromium to run browser tests"
SHOP_TIMEZONE = "Europe/Berlin"
E2E_ARTIFACTS = ARTIFACTS / "e2e"


def _browser_unavailable() -> str | None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return MISSING_CHROMIUM
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed; install the dev extra to run browser tests"
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip browser tests (before any server starts) when Chromium is missing, or fail when it is required."""
    if item.get_closest_marker("browser") is None:
        return
    reason = _browser_unavailable()
    if reason is None:
        return
    if os.environ.get("AFTERGLOW_REQUIRE_BROWSER") == "1":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


@dataclass
class LiveApp:
    """The running app and what a test needs to talk to it."""

    server: Server
    env: dict[str, str]
    data_dir: Path
    api_key: str

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def database(self) -> Path:
        return self.data_dir / "afterglow.sqlite3"

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=10.0,
            trust_env=False,
        )

    def dispatch(self, now: datetime) -> dict[str, Any]:
        """`afterglow dispatch --now <now>` against this app's database; returns its JSON report."""
        proc = run_python("-m", "operations.cli", "dispatch", "--now", now.isoformat(), env=self.env)
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def outbox(self) -> list[dict[str, Any]]:
        with httpx.Client(base_url=self.base_url, timeout=10.0, trust_env=False) as client:
            response = client.get("/dev/outbox.json")
            response.raise_for_status()
            return response.json()


@contextmanager
def running_app(name: str = "server") -> Iterator[LiveApp]:
    """A migrated app on a fresh SQLite database of its own, served by uvicorn until the block ends."""
    data_dir = Path(tempfile.mkdtemp(prefix="afterglow-e2e-"))
    port = free_port()
    api_key = "e2e-api-key"
    env = afterglow_env(
        data_dir,
        f"http://127.0.0.1:{port}",
        api_key=api_key,
        secret_key="e2e-secret",
        shop_timezone=SHOP_TIMEZONE,
    )
    run_python("-m", "operations.cli", "migrate", env=env)
    server = start_uvicorn("app:create_app", factory=True, env=env, port=port, log_path=data_dir / "server.log")
    try:
        yield LiveApp(server=server, env=env, data_dir=data_dir, api_key=api_key)
    finally:
        server.stop()
        E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data_dir / "server.log", E2E_ARTIFACTS / f"{name}.log")
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def live_app() -> Iterator[LiveApp]:
    """The app most browser tests share for the whole run."""
    with running_app() as app:
        yield app


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def artifacts() -> Path:
    E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return E2E_ARTIFACTS


def send_moment(now: datetime | None = None) -> datetime:
    """A working-hours moment in the shop's zone (10:00 yesterday, Berlin) that is safely in the past."""
    zone = ZoneInfo(SHOP_TIMEZONE)
    day = (now or datetime.now(UTC)).astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=zone)


# Staff accounts in the running app, one per role (created once per session).
LAPTOP = {"viewport": {"width": 1280, "height": 800}}
STAFF_PASSWORD = "e2e-password-123"
# username, role, team, the nav links it should see, a page it must be refused
ROLES = [
    ("e2e-admin", "admin", None, {"Inbox", "Dashboard", "Reviews", "Admin"}, None),
    ("e2e-manager", "manager", None, {"Inbox", "Dashboard", "Reviews"}, "/app/admin"),
    ("e2e-member", "member", "Support", {"Inbox"}, "/app/dashboard"),
]


@pytest.fixture(scope="session")
def staff_users(live_app: LiveApp) -> None:
    for username, role, team, _, _ in ROLES:
        args = [
            "-m",
            "operations.cli",
            "createuser",
            "--username",
            username,
            "--email",
            f"{username}@shop.example",
            "--role",
            role,
            "--password",
            STAFF_PASSWORD,
        ]
        if team:
            args += ["--team", team]
        run_python(*args, env=live_app.env)


@pytest.fixture(scope="session")
def live_worker(live_app: LiveApp) -> Iterator[None]:
    """A real Celery worker next to the running app (kombu's filesystem broker, the same SQLite file): what the
    pages queue (feedback intake, replies to customers) is done as it would be in production."""
    import subprocess
    import sys

    from bench.harness import ROOT

    log_path = live_app.data_dir / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "afterglow.celery_app", "worker", "--pool=solo", "--loglevel=INFO"],
            cwd=ROOT,
            env=live_app.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        E2E_ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log_path, E2E_ARTIFACTS / "worker.log")
