"""How fast is the survey page, next to a bare Litestar route, and how fast are answers saved?

    python -m bench.survey_page [--seconds 5] [--concurrency 32] [--invitations 200]

Sets up a throw-away SQLite database with real invitations (orders, deliveries and one scheduler pass, through
the services), serves Afterglow and `bench/bare_app.py` with uvicorn (1 worker, no access log) on 127.0.0.1, and
measures three phases of fixed length: GET survey pages (round-robin over the invitations' signed links; all
invitations are marked opened beforehand, so these are repeat views), GET the bare route, and htmx answer saves
(POST /s/<link>/answer, `csat=4` and `nps=9` alternating; the first save per invitation inserts the response,
later ones update it). Progress goes to stderr; the last line on stdout is one JSON object. Non-2xx answers count
as errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bench.harness import (
    Call,
    bare_phase,
    bench_folder,
    bench_parser,
    free_port,
    log,
    migrated_app_env,
    phase,
    run_bench,
    server_options,
    use_app_env,
)
from bench.harness import serve as serve_app

SHOP_TIMEZONE = "Europe/Berlin"


def send_moment() -> datetime:
    """10:00 yesterday in the shop's zone: inside the send window, and recent enough for links to be valid."""
    zone = ZoneInfo(SHOP_TIMEZONE)
    day = datetime.now(UTC).astimezone(zone).date() - timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=zone)


async def _seed(count: int, moment: datetime) -> list[str]:
    """`count` delivered orders, one dispatch pass; returns the signed survey paths (`/s/<signed>`)."""
    import msgspec

    from afterglow.settings import get_settings
    from operations.cli import run_dispatch
    from shop.schemas import EventIn, OrderIn
    from shop.services.orders import ingest_order, record_event
    from surveys.services.links import survey_token
    from surveys.tables import Invitation

    delivered = moment - timedelta(days=3, hours=1)
    for i in range(count):
        order = {
            "external_id": f"B-{i:05d}",
            "placed_at": (delivered - timedelta(days=2)).isoformat(),
            "currency": "EUR",
            "total": "59.90",
            "customer": {
                "email": f"bench{i}@example.com",
                "name": f"Customer {i}",
                "locale": "en",
                "timezone": SHOP_TIMEZONE,
            },
            "items": [
                {"sku": "SKU-1", "name": "Kettle", "category": "kitchen", "quantity": 1, "price": "29.95"},
                {"sku": "SKU-2", "name": "Tea sampler", "category": "food", "quantity": 2, "price": "14.95"},
            ],
        }
        await ingest_order(msgspec.json.decode(json.dumps(order), type=OrderIn))
        event = msgspec.json.decode(json.dumps({"type": "delivered", "at": delivered.isoformat()}), type=EventIn)
        await record_event(f"B-{i:05d}", event)
    report = await run_dispatch(moment + timedelta(minutes=5), queue=False)
    log(f"dispatch: {json.dumps(report, default=str)}")
    # Mark every invitation opened, so that the page phase measures the same thing whatever its throughput:
    # repeat views (a first view also writes `opened_at`; how many of those a phase sees would depend on its rps).
    await Invitation.update({Invitation.opened_at: moment + timedelta(hours=1)}).where(Invitation.status == "sent")
    settings = get_settings()
    rows = await Invitation.select(Invitation.token, Invitation.sent_at).where(Invitation.status == "sent")
    return [f"/s/{survey_token(settings, row['token'], row['sent_at'])}" for row in rows]


def seed(env: dict[str, str], count: int) -> list[str]:
    """Create the invitations in this process, against the same database the server will use."""
    use_app_env(env)
    return asyncio.run(_seed(count, send_moment()))


def run(args: argparse.Namespace) -> dict[str, object]:
    with bench_folder(args) as data_dir:
        port = free_port()
        env = migrated_app_env(
            args,
            data_dir,
            port,
            shop_timezone=SHOP_TIMEZONE,
            # The load comes from one address at many times a real customer's rate: measure the page, not the limiter.
            rate_link_per_link="0",
            rate_link_per_address="0",
        )
        paths = seed(env, args.invitations)
        if len(paths) != args.invitations:
            raise RuntimeError(f"expected {args.invitations} sent invitations, found {len(paths)}")
        log(f"{len(paths)} invitations in {data_dir}")
        pages = [Call("GET", path) for path in paths]
        answers = [
            Call.form(f"{path}/answer", {"csat": 4} if i % 2 == 0 else {"nps": 9}) for i, path in enumerate(paths)
        ]
        with serve_app(
            "app:create_app", factory=True, env=env, port=port, log_path=data_dir / "app.log", **server_options(args)
        ) as app:
            page = phase("survey page", app.port, pages, args)
            bare = bare_phase(args, data_dir)
            submit = phase("answer save", app.port, answers, args)
    return {
        "bench": "survey_page",
        "database": "postgres" if args.database_url else "sqlite",
        "page_rps": round(page.rps, 1),
        "bare_rps": round(bare.rps, 1),
        "ratio": round(page.rps / bare.rps, 3) if bare.rps else 0.0,
        "submit_rps": round(submit.rps, 1),
        "p99_ms": round(submit.p99_ms, 2),
        "page_p99_ms": round(page.p99_ms, 2),
        "errors": page.errors + bare.errors + submit.errors,
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "web_workers": args.web_workers,
    }


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser("survey_page", __doc__ or "")
    parser.add_argument("--invitations", type=int, default=200, help="survey links to spread load over")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
