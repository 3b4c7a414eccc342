"""Shared benchmark (and end-to-end test) plumbing: run an ASGI app under uvicorn in a subprocess, wait until it
answers, and put load on it from asyncio.

Only ever talks to 127.0.0.1. Everything started here is stopped by `Server.stop()` / the `serve()` context.

The load generator has two clients. `raw` (default) speaks minimal HTTP/1.1 keep-alive over asyncio streams;
`httpx` uses `httpx.AsyncClient`. Measured here (2 cores, bare Litestar route, 32 connections, same machine):
raw ~8,100-8,900 req/s, httpx ~230 req/s (its connection pool degrades badly with many concurrent requests: it
does ~300-450 req/s at 1-4 connections). So httpx measures httpx, not the server; it is kept for cross-checks.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"

#: Variables that configure Afterglow or Piccolo; dropped from the inherited environment so that a child
#: process sees only what the caller passes (a test run's conftest sets several of them at import).
APP_ENV_PREFIXES = ("AFTERGLOW_", "PICCOLO_")


# --------------------------------------------------------------------------------------------------------------
# Processes


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def clean_env(overrides: Mapping[str, str] | None = None, *, drop: Sequence[str] = APP_ENV_PREFIXES) -> dict[str, str]:
    """The current environment without app configuration, plus `overrides`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(tuple(drop))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(overrides or {})
    return env


def afterglow_env(data_dir: Path, base_url: str, **settings: str) -> dict[str, str]:
    """An explicit environment for an Afterglow process: SQLite in `data_dir`, dev outbox, no SMTP.

    `settings` are `AFTERGLOW_*` names without the prefix, e.g. `api_key="k"`, `shop_timezone="Europe/Berlin"`.
    """
    values = {
        "AFTERGLOW_DATA_DIR": str(data_dir),
        "AFTERGLOW_BASE_URL": base_url,
        "PICCOLO_CONF": "piccolo_conf",
    }
    values.update({f"AFTERGLOW_{name.upper()}": value for name, value in settings.items()})
    return clean_env(values)


def run_python(
    *args: str, env: Mapping[str, str], timeout: float = 120, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """`python <args>` with this interpreter; raises with the output when it fails."""
    proc = subprocess.run(
        [sys.executable, *args], env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"`python {' '.join(args)}` exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


@dataclass
class Server:
    """A uvicorn subprocess serving one app on 127.0.0.1."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    health_path: str = "/healthz"

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def wait_healthy(self, timeout: float = 30.0) -> None:
        """Poll the health path until it answers 2xx, the process dies, or the deadline passes."""
        deadline = time.monotonic() + timeout
        url = self.base_url + self.health_path
        last = "no answer yet"
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"server exited with {self.proc.returncode} before answering {url}\n{self.log_tail()}"
                    )
                try:
                    response = client.get(url)
                    if response.is_success:
                        return
                    last = f"HTTP {response.status_code}"
                except httpx.TransportError as exc:
                    last = repr(exc)
                time.sleep(0.05)
        raise TimeoutError(f"{url} not healthy within {timeout:.0f} s ({last})\n{self.log_tail()}")

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)


def _proxy_args(env: Mapping[str, str]) -> list[str]:
    """uvicorn's proxy handling as `afterglow run` sets it (operations.cli.proxy_options): X-Forwarded-For is believed
    only from AFTERGLOW_TRUSTED_PROXIES, never by default from 127.0.0.1."""
    trusted = env.get("AFTERGLOW_TRUSTED_PROXIES", "").strip()
    return ["--forwarded-allow-ips", trusted] if trusted else ["--no-proxy-headers"]


def start_uvicorn(
    app: str,
    *,
    env: Mapping[str, str],
    port: int | None = None,
    factory: bool = False,
    health_path: str = "/healthz",
    log_path: Path | None = None,
    access_log: bool = True,
    workers: int = 1,
    loop: str = "auto",
    extra_args: Sequence[str] = (),
    startup_timeout: float = 30.0,
    cwd: Path = ROOT,
) -> Server:
    """Start `uvicorn <app>` on 127.0.0.1 and return once `health_path` answers 2xx (stopping it otherwise)."""
    port = port or free_port()
    if log_path is None:
        log_path = Path(tempfile.mkstemp(prefix="uvicorn-", suffix=".log")[1])
    args = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--loop",
        loop,
        "--log-level",
        "info" if access_log else "warning",
        *(["--factory"] if factory else []),
        *([] if access_log else ["--no-access-log"]),
        *_proxy_args(env),
        *extra_args,
    ]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(args, env=dict(env), cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc=proc, port=port, log_path=log_path, health_path=health_path)
    try:
        server.wait_healthy(startup_timeout)
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def serve(app: str, **options: object) -> Iterator[Server]:
    """`start_uvicorn` as a context manager that always stops the server."""
    server = start_uvicorn(app, **options)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------------------------
# Load


@dataclass(frozen=True)
class Call:
    """One request the load generator may send."""

    method: str
    path: str
    body: bytes = b""
    content_type: str = ""
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def form(cls, path: str, fields: Mapping[str, object], headers: tuple[tuple[str, str], ...] = ()) -> Call:
        return cls("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded", headers)

    def wire(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "User-Agent: afterglow-bench"]
        if self.body or self.method in {"POST", "PUT", "PATCH"}:
            lines.append(f"Content-Length: {len(self.body)}")
        if self.content_type:
            lines.append(f"Content-Type: {self.content_type}")
        lines.extend(f"{name}: {value}" for name, value in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


@dataclass
class LoadResult:
    count: int
    errors: int
    seconds: float
    latencies: list[float] = field(repr=False, default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    exceptions: dict[str, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def percentile_ms(self, q: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, int(round(q / 100 * len(ordered) + 0.5)) - 1))
        return ordered[rank] * 1000

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    def summary(self) -> dict[str, object]:
        return {
            "count": self.count,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "statuses": dict(sorted(self.statuses.items())),
            **({"exceptions": self.exceptions} if self.exceptions else {}),
        }


class _Tally:
    """What the workers record; only requests started inside the measured window count."""

    def __init__(self, measure_from: float, until: float) -> None:
        self.measure_from = measure_from
        self.until = until
        self.count = 0
        self.errors = 0
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.exceptions: dict[str, int] = {}
        self.last_end = measure_from

    def record(self, started: float, ended: float, status: int | None, exc: BaseException | None = None) -> None:
        if started < self.measure_from:
            return
        self.last_end = max(self.last_end, ended)
        self.count += 1
        if status is not None:
            self.statuses[status] = self.statuses.get(status, 0) + 1
            self.latencies.append(ended - started)
        if exc is not None:
            name = type(exc).__name__
            self.exceptions[name] = self.exceptions.get(name, 0) + 1
        if status is None or not 200 <= status < 300:
            self.errors += 1

    def result(self) -> LoadResult:
        return LoadResult(
            count=self.count,
            errors=self.errors,
            seconds=max(self.last_end - self.measure_from, 1e-9),
            latencies=self.latencies,
            statuses=self.statuses,
            exceptions=self.exceptions,
        )


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one HTTP/1.1 response; returns (status, keep_alive)."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, _, header_block = head.partition(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length: int | None = None
    chunked = False
    keep_alive = True
    for line in header_block.split(b"\r\n"):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep_alive = False
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    elif status not in (204, 304) and not 100 <= status < 200:
        await reader.read()
        keep_alive = False
    return status, keep_alive


async def _raw_worker(port: int, wires: Sequence[bytes], turn: Iterator[int], tally: _Tally) -> None:
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    try:
        while time.perf_counter() < tally.until:
            started = time.perf_counter()
            try:
                if writer is None or reader is None:
                    reader, writer = await asyncio.open_connection(HOST, port)
                writer.write(wires[next(turn) % len(wires)])
                status, keep_alive = await _read_response(reader)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                tally.record(started, time.perf_counter(), None, exc)
                if writer is not None:
                    writer.close()
                reader = writer = None
                await asyncio.sleep(0.01)
                continue
            tally.record(started, time.perf_counter(), status)
            if not keep_alive:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


async def _httpx_worker(client: httpx.AsyncClient, calls: Sequence[Call], turn: Iterator[int], tally: _Tally) -> None:
    while time.perf_counter() < tally.until:
        call = calls[next(turn) % len(calls)]
        headers = {"Content-Type": call.content_type} if call.content_type else None
        started = time.perf_counter()
        try:
            response = await client.request(call.method, call.path, content=call.body or None, headers=headers)
        except httpx.HTTPError as exc:
            tally.record(started, time.perf_counter(), None, exc)
            await asyncio.sleep(0.01)
            continue
        tally.record(started, time.perf_counter(), response.status_code)


async def generate_load(
    port: int,
    calls: Sequence[Call],
    *,
    concurrency: int = 32,
    seconds: float = 5.0,
    warmup: float = 0.5,
    client: str = "raw",
) -> LoadResult:
    """Keep `concurrency` keep-alive connections busy for `warmup + seconds`, sending `calls` round-robin.

    Only requests started after the warm-up count. Non-2xx answers and transport failures are errors.
    """
    if not calls:
        raise ValueError("no calls to make")
    turn = itertools.count()
    start = time.perf_counter()
    tally = _Tally(measure_from=start + warmup, until=start + warmup + seconds)
    if client == "raw":
        host = f"{HOST}:{port}"
        wires = [call.wire(host) for call in calls]
        await asyncio.gather(*(_raw_worker(port, wires, turn, tally) for _ in range(concurrency)))
    elif client == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(
            base_url=f"http://{HOST}:{port}", limits=limits, timeout=30.0, trust_env=False
        ) as http:
            await asyncio.gather(*(_httpx_worker(http, calls, turn, tally) for _ in range(concurrency)))
    else:
        raise ValueError(f"unknown client {client!r}: raw or httpx")
    return tally.result()


def load(port: int, calls: Sequence[Call], **options: object) -> LoadResult:
    """`generate_load` from synchronous code (uses uvloop when installed, as uvicorn's `--loop auto` does)."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
        return asyncio.run(generate_load(port, calls, **options))  # type: ignore[arg-type]
    return uvloop.run(generate_load(port, calls, **options))  # type: ignore[arg-type]


# What every bench script shares: its command line, its log, its phases, and the environment it seeds in.


def log(message: str) -> None:
    """Progress goes to stderr: stdout carries only the final JSON line."""
    print(message, file=sys.stderr, flush=True)


def use_app_env(env: Mapping[str, str]) -> None:
    """Point this process at the database the served app uses, so seeding writes where the server reads."""
    for name in [k for k in os.environ if k.startswith(APP_ENV_PREFIXES)]:
        del os.environ[name]
    os.environ.update({k: v for k, v in env.items() if k.startswith(APP_ENV_PREFIXES)})
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # piccolo_conf and app live at the repository root


def phase(name: str, port: int, calls: Sequence[Call], args: argparse.Namespace) -> LoadResult:
    """One measured load phase with the command line's concurrency, length, warm-up and client."""
    result = load(
        port, calls, concurrency=args.concurrency, seconds=args.seconds, warmup=args.warmup, client=args.client
    )
    log(f"{name}: {json.dumps(result.summary())}")
    return result


def bench_parser(name: str, description: str) -> argparse.ArgumentParser:
    """The options every bench takes; a script adds its own."""
    parser = argparse.ArgumentParser(prog=f"python -m bench.{name}", description=description.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="measured length of each phase (default 5)")
    parser.add_argument("--concurrency", type=int, default=32, help="open connections (default 32)")
    parser.add_argument("--warmup", type=float, default=0.5, help="unmeasured seconds before each phase")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw", help="load generator (see above)")
    parser.add_argument(
        "--database-url",
        default="",
        help="serve from this PostgreSQL database (dropped and recreated) instead of SQLite",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data folder (database, server logs)")
    parser.add_argument(
        "--web-workers",
        type=int,
        default=1,
        help="uvicorn processes serving the app and, in the same run, the bare route (default %(default)s)",
    )
    return parser


#: How the benches serve an app: no access log, so the figures measure the app and not the logging; one worker
#: unless `--web-workers` says otherwise (`server_options`).
SERVER_OPTIONS: dict[str, object] = {"access_log": False, "workers": 1, "loop": "auto"}


def server_options(args: argparse.Namespace) -> dict[str, object]:
    """`SERVER_OPTIONS` with the command line's `--web-workers`: the app and its bare floor are served alike."""
    return {**SERVER_OPTIONS, "workers": getattr(args, "web_workers", 1)}


@contextlib.contextmanager
def bench_folder(args: argparse.Namespace) -> Iterator[Path]:
    """A fresh data folder for one run, removed afterwards unless `--keep`."""
    data_dir = Path(tempfile.mkdtemp(prefix="afterglow-bench-"))
    try:
        yield data_dir
    finally:
        if args.keep:
            log(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def migrated_app_env(args: argparse.Namespace, data_dir: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of an app served on `port` from `data_dir` (or `--database-url`, recreated), migrated."""
    env = afterglow_env(
        data_dir,
        f"http://127.0.0.1:{port}",
        api_key="bench-api-key",
        secret_key="bench-secret",
        **settings,
        **({"database_url": args.database_url} if args.database_url else {}),
    )
    if args.database_url:
        from afterglow.db import recreate_postgres_database

        asyncio.run(recreate_postgres_database(args.database_url))
    run_python("-m", "operations.cli", "migrate", env=env)
    return env


def bare_phase(args: argparse.Namespace, data_dir: Path) -> LoadResult:
    """The baseline every bench measures in the same run: a bare Litestar route returning a constant."""
    with serve(
        "bench.bare_app:app", env=clean_env(), health_path="/", log_path=data_dir / "bare.log", **server_options(args)
    ) as bare_server:
        return phase("bare route", bare_server.port, [Call("GET", "/")], args)


def _stop(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the finally blocks that stop the servers


def run_bench(
    parser: argparse.ArgumentParser, run: Callable[[argparse.Namespace], dict[str, object]], argv: list[str] | None
) -> None:
    """Parse, run, and end with the one JSON line of figures."""
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    print(json.dumps(run(args)), flush=True)
