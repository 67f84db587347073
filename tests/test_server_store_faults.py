"""The server when its run store fails: a request happens and is recorded, or does not happen and says so.

Each test starts the server on a store in the state it names (``store_fault``): a real
SQLite file opened read-only, one whose commits fail, or one removed while runs go on.
"""

import asyncio
import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from notebook_factory import make_notebook, write_workflow
from sqlalchemy import create_engine

from test_server import call, wait_finished

from jupyter_workflow.engine.state import RunState
from jupyter_workflow.events import Event
from jupyter_workflow.model.spec import parse_workflow
from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels

SPEC = {"format": "jupyter-workflow/1", "name": "wait", "nodes": {"wait": {"notebook": "wait.ipynb"}}}
# Every commit that writes an audit entry fails: its row points at a version that does not exist,
# and SQLite checks that deferred foreign key only when the transaction commits.
FAILING_COMMITS = [
    "CREATE TABLE audit_guard (version_id INTEGER REFERENCES workflow_versions (id) DEFERRABLE INITIALLY DEFERRED)",
    "CREATE TRIGGER audit_commits_fail AFTER INSERT ON audit_log BEGIN INSERT INTO audit_guard VALUES (-1); END",
]


@pytest.fixture
def waiting_workflow(jp_root_dir):
    """A node that writes ``started`` and waits until the file ``go`` exists."""
    make_notebook(
        jp_root_dir / "wait.ipynb",
        "",
        "import pathlib, time\npathlib.Path('started').write_text('yes')\n"
        "while not pathlib.Path('go').exists():\n    time.sleep(0.05)",
    )
    return write_workflow(jp_root_dir / "wait.workflow.json", SPEC)


def stored_run(db_url: str, root: Path) -> str:
    """A finished run put in the store at ``db_url``, as an earlier process would have left it."""
    store = RunStore(db_url)
    run = RunState("f" * 32, parse_workflow(SPEC, root, root / "wait.workflow.json"), {}, root / "runs", "cli")
    store.begin(run)
    run.status, run.finished_at = "succeeded", datetime.now(timezone.utc)
    store.record(run, Event("run.finished", run.run_id, None, {"status": "succeeded"}))
    store.close()
    return run.run_id


@pytest.fixture
def store_fault(request):
    return getattr(request, "param", None)


@pytest.fixture
def jp_server_config(jp_server_config, store_fault, workflow_home, jp_root_dir, waiting_workflow, monkeypatch):
    """conftest's server on a store in the state ``store_fault`` names, with one finished run in it."""
    stored_run(workflow_home.db_url, jp_root_dir)
    database = workflow_home.db_url.removeprefix("sqlite:///")
    if store_fault == "read-only":
        monkeypatch.setenv("JUPYTER_WORKFLOW_DB_URL", f"sqlite:///file:{database}?mode=ro&uri=true")
    elif store_fault == "failing commits":
        engine = create_engine(workflow_home.db_url)
        with engine.begin() as connection:
            for statement in FAILING_COMMITS:
                connection.exec_driver_sql(statement)
        engine.dispose()
    return jp_server_config


def kernels_started(runs_dir: Path) -> list[Path]:
    return list(runs_dir.rglob("*.ipynb")) if runs_dir.exists() else []


@pytest.mark.parametrize("store_fault", ["read-only"], indirect=True)
async def test_a_read_only_store_refuses_what_it_cannot_record_with_503(jp_fetch, jp_root_dir, workflow_home):
    before = (jp_root_dir / "wait.workflow.json").read_bytes()
    for path, method, body in [
        (("runs",), "POST", {"path": "wait.workflow.json"}),
        (("runs", "f" * 32, "retry"), "POST", {}),
        (("workflows",), "PUT", {"path": "wait.workflow.json", "spec": {**SPEC, "title": "x"}, "base_version": None}),
        (("workflows",), "PUT", {"path": "new.workflow.json", "spec": SPEC, "base_version": None}),
    ]:
        answer = await call(jp_fetch, *path, method=method, body=body, expect=503)
        assert "readonly" in answer["message"] and "nothing was changed" in answer["message"]
    assert (jp_root_dir / "wait.workflow.json").read_bytes() == before
    assert not (jp_root_dir / "new.workflow.json").exists()
    assert not (jp_root_dir / "started").exists() and kernels_started(workflow_home.runs_dir) == []
    assert [run["id"] for run in (await call(jp_fetch, "runs"))["runs"]] == ["f" * 32]  # reads go on


@pytest.mark.parametrize("store_fault", ["failing commits"], indirect=True)
async def test_a_save_whose_record_cannot_be_committed_leaves_the_file_as_it_was(jp_fetch, jp_root_dir):
    current = await call(jp_fetch, "workflows", params={"path": "wait.workflow.json"})
    before = (jp_root_dir / "wait.workflow.json").read_bytes()
    await call(jp_fetch, "workflows", method="PUT", expect=503,
               body={"path": "wait.workflow.json", "spec": {**SPEC, "title": "x"}, "base_version": current["version"]})
    await call(jp_fetch, "workflows", method="PUT", expect=503,
               body={"path": "sub/new.workflow.json", "spec": SPEC, "base_version": None})
    await call(jp_fetch, "versions", current["version"], "restore", method="POST", expect=503,
               body={"path": "copy.workflow.json", "base_version": None})
    assert (jp_root_dir / "wait.workflow.json").read_bytes() == before
    assert sorted(p.name for p in jp_root_dir.rglob("*.workflow.json")) == ["wait.workflow.json"]
    assert not [p for p in jp_root_dir.rglob("*.tmp")]
    assert (await call(jp_fetch, "audit"))["entries"] == []


async def test_a_store_file_removed_while_runs_go_on_is_made_again_with_them(jp_fetch, jp_root_dir, workflow_home):
    first = (await call(jp_fetch, "runs", method="POST", body={"path": "wait.workflow.json"}, expect=202))["run_id"]
    deadline = time.monotonic() + 60
    while not (jp_root_dir / "started").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    Path(workflow_home.db_url.removeprefix("sqlite:///")).unlink()  # as `rm workflow.db` would

    second = (await call(jp_fetch, "runs", method="POST", body={"path": "wait.workflow.json"}, expect=202))["run_id"]
    (jp_root_dir / "go").write_text("go")
    for run_id in (first, second):
        assert (await wait_finished(jp_fetch, run_id))["status"] == "succeeded"

    store = RunStore(workflow_home.db_url)  # what the command line opens
    runs, _ = store.list_runs()
    assert sorted((run.id, run.status) for run in runs) == sorted([(first, "succeeded"), (second, "succeeded")])
    for run_id in (first, second):
        assert [node.status for node in store.get_run(run_id).nodes] == ["succeeded"]
        assert store.events(run_id)[-1].type == "run.finished"
    assert [entry.target for entry in store.audit_log(action="run.start")] == [second]
    store.close()
    assert json.dumps(await call(jp_fetch, "runs", first))  # the server reads the same file
