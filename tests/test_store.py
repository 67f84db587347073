"""The run store on real SQLite files: migrations, the RunListener protocol, queries."""

import json
import sqlite3
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from jupyter_workflow.engine.state import Event, NodeState, NodeStatus, RunState, RunStatus
from jupyter_workflow.model.spec import parse_workflow
from jupyter_workflow.runtime.artifacts import ArtifactRef
from jupyter_workflow.store import AmbiguousRunId, RunStore
from jupyter_workflow.store.models import Base
from jupyter_workflow.store.store import alembic_config

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
DOCUMENT = {"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "a.ipynb"}}}
TABLES = {"workflow_versions", "runs", "node_runs", "run_events"}


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'db' / 'workflow.db'}"


@pytest.fixture
def store(db_url):
    store = RunStore(db_url)
    yield store
    store.close()


def make_run(tmp_path, run_id="0" * 32, document=DOCUMENT, created_at=T0) -> RunState:
    workflow = parse_workflow(document, tmp_path, tmp_path / "demo.workflow.json")
    return RunState(
        run_id=run_id,
        workflow=workflow,
        inputs={"n": 3},
        run_dir=tmp_path / "runs" / run_id,
        trigger="cli",
        user="ada",
        created_at=created_at,
        nodes={node_id: NodeState(node_id) for node_id in workflow.nodes},
    )


def artifact(tmp_path) -> ArtifactRef:
    path = tmp_path / "table.parquet"
    meta = {"uri": path.as_uri(), "format": "parquet", "type": "pandas.DataFrame", "size": 10, "sha256": "ab" * 32}
    return ArtifactRef(meta)


def play(store, run, ref):
    """Drive ``run`` through a successful execution as the engine would."""
    node = run.nodes["a"]

    def emit(kind, node_id, data, seconds):
        store.record(run, Event(kind, run.run_id, node_id, data, time=T0 + timedelta(seconds=seconds)))

    run.status, run.started_at = RunStatus.RUNNING, T0
    emit("run.started", None, {}, 0)
    node.status = NodeStatus.QUEUED
    emit("node.triggered", "a", {}, 0.5)
    node.status, node.attempt, node.started_at = NodeStatus.RUNNING, 1, T0 + timedelta(seconds=1)
    emit("node.started", "a", {"attempt": 1}, 1)
    node.status, node.finished_at = NodeStatus.SUCCEEDED, T0 + timedelta(seconds=3.5)
    node.notebook = str(run.run_dir / "a.ipynb")
    node.outputs.update(table=ref, count=7)
    emit("node.finished", "a", {"outputs": {"table": ref}}, 3.5)
    run.status, run.finished_at = RunStatus.SUCCEEDED, T0 + timedelta(seconds=4)
    run.outputs.update(table=ref)
    emit("run.finished", None, {"status": "succeeded"}, 4)


def test_migration_creates_the_schema_of_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    command.upgrade(alembic_config(url), "head")
    engine = create_engine(url)
    with engine.connect() as connection:
        assert TABLES <= set(inspect(connection).get_table_names())
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_opening_migrates_to_head_in_wal_mode(store, db_url, tmp_path):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
        assert TABLES <= set(inspect(connection).get_table_names())
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert (tmp_path / "db" / "workflow.db").is_file()


def test_reopening_does_not_run_migrations(db_url, monkeypatch):
    RunStore(db_url).close()

    def fail(*args, **kwargs):
        raise AssertionError("migrations ran again on an up-to-date database")

    monkeypatch.setattr(command, "upgrade", fail)
    store = RunStore(db_url)
    assert store.list_runs() == []
    store.close()


def test_run_round_trips_with_nodes_events_and_artifacts(store, tmp_path):
    ref = artifact(tmp_path)
    run = make_run(tmp_path)
    store.begin(run)

    stored = store.get_run(run.run_id)
    assert stored.status == RunStatus.PENDING
    assert [(node.node_id, node.status, node.attempt) for node in stored.nodes] == [("a", "pending", 0)]

    play(store, run, ref)
    stored = store.get_run(run.run_id)
    assert stored.status == RunStatus.SUCCEEDED
    assert stored.workflow_name == "demo"
    assert stored.workflow_path == str(tmp_path / "demo.workflow.json")
    assert stored.content_hash == run.workflow.content_hash
    assert (stored.inputs, stored.trigger, stored.user, stored.run_dir) == ({"n": 3}, "cli", "ada", str(run.run_dir))
    assert stored.created_at == T0 and stored.created_at.tzinfo is not None
    assert stored.duration_s == 4.0
    assert isinstance(stored.outputs["table"], ArtifactRef)
    assert stored.outputs["table"].meta == ref.meta
    assert stored.error is None

    [node] = stored.nodes
    assert (node.status, node.attempt, node.duration_s) == ("succeeded", 1, 2.5)
    assert node.notebook == str(run.run_dir / "a.ipynb")
    assert node.outputs["count"] == 7
    assert node.outputs["table"].meta == ref.meta
    assert node.started_at == T0 + timedelta(seconds=1)

    events = store.events(run.run_id)
    assert [event.type for event in events] == ["run.started", "node.triggered", "node.started", "node.finished",
                                                "run.finished"]
    assert [event.id for event in events] == sorted(event.id for event in events)
    assert events[0].node_id is None and events[1].node_id == "a"
    assert events[3].data["outputs"]["table"].meta == ref.meta
    assert events[4].time == T0 + timedelta(seconds=4)
    later = store.events(run.run_id, after_id=events[2].id)
    assert [event.type for event in later] == ["node.finished", "run.finished"]
    assert store.events(run.run_id, after_id=events[-1].id) == []

    payload = json.loads(json.dumps(stored.to_dict()))
    assert payload["created_at"] == "2026-01-02T03:04:05.123456+00:00"
    assert payload["outputs"]["table"] == {"$artifact": ref.meta}
    assert payload["nodes"][0]["duration_s"] == 2.5
    assert json.loads(json.dumps(events[3].to_dict()))["data"]["outputs"]["table"] == {"$artifact": ref.meta}


def test_failed_node_keeps_its_error(store, tmp_path):
    run = make_run(tmp_path)
    store.begin(run)
    error = {"ename": "ValueError", "evalue": "bad", "traceback": ["line 1"]}
    run.nodes["a"] = replace(run.nodes["a"], status=NodeStatus.FAILED, attempt=2, error=error)
    run.status, run.error = RunStatus.FAILED, {"node": "a", **error}
    store.record(run, Event("node.finished", run.run_id, "a", {"status": "failed"}))

    stored = store.get_run(run.run_id)
    assert stored.status == "failed" and stored.error == {"node": "a", **error}
    assert (stored.nodes[0].status, stored.nodes[0].attempt, stored.nodes[0].error) == ("failed", 2, error)
    assert store.list_runs(status="failed")[0].id == run.run_id


def test_same_spec_is_stored_once(store, tmp_path):
    first, second = make_run(tmp_path, "a" * 32), make_run(tmp_path, "b" * 32)
    other = make_run(tmp_path, "c" * 32, {**DOCUMENT, "title": "changed"})
    for run in (first, second, other):
        store.begin(run)

    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM workflow_versions").scalar() == 2
    assert store.get_run("a" * 32).version_id == store.get_run("b" * 32).version_id
    assert store.get_run("c" * 32).version_id != store.get_run("a" * 32).version_id

    version = store.get_version(first.workflow.content_hash)
    assert version.spec == DOCUMENT
    assert (version.name, version.created_by) == ("demo", "ada")
    with pytest.raises(KeyError):
        store.get_version("0" * 64)


def test_list_runs_newest_first_and_filtered(store, tmp_path):
    for index, name in enumerate(["one", "two", "one"]):
        run = make_run(tmp_path, f"{index:032x}", {**DOCUMENT, "name": name}, T0 + timedelta(minutes=index))
        store.begin(run)

    assert [run.id[-1] for run in store.list_runs()] == ["2", "1", "0"]
    assert [run.id[-1] for run in store.list_runs(workflow="one")] == ["2", "0"]
    assert [run.id[-1] for run in store.list_runs(limit=1)] == ["2"]
    assert store.list_runs(status="running") == []
    assert all(run.nodes is None for run in store.list_runs())
    assert "nodes" not in store.list_runs()[0].to_dict()


def test_get_run_by_prefix(store, tmp_path):
    store.begin(make_run(tmp_path, "abc" + "1" * 29))
    store.begin(make_run(tmp_path, "abd" + "2" * 29))

    assert store.get_run("abc").id == "abc" + "1" * 29
    assert store.get_run("abd2").id == "abd" + "2" * 29
    with pytest.raises(AmbiguousRunId, match="abc1+, abd2+"):
        store.get_run("ab")
    assert issubclass(AmbiguousRunId, LookupError)
    with pytest.raises(KeyError, match="no run with id 'fff'"):
        store.get_run("fff")
    with pytest.raises(KeyError):
        store.get_run("")
    with pytest.raises(KeyError):  # LIKE wildcards are taken literally
        store.get_run("%")


def test_two_stores_share_one_file(db_url, tmp_path):
    first, second = RunStore(db_url), RunStore(db_url)
    try:
        run_one, run_two = make_run(tmp_path, "1" * 32), make_run(tmp_path, "2" * 32)
        first.begin(run_one)
        second.begin(run_two)
        run_one.status = RunStatus.RUNNING
        first.record(run_one, Event("run.started", run_one.run_id, None, {}))

        assert second.get_run("1").status == "running"
        assert {run.id for run in first.list_runs()} == {"1" * 32, "2" * 32}
        assert [event.type for event in second.events(run_one.run_id)] == ["run.started"]
    finally:
        first.close()
        second.close()
    database = sqlite3.connect(tmp_path / "db" / "workflow.db")
    assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    database.close()


def test_concurrent_first_opens_migrate_once(db_url, tmp_path):
    errors, stores = [], []

    def open_and_write(index):
        try:
            store = RunStore(db_url)
            stores.append(store)
            store.begin(make_run(tmp_path, f"{index:032x}"))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=open_and_write, args=(index,)) for index in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(stores[0].list_runs()) == 6
    with stores[0].engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM workflow_versions").scalar() == 1
    for store in stores:
        store.close()
