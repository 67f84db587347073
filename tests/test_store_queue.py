"""Queued runs and heartbeats in the store: a run stored for a worker, once per fire; processes that beat."""

import os
import socket
from datetime import datetime, timedelta, timezone

import pytest
from test_store import make_run

from jupyter_workflow.store import RunStore
from jupyter_workflow.store.models import Fire, Schedule

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def add_fire(store: RunStore) -> int:
    """A schedule with one fire that has no run yet; the fire's id."""
    with store._session.begin() as session:
        session.add(Schedule(id="s" * 32, name="demo", workflow_path="demo.workflow.json", content_hash=None,
                             cron="* * * * *", timezone="UTC", inputs={}, enabled=True, catch_up="skip",
                             catch_up_limit=10, max_concurrent=1, retries=0, notify={}, owner=None, created_at=T0,
                             updated_at=T0, version=1, next_fire_at=T0, last_fire_at=None))
        session.flush()  # the schedule before its fire
        fire = Fire(schedule_id="s" * 32, scheduled_for=T0, fired_at=T0, status="claimed", reason=None,
                    run_id=None, scheduler="test", notifications=[])
        session.add(fire)
        session.flush()
        return fire.id


def test_a_queued_run_has_no_process_and_is_not_recovered(store, tmp_path):
    run = make_run(tmp_path)
    assert store.enqueue(run)
    stored = store.get_run(run.run_id)
    assert (stored.status, stored.host, stored.pid, stored.fire_id) == ("queued", None, None, None)
    assert [node.status for node in stored.nodes] == ["pending"]
    assert store.recover_interrupted() == []
    assert store.get_run(run.run_id).status == "queued"


def test_a_fire_takes_one_run_only(store, tmp_path):
    fire_id = add_fire(store)
    first, second = make_run(tmp_path, "1" * 32), make_run(tmp_path, "2" * 32)
    assert store.enqueue(first, fire_id=fire_id)
    assert not store.enqueue(second, fire_id=fire_id)
    assert store.get_run(first.run_id).fire_id == fire_id
    assert [run.id for run in store.list_runs()[0]] == [first.run_id]
    with store._session() as session:
        fire = session.get(Fire, fire_id)
        assert (fire.run_id, fire.status) == (first.run_id, "queued")


def test_a_retry_keeps_the_fire_of_the_run_it_repeats(store, tmp_path):
    fire_id = add_fire(store)
    retry = make_run(tmp_path, "3" * 32)
    retry.fire_id = fire_id
    assert store.enqueue(retry)
    assert store.get_run(retry.run_id).fire_id == fire_id


def test_a_queued_run_is_cancelled_until_a_worker_claims_it(store, tmp_path):
    waiting, claimed = make_run(tmp_path, "4" * 32), make_run(tmp_path, "5" * 32)
    assert store.enqueue(claimed) and store.claim_next_run("w", 30).id == claimed.run_id
    assert store.enqueue(waiting)

    assert store.cancel_queued(waiting.run_id)
    cancelled = store.get_run(waiting.run_id)
    assert cancelled.status == "cancelled" and [node.status for node in cancelled.nodes] == ["cancelled"]
    assert [event.type for event in store.events(waiting.run_id)] == ["run.finished"]
    assert not store.cancel_queued(waiting.run_id)  # ended already
    assert not store.cancel_queued(claimed.run_id)  # a worker has it: cancelled where it runs
    assert store.get_run(claimed.run_id).status == "pending"


def test_heartbeats_note_the_process_its_last_beat_and_a_clean_stop(store):
    store.beat("scheduler-a", "scheduler", {"schedules": 3}, at=T0)
    store.beat("worker-a", "worker", at=T0 + timedelta(seconds=1))
    store.beat("scheduler-a", "scheduler", at=T0 + timedelta(seconds=5))
    beats = store.heartbeats()
    assert [beat.name for beat in beats] == ["scheduler-a", "worker-a"]
    scheduler = beats[0]
    assert (scheduler.host, scheduler.pid, scheduler.started_at, scheduler.last_beat_at, scheduler.details) == (
        socket.gethostname(), os.getpid(), T0, T0 + timedelta(seconds=5), {"schedules": 3})
    assert [beat.name for beat in store.heartbeats("worker")] == ["worker-a"]

    store.stop_beating("scheduler-a", at=T0 + timedelta(seconds=6))
    assert store.heartbeats("scheduler")[0].stopped_at == T0 + timedelta(seconds=6)
    store.beat("scheduler-a", "scheduler", at=T0 + timedelta(seconds=9))  # started again
    again = store.heartbeats("scheduler")[0]
    assert (again.started_at, again.stopped_at, again.details) == (T0 + timedelta(seconds=9), None, {})


def test_a_heartbeat_is_a_scheduler_or_a_worker(store):
    with pytest.raises(ValueError, match="not a 'server'"):
        store.beat("x", "server")
