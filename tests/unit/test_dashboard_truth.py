"""Every tile of the dashboard page, for two weeks and for several selections, against the same figures counted
from the raw tables with SQL of its own (dashboard_truth_sql.py). The shop is replayed through the services
(dashboard_truth.py): invitations planned by the scheduler, sent, opened and answered on different days, support
CSAT, held reviews, several categories and channels."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import date, datetime
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient
from piccolo.conf.apps import Finder

from afterglow.settings import Settings
from app import create_app
from feedback.tables import FeedbackItem
from reviews.tables import Review
from surveys.tables import Invitation
from tests.unit.dashboard_truth import BEFORE_FIRST, BEFORE_LAST, FIRST, LAST, NOW, build_truth_shop, moments
from tests.unit.dashboard_truth_sql import Truth, funnel_by_day, raw, truth
from tests.unit.staff_fixtures import sign_in

pytestmark = [pytest.mark.usefixtures("shop"), pytest.mark.asyncio(loop_scope="module")]
SELECTIONS = [
    {},
    {"category": "kitchen"},
    {"channel": "app"},
    {"category": "garden", "channel": "web"},
    {"product": "G1"},  # not in the rollup: summed from the feedback on the fly
    {"team": "support"},
]


@pytest.fixture(autouse=True)
def empty_tables() -> None:
    """These tests only read: the shop is built once for the module."""


@pytest.fixture(autouse=True)
def clock(time_machine: object) -> None:
    time_machine.move_to(NOW, tick=False)  # type: ignore[attr-defined]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shop(migrated: None) -> None:
    for table in reversed(Finder().get_table_classes()):
        await table.delete(force=True)
    await build_truth_shop()


@pytest_asyncio.fixture(loop_scope="module")
async def manager(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert await sign_in(client, "max") == 303
        yield client


async def resolved(selection: dict[str, str]) -> dict[str, object]:
    """The selection with the team's id in place of its slug."""
    if "team" not in selection:
        return dict(selection)
    (team,) = await raw("SELECT id FROM team WHERE slug = {}", selection["team"])
    return {**selection, "team": team["id"]}


def tile(page: str, name: str) -> str:
    start = page.index(f'id="tile-{name}"')
    ends = [i for i in (page.find('class="tile dash-tile"', start), page.find("</section>", start)) if i > 0]
    return page[start : min(ends)]


def value(html: str) -> str:
    found = re.search(r'class="value"[^>]*>(?:<a [^>]*>)?([^<]+)<', html)
    assert found, html
    return found.group(1).strip()


def change(html: str) -> str:
    found = re.search(r'<span class="change[^"]*"[^>]*>([^<]*)</span>', html)
    return found.group(1) if found else ""


def check_change(html: str, now: float | None, before: float | None, fmt: str, unit: str) -> None:
    said = change(html)
    if now is None or before is None:
        assert said == "no earlier figure", said
    elif now == before:
        assert said in ("no change", f"{fmt % 0.0}{unit} vs before · within noise"), said
    else:
        assert f"{fmt % (now - before)}{unit} vs before" in said, (said, now, before)


def pct(part: int, whole: int) -> float | None:
    return Truth.pct(part, whole)


def shown(figure: float | None, fmt: str) -> str:
    return "–" if figure is None else fmt % figure


@pytest.mark.parametrize("selection", SELECTIONS, ids=lambda s: "&".join(f"{k}={v}" for k, v in s.items()) or "all")
async def test_every_tile_matches_the_raw_tables(manager: AsyncTestClient, selection: dict[str, str]) -> None:
    chosen = await resolved(selection)
    now, before = await truth(chosen, FIRST, LAST, NOW), await truth(chosen, BEFORE_FIRST, BEFORE_LAST, NOW)
    query = urlencode({"from": FIRST.isoformat(), "to": LAST.isoformat(), **chosen})
    answer = await manager.get(f"/app/dashboard?{query}")
    assert answer.status_code == 200
    page = answer.text
    assert now.items, "the selection has feedback to show"
    if not chosen:
        assert now.nps_n and now.support_n and now.rating_n and now.close_hours and now.overdue
        assert now.sent > now.sent_answered > 0

    nps = tile(page, "nps")
    assert value(nps) == shown(now.nps, "%+.0f")
    assert f"{now.nps_n} answers" in nps
    if now.nps_n:
        passives = now.nps_n - now.promoters - now.detractors
        assert f"{now.promoters} promoters" in nps and f"{passives} passives" in nps
        assert f"{now.detractors} detractors" in nps
        low, high = now.nps_band or (0.0, 0.0)
        assert f"95%: {low:+.0f} to {high:+.0f}" in nps
        assert "adjusted Wald" in nps and "not centred on the NPS" in nps
    check_change(nps, now.nps, before.nps, "%+.1f", " pts")

    csat = tile(page, "csat")
    assert value(csat) == shown(pct(now.csat_ok, now.csat_n), "%.0f%%")
    assert f"{now.csat_ok} satisfied</a> of {now.csat_n} answers" in csat
    check_change(csat, pct(now.csat_ok, now.csat_n), pct(before.csat_ok, before.csat_n), "%+.1f", " pts")

    support = tile(page, "support")
    if "category" in chosen or "product" in chosen:
        assert value(support) == "–" and "not about a product" in support
    else:
        assert value(support) == shown(pct(now.support_ok, now.support_n), "%.0f%%")
        assert f"{now.support_ok} satisfied</a> of {now.support_n} answers" in support

    rating = tile(page, "rating")
    assert value(rating) == shown(now.rating, "%.2f")
    assert f"{now.rating_n} published reviews" in rating
    check_change(rating, now.rating, before.rating, "%+.2f", " ★")

    sentiment = tile(page, "sentiment")
    for label in ("positive", "neutral", "negative", "mixed"):
        assert f">{shown(pct(getattr(now, label), now.labelled), '%.0f%%')} {label}</a>" in sentiment
    assert f"{now.labelled} of {now.items} with a sentiment" in sentiment
    negative_before = pct(before.negative, before.labelled)
    check_change(sentiment, pct(now.negative, now.labelled), negative_before, "%+.1f", " pts negative")

    response = tile(page, "response")
    if "team" in chosen:
        assert value(response) == "–"
    else:
        rate, rate_before = pct(now.sent_answered, now.sent), pct(before.sent_answered, before.sent)
        assert value(response) == shown(rate, "%.0f%%")
        said = f"{now.sent_answered} answered</a> of {now.sent} sent in the period ({now.sent_opened} opened)"
        assert said in response
        check_change(response, rate, rate_before, "%+.1f", " pts")

    inbox = tile(page, "inbox")
    assert f'>{now.open}</a> <span class="of">open' in inbox and f">{now.overdue} overdue<" in inbox

    close = tile(page, "close")
    assert f"{len(now.close_hours)} loops closed" in close
    figure = re.match(r"([\d.]+) ([hd])$", value(close))
    if now.median_close is None:
        assert value(close) == "–"
    else:
        assert figure, value(close)
        hours = float(figure.group(1)) * (24 if figure.group(2) == "d" else 1)
        assert hours == pytest.approx(now.median_close, rel=0.1, abs=0.1), "the rollup's median: within 10%"


@pytest.mark.parametrize("selection", [{}, {"category": "kitchen"}, {"channel": "app"}], ids=["all", "kitchen", "app"])
async def test_the_funnel_counts_each_step_on_the_day_it_happened(
    manager: AsyncTestClient, selection: dict[str, str]
) -> None:
    expected = await funnel_by_day(selection, FIRST, LAST)
    query = urlencode({"from": FIRST.isoformat(), "to": LAST.isoformat(), "grain": "day", **selection})
    page = (await manager.get(f"/app/dashboard/trend/funnel?{query}")).text
    table = page[page.index("<tbody>") : page.index("</tbody>")]
    shown_days = {}
    for label, cells in re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', table, re.S):
        day = datetime.strptime(label, "%a %d %b %Y").date()
        numbers = [int(n.replace(",", "")) for n in re.findall(r'<a href="[^"]*">([^<]+)</a>', cells)]
        shown_days[day] = dict(zip(("planned", "sent", "opened", "answered"), numbers, strict=True))
    assert shown_days == expected
    differ = [d for d in expected.values() if d["sent"] != d["answered"]]
    assert differ, "invitations are answered on other days than they were sent"


@pytest.mark.parametrize(
    ("measure", "counted"),
    [("nps", "nps_n"), ("csat", "csat_n"), ("support", "support_n"), ("reviews", "rating_n"),
     ("responded", "sent_answered")],
)  # fmt: skip
async def test_the_list_behind_a_tile_has_as_many_rows_as_it_counts(
    manager: AsyncTestClient, measure: str, counted: str
) -> None:
    expected = getattr(await truth({}, FIRST, LAST, NOW), counted)
    query = urlencode({"from": FIRST.isoformat(), "to": LAST.isoformat(), "measure": measure})
    listed = await manager.get(f"/app/dashboard/responses?{query}")
    assert re.search(rf": {expected}</h2>", listed.text), (measure, expected)


async def test_the_csv_adds_up_to_the_tiles(manager: AsyncTestClient) -> None:
    expected = await truth({}, FIRST, LAST, NOW)
    exported = await manager.get(f"/app/dashboard/responses.csv?from={FIRST}&to={LAST}")
    assert exported.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == expected.items
    csat = [int(r["csat"]) for r in rows if r["csat"]]
    assert (len(csat), sum(score >= 4 for score in csat)) == (expected.csat_n, expected.csat_ok)
    support = [int(r["support_csat"]) for r in rows if r["support_csat"]]
    assert (len(support), sum(score >= 4 for score in support)) == (expected.support_n, expected.support_ok)
    published = [int(r["rating"]) for r in rows if r["review_status"] == "published"]
    assert (len(published), sum(published)) == (expected.rating_n, expected.rating_sum)
    assert any(r["review_status"] == "held" for r in rows), "a held review is listed, marked as held"
    assert all(r["order"].startswith("T-") and r["email"].endswith("@truth.example") for r in rows if r["order"])


async def test_the_scheduler_stamps_each_invitation_with_the_moment_of_its_pass() -> None:
    passes = set(moments())
    planned = [row["created_at"] for row in await Invitation.select(Invitation.created_at)]
    assert len(planned) > 30, "orders and support contacts were planned"
    assert all(moment in passes for moment in planned), "not the database's clock"
    assert len({moment.date() for moment in planned}) > 10, "spread over the month, not all on one day"


async def test_held_reviews_are_left_out_of_the_rating() -> None:
    held = await Review.count().where(Review.status == "held")
    assert held >= 1, "a review broke a content rule and waits for a moderator"
    rated = await FeedbackItem.count().where(FeedbackItem.rating.is_not_null())
    assert rated == await Review.count(), "held reviews are feedback all the same (sentiment, topics, inbox)"
    everything = await truth({}, date(2026, 3, 1), LAST, NOW)
    assert everything.rating_n == rated - held
