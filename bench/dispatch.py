"""How fast do real Celery workers send due invitations, next to a bare SMTP send loop, and is any sent twice?

    python -m bench.dispatch [--invitations 1000] [--database-url postgres://…/afterglow_dispatch]
                             [--broker-url redis://127.0.0.1:6379/9]

Seeds delivered orders in PostgreSQL through the shop services (a progress bar on stderr), and for 1 and then 2
worker processes (`celery worker --pool=solo`, Redis broker): plans their invitations (a pass the day after
delivery, not timed), then times from the pass at the due time, which claims them in bulk and queues one send task
per batch (`surveys.send_batch`), until a local SMTP server (aiosmtpd, in this process) has received them all.
`duplicates` counts Message-IDs the server saw more than once. The floor, in the same run: the very messages the
2 workers sent (rendered, as the server received them) sent again by one `aiosmtplib` loop over ONE connection to
the same server (`bare_per_s`); `ratio` is the 2-worker rate over that floor. For reference,
`bare_new_connection_per_s`: the same loop opening a connection per message. The last line on stdout is one JSON
object.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from rich.progress import Progress

from bench.harness import ROOT, bench_folder, bench_parser, log, migrated_app_env, run_bench, use_app_env
from bench.mailserver import Mailbox, smtp_server

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/afterglow_dispatch"
DEFAULT_BROKER = "redis://127.0.0.1:6379/9"
DELIVERED = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DUE = datetime(2026, 3, 5, 9, 30, tzinfo=UTC)  # 10:30 in Berlin, inside the send window


async def seed(count: int, prefix: str) -> None:
    """`count` delivered orders of one item each, through the shop services, due at DUE."""
    from shop.schemas import CustomerIn, EventIn, ItemIn, OrderIn
    from shop.services.orders import ingest_order, record_event

    with Progress(transient=True) as progress:
        task = progress.add_task(f"orders {prefix}", total=count)
        for n in range(count):
            external_id = f"{prefix}-{n}"
            await ingest_order(
                OrderIn(
                    external_id=external_id,
                    placed_at=DELIVERED - timedelta(days=2),
                    total=Decimal("20.00"),
                    customer=CustomerIn(email=f"{prefix.lower()}{n}@example.com", name=f"Customer {n}", locale="en"),
                    items=[ItemIn(sku="MUG", name="Mug", category="kitchen", price=Decimal("20.00"))],
                )
            )
            await record_event(external_id, EventIn(type="delivered", at=DELIVERED))
            progress.advance(task)


async def plan() -> None:
    """A scheduler pass the day after delivery: plans every invitation (due at DUE), sends nothing yet."""
    from afterglow.settings import get_settings
    from surveys.services.dispatch import dispatch_due

    report = await dispatch_due(DELIVERED + timedelta(days=1), get_settings(), enqueue_batch=lambda ids, p: None)
    if report.queued:
        raise RuntimeError(f"{report.queued} invitations were due before DUE")


async def queue_sends(broker_url: str) -> int:
    """One scheduler pass as of DUE that claims every due invitation and hands them to the workers' broker."""
    import dataclasses

    from afterglow.celery_app import create_celery
    from afterglow.settings import get_settings
    from surveys.services.dispatch import dispatch_due

    settings = get_settings()
    queue = create_celery(dataclasses.replace(settings, broker_url=broker_url))
    report = await dispatch_due(
        DUE,
        settings,
        enqueue_batch=lambda ids, p: queue.send_task("surveys.send_batch", args=[ids, p, DUE.isoformat()]),
    )
    return report.queued


def start_workers(count: int, env: dict[str, str], log_dir: Path) -> list[subprocess.Popen[bytes]]:
    procs = []
    for n in range(count):
        with open(log_dir / f"worker-{count}-{n}.log", "wb") as out:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "celery",
                        "-A",
                        "afterglow.celery_app",
                        "worker",
                        "--pool=solo",
                        f"--hostname=bench{count}-{n}@%h",
                        "--without-gossip",
                        "--without-mingle",
                        "--loglevel=WARNING",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
    return procs


def wait_ready(count: int, broker_url: str) -> None:
    """Until `count` workers answer a ping on the broker (or a minute has passed: then fail)."""
    import dataclasses

    from afterglow.celery_app import create_celery
    from afterglow.settings import get_settings

    client = create_celery(dataclasses.replace(get_settings(), broker_url=broker_url))
    deadline = time.monotonic() + 60
    while len(client.control.ping(timeout=0.5)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} workers did not answer within a minute")


def stop_workers(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def timed_batch(workers: int, count: int, box: Mailbox, env: dict[str, str], broker: str, log_dir: Path) -> float:
    """Seconds from the pass that claims `count` due sends until the SMTP server holds them all."""
    import redis

    redis.Redis.from_url(broker).flushdb()
    asyncio.run(seed(count, f"W{workers}"))
    asyncio.run(plan())  # planning happens days before: the figure is due invitations → SMTP
    box.clear()
    procs = start_workers(workers, env, log_dir)
    try:
        wait_ready(workers, broker)  # booting the workers is not sending
        started = time.perf_counter()
        queued = asyncio.run(queue_sends(broker))
        if queued != count:
            raise RuntimeError(f"expected {count} sends queued, got {queued}")
        deadline = started + 600
        while box.count() < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{box.count()} of {count} emails after 600 s")
            time.sleep(0.01)
        return time.perf_counter() - started
    finally:
        stop_workers(procs)


async def bare_loop(messages: list[tuple[bytes, list[str]]], port: int, reuse: bool) -> float:
    """Seconds to send these messages (as received: bytes and recipients) one after another with `aiosmtplib`,
    over one connection (`reuse`, the floor) or a connection each."""
    import aiosmtplib

    from afterglow.settings import get_settings

    sender = get_settings().mail_from
    started = time.perf_counter()
    if reuse:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
            for content, recipients in messages:
                await smtp.sendmail(sender, recipients, content)
    else:
        for content, recipients in messages:
            async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as smtp:
                await smtp.sendmail(sender, recipients, content)
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> dict[str, object]:
    args.database_url = args.database_url or DEFAULT_DATABASE
    with bench_folder(args) as data_dir, smtp_server() as (box, smtp_port):
        env = migrated_app_env(
            args, data_dir, 8000, shop_timezone="Europe/Berlin", smtp_host="127.0.0.1", smtp_port=str(smtp_port)
        )
        env["AFTERGLOW_BROKER_URL"] = args.broker_url
        use_app_env(env)
        os.environ["AFTERGLOW_BROKER_URL"] = args.broker_url
        rates: dict[int, float] = {}
        duplicates = 0
        for workers in (1, 2):
            seconds = timed_batch(workers, args.invitations, box, env, args.broker_url, data_dir)
            seen = Counter(box.message_ids())
            duplicates += sum(n - 1 for n in seen.values())
            rates[workers] = args.invitations / seconds
            log(f"{workers} worker(s): {args.invitations} invitations in {seconds:.2f} s ({rates[workers]:.1f}/s)")
        sent = list(zip(list(box.raw), list(box.envelopes), strict=True))  # what the 2 workers sent
        box.clear()
        bare = len(sent) / asyncio.run(bare_loop(sent, smtp_port, reuse=True))
        box.clear()
        bare_new = len(sent) / asyncio.run(bare_loop(sent, smtp_port, reuse=False))
        log(f"bare SMTP loop: {bare:.1f}/s over one connection, {bare_new:.1f}/s with a connection each")
    return {
        "bench": "dispatch",
        "invitations": args.invitations,
        "sent_per_s": round(rates[2], 1),
        "sent_per_s_1_worker": round(rates[1], 1),
        "sent_per_s_2_workers": round(rates[2], 1),
        "bare_per_s": round(bare, 1),
        "bare_new_connection_per_s": round(bare_new, 1),
        "ratio": round(rates[2] / bare, 3),
        "duplicates": duplicates,
    }


def parser() -> argparse.ArgumentParser:
    options = bench_parser("dispatch", __doc__ or "")
    options.add_argument("--invitations", type=int, default=1000, help="invitations per batch (default 1000)")
    options.add_argument(
        "--broker-url", default=DEFAULT_BROKER, help=f"Redis for the workers (default {DEFAULT_BROKER})"
    )
    return options


def main(argv: list[str] | None = None) -> None:
    run_bench(parser(), run, argv)


if __name__ == "__main__":
    main()
