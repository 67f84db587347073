"""Cron expressions: checking, names, a seconds field, time zones across both daylight-saving changes, words."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from jupyter_workflow.schedules.cron import (
    CronError,
    check_cron,
    check_timezone,
    describe,
    next_fire_time,
    next_fire_times,
)

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*parts, fold=0) -> datetime:
    return datetime(*parts, tzinfo=BERLIN, fold=fold)


@pytest.mark.parametrize("expr", ["0 6 1 * *", "*/5 * * * *", "30 2 * * MON-FRI", "@hourly", "@daily", "@weekly",
                                  "@monthly", "@yearly", "@annually", "@midnight", "@DAILY", "*/2 * * * * *",
                                  "  0   6 * * *  "])
def test_good_expressions_pass_the_check(expr):
    check_cron(expr)


@pytest.mark.parametrize(("expr", "words"), [
    ("", "a cron expression is needed"),
    ("0 6 * *", "has 4 fields"),
    ("0 0 6 * * * *", "has 7 fields"),
    ("61 * * * *", "invalid cron expression '61 * * * *'"),
    ("0 25 * * *", "invalid cron expression"),
    ("0 0 30 2 *", "invalid cron expression"),
    ("@fortnightly", "unknown cron name '@fortnightly'"),
    ("a b c d e", "invalid cron expression"),
])
def test_bad_expressions_are_refused_with_a_reason(expr, words):
    with pytest.raises(CronError, match=words.replace("*", r"\*")):
        check_cron(expr)


def test_time_zones_are_iana_names():
    check_timezone("Europe/Berlin")
    check_timezone("UTC")
    for name in ("Mars/Olympus", "", "../etc/passwd"):
        with pytest.raises(CronError, match="unknown time zone"):
            check_timezone(name)


def test_names_mean_their_five_fields():
    after = datetime(2026, 12, 1, 6, 30, tzinfo=timezone.utc)
    assert next_fire_time("@hourly", "UTC", after) == datetime(2026, 12, 1, 7, tzinfo=timezone.utc)
    assert next_fire_time("@daily", "UTC", after) == next_fire_time("@midnight", "UTC", after) \
        == datetime(2026, 12, 2, tzinfo=timezone.utc)
    assert next_fire_time("@weekly", "UTC", after) == datetime(2026, 12, 6, tzinfo=timezone.utc)  # a Sunday
    assert next_fire_time("@monthly", "UTC", after) == datetime(2027, 1, 1, tzinfo=timezone.utc)
    assert next_fire_time("@yearly", "UTC", after) == next_fire_time("@annually", "UTC", after) \
        == datetime(2027, 1, 1, tzinfo=timezone.utc)


def test_times_are_strictly_after_and_in_the_schedule_zone():
    after = berlin(2026, 12, 1, 6, 0)
    times = next_fire_times("0 6 * * *", "Europe/Berlin", after, 3)
    assert times == [berlin(2026, 12, 2, 6), berlin(2026, 12, 3, 6), berlin(2026, 12, 4, 6)]
    assert all(time.tzinfo == BERLIN for time in times)
    # the same instant given in UTC: the answer is the same
    assert next_fire_times("0 6 * * *", "Europe/Berlin", after.astimezone(timezone.utc), 3) == times


def test_a_seconds_field_fires_every_few_seconds():
    after = datetime(2026, 12, 1, 6, 0, 0, 500_000, tzinfo=timezone.utc)
    assert next_fire_times("*/2 * * * * *", "UTC", after, 3) == [
        datetime(2026, 12, 1, 6, 0, second, tzinfo=timezone.utc) for second in (2, 4, 6)]


def test_a_time_skipped_in_spring_fires_right_after_the_gap():
    # 29 March 2026: Berlin's clocks go from 02:00 to 03:00, so 02:30 does not exist
    times = next_fire_times("30 2 * * *", "Europe/Berlin", berlin(2026, 3, 28, 12), 2)
    assert times == [berlin(2026, 3, 29, 3, 0), berlin(2026, 3, 30, 2, 30)]


def test_a_time_repeated_in_autumn_fires_once():
    # 25 October 2026: Berlin's clocks go from 03:00 back to 02:00, so 02:30 happens twice
    times = next_fire_times("30 2 * * *", "Europe/Berlin", berlin(2026, 10, 24, 12), 2)
    assert times == [berlin(2026, 10, 25, 2, 30), berlin(2026, 10, 26, 2, 30)]
    assert times[0].utcoffset().total_seconds() == 2 * 3600  # the first 02:30, still summer time


def test_hourly_schedules_fire_in_both_repeated_hours():
    times = next_fire_times("0 * * * *", "Europe/Berlin", berlin(2026, 10, 25, 1, 30), 3)
    assert [time.astimezone(timezone.utc).hour for time in times] == [0, 1, 2]
    assert [time.hour for time in times] == [2, 2, 3]


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        next_fire_times("@daily", "UTC", datetime(2026, 12, 1), 1)


def test_times_in_words_name_the_day_date_clock_and_zone():
    assert describe([berlin(2026, 12, 1, 6), berlin(2026, 7, 4, 18, 5, 30)]) == [
        "Tuesday 1 December 2026, 06:00 CET", "Saturday 4 July 2026, 18:05:30 CEST"]
