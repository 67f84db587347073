"""Cron expressions: checked, evaluated in a time zone, and told in words.

An expression is standard cron's five fields (minute, hour, day of month, month, day of
week), one of the names ``@hourly``, ``@daily``, ``@midnight``, ``@weekly``, ``@monthly``,
``@yearly``, ``@annually``, or six fields whose first is the second (for schedules that fire
every few seconds). `cronsim <https://github.com/cuu508/cronsim>`_ computes the times, in
the schedule's IANA zone with Debian cron's rule across daylight-saving changes: a time
that a spring change skips fires right after the gap, a time that an autumn change repeats
fires once. Six-field expressions follow the wall clock without that rule.
"""

from datetime import datetime
from itertools import islice
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

NAMES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_UTC = ZoneInfo("UTC")
# A checked expression's times start from this instant: any fixed aware time would do.
_CHECKED_FROM = datetime(2000, 1, 1, tzinfo=_UTC)


class CronError(ValueError):
    """A cron expression or a time zone that cannot be used; the message says why."""


def _fields(expr: str) -> str:
    """The cron fields of ``expr``, with a name replaced by its five fields."""
    if not isinstance(expr, str) or not expr.strip():
        raise CronError("a cron expression is needed, such as '0 6 * * *' or '@daily'")
    text = " ".join(expr.split())
    if text.startswith("@"):
        if text.lower() not in NAMES:
            raise CronError(f"unknown cron name {text!r}: use one of {', '.join(NAMES)}")
        return NAMES[text.lower()]
    count = len(text.split())
    if count not in (5, 6):
        raise CronError(
            f"{text!r} has {count} field{'s' if count != 1 else ''}: a cron expression has 5 "
            "(minute hour day-of-month month day-of-week), or 6 with a leading seconds field"
        )
    return text


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):  # OSError: a folder of zones, a name too long
        raise CronError(f"unknown time zone {name!r}: use an IANA name such as 'Europe/Berlin' or 'UTC'") from None


def _times(expr: str, zone: ZoneInfo, after: datetime) -> CronSim:
    fields = _fields(expr)
    try:
        return CronSim(fields, after.astimezone(zone))
    except CronSimError as error:
        raise CronError(f"invalid cron expression {expr!r}: {error}") from None


def check_cron(expr: str) -> None:
    """Raise :class:`CronError` unless ``expr`` is a cron expression that fires at some time."""
    try:
        next(_times(expr, _UTC, _CHECKED_FROM))
    except StopIteration:
        raise CronError(f"the cron expression {expr!r} never fires") from None


def check_timezone(name: str) -> None:
    """Raise :class:`CronError` unless ``name`` is a known IANA time zone."""
    _zone(name)


def next_fire_times(expr: str, tz: str, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` times of ``expr`` strictly after ``after`` (aware), as aware times in zone ``tz``."""
    if after.tzinfo is None:
        raise ValueError(f"after must be a timezone-aware datetime, got {after.isoformat()}")
    return list(islice(_times(expr, _zone(tz), after), count))


def next_fire_time(expr: str, tz: str, after: datetime) -> datetime:
    """The first time of ``expr`` strictly after ``after`` (aware), in zone ``tz``."""
    times = next_fire_times(expr, tz, after, 1)
    if not times:
        raise CronError(f"the cron expression {expr!r} never fires after {after.isoformat()}")
    return times[0]


def describe(times: list[datetime]) -> list[str]:
    """Each time in words in its own zone: ``Tuesday 1 December 2026, 06:00 CET`` (seconds when not 0)."""
    return [_in_words(time) for time in times]


def _in_words(time: datetime) -> str:
    clock = f"{time:%H:%M:%S}" if time.second else f"{time:%H:%M}"
    return f"{time:%A} {time.day} {time:%B %Y}, {clock} {time.tzname()}"
