"""A PostgreSQL run store end to end: the command line with ``--db``, the lab server with
``WorkflowConfig.db_url``, and a store that outlives its server's sessions.

The store's own behaviour on PostgreSQL is tested with every store test (``store_url``);
here real runs, with kernels, go into a database of the session's private cluster.
"""

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from notebook_factory import make_notebook, write_workflow
from test_store import make_run

from jupyter_workflow.store import RunStore, StoreUnavailable

pytestmark = pytest.mark.postgresql

JUPYTER = Path(sys.executable).parent / "jupyter"


@pytest.fixture
def postgres_url(postgres_cluster) -> str:
    """An empty database of the session's PostgreSQL cluster."""
    return postgres_cluster.new_database()


def square_workflow(folder: Path) -> Path:
    """Two nodes, the second squaring the first's square: 3 gives 81."""
    make_notebook(folder / "square.ipynb", "x: int = 2",
                  "from jupyter_workflow import record\nrecord('square', x * x)")
    return write_workflow(folder / "squares.workflow.json", {
        "format": "jupyter-workflow/1",
        "name": "squares",
        "inputs": {"x": {"type": "integer", "default": 3}},
        "nodes": {
            "first": {"notebook": "square.ipynb", "parameters": {"x": {"input": "x"}}},
            "second": {"notebook": "square.ipynb", "parameters": {"x": {"output": "first.square"}}},
        },
        "outputs": {"result": {"output": "second.square"}},
    })


def stored(postgres_url: str, run_id: str):
    """The run ``run_id`` and its events, as the PostgreSQL store holds them."""
    store = RunStore(postgres_url)
    try:
        return store.get_run(run_id), store.events(run_id)
    finally:
        store.close()


@pytest.mark.kernels
def test_the_command_line_runs_a_workflow_into_postgresql(tmp_path, workflow_home, postgres_url):
    workflow = square_workflow(tmp_path)
    done = subprocess.run([str(JUPYTER), "workflow", "--db", postgres_url, "run", str(workflow), "--json"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["status"], result["outputs"]) == ("succeeded", {"result": 81})

    run, events = stored(postgres_url, result["run_id"])
    assert (run.status, run.outputs, run.inputs) == ("succeeded", {"result": 81}, {"x": 3})
    assert [(node.node_id, node.status) for node in run.nodes] == [("first", "succeeded"), ("second", "succeeded")]
    assert events[0].type == "run.started" and events[-1].type == "run.finished"
    assert [event.id for event in events] == sorted(event.id for event in events)

    listing = subprocess.run([str(JUPYTER), "workflow", "--db", postgres_url, "runs", "list"],
                             capture_output=True, text=True, timeout=60)
    assert listing.returncode == 0 and result["run_id"][:12] in listing.stdout, listing.stderr
    # nothing went to the SQLite store the environment names
    assert not Path(workflow_home.db_url.removeprefix("sqlite:///")).exists()


@pytest.fixture
def jp_server_config(workflow_home, postgres_url, monkeypatch):
    """A Jupyter server whose run store is set by ``WorkflowConfig.db_url`` alone: a PostgreSQL database."""
    monkeypatch.delenv("JUPYTER_WORKFLOW_DB_URL")  # the environment would beat the server's config
    return {"ServerApp": {"jpserver_extensions": {"jupyter_workflow": True}},
            "WorkflowConfig": {"db_url": postgres_url}}


@pytest.mark.kernels
async def test_the_lab_server_keeps_its_runs_in_postgresql(jp_fetch, jp_root_dir, workflow_home, postgres_url):
    square_workflow(jp_root_dir)

    async def call(*path, **kwargs):
        response = await jp_fetch("workflow", "api", *path, **kwargs)
        return json.loads(response.body)

    started = await call("runs", method="POST", body=json.dumps({"path": "squares.workflow.json"}))
    deadline = time.monotonic() + 120
    while (run := await call("runs", started["run_id"]))["status"] in ("pending", "running"):
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.2)
    assert (run["status"], run["outputs"]) == ("succeeded", {"result": 81})

    stored_run, events = stored(postgres_url, started["run_id"])
    assert stored_run.status == "succeeded" and stored_run.trigger == "server"
    assert {event.type for event in events} >= {"run.started", "node.finished", "run.finished"}
    assert [listed["id"] for listed in (await call("runs"))["runs"]] == [started["run_id"]]
    assert not Path(workflow_home.db_url.removeprefix("sqlite:///")).exists()


def test_a_store_goes_on_after_the_server_ended_its_sessions(postgres_cluster, postgres_url, tmp_path):
    """As after a restart of the database server: every pooled connection is dead, none may fail a call."""
    store = RunStore(postgres_url)
    try:
        runs = [make_run(tmp_path, f"{index:032x}") for index in range(3)]
        store.begin(runs[0])
        with psycopg.connect(postgres_cluster.url().replace("+psycopg", ""), autocommit=True) as admin:
            ended = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                                  (postgres_url.rsplit("/", 1)[1],)).fetchall()
        assert ended and all(terminated for terminated, in ended)
        store.begin(runs[1])
        store.begin(runs[2])
        assert sorted(run.id for run in store.list_runs()[0]) == [run.run_id for run in runs]
    finally:
        store.close()


def test_without_the_driver_the_store_says_which_extra_installs_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as where psycopg is not installed
    with pytest.raises(StoreUnavailable, match=r"pip install 'jupyter-workflow\[postgresql\]'"):
        RunStore("postgresql+psycopg://workflow@127.0.0.1/workflow")
