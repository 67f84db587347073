"""The scheduler's passes on a real SQLite file and real workflow files: fires become queued runs, once each."""

import threading
from datetime import datetime, timedelta, timezone

import pytest
from labsession import wait_until
from notebook_factory import make_notebook, write_workflow

from jupyter_workflow.config import WorkflowConfig
from jupyter_workflow.model.spec import content_hash, read_document
from jupyter_workflow.schedules.scheduler import UNFINISHED_AFTER_S, Scheduler
from jupyter_workflow.store import RunStore

T0 = datetime(2026, 12, 1, 6, 0, tzinfo=timezone.utc)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.fixture
def settings(store_url, tmp_path):
    return WorkflowConfig(db_url=store_url, runs_dir=str(tmp_path / "runs"), scheduler_poll_s=0.2)


@pytest.fixture
def workflow(tmp_path):
    make_notebook(tmp_path / "double.ipynb", "x: int = 1", "record('y', x * 2)")
    return write_workflow(tmp_path / "double.workflow.json", {
        "format": "jupyter-workflow/1", "inputs": {"x": {"type": "integer", "default": 1}},
        "nodes": {"a": {"notebook": "double.ipynb", "parameters": {"x": {"input": "x"}}}}})


def every_minute(store, workflow, **settings):
    return store.create_schedule(at=T0 - timedelta(seconds=1), **{
        "name": "double", "workflow_path": str(workflow), "cron": "* * * * *", "inputs": {"x": 21},
        "owner": "ada", **settings})


def test_a_pass_queues_one_run_per_fire_with_the_schedule_inputs_and_owner(store, settings, workflow):
    schedule = every_minute(store, workflow)
    scheduler = Scheduler(store, settings, name="s1")
    [fire] = scheduler.run_pass(at=T0 + timedelta(seconds=0.3))
    [stored] = store.list_fires(schedule.id)
    assert (stored.id, stored.status) == (fire.id, "queued")
    run = store.get_run(stored.run_id)
    assert (run.status, run.trigger, run.user, run.inputs, run.fire_id) == ("queued", "schedule", "ada", {"x": 21},
                                                                             fire.id)
    assert run.workflow_path == str(workflow)
    assert scheduler.run_pass(at=T0 + timedelta(seconds=0.5)) == []  # nothing owed twice


def test_the_file_is_read_at_fire_time_unless_a_version_is_pinned(store, settings, workflow, tmp_path):
    pinned_document = read_document(workflow.read_bytes(), str(workflow))
    pinned = store.save_version(pinned_document, "double", "ada")
    follows = every_minute(store, workflow)
    keeps = every_minute(store, workflow, name="pinned", content_hash=pinned.content_hash)
    changed = dict(pinned_document, title="Doubled, as changed")
    write_workflow(workflow, changed)
    Scheduler(store, settings).run_pass(at=T0)
    [following_fire], [pinned_fire] = store.list_fires(follows.id), store.list_fires(keeps.id)
    assert store.get_run(following_fire.run_id).content_hash == content_hash(changed)
    assert store.get_run(pinned_fire.run_id).content_hash == pinned.content_hash


def test_a_workflow_that_cannot_load_fails_its_fire_with_the_reason(store, settings, tmp_path):
    broken = write_workflow(tmp_path / "broken.workflow.json", {"format": "jupyter-workflow/1",
                                                                "nodes": {"a": {"notebook": "missing.ipynb"}}})
    schedule = every_minute(store, broken)
    gone = every_minute(store, tmp_path / "gone.workflow.json", name="gone")
    Scheduler(store, settings).run_pass(at=T0)
    [fire] = store.list_fires(schedule.id)
    assert (fire.status, fire.run_id) == ("failed", None)
    assert "the workflow cannot run" in fire.reason and "missing.ipynb" in fire.reason
    [missing] = store.list_fires(gone.id)
    assert missing.status == "failed" and "cannot read the file" in missing.reason
    assert store.list_runs()[0] == []


def test_inputs_the_workflow_refuses_fail_the_fire(store, settings, workflow):
    schedule = every_minute(store, workflow, inputs={"x": "many"})
    Scheduler(store, settings).run_pass(at=T0)
    [fire] = store.list_fires(schedule.id)
    assert fire.status == "failed" and "/x" in fire.reason


def test_a_fire_whose_scheduler_died_before_its_run_gets_it_from_another(store, settings, workflow):
    schedule = every_minute(store, workflow)
    [orphan] = store.claim_due_fires("died", at=T0)  # claimed, then the process ended
    other = Scheduler(store, settings, name="s2")
    assert other.run_pass(at=T0 + timedelta(seconds=UNFINISHED_AFTER_S - 1)) == []
    assert [fire.id for fire in other.run_pass(at=T0 + timedelta(seconds=UNFINISHED_AFTER_S))] == [orphan.id]
    [fire] = store.list_fires(schedule.id)
    assert fire.status == "queued" and store.get_run(fire.run_id).fire_id == orphan.id


def test_a_run_now_fire_gets_its_run_at_once(store, settings, workflow):
    schedule = every_minute(store, workflow)
    fire = store.fire_now(schedule.id, "grace", at=minutes(0.5))
    run_id = Scheduler(store, settings).make_run(fire)
    [stored] = store.list_fires(schedule.id)
    assert (stored.id, stored.status, stored.run_id) == (fire.id, "queued", run_id)
    assert store.get_run(run_id).user == "ada"  # the schedule's owner; the fire's reason names who asked
    assert Scheduler(store, settings).make_run(fire) is None  # a fire has one run


def test_serving_fires_on_time_beats_and_stops_cleanly(store, settings, workflow, store_url):
    schedule = store.create_schedule(name="every second", workflow_path=str(workflow), cron="* * * * * *",
                                     max_concurrent=100)
    stop = threading.Event()
    scheduler = Scheduler(RunStore(store_url), settings, name="serving")
    thread = threading.Thread(target=scheduler.serve, args=(stop,))
    thread.start()
    try:
        def queued():
            fires = [fire for fire in store.list_fires(schedule.id) if fire.status == "queued"]
            return fires if len(fires) >= 3 else None

        fires = wait_until(queued, 20, "three fires with their runs")
        assert all(fire.fired_at >= fire.scheduled_for for fire in fires)  # never early (lateness: see the bench)
        assert len({fire.scheduled_for for fire in fires}) == len(fires)
        [beat] = store.heartbeats("scheduler")
        assert (beat.name, beat.stopped_at) == ("serving", None)
    finally:
        stop.set()
        thread.join(10)
        scheduler.store.close()
    assert not thread.is_alive()
    assert store.heartbeats("scheduler")[0].stopped_at is not None


def test_the_wait_runs_to_the_next_owed_time_at_most_the_poll(store, settings, workflow):
    clock = [T0 - timedelta(seconds=10)]
    scheduler = Scheduler(store, settings, clock=lambda: clock[0])
    assert scheduler.wait_s() == settings.scheduler_poll_s  # no schedule
    every_minute(store, workflow)
    assert scheduler.wait_s() == settings.scheduler_poll_s
    clock[0] = T0 - timedelta(seconds=0.1)
    assert scheduler.wait_s() == pytest.approx(0.1)
