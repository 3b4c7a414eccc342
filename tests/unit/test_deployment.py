"""The production description (compose.yaml, Procfile, Dockerfile) hangs together. No Docker engine runs here, so
these read the files; tests/integration/test_production_processes.py starts the Procfile's processes for real."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from operations.cli import main

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def procfile() -> dict[str, list[str]]:
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        processes[name.strip()] = shlex.split(command.strip())
    return processes


def test_compose_runs_postgres_redis_web_workers_and_one_beat() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "web", "worker", "beat"} <= set(services)
    assert services["beat"]["deploy"]["replicas"] == 1, "two beats would plan every pass twice"
    assert services["worker"]["deploy"]["replicas"] >= 1
    assert services["redis"]["command"] == ["redis-server", "--save", "", "--appendonly", "no"]


def test_every_app_process_shares_one_production_environment_and_data_volume() -> None:
    services = compose()["services"]
    envs = [services[name]["environment"] for name in ("migrate", "web", "worker", "beat")]
    assert all(env == envs[0] for env in envs)
    env = envs[0]
    assert env["AFTERGLOW_ENV"] == "production"
    database = env["AFTERGLOW_DATABASE_URL"]
    assert database.startswith("postgres://") and "@postgres:5432/" in database
    assert env["AFTERGLOW_BROKER_URL"] == "redis://redis:6379/0"
    assert ":?" in env["AFTERGLOW_SECRET_KEY"], "the secret must be required, never defaulted"
    for name in ("web", "worker", "beat"):
        assert "afterglow-data:/data" in services[name]["volumes"], f"{name} must share review photos"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_web_is_healthchecked_on_readiness() -> None:
    web = compose()["services"]["web"]
    assert "/readyz" in " ".join(web["healthcheck"]["test"])


def test_compose_and_procfile_start_the_same_commands() -> None:
    services, processes = compose()["services"], procfile()
    assert processes["release"] == services["migrate"]["command"] == ["afterglow", "migrate"]
    assert services["beat"]["command"] == processes["beat"]
    assert services["web"]["command"][:2] == processes["web"][:2] == ["afterglow", "web"]
    assert services["worker"]["command"][:2] == processes["worker"][:2] == ["afterglow", "worker"]


def test_every_command_the_files_name_exists() -> None:
    commands = set(main.commands)
    named = {p[1] for p in procfile().values()} | {
        s["command"][1] for s in compose()["services"].values() if s.get("command", [""])[0] == "afterglow"
    }
    assert named <= commands
    for name in ("web", "worker", "beat", "migrate"):
        assert CliRunner().invoke(main, [name, "--help"]).exit_code == 0


def test_the_image_installs_the_locked_versions() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r requirements.lock" in dockerfile
    assert "USER afterglow" in dockerfile
