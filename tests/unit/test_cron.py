"""The calendar view of cron expressions agrees with croniter, which parses them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from croniter import croniter
from hypothesis import given
from hypothesis import strategies as st

from nsshutdown.schedule import cron

EXPRESSIONS = [
    "0 20 * * 1-5",
    "*/30 1-3 * * *",
    "0 8 * * 7",
    "0 8 1-7 * mon",
    "0 8 L * *",
    "0 8 1,L * *",
    "0 8 * * 5#2",
    "0 8 * * 1#1,5#3",
    "@daily",
    "@weekly",
    "* * * * *",
    "0 0 29 2 *",
    "15 2 1,15 * 3",
    "0 8 */2 * 1",
    "0 8 ? * sat,sun",
    "5 4 * jan-mar *",
]
walls = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 12, 31))


@given(expr=st.sampled_from(EXPRESSIONS), wall=walls)
def test_next_and_previous_fire_match_croniter(expr: str, wall: datetime) -> None:
    parsed = cron.parse(expr)
    assert next(parsed.fires_after(wall)) == croniter(expr, wall).get_next(datetime)
    # croniter's get_prev is strictly before its start; ours is "at or before"
    start = wall.replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert next(parsed.fires_back_from(wall)) == croniter(expr, start).get_prev(datetime)


@pytest.mark.parametrize(
    ("expr", "day", "runs"),
    [
        ("0 8 1 * 1", "2026-06-01", True),  # both restricted: the 1st (a Monday) ...
        ("0 8 1 * 1", "2026-06-08", True),  # ... or any Monday
        ("0 8 1 * 1", "2026-06-02", False),
        ("0 8 1 * *", "2026-06-08", False),  # only one restricted: it alone decides
        ("0 8 * * 5#2", "2026-06-12", True),
        ("0 8 * * 5#2", "2026-06-05", False),
        ("0 8 L * *", "2026-02-28", True),
        ("0 8 L * *", "2028-02-28", False),  # leap year: the 29th is last
    ],
    ids=str,
)
def test_day_matching(expr: str, day: str, runs: bool) -> None:
    assert cron.parse(expr).runs_on(datetime.fromisoformat(day).date()) is runs


def test_a_date_that_never_comes_gives_no_fire() -> None:
    assert next(cron.parse("0 0 30 2 *").fires_after(datetime(2026, 1, 1)), None) is None
