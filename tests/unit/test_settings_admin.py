"""Settings in the browser: the admin page round trip (roles, CSRF, every wrong field named, audit), a change
applying to the next scheduler pass without a restart, the logo upload, and the brand on emails and pages."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import httpx
import pytest
import time_machine
from litestar.testing import AsyncTestClient
from PIL import Image

from accounts.tables import AuditEvent
from afterglow.brand import brand_of
from afterglow.overrides import current_settings, effective_settings, stored, with_settings
from afterglow.settings import Settings
from surveys.services.dispatch import dispatch_due, send_claimed
from tests.factories import event_payload, order_payload
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.survey_fixtures import DELIVERED_AT, OPEN_AT, invite

PAGE = "/app/admin/settings"


async def post(client: AsyncTestClient, path: str, data: dict[str, str]) -> httpx.Response:
    return await client.post(
        path, data={**data, "_csrf_token": client.cookies.get("csrftoken", "")}, follow_redirects=False
    )


def image(fmt: str = "PNG", size: tuple[int, int] = (120, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, fmt)
    return out.getvalue()


async def upload(client: AsyncTestClient, data: bytes, name: str = "logo.png") -> httpx.Response:
    return await client.post(
        f"{PAGE}/logo",
        files={"logo": (name, data, "image/png")},
        data={"_csrf_token": client.cookies.get("csrftoken", "")},
        follow_redirects=False,
    )


async def test_only_admins_see_and_change_settings(client: AsyncTestClient) -> None:
    await make_staff()
    anonymous = await client.get(PAGE, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for who in ("max", "sue"):
        assert await sign_in(client, who) == 303
        assert (await client.get(PAGE)).status_code == 403
        assert (await post(client, PAGE, {"shop_name": "Mine now"})).status_code == 403
        assert (await post(client, f"{PAGE}/reset", {"key": "shop_name"})).status_code == 403
        assert (await upload(client, image())).status_code == 403
        client.cookies.clear()
    assert await stored() == {}


async def test_saving_needs_the_csrf_token(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    refused = await client.post(PAGE, data={"shop_name": "Forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert await stored() == {}


async def test_a_setting_round_trip_shows_its_source_is_audited_and_resets(
    client: AsyncTestClient, settings: Settings
) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    page = (await client.get(PAGE)).text
    assert 'name="shop_name" value="Demo Shop"' in page and "Environment default" in page
    assert "Changed here" not in page

    saved = await post(client, PAGE, {"shop_name": "Kaffee & Co", "send_window_start": "10", "send_window_end": "17"})
    assert saved.status_code == 303
    page = (await client.get(saved.headers["location"])).text
    assert "Settings saved" in page and 'value="Kaffee &amp; Co"' in page
    assert re.search(r'id="setting-shop_name".*?Changed here.*?default: Demo Shop', page, re.S)
    assert await stored() == {"shop_name": "Kaffee & Co", "send_window_start": 10, "send_window_end": 17}
    effective = await effective_settings(settings)
    assert (effective.shop_name, effective.send_window_start, effective.send_window_end) == ("Kaffee & Co", 10, 17)

    audit = await AuditEvent.select().where(AuditEvent.action == "settings.changed").output(load_json=True)
    assert len(audit) == 1 and audit[0]["actor_name"] == "ada"
    assert audit[0]["detail"]["changed"] == {"shop_name": "Kaffee & Co", "send_window_start": 10, "send_window_end": 17}

    # Saving the same values again changes nothing and writes no second audit row.
    assert (await post(client, PAGE, {"shop_name": "Kaffee & Co"})).status_code == 303
    assert await AuditEvent.count().where(AuditEvent.action == "settings.changed") == 1

    reset = await post(client, f"{PAGE}/reset", {"key": "shop_name"})
    assert reset.status_code == 303 and "Back to the default" in (await client.get(reset.headers["location"])).text
    assert "shop_name" not in await stored()
    assert (await effective_settings(settings)).shop_name == settings.shop_name
    assert await AuditEvent.count().where(AuditEvent.action == "settings.reset") == 1


async def test_wrong_fields_are_all_named_and_nothing_is_saved(client: AsyncTestClient) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    form = {
        "shop_name": "Fine",
        "shop_timezone": "Mars/Olympus",
        "mail_from": "nobody",
        "send_window_start": "18",
        "send_window_end": "9",
        "default_delay_days": "-2",
        "base_url": "ftp://x.example",
    }
    refused = await post(client, PAGE, form)
    assert refused.status_code == 400
    page = refused.text
    for key in ("shop_timezone", "mail_from", "send_window_end", "default_delay_days", "base_url"):
        assert f'id="error-{key}"' in page, key
    assert 'id="error-shop_name"' not in page
    assert "Nothing was saved: check" in page and "Time zone" in page and "Public URL" in page
    assert 'value="Mars/Olympus"' in page  # what the admin typed stays in the form
    assert await stored() == {}
    assert await AuditEvent.count().where(AuditEvent.action == "settings.changed") == 0


async def test_a_new_send_window_applies_to_the_next_pass_without_a_restart(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    """Due Friday 11:00 Berlin; the pass at 13:00 would send. With the window moved to 14–18 in the browser, the
    next pass (run the way the beat runs it, with the settings of that moment) waits until 14:00."""
    await client.post("/api/v1/orders", json=order_payload("1001", email="anna@example.com"), headers=api_headers)
    accepted = await client.post(
        "/api/v1/orders/1001/events", json=event_payload("delivered", DELIVERED_AT), headers=api_headers
    )
    assert accepted.status_code == 202
    await make_staff()
    assert await sign_in(client, "ada") == 303
    assert (await post(client, PAGE, {"send_window_start": "14"})).status_code == 303

    async def beat_pass(now: datetime) -> list[tuple[int, str]]:
        queued: list[tuple[int, str]] = []
        await with_settings(lambda s: dispatch_due(now, s, lambda i, p: queued.append((i, p))))
        return queued

    assert await beat_pass(datetime(2026, 3, 6, 12, 0, tzinfo=UTC)) == []  # 13:00 in Berlin
    queued = await beat_pass(datetime(2026, 3, 6, 13, 5, tzinfo=UTC))  # 14:05 in Berlin
    assert len(queued) == 1 and queued[0][1] == "invitation"


async def test_the_logo_upload_refuses_what_is_too_big_or_not_an_image(
    client: AsyncTestClient, settings: Settings
) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    not_image = await upload(client, b"%PDF-1.4 this is not a picture", "logo.png")
    assert not_image.status_code == 400 and "must be a PNG, JPEG or WebP image" in not_image.text
    noise = Image.frombytes(
        "RGB", (700, 700), bytes(range(256)) * (700 * 700 * 3 // 256) + b"\0" * (700 * 700 * 3 % 256)
    )
    big = io.BytesIO()
    noise.save(big, "PNG", compress_level=0)
    assert len(big.getvalue()) > 1_000_000
    too_big = await upload(client, big.getvalue())
    assert too_big.status_code == 400 and "at most 1 MB" in too_big.text
    assert await stored() == {}

    done = await upload(client, image("JPEG"), "logo.jpg")
    assert done.status_code == 303
    name = (await stored())["logo_file"]
    served = await client.get(f"/brand/logo/{name}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(served.content)).format == "PNG"  # re-encoded
    assert (await client.get("/brand/logo/..%2Fafterglow.sqlite3")).status_code == 404
    assert await AuditEvent.count().where(AuditEvent.action == "settings.logo_changed") == 1

    # A new logo replaces the old file; removing it goes back to none.
    assert (await upload(client, image())).status_code == 303
    assert not (settings.brand_folder / name).exists()
    assert (await post(client, f"{PAGE}/reset", {"key": "logo_file"})).status_code == 303
    assert (await current_settings()).logo_file == ""


@pytest.mark.parametrize("colour", ["#ffcc00"])
async def test_logo_and_colour_appear_in_the_invitation_email_and_on_the_survey_page(
    client: AsyncTestClient,
    api_headers: dict[str, str],
    settings: Settings,
    time_machine: time_machine.TimeMachineFixture,
    colour: str,
) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    assert (await post(client, PAGE, {"brand_colour": colour})).status_code == 303
    assert (await upload(client, image())).status_code == 303
    client.cookies.clear()
    effective = await effective_settings(settings)
    brand = brand_of(effective)
    assert brand.accent != colour  # yellow on white is unreadable: a darker shade is used

    invited = await invite(client, api_headers, effective)
    html = invited.email["html"]
    assert f'src="{settings.base_url}/brand/logo/{effective.logo_file}"' in html
    assert f"background:{brand.accent}" in html and "#2d5bd7" not in html

    time_machine.move_to(OPEN_AT, tick=True)
    page = (await client.get(invited.survey_path)).text
    assert f'href="/brand/style.css?v={brand.version}"' in page
    assert f'<img class="brand-logo" src="/brand/logo/{effective.logo_file}"' in page
    css = await client.get("/brand/style.css")
    assert css.headers["content-type"].startswith("text/css") and f"--accent: {brand.accent}" in css.text


async def test_sending_uses_the_sender_changed_in_the_browser(
    client: AsyncTestClient, api_headers: dict[str, str], settings: Settings
) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    assert (await post(client, PAGE, {"shop_name": "Kaffee & Co"})).status_code == 303
    invited = await invite(client, api_headers, await current_settings())
    assert "Kaffee &amp; Co" in invited.email["html"]
    assert send_claimed  # the send task reads the same settings (surveys.tasks uses with_settings)


async def test_review_rules_are_ticked_off_in_the_browser(client: AsyncTestClient, settings: Settings) -> None:
    await make_staff()
    assert await sign_in(client, "ada") == 303
    page = (await client.get(PAGE)).text
    assert page.count('name="review_hold_rules"') == 6 and page.count("checked") >= 5
    data = {"review_hold_rules": ["", "profanity", "link"], "_csrf_token": client.cookies.get("csrftoken", "")}
    saved = await client.post(PAGE, data=data, follow_redirects=False)
    assert saved.status_code == 303
    assert (await current_settings()).review_hold_rules == ("profanity", "link")
    page = (await client.get(PAGE)).text
    assert 'value="phone">' in page and 'value="link" checked>' in page
