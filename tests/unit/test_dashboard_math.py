"""The dashboard's pure parts: periods and buckets in the shop's zone, the figures and their intervals, charts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from feedback.dashboard.charts import Line, bucket_label, line_chart
from feedback.dashboard.figures import Totals, nps_change, share_change
from feedback.dashboard.handling import median_of
from feedback.dashboard.periods import (
    InvalidPeriod,
    Period,
    buckets,
    check_grain,
    choose_period,
    shop_day,
    utc_bounds,
)
from feedback.dashboard.rollup import CLOSE_EDGES
from feedback.dashboard.segments import InvalidSegment, Segment, parse_segment

BERLIN = "Europe/Berlin"


def test_a_berlin_day_across_the_spring_change_is_23_hours_long() -> None:
    start, end = utc_bounds(Period(date(2026, 3, 29), date(2026, 3, 29)), BERLIN)
    assert start == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)


def test_the_shop_day_of_a_moment_follows_its_zone() -> None:
    assert shop_day(datetime(2026, 2, 28, 23, 30, tzinfo=UTC), BERLIN) == date(2026, 3, 1)
    assert shop_day(datetime(2026, 2, 28, 23, 30, tzinfo=UTC), "UTC") == date(2026, 2, 28)


def test_weeks_start_on_monday_and_are_cut_to_the_period() -> None:
    found = buckets(Period(date(2026, 3, 4), date(2026, 3, 17)), "week")
    assert [(b.start, b.first, b.last, b.partial) for b in found] == [
        (date(2026, 3, 2), date(2026, 3, 4), date(2026, 3, 8), True),
        (date(2026, 3, 9), date(2026, 3, 9), date(2026, 3, 15), False),
        (date(2026, 3, 16), date(2026, 3, 16), date(2026, 3, 17), True),
    ]
    assert [b.start for b in buckets(Period(date(2025, 12, 15), date(2026, 2, 2)), "month")] == [
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_the_previous_period_has_the_same_length() -> None:
    assert Period(date(2026, 3, 1), date(2026, 3, 31)).previous() == Period(date(2026, 1, 29), date(2026, 2, 28))


@pytest.mark.parametrize(
    ("preset", "start", "end", "message"),
    [
        ("", "", "2026-03-10", "first day"),
        ("", "10.03.2026", "", "Dates must look like"),
        ("", "2026-03-10", "2026-03-01", "ends before it starts"),
        ("", "2020-01-01", "2026-03-01", "at most"),
        ("forever", "", "", "Unknown period"),
    ],
)
def test_a_period_that_makes_no_sense_is_refused(preset: str, start: str, end: str, message: str) -> None:
    with pytest.raises(InvalidPeriod, match=message):
        choose_period(date(2026, 3, 16), preset, start, end)


def test_the_default_period_is_the_last_90_days() -> None:
    assert choose_period(date(2026, 3, 16)) == ("90d", Period(date(2025, 12, 17), date(2026, 3, 16)))


def test_a_start_date_alone_runs_to_today() -> None:
    chosen = choose_period(date(2026, 3, 16), "7d", "2026-03-01")
    assert chosen == ("custom", Period(date(2026, 3, 1), date(2026, 3, 16)))


def test_too_many_buckets_is_refused() -> None:
    with pytest.raises(InvalidPeriod, match="choose a longer grain"):
        check_grain(Period(date(2025, 1, 1), date(2026, 3, 1)), "day")
    assert check_grain(Period(date(2025, 1, 1), date(2026, 3, 1)), "week") == "week"


def test_nps_is_promoters_minus_detractors_in_percent() -> None:
    totals = Totals(nps_n=20, promoters=10, detractors=4)
    assert totals.nps == pytest.approx(30.0)
    assert totals.passives == 6
    assert Totals().nps is None and Totals().csat is None and Totals().response_rate is None


def test_the_nps_interval_narrows_as_answers_grow_and_stays_within_the_scale() -> None:
    one = Totals(nps_n=1, promoters=1).nps_interval
    many = Totals(nps_n=1000, promoters=500, detractors=200).nps_interval
    assert one is not None and many is not None
    assert one[0] < -40 and one[1] == 100.0, "a single promoter says little"
    assert 24.5 < many[0] < 25.5 and 34.5 < many[1] < 35.5, "1,000 answers: about ±4.8 points"
    everyone = Totals(nps_n=50, promoters=50).nps_interval
    assert everyone is not None and everyone[1] == 100.0 and everyone[0] < 100.0


def test_a_change_is_clear_only_beyond_the_noise() -> None:
    small = nps_change(Totals(nps_n=10, promoters=6, detractors=1), Totals(nps_n=10, promoters=4, detractors=2))
    assert small.delta == pytest.approx(30.0) and not small.clear
    large = nps_change(
        Totals(nps_n=2000, promoters=1000, detractors=300), Totals(nps_n=2000, promoters=800, detractors=400)
    )
    assert large.delta == pytest.approx(15.0) and large.clear
    csat = share_change(Totals(csat_n=400, csat_ok=320), Totals(csat_n=400, csat_ok=280), "csat", "csat_n")
    assert csat.delta == pytest.approx(10.0) and csat.clear
    assert not share_change(Totals(csat_n=5, csat_ok=5), Totals(csat_n=5, csat_ok=1), "csat", "csat_n").clear


def test_a_chart_leaves_a_gap_for_an_empty_bucket_and_marks_small_samples() -> None:
    periods = buckets(Period(date(2026, 3, 2), date(2026, 3, 22)), "week")
    data = [Totals(nps_n=40, promoters=20, detractors=10), Totals(), Totals(nps_n=3, promoters=3)]
    nps = Line("NPS", lambda t: t.nps, lambda t: t.nps_n, "nps", interval=lambda t: t.nps_interval)
    chart = line_chart(
        "nps", "NPS", periods, [(nps, data)], "week", fmt=lambda v: f"{v:+.0f}", n_label="answers",
        drill=lambda b, m, n: f"/drill/{b.start}/{m}", y_range=(-100.0, 100.0),
    )  # fmt: skip
    (series,) = chart.series
    assert series.path.count("M") == 2, "the empty week breaks the line"
    assert [p.small for p in series.points] == [False, False, True]
    assert series.points[1].value is None and series.points[1].text == "–"
    assert series.points[0].href == "/drill/2026-03-02/nps"
    assert series.band.count("Z") == 2, "a band for each run of points with answers"
    assert "+25 at first, +100 last" in chart.description
    assert bucket_label(periods[0], "week") == "Week of 2 Mar 2026"


def test_the_median_of_a_histogram_of_waiting_times() -> None:
    four_hours = CLOSE_EDGES.index(4.0)  # the bucket [4.0, 4.76) is number four_hours + 1
    assert median_of({}) == (None, 0)
    one, n = median_of({four_hours + 1: 1})
    assert n == 1 and 4.0 < (one or 0) < 4.76
    # 3 waits under a quarter hour and 4 of 4 hours or a little more: the 4th shortest is one of the latter
    middle, n = median_of({0: 3, four_hours + 1: 4})
    assert n == 7 and 4.0 <= (middle or 0) < 4.76
    # 2 waits under a quarter hour and 2 of 4 hours or a little more: the mean of the 2nd and 3rd shortest. The 2nd
    # is 3/4 into [0, 0.25): 0.1875 h. The 3rd is 1/4 into [4, 4.7568), a step of 2^¼, geometrically: 4 · 2^(1/16),
    # 4.1771 h. Their mean: 2.1823 h.
    even, _ = median_of({0: 2, four_hours + 1: 2})
    assert even == pytest.approx(2.1823, abs=1e-4)
    assert median_of({len(CLOSE_EDGES): 1})[0] == CLOSE_EDGES[-1], "beyond the last edge: at least that long"


def test_segment_values_are_checked() -> None:
    assert parse_segment({"kind": "review", "language": "DE", "team": "3"}, {3}) == Segment(
        kind="review", language="de", team=3
    )
    for bad in ({"kind": "everything"}, {"team": "x"}, {"team": "4"}, {"product": "x" * 129}):
        with pytest.raises(InvalidSegment):
            parse_segment(bad, {3})


def test_the_rollup_answers_one_of_category_or_team_the_rest_needs_the_feedback() -> None:
    assert Segment(kind="order", channel="web", category="garden").rollup == ("category", "garden")
    assert Segment(team=2, language="de").rollup == ("team", "2")
    assert Segment(category="garden", team=2).rollup is None
    assert Segment(product="K1").rollup is None
