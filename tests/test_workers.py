"""Headless workers, as real processes with real kernels: queued runs executed once each; a worker
killed mid-run loses its lease, the run is interrupted and retried from its unfinished nodes elsewhere
(both on SQLite and on PostgreSQL)."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from conftest import DATABASES
from fake_executor import FakeExecutor, Script
from labsession import wait_until
from notebook_factory import make_notebook, write_workflow
from test_notify import webhook  # noqa: F401  (a fixture)
from test_store_queue import add_fire

from jupyter_workflow.config import resolve_config
from jupyter_workflow.engine import Engine
from jupyter_workflow.events import now
from jupyter_workflow.model import load_workflow
from jupyter_workflow.cli import worker_commands
from jupyter_workflow.schedules.worker import DEFAULT_LEASE_S, Worker
from jupyter_workflow.store import RunStore
from jupyter_workflow.store.models import Run, Schedule

JUPYTER = Path(sys.executable).parent / "jupyter"
LEASE_S = 2
FAR_FUTURE = datetime(9999, 1, 1, tzinfo=timezone.utc)  # every lease has lapsed by then: lists every claim


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER), "workflow", *args], capture_output=True, text=True, timeout=300)


def start_worker(home, name: str, log_folder: Path) -> subprocess.Popen:
    """``jupyter workflow worker`` in a session of its own (its kernels die with it), logging to a file."""
    log = (log_folder / f"{name}.log").open("w")
    return subprocess.Popen(
        [str(JUPYTER), "workflow", "worker", "--db", home.db_url, "--runs-dir", str(home.runs_dir), "--name", name,
         "--lease", str(LEASE_S)],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop_worker(process: subprocess.Popen) -> int:
    """SIGTERM, as systemd stops a worker; its exit code."""
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=120)


@pytest.fixture
def workers(workflow_home, tmp_path):
    """Starts workers by name; any still running at the end are killed with their kernels."""
    started: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        process = start_worker(workflow_home, name, tmp_path)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=60)


@pytest.fixture
def store(workflow_home):
    store = RunStore(workflow_home.db_url)
    yield store
    store.close()


def queue(path: Path, *params: str) -> str:
    """``run FILE --queue``: the id it prints."""
    queued = cli("run", str(path), "--queue", *[f"-p{param}" for param in params])
    assert queued.returncode == 0, queued.stderr
    return queued.stdout.strip()


@pytest.fixture
def tagged(tmp_path) -> Path:
    """One node that appends a line to ``marks/<tag>`` each time it runs."""
    make_notebook(tmp_path / "mark.ipynb", "tag = ''\nfolder = ''",
                  "import pathlib\nfrom jupyter_workflow import record\n"
                  "with (pathlib.Path(folder) / tag).open('a') as file:\n    file.write('ran\\n')\nrecord('tag', tag)")
    (tmp_path / "marks").mkdir()
    return write_workflow(tmp_path / "tagged.workflow.json", {
        "format": "jupyter-workflow/1",
        "inputs": {"tag": {"type": "string"}},
        "nodes": {"mark": {"notebook": "mark.ipynb",
                           "parameters": {"tag": {"input": "tag"}, "folder": str(tmp_path / "marks")}}},
        "outputs": {"tag": {"output": "mark.tag"}},
    })


@pytest.fixture
def chain(tmp_path) -> Path:
    """first → second → third. ``first`` appends a line to ``first.txt`` each time it runs; ``second``
    writes its kernel's pid to ``second.pid`` and waits for the file ``gate`` before recording."""
    make_notebook(tmp_path / "first.ipynb", "log = ''",
                  "import pathlib\nfrom jupyter_workflow import record\n"
                  "with pathlib.Path(log).open('a') as file:\n    file.write('ran\\n')\nrecord('n', 20)")
    make_notebook(tmp_path / "second.ipynb", "n = 0\npid_file = ''\ngate = ''",
                  "import os, pathlib, time\nfrom jupyter_workflow import record\n"
                  "pathlib.Path(pid_file).write_text(str(os.getpid()))\n"
                  "while not pathlib.Path(gate).exists():\n    time.sleep(0.1)\nrecord('n', n + 1)")
    make_notebook(tmp_path / "third.ipynb", "n = 0", "from jupyter_workflow import record\nrecord('answer', n * 2)")
    return write_workflow(tmp_path / "chain.workflow.json", {
        "format": "jupyter-workflow/1",
        "name": "chain",
        "nodes": {
            "first": {"notebook": "first.ipynb", "parameters": {"log": str(tmp_path / "first.txt")}},
            "second": {"notebook": "second.ipynb", "parameters": {
                "n": {"output": "first.n"}, "pid_file": str(tmp_path / "second.pid"), "gate": str(tmp_path / "gate")}},
            "third": {"notebook": "third.ipynb", "parameters": {"n": {"output": "second.n"}}},
        },
        "outputs": {"answer": {"output": "third.answer"}},
    })


def statuses(run) -> dict[str, str]:
    return {node.node_id: node.status for node in run.nodes}


@pytest.mark.kernels
@pytest.mark.parametrize("workflow_home", DATABASES, indirect=True)
def test_two_workers_execute_each_queued_run_exactly_once(tagged, tmp_path, workers, store):
    run_ids = [queue(tagged, f"tag=t{n}") for n in range(4)]
    assert [store.get_run(run_id).status for run_id in run_ids] == ["queued"] * 4
    first, second = workers("one"), workers("two")

    wait_until(lambda: all(store.get_run(run_id).status == "succeeded" for run_id in run_ids), 300,
               "every queued run to succeed")

    assert sorted(path.name for path in (tmp_path / "marks").iterdir()) == ["t0", "t1", "t2", "t3"]
    assert all((tmp_path / "marks" / f"t{n}").read_text() == "ran\n" for n in range(4))
    for n, run_id in enumerate(run_ids):
        run = store.get_run(run_id)
        assert run.outputs == {"tag": f"t{n}"} and run.trigger == "queue"
        assert [event.type for event in store.events(run_id)].count("run.started") == 1
    assert store.expired_claims(at=FAR_FUTURE) == []  # every claim was released
    assert {beat.name for beat in store.heartbeats("worker")} == {"one", "two"}
    assert stop_worker(first) == 0 and stop_worker(second) == 0
    assert all(beat.stopped_at is not None for beat in store.heartbeats("worker"))


@pytest.mark.kernels
@pytest.mark.parametrize("workflow_home", DATABASES, indirect=True)
def test_a_killed_worker_s_run_is_interrupted_and_retried_by_another_without_redoing_its_finished_nodes(
        chain, tmp_path, workers, store):
    run_id = queue(chain)
    worker_a = workers("a")
    wait_until(lambda: (tmp_path / "second.pid").exists(), 180, "worker a to run the second node")
    running = store.get_run(run_id)
    assert statuses(running) == {"first": "succeeded", "second": "running", "third": "pending"}
    assert [claim.worker for claim in store.expired_claims(at=FAR_FUTURE)] == ["a"]
    workers("b")
    wait_until(lambda: "b" in {beat.name for beat in store.heartbeats("worker")}, 60, "worker b to be up")

    os.killpg(worker_a.pid, signal.SIGKILL)  # the worker and its kernels, with no chance to say anything
    worker_a.wait(timeout=60)

    wait_until(lambda: store.get_run(run_id).status == "interrupted", 60, "the lapsed lease to interrupt the run")
    assert statuses(store.get_run(run_id)) == {"first": "succeeded", "second": "cancelled", "third": "cancelled"}
    reason = next(event.data["reason"] for event in store.events(run_id) if event.type == "run.interrupted")
    assert "worker a" in reason
    retry = wait_until(lambda: next((run for run in store.list_runs()[0] if run.retry_of == run_id), None), 60,
                       "a retry to be queued")
    (tmp_path / "gate").touch()
    wait_until(lambda: store.get_run(retry.id).status in {"succeeded", "failed"}, 180, "the retry to end")

    retried = store.get_run(retry.id)
    assert (retried.status, retried.retry_of, retried.outputs) == ("succeeded", run_id, {"answer": 42})
    assert statuses(retried) == {"first": "cached", "second": "succeeded", "third": "succeeded"}
    assert (tmp_path / "first.txt").read_text() == "ran\n"  # the first node ran once, under worker a only
    assert retried.host is not None and store.retries_before(retry.id) == 1


@pytest.mark.kernels
def test_a_worker_stopped_by_sigterm_finishes_its_run_claims_no_other_and_exits_0(chain, tmp_path, workers, store):
    run_id = queue(chain)
    worker = workers("finishing")
    wait_until(lambda: (tmp_path / "second.pid").exists(), 180, "the worker to run the second node")

    worker.send_signal(signal.SIGTERM)
    waiting = queue(chain)  # queued after the stop: left for another worker
    wait_until(lambda: "finishing 1 runs before it stops" in (tmp_path / "finishing.log").read_text(), 60,
               "the worker to say it finishes its run")
    assert worker.poll() is None
    (tmp_path / "gate").touch()  # the second node may end now
    assert worker.wait(timeout=120) == 0

    run = store.get_run(run_id)
    assert run.status == "succeeded" and run.outputs == {"answer": 42}
    assert store.get_run(waiting).status == "queued"
    assert store.expired_claims(at=FAR_FUTURE) == []  # released
    [beat] = store.heartbeats("worker")
    assert beat.stopped_at is not None


@pytest.mark.kernels
def test_a_second_sigterm_cancels_the_run_and_the_worker_exits_0(chain, tmp_path, workers, store):
    run_id = queue(chain)
    worker = workers("stopping")
    wait_until(lambda: (tmp_path / "second.pid").exists(), 180, "the worker to run the second node")

    worker.send_signal(signal.SIGTERM)
    wait_until(lambda: "finishing 1 runs before it stops" in (tmp_path / "stopping.log").read_text(), 60,
               "the worker to say it finishes its run")
    assert stop_worker(worker) == 0  # the second SIGTERM

    run = store.get_run(run_id)
    assert run.status == "cancelled"
    assert statuses(run) == {"first": "succeeded", "second": "cancelled", "third": "cancelled"}
    assert store.expired_claims(at=FAR_FUTURE) == []  # released
    [beat] = store.heartbeats("worker")
    assert beat.stopped_at is not None


def test_run_queue_checks_inputs_like_run_and_stores_a_queued_run(tagged, store, workflow_home):
    missing = cli("run", str(tagged), "--queue")
    assert missing.returncode == 2 and "tag" in missing.stderr and "Traceback" not in missing.stderr
    assert store.list_runs()[0] == []

    run_id = queue(tagged, "tag=x")

    [run] = store.list_runs()[0]
    assert (run.id, run.status, run.inputs, run.host, run.pid) == (run_id, "queued", {"tag": "x"}, None, None)
    assert json.loads(cli("runs", "show", run_id, "--json").stdout)["status"] == "queued"


# In one process, on a fake executor: the worker's policies, without kernels.


def fake_executor_class(fake: FakeExecutor) -> type:
    """An ``executor_class`` whose ``from_config`` hands out ``fake``."""
    return type("GivenExecutor", (), {"from_config": classmethod(lambda cls, settings, **options: fake)})


@pytest.fixture
def pair(tmp_path) -> Path:
    """a → b, on a notebook no kernel runs here."""
    make_notebook(tmp_path / "step.ipynb", "x = 1")
    return write_workflow(tmp_path / "pair.workflow.json", {
        "format": "jupyter-workflow/1",
        "name": "pair",
        "nodes": {"a": {"notebook": "step.ipynb"}, "b": {"notebook": "step.ipynb", "after": ["a"]}},
    })


def queue_in(store, settings, path: Path, fire_id: int | None = None) -> str:
    run = Engine(settings.runs_dir, executor=FakeExecutor()).new_run(load_workflow(path), trigger="queue")
    assert store.enqueue(run, fire_id=fire_id)
    return run.run_id


def lose_worker(store, run_id: str) -> None:
    """``run_id`` claimed by a worker that died at once: its lease lapsed long ago."""
    assert store.claim_next_run("ghost", 1, at=datetime(2026, 1, 1, tzinfo=timezone.utc)).id == run_id


class WorkerOnLoop:
    """A :class:`Worker` running on a thread's event loop while the test waits on the store."""

    def __init__(self, worker: Worker):
        self.worker = worker
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(worker.run(),))
        self.thread.start()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.worker.stop)
        self.thread.join(timeout=60)
        assert not self.thread.is_alive()
        self.loop.close()


@pytest.fixture
def settings(workflow_home):
    return resolve_config()


@pytest.fixture
def start_worker_here(settings, store):
    started: list[WorkerOnLoop] = []

    def start(fake: FakeExecutor | None = None, **options) -> Worker:
        worker = Worker(settings, "here", store=store, executor_class=fake_executor_class(fake or FakeExecutor()),
                        poll_s=0.05, **options)
        started.append(WorkerOnLoop(worker))
        return worker

    yield start
    for running in started:
        running.stop()


def a_turn_later(store) -> None:
    """Wait until the worker began a new turn: the one that interrupted a run is over, retries queued."""
    since = now()
    wait_until(lambda: store.heartbeats("worker")[0].last_beat_at > since, 30, "the worker's next turn")


def retries_of(store, run_id: str) -> list:
    return [run for run in store.list_runs()[0] if run.retry_of == run_id]


def test_a_lost_run_of_no_schedule_is_retried_queue_retries_times(pair, settings, store, start_worker_here):
    settings.queue_retries = 1
    run_id = queue_in(store, settings, pair)
    lose_worker(store, run_id)
    start_worker_here()

    [retry] = wait_until(lambda: [run for run in retries_of(store, run_id) if run.status == "succeeded"], 30,
                         "the retry to succeed")
    assert store.get_run(run_id).status == "interrupted"
    assert store.retries_before(retry.id) == 1 and retry.trigger == "retry"
    assert retry.fire_id is None

    assert store.interrupt_expired() == []  # nothing else lapsed; and a retry lost in turn is not retried again:
    with store._session.begin() as session:
        session.get(Run, retry.id).status = "running"
    store.claim(retry.id, "ghost", 1, at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    wait_until(lambda: store.get_run(retry.id).status == "interrupted", 30, "the lost retry to be interrupted")
    a_turn_later(store)
    assert retries_of(store, retry.id) == []


def test_a_lost_scheduled_run_follows_its_schedule_s_retries(pair, settings, store, start_worker_here):
    settings.queue_retries = 5  # not for a scheduled run
    fire_id = add_fire(store)  # its schedule allows no retry
    run_id = queue_in(store, settings, pair, fire_id)
    assert store.schedule_retries(run_id) == 0
    lose_worker(store, run_id)
    start_worker_here()

    wait_until(lambda: store.get_run(run_id).status == "interrupted", 30, "the lost run to be interrupted")
    a_turn_later(store)
    assert retries_of(store, run_id) == []


def test_a_retry_of_a_scheduled_run_keeps_its_fire(pair, settings, store, start_worker_here):
    fire_id = add_fire(store)
    with store._session.begin() as session:
        session.get(Schedule, "s" * 32).retries = 2
    run_id = queue_in(store, settings, pair, fire_id)
    lose_worker(store, run_id)
    start_worker_here()

    [retry] = wait_until(lambda: [run for run in retries_of(store, run_id) if run.status == "succeeded"], 30,
                         "the retry to succeed")
    assert retry.fire_id == fire_id and store.schedule_retries(retry.id) == 2


def test_a_scheduled_run_s_end_is_notified_and_recorded_on_its_fire(pair, settings, store, start_worker_here,
                                                                     webhook):
    fire_id = add_fire(store)
    with store._session.begin() as session:
        session.get(Schedule, "s" * 32).notify = {"webhook": webhook.url, "on": ["success"]}
    run_id = queue_in(store, settings, pair, fire_id)
    finished = []
    start_worker_here(on_run_finished=finished.append)

    wait_until(lambda: finished == [run_id], 30, "the run to end and be told of")
    [delivery] = webhook.received
    assert (delivery.body["run"]["id"], delivery.body["run"]["status"]) == (run_id, "succeeded")
    [recorded] = store.fire_with_schedule(fire_id)[0].notifications
    assert (recorded["kind"], recorded["ok"], recorded["run_id"]) == ("webhook", True, run_id)


def test_a_queued_run_whose_workflow_no_longer_fits_fails_with_the_problem(pair, tmp_path, settings, store,
                                                                           start_worker_here):
    finished = []
    run_id = queue_in(store, settings, pair)
    (tmp_path / "step.ipynb").unlink()
    start_worker_here(on_run_finished=finished.append)

    wait_until(lambda: finished == [run_id], 30, "on_run_finished to hear of the run")
    run = store.get_run(run_id)
    assert run.status == "failed" and "step.ipynb" in run.error["evalue"]
    assert {node.status for node in run.nodes} == {"cancelled"}
    assert store.expired_claims(at=FAR_FUTURE) == []


def test_a_worker_that_loses_its_lease_cancels_the_run(pair, settings, store, start_worker_here):
    finished = []
    fake = FakeExecutor({"a": Script(hang=True)})
    run_id = queue_in(store, settings, pair)
    worker = start_worker_here(fake, lease_s=0.3, on_run_finished=finished.append)
    wait_until(lambda: store.get_run(run_id).status == "running", 30, "the run to start")

    assert store.release_claim(run_id, worker.name)  # as if another worker had found the lease lapsed

    wait_until(lambda: finished == [run_id], 30, "the run to end")
    run = store.get_run(run_id)
    assert (run.status, fake.cancelled) == ("cancelled", ["a"])


def test_the_worker_command_s_default_lease_is_the_worker_s():
    assert worker_commands.DEFAULT_LEASE_S == DEFAULT_LEASE_S
