"""Scheduling end to end, as an operator runs it: two ``jupyter workflow scheduler`` processes and two
``jupyter workflow worker`` processes (real kernels) on one database, SQLite then PostgreSQL.

A schedule added with ``jupyter workflow schedule add`` fires every 3 s for about 45 s: every time it
owed has exactly one fire and one run, every run succeeds, and once the processes are stopped with
SIGTERM no run is left behind.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from labsession import wait_until
from notebook_factory import make_notebook, write_workflow

from jupyter_workflow.schedules.cron import next_fire_times
from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels

JUPYTER = Path(sys.executable).parent / "jupyter"
EVERY_3_S = "*/3 * * * * *"
SPAN_S = 45  # from the first fire to the last, as the store's fires tell it
MOST_FIRES = 1000  # more than the span can owe: list_fires then returns every fire


@pytest.fixture
def workflow(tmp_path) -> Path:
    """double → add_one: 3 in, 7 out."""
    make_notebook(tmp_path / "double.ipynb", "x = 0", "from jupyter_workflow import record\nrecord('y', x * 2)")
    make_notebook(tmp_path / "add_one.ipynb", "y = 0", "from jupyter_workflow import record\nrecord('z', y + 1)")
    return write_workflow(tmp_path / "double_add.workflow.json", {
        "format": "jupyter-workflow/1",
        "name": "double_add",
        "inputs": {"x": {"type": "integer"}},
        "nodes": {
            "double": {"notebook": "double.ipynb", "parameters": {"x": {"input": "x"}}},
            "add_one": {"notebook": "add_one.ipynb", "parameters": {"y": {"output": "double.y"}}},
        },
        "outputs": {"answer": {"output": "add_one.z"}},
    })


@pytest.fixture
def processes(workflow_home, tmp_path):
    """Starts ``jupyter workflow <command>`` processes sharing the runs folder of ``workflow_home``, each
    in a session of its own (its kernels die with it) and logging to ``<name>.log``; any still running
    at the end are killed."""
    started: list[subprocess.Popen] = []

    def start(db_url: str, command: str, name: str) -> subprocess.Popen:
        with (tmp_path / f"{name}.log").open("w") as log:
            process = subprocess.Popen([str(JUPYTER), "workflow", "--db", db_url, command, "--name", name],
                                       stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)


def stop(process: subprocess.Popen) -> int:
    """SIGTERM, as systemd stops a service; its exit code."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=120)


def fired_span_s(store: RunStore, schedule_id: str) -> float:
    """Seconds from the schedule's first owed time fired to its last."""
    times = [fire.scheduled_for for fire in store.list_fires(schedule_id, limit=MOST_FIRES)]
    return (max(times) - min(times)).total_seconds() if times else 0.0


def add_schedule(db_url: str, workflow: Path) -> str:
    """``schedule add``: every 3 s, every owed time fired even when late, runs never held back; its id."""
    added = subprocess.run([str(JUPYTER), "workflow", "--db", db_url, "schedule", "add", str(workflow),
                            "--cron", EVERY_3_S, "-p", "x=3", "--catch-up", "all", "--max-concurrent", "100", "--json"],
                           capture_output=True, text=True, timeout=120)
    assert added.returncode == 0, added.stderr
    return json.loads(added.stdout)["id"]


def test_two_schedulers_and_two_workers_run_each_owed_time_once(store, store_url, workflow, processes, tmp_path):
    schedule = store.get_schedule(add_schedule(store_url, workflow))
    workers = [processes(store_url, "worker", f"worker-{n}") for n in (1, 2)]
    schedulers = [processes(store_url, "scheduler", f"scheduler-{n}") for n in (1, 2)]

    wait_until(lambda: fired_span_s(store, schedule.id) >= SPAN_S, SPAN_S + 60, f"{SPAN_S} s of fires")
    assert [stop(scheduler) for scheduler in schedulers] == [0, 0], "a scheduler did not exit 0"
    wait_until(lambda: store.running_count(schedule.id) == 0, 180, "the workers to finish every fired run")
    assert [stop(worker) for worker in workers] == [0, 0], "a worker did not exit 0"

    fires = sorted(store.list_fires(schedule.id, limit=MOST_FIRES), key=lambda fire: fire.scheduled_for)
    owed_until = store.get_schedule(schedule.id).next_fire_at  # the first time not fired yet
    owed = [time for time in next_fire_times(EVERY_3_S, "UTC", schedule.created_at, len(fires) + 10)
            if time < owed_until]
    assert [fire.scheduled_for for fire in fires] == owed  # every owed time fired, none twice
    assert len(fires) >= SPAN_S // 3 + 1
    assert {fire.status for fire in fires} == {"queued"}  # each made its run; none skipped or failed
    assert {fire.scheduler for fire in fires} <= {"scheduler-1", "scheduler-2"}
    assert all(fire.fired_at >= fire.scheduled_for for fire in fires)  # never early (lateness: see the bench)

    runs = store.list_runs(limit=MOST_FIRES)[0]
    assert sorted(run.fire_id for run in runs) == sorted(fire.id for fire in fires)  # one run per fire, no other
    assert {run.id for run in runs} == {fire.run_id for fire in fires}
    worker_pids = {worker.pid for worker in workers}
    for run in runs:
        assert (run.status, run.trigger, run.outputs) == ("succeeded", "schedule", {"answer": 7}), run.id
        assert run.pid in worker_pids, run.id  # executed by one of the workers
        assert [event.type for event in store.events(run.id)].count("run.started") == 1, run.id

    beats = store.heartbeats("scheduler") + store.heartbeats("worker")
    assert sorted(beat.name for beat in beats) == ["scheduler-1", "scheduler-2", "worker-1", "worker-2"]
    assert all(beat.stopped_at is not None for beat in beats)  # each noted its clean stop
    for log in sorted(tmp_path.glob("*.log")):
        assert "Traceback" not in log.read_text(), log.name
