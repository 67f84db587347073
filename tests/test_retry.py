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
from notebook_factory import HANG, make_notebook, write_workflow

import jupyter_workflow
from jupyter_workflow.engine.state import NodeState, RunState
from jupyter_workflow.model import load_workflow
from jupyter_workflow.runner import RunStillActive
from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels

JUPYTER = Path(sys.executable).parent / "jupyter"


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER), "workflow", *args], capture_output=True, text=True, timeout=300)


SECOND_PARAMETERS = "n = 0\npid_file = ''"


@pytest.fixture
def two_steps(tmp_path):
    """``first`` counts its executions in ``count.txt`` and records ``n``; ``second`` fails, as written."""
    make_notebook(
        tmp_path / "count.ipynb",
        "counter = ''",
        "import pathlib\nfrom jupyter_workflow import record\n"
        "path = pathlib.Path(counter)\npath.write_text(str(int(path.read_text()) + 1) if path.exists() else '1')\n"
        "record('n', 21)",
    )
    make_notebook(tmp_path / "second.ipynb", SECOND_PARAMETERS, "raise RuntimeError('not mended yet')")
    second = {"n": {"output": "first.n"}, "pid_file": str(tmp_path / "second.pid")}
    return write_workflow(
        tmp_path / "mend.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "name": "mend",
            "nodes": {
                "first": {"notebook": "count.ipynb", "parameters": {"counter": str(tmp_path / "count.txt")}},
                "second": {"notebook": "second.ipynb", "parameters": second},
            },
            "outputs": {"double": {"output": "second.double"}},
        },
    )


def mend(tmp_path) -> None:
    """What a user does before a retry: fix the notebook of ``second``."""
    make_notebook(tmp_path / "second.ipynb", SECOND_PARAMETERS, "from jupyter_workflow import record\nrecord('double', n * 2)")


def executions(tmp_path) -> int:
    """How many times ``first`` ran."""
    return int((tmp_path / "count.txt").read_text())


def test_the_cli_retries_a_failed_run_running_only_what_failed(two_steps, tmp_path, workflow_home):
    failed = cli("run", str(two_steps), "--json")
    assert failed.returncode == 1, failed.stderr
    failed_id = json.loads(failed.stdout)["run_id"]
    mend(tmp_path)

    retried = cli("retry", failed_id[:10], "--json")

    assert retried.returncode == 0, retried.stderr
    result = json.loads(retried.stdout)
    assert result["status"] == "succeeded" and result["outputs"] == {"double": 42}
    assert {node_id: node["status"] for node_id, node in result["nodes"].items()} == {"first": "cached", "second": "succeeded"}
    assert executions(tmp_path) == 1  # the node that had succeeded did not run again
    shown = json.loads(cli("runs", "show", result["run_id"], "--json").stdout)
    assert shown["retry_of"] == failed_id and shown["trigger"] == "retry"


def test_the_cli_retries_an_interrupted_run(two_steps, tmp_path, workflow_home):
    make_notebook(tmp_path / "second.ipynb", SECOND_PARAMETERS, HANG)
    process = subprocess.Popen([str(JUPYTER), "workflow", "run", str(two_steps), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid_file = tmp_path / "second.pid"
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert pid_file.exists(), process.stderr.read() if process.poll() is not None else "the node never started"
    process.kill()  # the command ends without a word: its run stays "running" in the store
    process.communicate(timeout=60)
    os.kill(int(pid_file.read_text()), signal.SIGKILL)
    [stale] = json.loads(cli("runs", "list", "--json").stdout)
    assert stale["status"] == "running"
    mend(tmp_path)

    retried = cli("retry", stale["id"], "--json")

    assert retried.returncode == 0, retried.stderr
    result = json.loads(retried.stdout)
    assert result["status"] == "succeeded" and result["outputs"] == {"double": 42}
    assert result["nodes"]["first"]["status"] == "cached" and executions(tmp_path) == 1
    statuses = {run["id"]: run["status"] for run in json.loads(cli("runs", "list", "--json").stdout)}
    assert statuses == {stale["id"]: "interrupted", result["run_id"]: "succeeded"}
    assert process_gone(int(pid_file.read_text()))


def test_the_cli_explains_a_run_it_cannot_retry(two_steps, workflow_home):
    unknown = cli("retry", "0123456789abcdef")
    assert unknown.returncode == 2 and "no run with id '0123456789abcdef'" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    store_pending_run(two_steps, workflow_home)
    [pending] = json.loads(cli("runs", "list", "--json").stdout)
    still = cli("retry", pending["id"][:8])
    assert still.returncode == 2 and f"run {pending['id']} is still pending" in still.stderr


def test_the_python_api_retries_a_failed_run(two_steps, tmp_path, workflow_home):
    failed = jupyter_workflow.run(two_steps)
    assert failed.status == "failed"
    mend(tmp_path)

    retried = jupyter_workflow.retry(failed.run_id[:12])

    assert retried.status == "succeeded" and retried.outputs == {"double": 42}
    assert retried.retry_of == failed.run_id and retried.trigger == "retry"
    assert {node_id: node.status for node_id, node in retried.nodes.items()} == {"first": "cached", "second": "succeeded"}
    assert executions(tmp_path) == 1
    with pytest.raises(LookupError, match="no run with id"):
        jupyter_workflow.retry("0123456789abcdef")


def test_the_python_api_refuses_to_retry_a_run_still_going(two_steps, workflow_home):
    pending = store_pending_run(two_steps, workflow_home)
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
