"""Does a customer saving large review photos slow the web process down for everyone else?

    python -m bench.review_photos [--seconds 5] [--uploaders 3] [--database-url postgres://...]

Seeds one delivered order per uploader (as bench.survey_page does), serves Afterglow with uvicorn (1 worker, no
access log) on 127.0.0.1 and asks `/healthz` every 20 ms, timing each request from when it was due: first with
nothing else going on (the baseline), then while every uploader saves its item's review with three 7000×7000
JPEGs again and again (each save replaces the photos of the one before, so every save decodes three). Progress
goes to stderr; the last line on stdout is one JSON object: each phase's median, 90th percentile and slowest
`/healthz`, the uploads' statuses, and `ratio`, the quiet median over the loaded one.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import statistics
import time

import httpx

from bench.harness import (
    HOST,
    SERVER_OPTIONS,
    bench_folder,
    bench_parser,
    free_port,
    log,
    migrated_app_env,
    run_bench,
)
from bench.harness import serve as serve_app
from bench.survey_page import SHOP_TIMEZONE, seed

#: The photo of the report: a 49-megapixel JPEG, under the default pixel limit.
SIDE = 7000
ITEM_PATH = re.compile(r'"(/s/[^"/]+/items/\d+)"')
KEPT_PHOTO = re.compile(r'name="remove_photo" value="([^"]+)"')
#: How often `/healthz` is asked while measuring.
PROBE_EVERY = 0.02


def large_photo(side: int = SIDE) -> bytes:
    """A JPEG of `side`×`side` pixels: smooth gradients, so that it is small to send and slow to decode."""
    from PIL import Image

    ramp = Image.linear_gradient("L").resize((side, side))
    image = Image.merge("RGB", (ramp, ramp.transpose(Image.Transpose.ROTATE_90), ramp))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


async def probe(client: httpx.AsyncClient, until: float, every: float = PROBE_EVERY) -> list[float]:
    """`/healthz` sent every `every` seconds until `until`, whether or not the one before has answered; the
    seconds from each one's planned start to its answer, so that a request kept waiting counts in full."""

    async def one(planned: float) -> float:
        response = await client.get("/healthz")
        response.raise_for_status()
        return time.perf_counter() - planned

    sent = []
    planned = time.perf_counter()
    while planned < until:
        sent.append(asyncio.create_task(one(planned)))
        planned += every
        await asyncio.sleep(max(0.0, planned - time.perf_counter()))
    return list(await asyncio.gather(*sent))


async def upload(client: httpx.AsyncClient, path: str, photo: bytes, until: float, statuses: dict[int, int]) -> None:
    """Save the item's review with three photos (once at least) until `until`, each save removing the photos
    the item has (read from the item's page, then from each save's answer)."""
    kept = KEPT_PHOTO.findall((await client.get(path)).text)
    while True:
        files = [("photos", (f"IMG_{n}.jpg", photo, "image/jpeg")) for n in range(3)]
        data = {"rating": "4", "text": "Large photos", "remove_photo": kept}
        response = await client.post(path, data=data, files=files, headers={"HX-Request": "true"})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        kept = KEPT_PHOTO.findall(response.text) if response.status_code == 200 else kept
        if time.perf_counter() >= until:
            return


def milliseconds(took: list[float]) -> dict[str, float]:
    ordered = sorted(took)
    return {
        "count": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p90_ms": round(ordered[int(len(ordered) * 0.9)] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


async def measure(port: int, paths: list[str], seconds: float) -> dict[str, object]:
    photo = large_photo()
    log(f"photo: {SIDE}x{SIDE} JPEG, {len(photo)} bytes")
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=120.0, trust_env=False) as client:
        items = []
        for path in paths:
            page = await client.get(path)
            page.raise_for_status()
            items.append(ITEM_PATH.findall(page.text)[0])
        warmup: dict[int, int] = {}
        await upload(client, items[0], photo, 0.0, warmup)  # a deadline in the past: exactly one save
        await upload(client, items[0], photo, 0.0, warmup)
        baseline = await probe(client, time.perf_counter() + seconds)
        statuses: dict[int, int] = {}
        until = time.perf_counter() + seconds
        uploads = [upload(client, item, photo, until, statuses) for item in items]
        loaded, *_ = await asyncio.gather(probe(client, until), *uploads)
    quiet, busy = milliseconds(baseline), milliseconds(loaded)
    return {
        "photo_bytes": len(photo),
        "warmup_statuses": warmup,
        "baseline": quiet,
        "loaded": busy,
        "upload_statuses": dict(sorted(statuses.items())),
        # The floor is /healthz with nothing else going on: 1.0 means the uploads cost the others nothing.
        "ratio": round(quiet["p50_ms"] / max(busy["p50_ms"], 0.01), 3),
    }


def run(args: argparse.Namespace) -> dict[str, object]:
    with bench_folder(args) as data_dir:
        port = free_port()
        env = migrated_app_env(
            args,
            data_dir,
            port,
            shop_timezone=SHOP_TIMEZONE,
            # One address at many times a real customer's rate: measure the decoding, not the limiter.
            rate_link_per_link="0",
            rate_link_per_address="0",
            **({"review_photo_decoders": str(args.decoders)} if args.decoders else {}),
        )
        paths = seed(env, args.uploaders)
        with serve_app(
            "app:create_app", factory=True, env=env, port=port, log_path=data_dir / "app.log", **SERVER_OPTIONS
        ) as app:
            figures = asyncio.run(measure(app.port, paths, args.seconds))
    return {
        "bench": "review_photos",
        "database": "postgres" if args.database_url else "sqlite",
        "uploaders": args.uploaders,
        "seconds": args.seconds,
        **figures,
    }


def main(argv: list[str] | None = None) -> None:
    parser = bench_parser("review_photos", __doc__ or "")
    parser.add_argument("--uploaders", type=int, default=3, help="customers saving photos at once (default 3)")
    parser.add_argument("--decoders", type=int, default=0, help="AFTERGLOW_REVIEW_PHOTO_DECODERS (default: its own)")
    run_bench(parser, run, argv)


if __name__ == "__main__":
    main()
