"""The dashboard pages over HTTP on the hand-made shop: what a manager sees, drills into, compares and exports."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from html import unescape
from urllib.parse import parse_qs, urlparse

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient
from piccolo.conf.apps import Finder

from accounts.services import team_id
from afterglow.settings import Settings
from app import create_app
from tests.unit.staff_fixtures import make_staff, sign_in
from tests.unit.test_dashboard_dataset import CURRENT, NOW, build_dataset

pytestmark = [pytest.mark.usefixtures("dataset"), pytest.mark.asyncio(loop_scope="module")]

HTMX = {"HX-Request": "true", "HX-Target": "dash-body"}
WEEK = f"from={CURRENT.start}&to={CURRENT.end}"
INLINE = re.compile(r"<script(?![^>]*\bsrc=)|<style|\sstyle=|\son[a-z]+=", re.I)


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """These tests only read: the shop and its staff are built once for the module."""


@pytest.fixture(autouse=True)
def clock(time_machine: object) -> None:
    time_machine.move_to(NOW, tick=False)  # type: ignore[attr-defined]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def dataset(migrated: None) -> dict[str, int]:
    for table in reversed(Finder().get_table_classes()):
        await table.delete(force=True)
    await make_staff()
    return await build_dataset()


@pytest_asyncio.fixture(loop_scope="module")
async def manager(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert await sign_in(client, "max") == 303
        yield client


def links(html: str, pattern: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'href="([^"]*)"', html) if pattern in unescape(href)]


async def test_overview_shows_the_hand_worked_figures_of_the_week(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard?{WEEK}")
    assert page.status_code == 200
    tile = page.text[page.text.index('id="tile-nps"') :]
    assert ">+25<" in tile[:400]
    assert "4 promoters" in tile and "2 passives" in tile and "2 detractors" in tile
    assert ">62%<" in page.text[page.text.index('id="tile-csat"') :][:400], "5 of the 8 order-survey answers"
    assert ">50%<" in page.text[page.text.index('id="tile-support"') :][:400], "1 of the 2 support answers"
    assert ">3.67<" in page.text[page.text.index('id="tile-rating"') :][:400]
    assert ">75%<" in page.text[page.text.index('id="tile-response"') :][:400]
    assert "9 answered</a> of 12 sent in the period" in page.text
    assert "adjusted Wald" in page.text[page.text.index('id="tile-nps"') :][:800], "the interval names its method"
    close = re.search(r">([\d.]+) h<", page.text[page.text.index('id="tile-close"') :][:500])
    assert close and float(close.group(1)) == pytest.approx(10.0, rel=0.1), "4, 10 and 30 hours: about 10"
    assert "within noise" in page.text, "NPS fell 8 points on 8 and 3 answers: the page must not call it a drop"


async def test_the_page_has_no_inline_script_or_style(manager: AsyncTestClient) -> None:
    for path in ("", "/trend/nps", "/compare?by=channel&a=web&b=app", "/responses", "/retention"):
        page = await manager.get(f"/app/dashboard{path}{'&' if '?' in path else '?'}{WEEK}")
        assert page.status_code == 200, path
        assert not INLINE.search(page.text), path


async def test_filters_with_htmx_swap_only_the_figures(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard?{WEEK}&channel=app", headers=HTMX)
    assert page.status_code == 200
    assert "<html" not in page.text and 'id="f-channel"' not in page.text, "the form is never replaced"
    tabs = page.text[page.text.index('<nav id="dash-tabs"') :]
    assert 'hx-swap-oob="true"' in tabs[:100], "the tabs come along out of band"
    assert "/app/dashboard/compare?from=2026-03-09&amp;to=2026-03-15&amp;channel=app" in tabs
    assert 'id="tile-nps"' in page.text
    assert "channel app" in page.text
    assert ">+0<" in page.text[page.text.index('id="tile-nps"') :][:400], "O3 9, O4 8, O7 3"


async def test_choosing_a_preset_with_htmx_replaces_the_dates(manager: AsyncTestClient) -> None:
    chosen = {**HTMX, "HX-Trigger-Name": "period"}
    page = await manager.get(f"/app/dashboard?period=7d&{WEEK}", headers=chosen)
    assert page.status_code == 200
    assert '<input id="f-from" name="from" type="date" value="" hx-swap-oob="true">' in page.text
    assert "10 Mar 2026 – 16 Mar 2026" in page.text, "the last 7 days up to the clock's 16 March"
    assert page.headers["hx-push-url"] == "/app/dashboard?period=7d", "the address bar drops the dates too"


async def test_a_period_that_cannot_be_shown_is_refused_with_the_typed_values(manager: AsyncTestClient) -> None:
    page = await manager.get("/app/dashboard?from=2026-03-15&to=2026-03-01&product=K%3Cb%3E1")
    assert page.status_code == 400
    assert "The period ends before it starts." in page.text
    assert 'value="2026-03-15"' in page.text and 'value="K&lt;b&gt;1"' in page.text
    htmx = await manager.get("/app/dashboard?period=5y", headers=HTMX)
    assert htmx.status_code == 400 and "Unknown period" in htmx.text


async def test_an_unknown_team_or_kind_is_refused(manager: AsyncTestClient) -> None:
    assert (await manager.get("/app/dashboard?team=999")).status_code == 400
    assert (await manager.get("/app/dashboard?kind=everything")).status_code == 400
    day_by_day = await manager.get("/app/dashboard?from=2024-01-01&to=2026-03-15&grain=day")
    assert day_by_day.status_code == 400 and "choose a longer grain" in day_by_day.text


async def test_each_nps_point_links_to_the_answers_behind_it(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard?from=2026-03-02&to={CURRENT.end}&grain=week")
    chart = page.text[page.text.index('id="chart-nps"') : page.text.index('id="chart-csat"')]
    points = re.findall(
        r'<a class="point-link" href="([^"]+)"[^>]*>(?:<circle[^>]*/>)?<circle[^>]*><title>([^<]+)</title>', chart
    )
    assert len(points) == 2
    for href, title in points:
        n = int(re.search(r"(\d+) answers", title).group(1))  # type: ignore[union-attr]
        listed = await manager.get(unescape(href))
        assert listed.status_code == 200
        assert f"NPS answers: {n}</h2>" in listed.text
    assert "95%" in points[0][1], "each point's tooltip gives its interval"


async def test_chart_has_a_title_a_description_and_a_table_of_its_numbers(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard/trend/nps?from=2026-02-09&to={CURRENT.end}&grain=week")
    assert page.status_code == 200
    svg = page.text[page.text.index('<svg class="chart-svg"') :]
    assert re.search(r"<title id=\"t-nps\">NPS</title>", svg)
    description = re.search(r'<desc id="d-nps">([^<]+)</desc>', svg)
    assert description and "NPS by week" in description.group(1) and "+25 last" in description.group(1)
    assert 'class="point series-0 small"' in svg, "weeks with fewer than 30 answers are drawn hollow"
    table = page.text[page.text.index("The numbers") :]
    assert "Week of 9 Mar 2026" in table and "n=8" in table and "n=0" in table, "empty weeks are listed too"


async def test_drill_down_lists_the_promoters_of_the_week(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard?{WEEK}")
    (href,) = [h for h in links(page.text, "/app/dashboard/responses") if "measure=promoters" in h][:1]
    assert parse_qs(urlparse(href).query)["from"] == [str(CURRENT.start)]
    listed = await manager.get(href)
    assert "Promoters (9–10): 4</h2>" in listed.text
    assert listed.text.count("NPS 9") + listed.text.count("NPS 10") == 4


async def test_topic_links_open_the_feedback_that_mentions_it(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard?{WEEK}")
    href = next(h for h in links(page.text, "topic=packaging"))
    listed = await manager.get(href)
    assert "topic “packaging”: 2</h2>" in listed.text
    assert "The parcel was late and the box was damaged." in listed.text
    assert "Please add gift wrapping" in listed.text


async def test_csv_export_has_every_filtered_row_with_its_order_customer_and_inbox(manager: AsyncTestClient) -> None:
    answer = await manager.get(f"/app/dashboard/responses.csv?{WEEK}&channel=web&measure=nps")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert sorted(int(r["nps"]) for r in rows) == [6, 7, 9, 10, 10], "O1, O2, O5, O6, O8"
    assert all(r["channel"] == "web" for r in rows)
    assert rows[0]["created_at"].endswith("+01:00"), "times in the shop's zone"
    first = rows[0]
    assert (first["order"], first["customer"], first["email"]) == ("dataset-O1", "O1", "o1@dataset.example")
    assert (first["team"], first["status"], first["topics"]) == ("Triage", "new", "delivery")
    support = list(
        csv.DictReader(io.StringIO((await manager.get(f"/app/dashboard/responses.csv?{WEEK}&measure=support")).text))
    )
    assert sorted((r["team"], r["status"]) for r in support) == [("Support", "new"), ("Support", "resolved")]
    assert sorted(r["support_csat"] for r in support) == ["2", "5"] and {r["csat"] for r in support} == {""}


async def test_compare_puts_two_channels_side_by_side(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard/compare?{WEEK}&by=channel&a=web&b=app")
    assert page.status_code == 200
    web, app = page.text.split('class="compare-side side-2"')
    assert "A: web" in web and ">+40<" in web, "O1 10, O2 9, O5 7, O6 6, O8 10: 3 promoters, 1 detractor of 5"
    assert "B: app" in app and ">+0<" in app
    assert 'id="chart-nps-compare"' in page.text and "web: NPS" in page.text and "app: NPS" in page.text


async def test_compare_by_team_names_the_teams(manager: AsyncTestClient) -> None:
    support, logistics = await team_id("support"), await team_id("logistics")
    page = await manager.get(f"/app/dashboard/compare?{WEEK}&by=team&a={support}&b={logistics}")
    assert page.status_code == 200
    assert "A: Support" in page.text and "B: Logistics" in page.text


async def test_compare_refuses_the_same_value_twice(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard/compare?{WEEK}&by=channel&a=web&b=web")
    assert page.status_code == 400
    assert "two different values" in page.text
    assert 'value="web"' in page.text


async def test_unknown_chart_is_not_found(manager: AsyncTestClient) -> None:
    assert (await manager.get("/app/dashboard/trend/profit")).status_code == 404


async def test_drill_down_refuses_an_unknown_measure(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard/responses?{WEEK}&measure=drop-table")
    assert page.status_code == 400 and "Unknown measure" in page.text
    assert (await manager.get(f"/app/dashboard/responses.csv?{WEEK}&measure=drop-table")).status_code == 400


async def test_retention_tab_shows_the_groups_with_their_sample_sizes(manager: AsyncTestClient) -> None:
    page = await manager.get(f"/app/dashboard/retention?{WEEK}")
    assert page.status_code == 200
    assert "by NPS group" in page.text and "promoters" in page.text
    assert "n=4" in page.text, "4 promoters answered in the week"
