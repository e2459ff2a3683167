"""Properties of the window engine over random rules, zones and instants (DST zones included)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from nsshutdown.schedule import windows
from nsshutdown.schedule.config import Rule
from tests.unit.builders import rule

ZONES = [
    "UTC",
    "Europe/Madrid",
    "America/New_York",
    "Australia/Lord_Howe",
    "Etc/GMT+1",
    "America/Port-au-Prince",
    "Asia/Kolkata",
]
# Fire times inside the usual DST change hours (01:00-03:00) are deliberate.
CRONS = [
    "0 20 * * 1-5",
    "0 8 * * 1-5",
    "30 2 * * *",
    "45 1 * * *",
    "15 2 * * 0",
    "0 0 * * *",
    "0 22 * * 5",
    "0 6 * * 1",
    "*/30 1-3 * * *",
    "0 13 1 * *",
]

windows_strategy = st.lists(
    st.tuples(st.sampled_from(CRONS), st.sampled_from(CRONS)).filter(lambda w: w[0] != w[1]),
    max_size=3,
)
holidays_strategy = st.lists(
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)), max_size=4
)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1),
    max_value=datetime(2027, 6, 30),
    timezones=st.just(UTC),
)


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    wins = draw(windows_strategy)
    holidays = draw(holidays_strategy)
    if not wins and not holidays:
        holidays = [date(2026, 12, 25)]
    return rule(wins, timezone=draw(st.sampled_from(ZONES)), holidays=[str(d) for d in holidays])


@given(r=rules(), at=instants, fractions=st.lists(st.floats(0, 1, exclude_max=True), max_size=8))
def test_state_holds_until_next_transition_then_flips(
    r: Rule, at: datetime, fractions: list[float]
) -> None:
    before = windows.evaluate(r, at).desired
    change = windows.next_transition(r, at)
    if change is None:
        end = at + windows.HORIZON - timedelta(seconds=1)
        assert all(windows.evaluate(r, at + f * (end - at)).desired is before for f in fractions)
        return
    assert change.at > at
    assert change.to is not before
    assert windows.evaluate(r, change.at).desired is change.to
    last_before = change.at - timedelta(microseconds=1)
    for f in [*fractions, 1.0]:
        sample = min(at + f * (change.at - at), last_before)  # f * delta rounds to microseconds
        assert windows.evaluate(r, sample).desired is before


@given(r=rules(), at=instants, zone=st.sampled_from(ZONES))
def test_evaluation_is_deterministic_and_zone_independent(r: Rule, at: datetime, zone: str) -> None:
    first = (windows.evaluate(r, at), windows.next_transition(r, at))
    windows._evaluate.cache_clear()
    windows._next_transition.cache_clear()
    same_instant_elsewhere = at.astimezone(ZoneInfo(zone))
    again = (
        windows.evaluate(r, same_instant_elsewhere),
        windows.next_transition(r, same_instant_elsewhere),
    )
    assert first == again


@given(r=rules(), at=instants)
def test_timeline_periods_are_contiguous_and_alternate(r: Rule, at: datetime) -> None:
    end = at + timedelta(days=8)
    periods = windows.timeline(r, at, end)
    assert periods[0][0] == at
    assert periods[-1][1] == end
    for (_, first_end, first), (second_start, _, second) in itertools.pairwise(periods):
        assert first_end == second_start
        assert first is not second
