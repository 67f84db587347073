"""Schedules in the store: checked settings, optimistic locking, fires claimed once each, even by racing schedulers."""

import threading
from datetime import datetime, timedelta, timezone

import pytest
from test_store import make_run

from jupyter_workflow.store import (
    AmbiguousScheduleId,
    AuditNote,
    InvalidSchedule,
    RunStore,
    ScheduleConflict,
    ScheduleNotFound,
)

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def every_minute(store: RunStore, **settings):
    return store.create_schedule(at=T0 - timedelta(seconds=30), **{
        "name": "every minute", "workflow_path": "/srv/demo.workflow.json", "cron": "* * * * *", **settings})


def test_a_new_schedule_has_its_defaults_and_first_time_owed(store):
    schedule = every_minute(store, inputs={"n": 3}, owner="ada")
    assert (schedule.version, schedule.enabled, schedule.catch_up, schedule.max_concurrent, schedule.timezone) == \
        (1, True, "latest", 1, "UTC")
    assert schedule.next_fire_at == T0 and schedule.last_fire_at is None
    assert len(schedule.id) == 32
    assert store.get_schedule(schedule.id) == schedule
    assert store.list_schedules() == [schedule]


def test_the_first_time_is_computed_in_the_schedule_zone(store):
    schedule = store.create_schedule(name="six in Berlin", workflow_path="/w.workflow.json", cron="0 6 * * *",
                                     timezone="Europe/Berlin", at=T0)
    assert schedule.next_fire_at == datetime(2026, 12, 2, 5, 0, tzinfo=timezone.utc)  # 06:00 CET


def test_every_wrong_setting_is_named_at_its_field(store):
    with pytest.raises(InvalidSchedule) as caught:
        store.create_schedule(name="", workflow_path="/w.workflow.json", cron="0 25 * * *", timezone="Mars/Base",
                              catch_up="sometimes", catch_up_limit=0, max_concurrent=-1, retries=1.5, inputs=[],
                              at=T0)
    pointers = {problem.pointer: problem.message for problem in caught.value.problems}
    assert set(pointers) == {"/name", "/cron", "/timezone", "/catch_up", "/catch_up_limit", "/max_concurrent",
                             "/retries", "/inputs"}
    assert "unknown time zone 'Mars/Base'" in pointers["/timezone"]
    assert "must be one of skip, latest, all" in pointers["/catch_up"]
    assert store.list_schedules() == []


def test_unknown_and_missing_settings_are_refused(store):
    with pytest.raises(InvalidSchedule) as caught:
        store.create_schedule(name="x", colour="blue", at=T0)
    assert {(p.pointer, p.message) for p in caught.value.problems} == {
        ("/colour", "is not a setting of a schedule"), ("/workflow_path", "is required"), ("/cron", "is required")}


def test_a_schedule_is_found_by_a_unique_prefix(store):
    schedules = [every_minute(store) for _ in range(20)]
    target = schedules[0]
    prefix = next(target.id[:n] for n in range(1, 33)
                  if sum(other.id.startswith(target.id[:n]) for other in schedules) == 1)
    assert store.get_schedule(prefix).id == target.id
    shared = next(char for char in "0123456789abcdef"  # 20 ids, 16 first characters: one is shared
                  if sum(other.id.startswith(char) for other in schedules) > 1)
    with pytest.raises(AmbiguousScheduleId, match=f"schedule id prefix '{shared}' matches several schedules"):
        store.get_schedule(shared)
    with pytest.raises(ScheduleNotFound, match="no schedule with id 'zz'"):
        store.get_schedule("zz")


def test_an_update_names_the_version_it_read(store):
    schedule = every_minute(store)
    updated = store.update_schedule(schedule.id, {"inputs": {"n": 4}, "max_concurrent": 2}, 1, at=T0)
    assert (updated.version, updated.inputs, updated.max_concurrent, updated.updated_at) == (2, {"n": 4}, 2, T0)
    assert updated.next_fire_at == schedule.next_fire_at  # timing unchanged
    with pytest.raises(ScheduleConflict, match="is at version 2, not 1"):
        store.update_schedule(schedule.id, {"inputs": {"n": 5}}, 1, at=T0)
    assert store.get_schedule(schedule.id).inputs == {"n": 4}


def test_an_update_is_checked_and_keeps_nothing_when_wrong(store):
    schedule = every_minute(store)
    with pytest.raises(InvalidSchedule, match="/cron"):
        store.update_schedule(schedule.id, {"cron": "every day"}, 1, at=T0)
    with pytest.raises(InvalidSchedule, match="/id: is not a setting"):
        store.update_schedule(schedule.id, {"id": "x"}, 1, at=T0)
    assert store.get_schedule(schedule.id) == schedule


def test_enabling_an_enabled_schedule_keeps_the_time_it_owes(store):
    schedule = every_minute(store)
    assert store.set_enabled(schedule.id, True, at=T0 + timedelta(seconds=0.5)).next_fire_at == T0
    assert [fire.scheduled_for for fire in store.claim_due_fires("s1", at=T0 + timedelta(seconds=0.6))] == [T0]


def test_changing_the_cron_or_zone_computes_the_next_time_again(store):
    schedule = every_minute(store)
    updated = store.update_schedule(schedule.id, {"cron": "0 6 * * *", "timezone": "Europe/Berlin"}, 1, at=T0)
    assert updated.next_fire_at == datetime(2026, 12, 2, 5, 0, tzinfo=timezone.utc)


def test_a_disabled_schedule_owes_nothing_and_owes_again_from_when_it_is_enabled(store):
    schedule = every_minute(store)
    disabled = store.set_enabled(schedule.id, False, at=T0)
    assert (disabled.enabled, disabled.next_fire_at, disabled.version) == (False, None, 2)
    assert store.claim_due_fires("s1", at=minutes(30)) == []
    enabled = store.set_enabled(schedule.id, True, expected_version=2, at=minutes(30) + timedelta(seconds=1))
    assert enabled.next_fire_at == minutes(31)
    with pytest.raises(ScheduleConflict):
        store.set_enabled(schedule.id, False, expected_version=2)


def test_claiming_records_the_fires_and_advances_the_next_time(store):
    schedule = every_minute(store)
    assert store.claim_due_fires("s1", at=T0 - timedelta(seconds=1)) == []
    fires = store.claim_due_fires("s1", at=T0 + timedelta(seconds=0.2))
    assert [(fire.scheduled_for, fire.status, fire.scheduler, fire.run_id) for fire in fires] == [
        (T0, "claimed", "s1", None)]
    assert store.claim_due_fires("s2", at=T0 + timedelta(seconds=0.5)) == []  # nothing owed twice
    after = store.get_schedule(schedule.id)
    assert (after.next_fire_at, after.last_fire_at) == (minutes(1), T0)
    assert store.list_fires(schedule.id) == fires


def test_missed_times_are_recorded_as_skipped_with_their_reason(store):
    schedule = every_minute(store, catch_up="latest")
    fires = store.claim_due_fires("s1", at=minutes(3) + timedelta(seconds=10))
    assert [fire.scheduled_for for fire in fires] == [minutes(3)]
    listed = store.list_fires(schedule.id)
    assert [(fire.scheduled_for, fire.status) for fire in listed] == [
        (minutes(3), "claimed"), (minutes(2), "skipped"), (minutes(1), "skipped"), (T0, "skipped")]
    assert "catch-up policy 'latest'" in listed[-1].reason
    assert len(store.list_fires(schedule.id, limit=2)) == 2


def test_runs_still_going_hold_back_new_fires(store, tmp_path):
    schedule = every_minute(store, max_concurrent=1)
    [fire] = store.claim_due_fires("s1", at=T0)
    assert store.enqueue(make_run(tmp_path, "1" * 32), fire_id=fire.id)
    assert store.running_count(schedule.id) == 1
    assert store.claim_due_fires("s1", at=minutes(1)) == []
    [held_back] = [fire for fire in store.list_fires(schedule.id) if fire.scheduled_for == minutes(1)]
    assert (held_back.status, held_back.reason) == ("skipped", "1 run of this schedule is still going")


def test_a_fire_that_could_not_make_its_run_is_marked_failed(store, tmp_path):
    schedule = every_minute(store)
    [fire] = store.claim_due_fires("s1", at=T0)
    assert store.fail_fire(fire.id, "the workflow cannot run: no such file")
    [failed] = store.list_fires(schedule.id)
    assert (failed.status, failed.reason) == ("failed", "the workflow cannot run: no such file")
    assert store.unfinished_fires(older_than=minutes(10)) == []


def test_claimed_fires_without_a_run_are_found_for_the_next_pass(store, tmp_path):
    every_minute(store)
    [fire] = store.claim_due_fires("s1", at=T0)
    assert store.unfinished_fires(older_than=T0 - timedelta(seconds=1)) == []
    assert store.unfinished_fires(older_than=T0) == [fire]
    store.enqueue(make_run(tmp_path, "1" * 32), fire_id=fire.id)
    assert store.unfinished_fires(older_than=T0) == []


def test_run_now_makes_a_claimed_fire_outside_the_cron(store):
    schedule = every_minute(store)
    fire = store.fire_now(schedule.id[:8], "ada", at=minutes(0.5))
    assert (fire.schedule_id, fire.scheduled_for, fire.status, fire.run_id) == (schedule.id, minutes(0.5), "claimed",
                                                                                None)
    assert "ada" in fire.reason
    assert store.get_schedule(schedule.id).next_fire_at == T0  # the cron's times are untouched


def test_removing_a_schedule_removes_its_fires(store):
    schedule = every_minute(store)
    store.claim_due_fires("s1", at=T0)
    store.delete_schedule(schedule.id)
    with pytest.raises(ScheduleNotFound):
        store.list_fires(schedule.id)
    assert store.list_schedules() == []
    assert store.unfinished_fires(older_than=minutes(1)) == []


def test_the_next_due_time_is_the_soonest_of_the_enabled_schedules(store):
    assert store.next_due_at() is None
    soon = every_minute(store)
    later = store.create_schedule(name="hourly", workflow_path="/w.workflow.json", cron="@hourly", at=T0)
    assert store.next_due_at() == T0
    store.set_enabled(soon.id, False)
    assert store.next_due_at() == later.next_fire_at == minutes(60)


def test_racing_schedulers_on_one_database_fire_each_time_once(store_url):
    stores = [RunStore(store_url) for _ in range(4)]
    try:
        schedules = [every_minute(stores[0], catch_up="all", catch_up_limit=100, max_concurrent=100)
                     for _ in range(5)]
        start = threading.Barrier(len(stores))
        claimed: list = []

        def compete(store, name):
            for minute in range(10):
                start.wait()
                claimed.extend(store.claim_due_fires(name, at=minutes(minute) + timedelta(seconds=1)))

        threads = [threading.Thread(target=compete, args=(store, f"scheduler-{n}")) for n, store in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        owed = {(schedule.id, minutes(minute)) for schedule in schedules for minute in range(10)}
        assert sorted((fire.schedule_id, fire.scheduled_for) for fire in claimed) == sorted(owed)
    finally:
        for store in stores:
            store.close()


def test_a_change_and_its_audit_note_are_stored_together(store):
    schedule = every_minute(store, note=AuditNote("ada", "schedule.create", None))
    with pytest.raises(ScheduleConflict):
        store.update_schedule(schedule.id, {"inputs": {}}, 7, note=AuditNote("bob", "schedule.update", schedule.id))
    store.fire_now(schedule.id, "ada", note=AuditNote("ada", "schedule.run_now", schedule.id))
    store.delete_schedule(schedule.id, note=AuditNote("ada", "schedule.delete", schedule.id))
    assert [(entry.user, entry.action) for entry in store.audit_log()] == [
        ("ada", "schedule.delete"), ("ada", "schedule.run_now"), ("ada", "schedule.create")]
