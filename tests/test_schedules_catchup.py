"""Catch-up policies and concurrency, planned at chosen instants (the clock is the test's)."""

from datetime import datetime, timedelta, timezone

import pytest

from jupyter_workflow.schedules.catchup import CLAIMED, GRACE_S, MAX_PLANNED, SKIPPED, plan_fires
from jupyter_workflow.store import ScheduleRecord

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def schedule(catch_up="skip", catch_up_limit=3, max_concurrent=5, cron="* * * * *", next_fire_at=T0,
             timezone_name="UTC") -> ScheduleRecord:
    return ScheduleRecord(
        id="s" * 32, name="every minute", workflow_path="w.workflow.json", content_hash=None, cron=cron,
        timezone=timezone_name, inputs={}, enabled=True, catch_up=catch_up, catch_up_limit=catch_up_limit,
        max_concurrent=max_concurrent, retries=0, notify={}, owner="ada", created_at=T0, updated_at=T0, version=1,
        next_fire_at=next_fire_at, last_fire_at=None,
    )


def fires(plan) -> list[tuple[datetime, str]]:
    return [(fire.scheduled_for, fire.status) for fire in plan.fires]


@pytest.mark.parametrize("policy", ["skip", "latest", "all"])
def test_nothing_is_owed_before_the_next_time(policy):
    plan = plan_fires(schedule(policy), minutes(-0.5), running=0)
    assert plan.fires == [] and plan.next_fire_at == T0


@pytest.mark.parametrize("policy", ["skip", "latest", "all"])
def test_a_time_owed_a_moment_ago_fires_under_every_policy(policy):
    plan = plan_fires(schedule(policy), T0 + timedelta(seconds=0.4), running=0)
    assert fires(plan) == [(T0, CLAIMED)]
    assert plan.next_fire_at == minutes(1)


def test_the_time_exactly_due_fires():
    assert fires(plan_fires(schedule(), T0, running=0)) == [(T0, CLAIMED)]


def test_skip_records_old_misses_and_fires_only_within_the_grace_period():
    at = minutes(3) + timedelta(seconds=GRACE_S - 30)  # 06:03 is 30 s late, 06:02 90 s late
    plan = plan_fires(schedule("skip"), at, running=0)
    assert fires(plan) == [(T0, SKIPPED), (minutes(1), SKIPPED), (minutes(2), SKIPPED), (minutes(3), CLAIMED)]
    assert "catch-up policy 'skip'" in plan.fires[0].reason and "210 s late" in plan.fires[0].reason
    assert plan.next_fire_at == minutes(4)


def test_skip_fires_nothing_when_even_the_newest_time_is_past_the_grace_period():
    plan = plan_fires(schedule("skip", cron="0 * * * *"), T0 + timedelta(seconds=GRACE_S + 1), running=0)
    assert fires(plan) == [(T0, SKIPPED)]
    assert plan.next_fire_at == minutes(60)


def test_latest_fires_the_newest_owed_time_once_however_late():
    plan = plan_fires(schedule("latest"), minutes(10) + timedelta(seconds=59), running=0)
    assert fires(plan) == [(minutes(n), SKIPPED) for n in range(10)] + [(minutes(10), CLAIMED)]
    assert "catch-up policy 'latest'" in plan.fires[0].reason


def test_all_makes_up_to_its_limit_oldest_first_and_skips_the_rest():
    plan = plan_fires(schedule("all", catch_up_limit=3), minutes(4), running=0)
    assert fires(plan) == [(minutes(n), CLAIMED) for n in range(3)] + [(minutes(3), SKIPPED), (minutes(4), SKIPPED)]
    assert plan.fires[-1].reason == "missed: 5 times were owed at once and catch-up policy 'all' makes up at most 3"


def test_a_time_owed_while_max_concurrent_runs_are_going_is_skipped():
    plan = plan_fires(schedule(max_concurrent=2), T0, running=2)
    assert fires(plan) == [(T0, SKIPPED)]
    assert plan.fires[0].reason == "2 runs of this schedule are still going"
    assert plan_fires(schedule(max_concurrent=1), T0, running=1).fires[0].reason == \
        "1 run of this schedule is still going"


def test_fires_of_one_plan_count_towards_max_concurrent():
    plan = plan_fires(schedule("all", catch_up_limit=10, max_concurrent=3), minutes(4), running=1)
    assert [status for _, status in fires(plan)] == [CLAIMED, CLAIMED, SKIPPED, SKIPPED, SKIPPED]
    assert plan.fires[2].reason == "3 runs of this schedule are still going"


def test_owed_times_follow_the_zone_across_the_spring_change():
    # Berlin, 29 March 2026: 02:30 does not exist and fires at 03:00 (01:00 UTC)
    start = datetime(2026, 3, 28, 1, 30, tzinfo=timezone.utc)  # 02:30 in Berlin (winter time)
    plan = plan_fires(schedule("all", catch_up_limit=5, cron="30 2 * * *", next_fire_at=start,
                               timezone_name="Europe/Berlin"), datetime(2026, 3, 30, 12, tzinfo=timezone.utc), 0)
    assert [time.astimezone(timezone.utc) for time, _ in fires(plan)] == [
        start, datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc), datetime(2026, 3, 30, 0, 30, tzinfo=timezone.utc)]


def test_a_very_long_outage_records_only_the_newest_owed_times():
    at = T0 + timedelta(minutes=MAX_PLANNED + 9)
    plan = plan_fires(schedule("latest"), at, running=0)
    assert len(plan.fires) == MAX_PLANNED and plan.fires[0].scheduled_for == minutes(10)
    assert plan.fires[-1].scheduled_for == at and plan.fires[-1].status == CLAIMED
    assert plan.next_fire_at == at + timedelta(minutes=1)
