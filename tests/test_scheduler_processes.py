"""``jupyter workflow scheduler`` as real processes on one SQLite file: each owed time fires once, clean stops."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from labsession import wait_until
from notebook_factory import make_notebook, write_workflow

from jupyter_workflow.schedules.cron import next_fire_times
from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels  # scheduler processes (no kernel: the queued runs are executed by no one here)

JUPYTER = Path(sys.executable).parent / "jupyter"
EVERY_2_S = "*/2 * * * * *"


@pytest.fixture
def store(workflow_home):
    store = RunStore(workflow_home.db_url)
    yield store
    store.close()


@pytest.fixture
def workflow(tmp_path):
    make_notebook(tmp_path / "double.ipynb", "x: int = 1", "record('y', x * 2)")
    return write_workflow(tmp_path / "double.workflow.json", {
        "format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "double.ipynb"}}})


def start_scheduler(tmp_path: Path, db_url: str, name: str) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"{name}.log"
    with log.open("w") as output:
        process = subprocess.Popen([str(JUPYTER), "workflow", "--db", db_url, "scheduler", "--name", name],
                                   stdout=output, stderr=subprocess.STDOUT)
    return process, log


def stop(process: subprocess.Popen, log: Path) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(30) == 0, log.read_text()


def every_2_s(store: RunStore, workflow: Path, name: str):
    return store.create_schedule(name=name, workflow_path=str(workflow), cron=EVERY_2_S, catch_up="all",
                                 catch_up_limit=100, max_concurrent=1000)


def queued_fires(store: RunStore, schedule_id: str) -> list:
    return [fire for fire in store.list_fires(schedule_id, limit=1000) if fire.status == "queued"]


def test_the_daemon_queues_runs_and_stops_cleanly_on_sigterm(store, workflow, workflow_home, tmp_path):
    schedule = every_2_s(store, workflow, "double")
    process, log = start_scheduler(tmp_path, workflow_home.db_url, "daemon")
    try:
        wait_until(lambda: len(queued_fires(store, schedule.id)) >= 2, 60, "two queued runs")
        [beat] = store.heartbeats("scheduler")
        assert (beat.name, beat.pid, beat.stopped_at) == ("daemon", process.pid, None)
    finally:
        stop(process, log)
    runs, _ = store.list_runs()
    assert len(runs) >= 2 and {run.status for run in runs} == {"queued"}
    assert {run.trigger for run in runs} == {"schedule"}
    assert store.heartbeats("scheduler")[0].stopped_at is not None
    assert "Traceback" not in log.read_text()


def test_a_wrong_poll_is_refused_with_exit_code_2(workflow_home):
    result = subprocess.run([str(JUPYTER), "workflow", "scheduler", "--poll", "0"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr == "jupyter workflow: --poll must be a number of seconds above 0, not 0.0\n"


def test_two_schedulers_fire_every_owed_time_exactly_once(store, workflow, workflow_home, tmp_path):
    schedules = [every_2_s(store, workflow, f"schedule {n}") for n in range(3)]
    processes = [start_scheduler(tmp_path, workflow_home.db_url, f"scheduler-{n}") for n in range(2)]
    try:
        wait_until(lambda: all(len(store.list_fires(s.id, limit=1000)) >= 10 for s in schedules), 120,
                   "ten fires of each schedule (about 20 s)")
    finally:
        for process, log in processes:
            stop(process, log)
    runs, _ = store.list_runs(limit=1000)
    for schedule in schedules:
        fires = store.list_fires(schedule.id, limit=1000)
        advanced_to = store.get_schedule(schedule.id).next_fire_at
        owed = [time for time in next_fire_times(EVERY_2_S, "UTC", schedule.created_at, len(fires) + 10)
                if time < advanced_to]
        # every owed time fired, once, and made one queued run that names its fire
        assert sorted(fire.scheduled_for for fire in fires) == owed
        assert {fire.status for fire in fires} == {"queued"}
        assert sorted(run.fire_id for run in runs if run.fire_id in {f.id for f in fires}) == \
            sorted(fire.id for fire in fires)
    assert len({run.id for run in runs}) == len(runs) == sum(len(store.list_fires(s.id, limit=1000))
                                                             for s in schedules)
