"""Retrying a run from the command line and the Python API: only what did not succeed runs again."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import process_gone
from notebook_factory import make_notebook, write_workflow

import jupyter_workflow
from jupyter_workflow.engine.state import NodeState, RunState
from jupyter_workflow.model import load_workflow
from jupyter_workflow.runner import RunStillActive
from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels

JUPYTER = Path(sys.executable).parent / "jupyter"


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER), "workflow", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def mended_later(tmp_path):
    """``first`` counts its executions; ``second`` fails, or hangs, until a file named ``mended`` exists."""
    make_notebook(
        tmp_path / "count.ipynb",
        "counter = ''",
        "import pathlib\nfrom jupyter_workflow import record\n"
        "path = pathlib.Path(counter)\npath.write_text(str(int(path.read_text() or 0) + 1) if path.exists() else '1')\n"
        "record('n', 21)",
    )
    make_notebook(
        tmp_path / "until_mended.ipynb",
        "n = 0\nmended = ''\nhang = False\npid_file = ''",
        "import os, pathlib, time\nfrom jupyter_workflow import record\n"
        "if not pathlib.Path(mended).exists():\n"
        "    if hang:\n        pathlib.Path(pid_file).write_text(str(os.getpid()))\n        time.sleep(600)\n"
        "    raise RuntimeError('not mended yet')\n"
        "record('double', n * 2)",
    )

    def workflow(hang: bool = False) -> Path:
        second = {"n": {"output": "first.n"}, "mended": str(tmp_path / "mended"), "hang": hang,
                  "pid_file": str(tmp_path / "kernel.pid")}
        return write_workflow(
            tmp_path / "mend.workflow.json",
            {
                "format": "jupyter-workflow/1",
                "name": "mend",
                "nodes": {
                    "first": {"notebook": "count.ipynb", "parameters": {"counter": str(tmp_path / "count.txt")}},
                    "second": {"notebook": "until_mended.ipynb", "parameters": second},
                },
                "outputs": {"double": {"output": "second.double"}},
            },
        )

    return workflow


def executions(tmp_path) -> int:
    return int((tmp_path / "count.txt").read_text())


def test_the_cli_retries_a_failed_run_running_only_what_failed(mended_later, tmp_path, workflow_home):
    failed = cli("run", str(mended_later()), "--json")
    assert failed.returncode == 1, failed.stderr
    failed_id = json.loads(failed.stdout)["run_id"]
    (tmp_path / "mended").touch()

    retried = cli("retry", failed_id[:10], "--json")

    assert retried.returncode == 0, retried.stderr
    result = json.loads(retried.stdout)
    assert result["status"] == "succeeded" and result["outputs"] == {"double": 42}
    assert {node_id: node["status"] for node_id, node in result["nodes"].items()} == {"first": "cached", "second": "succeeded"}
    assert executions(tmp_path) == 1  # the node that had succeeded did not run again
    shown = json.loads(cli("runs", "show", result["run_id"], "--json").stdout)
    assert shown["retry_of"] == failed_id and shown["trigger"] == "retry"


def test_the_cli_retries_an_interrupted_run(mended_later, tmp_path, workflow_home):
    process = subprocess.Popen([str(JUPYTER), "workflow", "run", str(mended_later(hang=True)), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = tmp_path / "kernel.pid"
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert pid_file.exists(), process.stderr.read() if process.poll() is not None else "the node never started"
    process.kill()  # the command ends without a word: its run stays "running" in the store
    process.communicate(timeout=60)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    [stale] = json.loads(cli("runs", "list", "--json").stdout)
    assert stale["status"] == "running"
    (tmp_path / "mended").touch()

    retried = cli("retry", stale["id"], "--json")

    assert retried.returncode == 0, retried.stderr
    result = json.loads(retried.stdout)
    assert result["status"] == "succeeded" and result["outputs"] == {"double": 42}
    assert result["nodes"]["first"]["status"] == "cached" and executions(tmp_path) == 1
    statuses = {run["id"]: run["status"] for run in json.loads(cli("runs", "list", "--json").stdout)}
    assert statuses == {stale["id"]: "interrupted", result["run_id"]: "succeeded"}
    assert process_gone(int(pid_file.read_text()))


def test_the_cli_explains_a_run_it_cannot_retry(mended_later, workflow_home):
    unknown = cli("retry", "0123456789abcdef")
    assert unknown.returncode == 2 and "no run with id '0123456789abcdef'" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    store_pending_run(mended_later(), workflow_home)
    [pending] = json.loads(cli("runs", "list", "--json").stdout)
    still = cli("retry", pending["id"][:8])
    assert still.returncode == 2 and f"run {pending['id']} is still pending" in still.stderr


def test_the_python_api_retries_a_failed_run(mended_later, tmp_path, workflow_home):
    failed = jupyter_workflow.run(mended_later())
    assert failed.status == "failed"
    (tmp_path / "mended").touch()

    retried = jupyter_workflow.retry(failed.run_id[:12])

    assert retried.status == "succeeded" and retried.outputs == {"double": 42}
    assert retried.retry_of == failed.run_id and retried.trigger == "retry"
    assert {node_id: node.status for node_id, node in retried.nodes.items()} == {"first": "cached", "second": "succeeded"}
    assert executions(tmp_path) == 1
    with pytest.raises(LookupError, match="no run with id"):
        jupyter_workflow.retry("0123456789abcdef")


def test_the_python_api_refuses_to_retry_a_run_still_going(mended_later, workflow_home):
    pending = store_pending_run(mended_later(), workflow_home)
    with pytest.raises(RunStillActive, match="is still pending"):
        jupyter_workflow.retry(pending.run_id)


def store_pending_run(path: Path, home) -> RunState:
    """A run stored as pending by this (live) process, as a run that has not started yet."""
    workflow = load_workflow(path)
    run = RunState(uuid.uuid4().hex, workflow, {}, home.runs_dir / "pending",
                   nodes={node_id: NodeState(node_id) for node_id in workflow.nodes})
    store = RunStore(home.db_url)
    try:
        store.begin(run)
    finally:
        store.close()
    return run
