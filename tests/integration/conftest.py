"""Integration suite: real PostgreSQL, real Redis, real Celery workers (subprocesses) and a real SMTP server.

Where PostgreSQL or Redis is not reachable the suite is skipped with the reason, unless
AFTERGLOW_REQUIRE_SERVICES=1 (set by .ci/run), which turns the absence into a failure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from bench.harness import free_port
from tests.conftest import _RUN_DIR

PG_URL = os.environ.get("AFTERGLOW_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/afterglow_test")
REDIS_URL = os.environ.get("AFTERGLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRED = os.environ.get("AFTERGLOW_REQUIRE_SERVICES") == "1"
ROOT = Path(__file__).resolve().parents[2]


def _reachable(url: str, default_port: int) -> bool:
    parts = urlparse(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


_missing = [
    name for name, url, port in (("PostgreSQL", PG_URL, 5432), ("Redis", REDIS_URL, 6379)) if not _reachable(url, port)
]
if _missing:
    reason = f"integration suite needs {' and '.join(_missing)} ({PG_URL}, {REDIS_URL})"
    if REQUIRED:
        raise RuntimeError(reason + "; AFTERGLOW_REQUIRE_SERVICES=1 makes this a failure")
    pytest.skip(reason + " — skipped; start them or see README", allow_module_level=True)

SMTP_PORT = free_port()
INTEGRATION_ENV = {
    "AFTERGLOW_DATABASE_URL": PG_URL,
    "AFTERGLOW_BROKER_URL": REDIS_URL,
    "AFTERGLOW_SMTP_HOST": "127.0.0.1",
    "AFTERGLOW_SMTP_PORT": str(SMTP_PORT),
    "AFTERGLOW_BASE_URL": "http://afterglow.test",
    "AFTERGLOW_DATA_DIR": str(_RUN_DIR / "integration"),
}
os.environ.update(INTEGRATION_ENV)

from afterglow.db import recreate_postgres_database  # noqa: E402

# An empty database before anything builds the engine (which asks the server for its version).
asyncio.run(recreate_postgres_database(PG_URL))

import redis  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402
from piccolo.apps.migrations.commands.forwards import run_forwards  # noqa: E402
from piccolo.conf.apps import Finder  # noqa: E402

from afterglow.celery_app import celery_app  # noqa: E402
from afterglow.settings import Settings, get_settings  # noqa: E402
from app import create_app  # noqa: E402
from bench.mailserver import Mailbox  # noqa: E402
from bench.mailserver import smtp_server as running_smtp_server  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def database() -> None:
    result = asyncio.run(run_forwards(app_name="all"))
    assert result.success, result.message


@pytest.fixture(autouse=True)
async def empty_tables(database: None) -> None:
    tables = Finder().get_table_classes()
    names = ", ".join(f'"{t._meta.tablename}"' for t in tables)
    await tables[0].raw(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    from afterglow import overrides

    overrides.drop_cached_read()


@pytest.fixture(scope="session")
def smtp_server() -> Iterator[Mailbox]:
    with running_smtp_server(port=SMTP_PORT) as (box, _):
        yield box


@pytest.fixture
def mailbox(smtp_server: Mailbox) -> Mailbox:
    smtp_server.clear()
    return smtp_server


def wait_for(condition: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    """Poll until `condition()` holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


async def wait_for_async(condition: Callable[[], object], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not await condition():  # type: ignore[misc]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)


class Workers:
    """Real Celery worker processes consuming from the real Redis broker (or the one `env` names)."""

    def __init__(self, log_dir: Path, env: dict[str, str] | None = None, name: str = "worker") -> None:
        self.log_dir = log_dir
        self.env = {**os.environ, **INTEGRATION_ENV, **(env or {})}
        self.name = name
        self.procs: list[subprocess.Popen[bytes]] = []
        self.started = 0

    def start(self, count: int = 1) -> None:
        env = self.env
        for _ in range(count):
            n = self.started
            self.started += 1
            log = open(self.log_dir / f"{self.name}-{n}.log", "wb")  # noqa: SIM115 - closed with the process
            self.procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "afterglow.celery_app",
                        "worker",
                        "--pool=solo",
                        f"--hostname={self.name}{n}-{os.getpid()}@%h",
                        "--loglevel=INFO",
                        "--without-gossip",
                        "--without-mingle",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        if self.env.get("AFTERGLOW_BROKER_URL") == REDIS_URL:
            wait_for(lambda: len(celery_app.control.ping(timeout=0.5)) >= len(self.procs), 60, "workers to answer ping")
        else:
            wait_for(lambda: self._ready(), 60, "workers to start consuming")

    def _ready(self) -> bool:
        """Every worker of this pool logged that it is ready (workers on another broker cannot be pinged from here)."""
        return all(b"ready." in (self.log_dir / f"{self.name}-{n}.log").read_bytes() for n in self._numbers())

    def _numbers(self) -> range:
        return range(self.started - len(self.procs), self.started)

    def kill(self) -> None:
        """SIGKILL every worker of this pool: no goodbye, no acknowledgement of the task in hand."""
        for proc in self.procs:
            proc.kill()
            proc.wait(timeout=20)
        self.procs.clear()

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs.clear()


@pytest.fixture(scope="session")
def workers(database: None, smtp_server: Mailbox) -> Iterator[Workers]:
    redis.Redis.from_url(REDIS_URL).flushdb()
    log_dir = _RUN_DIR / "integration-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    pool = Workers(log_dir)
    pool.start(2)
    yield pool
    pool.stop()


@pytest.fixture
def settings() -> Settings:
    return get_settings()


@pytest.fixture
async def client(settings: Settings) -> AsyncTestClient:
    # The test client serves the app from its own event loop, which a connection pool cannot share with the
    # test's own queries; the pool is exercised by the benchmarks and the real server instead.
    async with AsyncTestClient(app=create_app(dataclasses.replace(settings, db_pool_size=0))) as client:
        yield client


@pytest.fixture
def api_headers(settings: Settings) -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.api_key}"}


LONG = os.environ.get("AFTERGLOW_LONG_TESTS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long fault and load tests run when asked (.ci/run asks); otherwise they are skipped, saying how."""
    if LONG:
        return
    skip = pytest.mark.skip(reason="a long fault or load test: set AFTERGLOW_LONG_TESTS=1 to run it (.ci/run does)")
    for item in items:
        if item.get_closest_marker("long"):
            item.add_marker(skip)


#: What the fault and load tests measured, printed after the run whether or not output is captured.
FIGURES: list[tuple[str, str]] = []


@pytest.fixture
def report_figure() -> Callable[[str, str], None]:
    """`report_figure(name, text)`: shown in the "figures" section at the end of the test run."""
    return lambda name, text: FIGURES.append((name, text))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("figures")
        for name, text in FIGURES:
            terminalreporter.write_line(f"{name}: {text}")
