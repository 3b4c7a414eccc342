"""Production mode for real, without Docker: the Procfile's processes (migrate, web, worker, beat) and Flower, started
as the Procfile says, against PostgreSQL, Redis and an SMTP server. An order goes in through the API, the scheduler
pass hands its invitation to the worker, the email arrives, the customer answers, and the worker's log lines carry
the request id of that answer. Flower sees the worker and the task."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
import redis

from bench.harness import clean_env, free_port
from bench.mailserver import Mailbox, smtp_server, text_of
from tests.factories import event_payload, order_payload
from tests.integration.conftest import PG_URL, wait_for

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
BROKER = "redis://127.0.0.1:6379/8"
API_KEY = "deploy-test-key"


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name.strip(): command.strip() for name, _, command in (line.partition(":") for line in lines)}


def midday_zone(now: datetime) -> str:
    """A time zone where it is now the middle of the day: the send window is open there."""
    for offset in range(-12, 15):
        zone = f"Etc/GMT{'+' if offset <= 0 else '-'}{abs(offset)}"  # POSIX sign: Etc/GMT-2 is UTC+2
        if 11 <= now.astimezone(ZoneInfo(zone)).hour <= 15:
            return zone
    raise AssertionError("some zone is always at midday")


class Processes:
    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: str) -> None:
        with open(self.logs / f"{name}.log", "wb") as out:
            self.procs[name] = subprocess.Popen(
                ["bash", "-c", f"exec {command}"], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def json_lines(self, name: str) -> list[dict[str, object]]:
        lines = []
        for line in self.log(name).splitlines():
            if line.startswith("{"):
                lines.append(json.loads(line))
        return lines

    def alive(self, name: str) -> bool:
        return self.procs[name].poll() is None

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def production(tmp_path: Path) -> Iterator[tuple[Processes, Mailbox, int, int]]:
    import asyncio

    from afterglow.db import recreate_postgres_database

    database = PG_URL.rsplit("/", 1)[0] + "/afterglow_deploy_test"
    asyncio.run(recreate_postgres_database(database))
    redis.Redis.from_url(BROKER).flushdb()
    web_port, flower_port = free_port(), free_port()
    with smtp_server() as (box, smtp_port):
        env = clean_env(
            {
                "AFTERGLOW_ENV": "production",
                "AFTERGLOW_SECRET_KEY": "deploy-test-secret",
                "AFTERGLOW_API_KEY": API_KEY,
                "AFTERGLOW_DATABASE_URL": database,
                "AFTERGLOW_BROKER_URL": BROKER,
                "AFTERGLOW_SMTP_HOST": "127.0.0.1",
                "AFTERGLOW_SMTP_PORT": str(smtp_port),
                "AFTERGLOW_BASE_URL": f"http://127.0.0.1:{web_port}",
                "AFTERGLOW_DATA_DIR": str(tmp_path / "data"),
                "PICCOLO_CONF": "piccolo_conf",
                "PORT": str(web_port),
                "WEB_CONCURRENCY": "1",
                "WORKER_CONCURRENCY": "1",
                "FLOWER_UNAUTHENTICATED_API": "true",
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            }
        )
        processes = Processes(env, tmp_path)
        try:
            yield processes, box, web_port, flower_port
        finally:
            processes.stop()


def test_the_procfile_runs_afterglow_in_production_mode(production: tuple[Processes, Mailbox, int, int]) -> None:
    processes, box, web_port, flower_port = production
    commands = procfile()
    release = subprocess.run(["bash", "-c", commands["release"]], cwd=ROOT, env=processes.env, capture_output=True)
    assert release.returncode == 0, release.stderr.decode()

    for name in ("web", "worker", "beat"):
        processes.start(name, commands[name])
    processes.start(
        "flower", f"{shlex.quote(sys.executable)} -m celery -A afterglow.celery_app flower --port={flower_port}"
    )
    base = f"http://127.0.0.1:{web_port}"
    http = httpx.Client(base_url=base, timeout=10, trust_env=False)
    wait_for(lambda: _ready(http), timeout=60, what=f"/readyz of the web process\n{processes.log('web')[-2000:]}")
    wait_for(lambda: "ready." in processes.log("worker"), timeout=60, what="the worker")

    now = datetime.now(UTC)
    zone = midday_zone(now)
    api = {"Authorization": f"Bearer {API_KEY}"}
    order = order_payload(
        "PROD-1", email="prod@example.com", timezone=zone, placed_at=(now - timedelta(days=6)).isoformat()
    )
    assert http.post("/api/v1/orders", json=order, headers=api).status_code == 201
    delivered = event_payload("delivered", now - timedelta(days=4))
    assert http.post("/api/v1/orders/PROD-1/events", json=delivered, headers=api).status_code == 202

    # What beat starts every minute: one scheduler pass that hands due sends to the workers.
    dispatched = subprocess.run(
        ["afterglow", "dispatch", "--queue"], cwd=ROOT, env=processes.env, capture_output=True, text=True
    )
    assert dispatched.returncode == 0, dispatched.stderr
    assert json.loads(dispatched.stdout.strip().splitlines()[-1])["queued"] == 1
    wait_for(lambda: box.count() == 1, timeout=60, what=f"the invitation email\n{processes.log('worker')[-3000:]}")
    link = re.search(rf"Answer the short survey: {re.escape(base)}(/s/\S+)", text_of(box.messages[0]))
    assert link, text_of(box.messages[0])

    answered = http.post(
        link.group(1), data={"nps": "3", "comment": "The lid was cracked."}, headers={"X-Request-ID": "answer-42"}
    )
    assert answered.status_code == 303, answered.text
    assert answered.headers["x-request-id"] == "answer-42"
    wait_for(
        lambda: any(line.get("request_id") == "answer-42" for line in processes.json_lines("worker")),
        timeout=60,
        what="the worker's log lines about the answer",
    )
    intake = [line for line in processes.json_lines("worker") if line.get("request_id") == "answer-42"]
    assert {line["task"] for line in intake} == {"feedback.ingest"} and all(line["task_id"] for line in intake)

    requests = [line for line in processes.json_lines("web") if line.get("logger") == "afterglow.request"]
    assert requests, processes.log("web")[-3000:]
    assert {"request_id": "answer-42", "status": 303} in [
        {"request_id": line["request_id"], "status": line["status"]} for line in requests
    ]
    assert processes.alive("beat") and "beat: Starting" in processes.log("beat"), processes.log("beat")[-3000:]

    flower = f"http://127.0.0.1:{flower_port}"
    wait_for(lambda: _flower_saw(flower, "surveys.send_batch"), timeout=60, what="Flower to show the batch send task")
    workers = httpx.get(f"{flower}/api/workers", params={"refresh": "true"}, timeout=10).json()
    assert workers, "Flower lists the worker"
    http.close()


def _ready(http: httpx.Client) -> bool:
    try:
        return http.get("/readyz").status_code == 200
    except httpx.TransportError:
        return False


def _flower_saw(flower: str, task_name: str) -> bool:
    try:
        tasks = httpx.get(f"{flower}/api/tasks", timeout=5).json()
    except (httpx.TransportError, ValueError):
        return False
    return any(t.get("name") == task_name and t.get("state") == "SUCCESS" for t in tasks.values())
