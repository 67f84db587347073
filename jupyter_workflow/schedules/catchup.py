"""Which owed times of a schedule fire, and which are skipped and why: catch-up and concurrency.

A schedule owes every time of its cron from its ``next_fire_at`` up to now. While a
scheduler runs, that is one time, a moment ago, and it fires. After a while with no
scheduler up, several are owed, and the schedule's ``catch_up`` policy decides:

- ``skip``: only a time owed for at most :data:`GRACE_S` seconds fires; older ones are skipped;
- ``latest``: the newest owed time fires, the older ones are skipped;
- ``all``: up to ``catch_up_limit`` owed times fire, oldest first; the rest are skipped.

Then ``max_concurrent``: a time that would fire while that many runs of the schedule are
queued or going is skipped instead. Every skipped time is recorded as a fire with its
reason, so that a missed time is never silent. :func:`plan_fires` is pure: it reads the
clock only through its ``at``.
"""

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from jupyter_workflow.schedules.cron import next_fire_time

if TYPE_CHECKING:
    from jupyter_workflow.store.records import ScheduleRecord

CATCH_UP_POLICIES = ("skip", "latest", "all")
GRACE_S = 60  # how late a time may still fire under the "skip" policy
MAX_PLANNED = 1000  # the most owed times one plan records; older ones are skipped without a record

# What a fire is: claimed (its run is being made), skipped (none will be), failed (its
# workflow could not be loaded), queued (its run waits for a worker: see RunStore.enqueue).
CLAIMED, SKIPPED, FAILED = "claimed", "skipped", "failed"


@dataclass(frozen=True)
class PlannedFire:
    """An owed time and what happens to it: ``claimed`` to run, or ``skipped`` with a reason."""

    scheduled_for: datetime
    status: str
    reason: str | None = None


@dataclass
class Plan:
    """The fires to record, oldest first, and the schedule's next owed time after them."""

    fires: list[PlannedFire] = field(default_factory=list)
    next_fire_at: datetime | None = None


def owed_times(schedule: "ScheduleRecord", at: datetime) -> tuple[list[datetime], datetime]:
    """The schedule's times from ``next_fire_at`` up to ``at`` (the newest :data:`MAX_PLANNED`), and the first after."""
    owed: deque[datetime] = deque(maxlen=MAX_PLANNED)
    time = schedule.next_fire_at
    while time <= at:
        owed.append(time)
        time = next_fire_time(schedule.cron, schedule.timezone, time)
    return list(owed), time


def _missed(time: datetime, at: datetime, rule: str) -> str:
    late = (at - time).total_seconds()
    return f"missed: no scheduler ran at its time ({late:.0f} s late; catch-up policy {rule})"


def _catch_up(schedule: "ScheduleRecord", owed: list[datetime], at: datetime) -> list[PlannedFire]:
    """The owed times as the catch-up policy has them: each claimed, or skipped with its reason."""
    policy = schedule.catch_up
    if policy == "skip":
        grace = timedelta(seconds=GRACE_S)
        return [PlannedFire(time, CLAIMED) if at - time <= grace else
                PlannedFire(time, SKIPPED, _missed(time, at, f"'skip' fires only within {GRACE_S} s"))
                for time in owed]
    if policy == "latest":
        return [PlannedFire(time, SKIPPED, _missed(time, at, "'latest' fires only the newest owed time"))
                for time in owed[:-1]] + [PlannedFire(owed[-1], CLAIMED)]
    if policy == "all":
        limit = schedule.catch_up_limit
        return [PlannedFire(time, CLAIMED) if index < limit else
                PlannedFire(time, SKIPPED, f"missed: {len(owed)} times were owed at once and catch-up "
                                           f"policy 'all' makes up at most {limit}")
                for index, time in enumerate(owed)]
    raise ValueError(f"unknown catch-up policy {policy!r}: use one of {', '.join(CATCH_UP_POLICIES)}")


def _still_going(running: int) -> str:
    return f"{running} run{'s' if running != 1 else ''} of this schedule {'are' if running != 1 else 'is'} still going"


def _within_concurrency(planned: list[PlannedFire], max_concurrent: int, running: int) -> list[PlannedFire]:
    """``planned`` with the claimed fires beyond ``max_concurrent`` going runs skipped instead."""
    result = []
    for fire in planned:
        if fire.status == CLAIMED:
            if running >= max_concurrent:
                fire = PlannedFire(fire.scheduled_for, SKIPPED, _still_going(running))
            else:
                running += 1
        result.append(fire)
    return result


def plan_fires(schedule: "ScheduleRecord", at: datetime, running: int) -> Plan:
    """What to record for ``schedule`` at ``at``, with ``running`` of its runs queued or going.

    An empty plan with the same ``next_fire_at`` when nothing is owed yet (or the schedule
    has no next time).
    """
    if schedule.next_fire_at is None or schedule.next_fire_at > at:
        return Plan(next_fire_at=schedule.next_fire_at)
    owed, next_time = owed_times(schedule, at)
    return Plan(_within_concurrency(_catch_up(schedule, owed, at), schedule.max_concurrent, running), next_time)
