"""The window engine, table-driven: open/closed rule, holidays, several windows, and DST days."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from nsshutdown.model import Desired, Reason
from nsshutdown.schedule import windows
from tests.unit.builders import local, rule

DOWN, UP = Desired.DOWN, Desired.UP
WINDOW, HOLIDAY, OUTSIDE = Reason.WINDOW, Reason.HOLIDAY, Reason.OUTSIDE_WINDOW

NIGHTS = [("0 20 * * 1-5", "0 8 * * 1-5")]  # weeknights, and Friday 20:00 to Monday 08:00
NIGHTLY = [("0 20 * * *", "0 8 * * *")]

# id: (zone, windows, holidays, at (local), desired, reason, next change at (local), to)
CASES = {
    "weeknight-evening": (
        "Europe/Madrid",
        NIGHTS,
        [],
        "2026-11-26T21:00",
        DOWN,
        WINDOW,
        "2026-11-27T08:00",
        UP,
    ),
    "weekday-daytime": (
        "Europe/Madrid",
        NIGHTS,
        [],
        "2026-11-26T12:00",
        UP,
        OUTSIDE,
        "2026-11-26T20:00",
        DOWN,
    ),
    "overnight-before-midnight": (
        "Europe/Madrid",
        NIGHTLY,
        [],
        "2026-11-26T23:59",
        DOWN,
        WINDOW,
        "2026-11-27T08:00",
        UP,
    ),
    "overnight-after-midnight": (
        "Europe/Madrid",
        NIGHTLY,
        [],
        "2026-11-27T03:00",
        DOWN,
        WINDOW,
        "2026-11-27T08:00",
        UP,
    ),
    "friday-night-spans-to-monday": (
        "Europe/Madrid",
        NIGHTS,
        [],
        "2026-11-27T22:00",
        DOWN,
        WINDOW,
        "2026-11-30T08:00",
        UP,
    ),
    "saturday-noon-is-down": (
        "Europe/Madrid",
        NIGHTS,
        [],
        "2026-11-28T12:00",
        DOWN,
        WINDOW,
        "2026-11-30T08:00",
        UP,
    ),
    "sunday-last-minute-is-down": (
        "Europe/Madrid",
        NIGHTS,
        [],
        "2026-11-29T23:59",
        DOWN,
        WINDOW,
        "2026-11-30T08:00",
        UP,
    ),
    "startup-instant-is-up": (
        "Europe/Madrid",
        NIGHTS,
        [],
        "2026-11-30T08:00",
        UP,
        OUTSIDE,
        "2026-11-30T20:00",
        DOWN,
    ),
    "shutdown-instant-is-down": (
        "Europe/Madrid",
        NIGHTS,
        [],
        "2026-11-30T20:00",
        DOWN,
        WINDOW,
        "2026-12-01T08:00",
        UP,
    ),
    "holiday-on-a-weekday": (
        "Europe/Madrid",
        NIGHTS,
        ["2026-12-24"],
        "2026-12-24T12:00",
        DOWN,
        HOLIDAY,
        "2026-12-25T08:00",
        UP,
    ),
    "holiday-only-rule-before": (
        "Europe/Madrid",
        [],
        ["2026-12-24"],
        "2026-12-23T12:00",
        UP,
        OUTSIDE,
        "2026-12-24T00:00",
        DOWN,
    ),
    "holiday-only-rule-during": (
        "Europe/Madrid",
        [],
        ["2026-12-24"],
        "2026-12-24T00:00",
        DOWN,
        HOLIDAY,
        "2026-12-25T00:00",
        UP,
    ),
    "consecutive-holidays-are-one-span": (
        "Europe/Madrid",
        [],
        ["2026-12-24", "2026-12-25"],
        "2026-12-24T10:00",
        DOWN,
        HOLIDAY,
        "2026-12-26T00:00",
        UP,
    ),
    "holiday-in-rule-zone-not-utc": (
        "Pacific/Auckland",
        [],
        ["2026-12-25"],
        "2026-12-25T00:30",
        DOWN,
        HOLIDAY,
        "2026-12-26T00:00",
        UP,
    ),
    "several-windows-lunch": (
        "Europe/Madrid",
        [*NIGHTLY, ("0 13 * * *", "0 14 * * *")],
        [],
        "2026-11-26T13:30",
        DOWN,
        WINDOW,
        "2026-11-26T14:00",
        UP,
    ),
    "several-windows-between": (
        "Europe/Madrid",
        [*NIGHTLY, ("0 13 * * *", "0 14 * * *")],
        [],
        "2026-11-26T14:30",
        UP,
        OUTSIDE,
        "2026-11-26T20:00",
        DOWN,
    ),
    "overlapping-windows-extend": (
        "Europe/Madrid",
        [*NIGHTLY, ("0 6 * * *", "0 10 * * *")],
        [],
        "2026-11-26T07:00",
        DOWN,
        WINDOW,
        "2026-11-26T10:00",
        UP,
    ),
    "tie-between-shutdown-and-startup-is-closed": (
        "Europe/Madrid",
        [("0 20 * * *", "0 20 * * 0")],
        [],
        "2026-11-29T19:00",
        DOWN,
        WINDOW,
        "2026-11-29T20:00",
        UP,
    ),
    "fixed-offset-zone-etc-gmt+1": (
        "Etc/GMT+1",
        NIGHTLY,
        [],
        "2026-01-05T20:30",
        DOWN,
        WINDOW,
        "2026-01-06T08:00",
        UP,
    ),
    "port-au-prince-spring-forward-day": (
        "America/Port-au-Prince",
        NIGHTLY,
        [],
        "2026-03-07T21:00",
        DOWN,
        WINDOW,
        "2026-03-08T08:00",
        UP,
    ),
}


Case = tuple[str, list[tuple[str, str]], list[str], str, Desired, Reason, str, Desired]


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_window_cases(case: Case) -> None:
    zone, wins, holidays, at, desired, reason, next_at, to = case
    r = rule(wins, timezone=zone, holidays=holidays)
    state = windows.evaluate(r, local(at, zone))
    assert (state.desired, state.reason) == (desired, reason)
    change = windows.next_transition(r, local(at, zone))
    assert change is not None
    assert (change.at, change.to) == (local(next_at, zone), to)


# --- daylight-saving days ---------------------------------------------------------------------

# id: (zone, window, day, expected (start, end, desired) periods over that day, local times)
DST = {
    # clocks jump 02:00 -> 03:00: a 02:30 shutdown fires at the jump, once
    "madrid-spring-shutdown-in-gap": (
        "Europe/Madrid", ("30 2 * * *", "0 9 * * *"), "2026-03-29",
        [("00:00+01:00", "03:00+02:00", UP), ("03:00+02:00", "09:00+02:00", DOWN),
         ("09:00+02:00", "24:00", UP)],
    ),
    # shutdown and startup both fall in the gap: they fire at the same instant, a tie: no flap
    "madrid-spring-whole-window-in-gap": (
        "Europe/Madrid", ("30 2 * * *", "45 2 * * *"), "2026-03-29",
        [("00:00+01:00", "24:00", UP)],
    ),
    # clocks go back 03:00 -> 02:00: 02:30 happens twice and fires only the first time
    "madrid-autumn-shutdown-in-repeated-hour": (
        "Europe/Madrid", ("30 2 * * *", "0 9 * * *"), "2026-10-25",
        [("00:00+02:00", "02:30+02:00", UP), ("02:30+02:00", "09:00+01:00", DOWN),
         ("09:00+01:00", "24:00", UP)],
    ),
    "madrid-autumn-startup-in-repeated-hour": (
        "Europe/Madrid", ("0 20 * * *", "30 2 * * *"), "2026-10-25",
        [("00:00+02:00", "02:30+02:00", DOWN), ("02:30+02:00", "20:00+01:00", UP),
         ("20:00+01:00", "24:00", DOWN)],
    ),
    "new-york-spring-shutdown-in-gap": (
        "America/New_York", ("30 2 * * *", "0 9 * * *"), "2026-03-08",
        [("00:00-05:00", "03:00-04:00", UP), ("03:00-04:00", "09:00-04:00", DOWN),
         ("09:00-04:00", "24:00", UP)],
    ),
    "new-york-autumn-shutdown-in-repeated-hour": (
        "America/New_York", ("30 1 * * *", "0 9 * * *"), "2026-11-01",
        [("00:00-04:00", "01:30-04:00", UP), ("01:30-04:00", "09:00-05:00", DOWN),
         ("09:00-05:00", "24:00", UP)],
    ),
    # Lord Howe moves by 30 minutes: 02:00 -> 02:30 in October
    "lord-howe-spring-shutdown-in-gap": (
        "Australia/Lord_Howe", ("15 2 * * *", "0 9 * * *"), "2026-10-04",
        [("00:00+10:30", "02:30+11:00", UP), ("02:30+11:00", "09:00+11:00", DOWN),
         ("09:00+11:00", "24:00", UP)],
    ),
    # ... and 02:00 -> 01:30 in April: 01:45 happens twice
    "lord-howe-autumn-shutdown-in-repeated-half-hour": (
        "Australia/Lord_Howe", ("45 1 * * *", "0 9 * * *"), "2026-04-05",
        [("00:00+11:00", "01:45+11:00", UP), ("01:45+11:00", "09:00+10:30", DOWN),
         ("09:00+10:30", "24:00", UP)],
    ),
    "port-au-prince-spring-shutdown-in-gap": (
        "America/Port-au-Prince", ("30 2 * * *", "0 9 * * *"), "2026-03-08",
        [("00:00-05:00", "03:00-04:00", UP), ("03:00-04:00", "09:00-04:00", DOWN),
         ("09:00-04:00", "24:00", UP)],
    ),
}  # fmt: skip


def _at(day: str, clock: str, zone: ZoneInfo) -> datetime:
    if clock == "24:00":
        return datetime.fromisoformat(day).replace(tzinfo=zone) + timedelta(days=1)
    return datetime.fromisoformat(f"{day}T{clock}")


@pytest.mark.parametrize(("zone", "window", "day", "periods"), list(DST.values()), ids=list(DST))
def test_dst_days_fire_once_and_never_crash(
    zone: str, window: tuple[str, str], day: str, periods: list[tuple[str, str, Desired]]
) -> None:
    tz = ZoneInfo(zone)
    r = rule([window], timezone=zone)
    start = _at(day, periods[0][0], tz)
    got = windows.timeline(r, start, _at(day, "24:00", tz))
    want = [(_at(day, a, tz), _at(day, b, tz), desired) for a, b, desired in periods]
    assert got == want


@pytest.mark.parametrize(
    ("zone", "second_pass", "desired"),
    [
        ("Europe/Madrid", "2026-10-25T02:45:00+01:00", DOWN),
        ("America/New_York", "2026-11-01T01:45:00-05:00", DOWN),
        ("Australia/Lord_Howe", "2026-04-05T01:50:00+10:30", DOWN),
    ],
    ids=["madrid", "new-york", "lord-howe"],
)
def test_second_pass_of_repeated_hour_sees_the_first_pass_fire(
    zone: str, second_pass: str, desired: Desired
) -> None:
    shutdown = {"Europe/Madrid": "30 2 * * *", "America/New_York": "30 1 * * *"}
    r = rule([(shutdown.get(zone, "45 1 * * *"), "0 9 * * *")], timezone=zone)
    assert windows.evaluate(r, datetime.fromisoformat(second_pass)).desired is desired


def test_a_rule_whose_state_never_changes_has_no_next_transition() -> None:
    r = rule(holidays=["2020-01-01"])  # only a holiday in the past
    at = local("2026-06-01T12:00", "Europe/Madrid")
    assert windows.evaluate(r, at).desired is UP
    assert windows.next_transition(r, at) is None


def test_yearly_holiday_beyond_many_months_is_found() -> None:
    r = rule(holidays=["2027-05-01"])
    change = windows.next_transition(r, local("2026-06-01T12:00", "Europe/Madrid"))
    assert change is not None
    assert change.at == local("2027-05-01T00:00", "Europe/Madrid")


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        windows.evaluate(rule(NIGHTLY), datetime(2026, 1, 1, 12))


def test_wall_to_instant_maps_a_skipped_time_to_the_jump() -> None:
    madrid = ZoneInfo("Europe/Madrid")
    got = windows.wall_to_instant(datetime(2026, 3, 29, 2, 30), madrid)
    assert got == datetime.fromisoformat("2026-03-29T03:00:00+02:00")


def test_a_thousand_namespaces_sharing_a_rule_is_fast() -> None:
    r = rule(NIGHTS, holidays=["2026-12-24"])
    at = local("2026-11-26T21:00", "Europe/Madrid")
    started = time.perf_counter()
    for _ in range(1000):
        windows.evaluate(r, at)
        windows.next_transition(r, at)
    assert time.perf_counter() - started < 0.5
