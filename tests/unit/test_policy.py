"""The pure "when do we ask?" rules."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from surveys import policy

BERLIN = ZoneInfo("Europe/Berlin")
WINDOW = policy.SendWindow(9, 18)


def situation(**changes: object) -> policy.Situation:
    base = dict(
        now=datetime(2026, 3, 5, 10, 0, tzinfo=UTC),
        kind="order",
        expires_at=datetime(2026, 4, 5, tzinfo=UTC),
        unsubscribed=False,
        returned=False,
        cancelled=False,
        complaint_open=False,
        recently_asked=False,
        zone=BERLIN,
        window=WINDOW,
    )
    base.update(changes)
    return policy.Situation(**base)  # type: ignore[arg-type]


def test_slowest_category_decides_the_delay() -> None:
    delay = policy.delay_for(["kitchen", "Furniture"], {"furniture": 14}, default_days=3)
    assert delay == timedelta(days=14)


def test_unknown_category_uses_the_default_delay() -> None:
    assert policy.delay_for(["garden"], {"furniture": 14}, default_days=3) == timedelta(days=3)
    assert policy.delay_for([], {}, default_days=5) == timedelta(days=5)


def test_evening_delivery_is_asked_next_morning_local_time() -> None:
    delivered = datetime(2026, 3, 2, 19, 30, tzinfo=UTC)  # 20:30 in Berlin
    due = policy.first_ask_at(delivered, ["kitchen"], {}, 3, BERLIN, WINDOW)
    assert due == datetime(2026, 3, 6, 9, 0, tzinfo=BERLIN)


def test_night_moment_moves_to_the_same_morning() -> None:
    assert policy.into_window(datetime(2026, 3, 2, 3, 0, tzinfo=UTC), BERLIN, WINDOW) == datetime(
        2026, 3, 2, 9, 0, tzinfo=BERLIN
    )


def test_window_follows_daylight_saving_time() -> None:
    # 30 March 2026 is summer time in Berlin (UTC+2): 09:00 local is 07:00 UTC.
    due = policy.into_window(datetime(2026, 3, 30, 5, 0, tzinfo=UTC), BERLIN, WINDOW)
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland", "UTC"]),
)
def test_into_window_is_never_earlier_and_always_inside(moment: datetime, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    result = policy.into_window(moment, zone, WINDOW)
    assert result >= moment
    assert WINDOW.start <= result.astimezone(zone).hour < WINDOW.end
    assert result - moment <= timedelta(hours=24 - (WINDOW.end - WINDOW.start) + 1)


def test_each_skip_reason() -> None:
    assert policy.decide(situation(unsubscribed=True)) == policy.Skip("unsubscribed")
    assert policy.decide(situation(cancelled=True)) == policy.Skip("cancelled")
    assert policy.decide(situation(returned=True)) == policy.Skip("returned")
    assert policy.decide(situation(recently_asked=True)) == policy.Skip("fatigue")
    assert policy.decide(situation(now=datetime(2026, 4, 5, tzinfo=UTC))) == policy.Skip("expired")


def test_open_complaint_holds_the_invitation() -> None:
    decision = policy.decide(situation(complaint_open=True))
    assert isinstance(decision, policy.Wait)
    assert decision.reason == "complaint_open"


def test_complaint_still_open_at_expiry_is_the_recorded_reason() -> None:
    late = situation(complaint_open=True, now=datetime(2026, 4, 6, tzinfo=UTC))
    assert policy.decide(late) == policy.Skip("complaint_open")


def test_support_survey_ignores_fatigue() -> None:
    assert policy.decide(situation(kind="support", recently_asked=True)) == policy.Send()


def test_outside_send_window_waits_for_the_morning() -> None:
    decision = policy.decide(situation(now=datetime(2026, 3, 5, 22, 0, tzinfo=UTC)))
    assert decision == policy.Wait(datetime(2026, 3, 6, 9, 0, tzinfo=BERLIN), "outside_send_window")
