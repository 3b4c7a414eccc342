"""`afterglow`: run the app, its worker and beat; operate the scheduler; import and demo data."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from afterglow.settings import ROOT, Settings, get_settings
from operations.cli_common import console, parse_now


def migrate() -> None:
    """Apply every Piccolo migration (the only way the schema changes)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards
    from piccolo.engine import engine_finder

    from afterglow.db import prepare_sqlite

    engine = engine_finder()
    assert engine is not None
    prepare_sqlite(engine)
    result = asyncio.run(run_forwards(app_name="all"))
    if not result.success:
        raise click.ClickException(f"migrations failed: {result.message}")


def _dev_api_key() -> str:
    """The embedded default invents an API key once and keeps it in the data folder."""
    settings = get_settings()
    if settings.api_key:
        return settings.api_key
    path = settings.dev_api_key_file
    if not path.exists():
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(24))
    key = path.read_text().strip()
    os.environ["AFTERGLOW_API_KEY"] = key
    get_settings.cache_clear()
    return key


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "afterglow.celery_app", *args]


def _served_base_url(host: str, port: int) -> str:
    """The address `afterglow run --host H --port N` answers on, as links in emails should name it."""
    shown = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    return f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"


def _use_running_base_url() -> None:
    """A command run beside `afterglow run` (dispatch, demo, ...) in the embedded default writes links to the
    address that server announced, unless AFTERGLOW_BASE_URL says otherwise."""
    if "AFTERGLOW_BASE_URL" in os.environ:
        return
    settings = get_settings()
    path = settings.dev_base_url_file
    if settings.production or not path.is_file():
        return
    os.environ["AFTERGLOW_BASE_URL"] = path.read_text().strip()
    get_settings.cache_clear()


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """Afterglow: ask customers at the good moment, collect answers, close the loop."""
    if ctx.invoked_subcommand != "run":
        _use_running_base_url()


@main.command("migrate")
def migrate_command() -> None:
    """Apply database migrations."""
    migrate()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--no-worker", is_flag=True, help="Start the web server only.")
def run(host: str, port: int, no_worker: bool) -> None:
    """Migrate, seed demo data on first start, and run web + worker + beat."""
    # Links in emails name the port served here (this process, its worker and beat inherit the variable) unless
    # AFTERGLOW_BASE_URL is set explicitly; commands run beside it read it from the data folder (embedded default).
    base_url_file: Path | None = None
    announced = "AFTERGLOW_BASE_URL" not in os.environ
    if announced:
        os.environ["AFTERGLOW_BASE_URL"] = _served_base_url(host, port)
        get_settings.cache_clear()
    settings = get_settings()
    migrate()
    if not settings.production:
        key = _dev_api_key()
        if announced:
            base_url_file = settings.dev_base_url_file
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            base_url_file.write_text(settings.base_url)
        from operations.demo import seed_if_empty

        if asyncio.run(seed_if_empty(datetime.now(UTC))):
            console.print("[green]Demo data created.[/green]")
        console.print(f"API key: [bold]{key}[/bold]")
        if get_settings().dev_outbox:
            console.print(f"Dev outbox: {get_settings().base_url}/dev/outbox")
    # uvicorn hands a SIGTERM back to the default handler once it has stopped, which would end this process before
    # the `finally` below: turn it into an exception, as Ctrl-C (SIGINT) already is, so the worker and beat stop too.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    children: list[subprocess.Popen[bytes]] = []
    if not no_worker:
        pool = ["--pool=solo"] if not settings.database_url.startswith("postgres") else []
        children.append(subprocess.Popen(_celery("worker", "--loglevel=INFO", *pool), cwd=ROOT))
        children.append(subprocess.Popen(_celery("beat", "--loglevel=INFO"), cwd=ROOT))
    try:
        console.print(f"Afterglow on http://{host}:{port}")
        _serve(host, port, workers=1)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut this short
        if base_url_file is not None:
            base_url_file.unlink(missing_ok=True)
        for child in children:
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's forwarded-header handling: `X-Forwarded-For`/`-Proto` are believed only from the proxies named in
    AFTERGLOW_TRUSTED_PROXIES (none by default), never from whoever sends them, 127.0.0.1 included."""
    trusted = list(settings.trusted_proxies)
    return {"proxy_headers": bool(trusted), "forwarded_allow_ips": trusted or ""}


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    from afterglow import logs

    settings = get_settings()
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=logs.dict_config(settings),
        access_log=False,  # afterglow.logs.RequestLogMiddleware logs each request once, with its id
        **proxy_options(settings),
    )


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Web processes (one per core is a start).")
def web(host: str, port: int, workers: int) -> None:
    """Serve the web app only (production: run migrate first, and worker and beat as processes of their own)."""
    _serve(host, port, workers)


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker (extra arguments go to Celery)."""
    os.execv(sys.executable, _celery("worker", "--loglevel=INFO", *celery_args))


@main.command(context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
def beat(celery_args: tuple[str, ...]) -> None:
    """Run Celery beat, which starts the scheduler pass every minute."""
    os.execv(sys.executable, _celery("beat", "--loglevel=INFO", *celery_args))


@main.command()
@click.option("--now", "now_text", default=None, help="Act as of this ISO-8601 moment (default: now).")
@click.option("--queue", is_flag=True, help="Hand sends to the workers instead of sending here.")
def dispatch(now_text: str | None, queue: bool) -> None:
    """Run one pass of the invitation scheduler and print what it did as JSON."""
    report = asyncio.run(run_dispatch(parse_now(now_text), queue))
    click.echo(json.dumps(report, default=str))


async def run_dispatch(now: datetime, queue: bool) -> dict[str, object]:
    """One pass; its claimed sends go to the workers (`queue`, a task per batch) or are sent here, a batch at a
    time over the settings' SMTP connections."""
    from afterglow.overrides import current_settings
    from surveys.services.dispatch import dispatch_due
    from surveys.services.sending import send_batch as send_here
    from surveys.tasks import send_batch

    settings = await current_settings()  # with the changes made in the browser
    claimed: list[tuple[list[int], str]] = []

    def enqueue_batch(invitation_ids: list[int], purpose: str) -> None:
        if queue:
            send_batch.delay(invitation_ids, purpose, now.isoformat())
        else:
            claimed.append((invitation_ids, purpose))

    report = (await dispatch_due(now, settings, enqueue_batch=enqueue_batch)).as_dict()
    report["sent_here"] = 0
    for ids, purpose in claimed:
        done = await send_here(ids, purpose, now, settings)
        report["sent_here"] += done.sent + done.already
    return report


@main.command("rebuild-dashboard")
@click.option("--now", "now_text", default=None, help="Record the rebuild as of this ISO-8601 moment (default: now).")
def rebuild_dashboard(now_text: str | None) -> None:
    """Recompute the dashboard's daily rollup from all feedback and invitations (after a bulk import, or a change
    of AFTERGLOW_SHOP_TIMEZONE). A progress bar on stderr, one JSON line on stdout."""
    from feedback.dashboard.rollup import rebuild

    with Progress(TextColumn("[bold]Rollup[/bold]"), BarColumn(), MofNCompleteColumn(), console=console) as progress:
        task = progress.add_task("days", total=None)
        days = asyncio.run(
            rebuild(
                parse_now(now_text),
                get_settings().shop_timezone,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        )
    click.echo(json.dumps({"days": days}))


@main.command()
@click.option("--username", prompt=True)
@click.option("--email", prompt=True)
@click.option("--role", type=click.Choice(["admin", "manager", "member"]), default="member", prompt=True)
@click.option("--team", "teams", multiple=True, help="Team slug to join (repeatable; created if missing).")
@click.option("--language", type=click.Choice(["en", "de", "hu"]), default="en", help="The language of their emails.")
@click.password_option()
def createuser(username: str, email: str, role: str, teams: tuple[str, ...], language: str, password: str) -> None:
    """Create a staff user (asks for what is not given as a flag)."""
    from accounts.services import AccountError, create_staff, create_team, slugify
    from accounts.tables import Team

    async def create() -> int:
        for name in teams:
            if not await Team.exists().where(Team.slug == slugify(name)):
                await create_team(name)
        slugs = [slugify(t) for t in teams]
        return await create_staff(username, password, role, email=email, teams=slugs, language=language)

    try:
        user_id = asyncio.run(create())
    except AccountError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"id": user_id, "username": username, "role": role, "teams": list(teams)}))


@main.command("receive-mail")
@click.option("--recipient", default=None, help="The envelope recipient, if the MTA passes it (Postfix: ${recipient}).")
def receive_mail(recipient: str | None) -> None:
    """Attach a customer's emailed answer, read as a raw message on standard input (an MTA pipe), to its thread.
    Prints one JSON line. Exit code 1 with the reason when no thread matches or there is nothing to attach (the MTA
    bounces it); 75 (EX_TEMPFAIL: the MTA tries again later) when it could not be stored, e.g. the database is down."""
    from feedback.services.inbound import InboundRefused, receive_email

    raw = sys.stdin.buffer.read()
    try:
        received = asyncio.run(receive_email(raw, datetime.now(UTC), recipient=recipient))
    except InboundRefused as exc:
        console.print(f"[red]not attached[/red]: {exc.message}", highlight=False)
        sys.exit(1)
    except Exception as exc:  # anything else is worth a retry by the MTA, never a bounce
        console.print(f"[red]not stored, try again later[/red]: {type(exc).__name__}: {exc}", highlight=False)
        sys.exit(75)
    click.echo(json.dumps(received.as_dict()))


@main.command()
@click.option("--now", "now_text", default=None, help="Tell the demo's year as of this ISO-8601 moment (default: now).")
def demo(now_text: str | None) -> None:
    """Fill the database with a demo shop's orders, deliveries and answers, and send what is due."""
    migrate()
    from operations.demo import seed

    _dev_api_key()
    summary = asyncio.run(seed(parse_now(now_text)))
    click.echo(json.dumps(summary))


from operations import cli_analysis, cli_catalogue, cli_imports  # noqa: E402  (each adds its commands to `main`)

cli_imports.register(main)
cli_catalogue.register(main)
cli_analysis.register(main)

if __name__ == "__main__":
    main()
