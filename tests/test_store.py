"""The run store on real SQLite files and PostgreSQL databases: migrations, the RunListener protocol, queries.

Tests of what only a SQLite file has (WAL mode, a file removed or read-only, SQLite's query
plans) take ``db_url`` and ``file_store``; the others run on both databases (``store_url``).
"""

import base64
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from conftest import DATABASES, empty_database
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.event import listen, remove
from sqlalchemy.exc import SQLAlchemyError

from jupyter_workflow.engine.state import NodeState, RunState
from jupyter_workflow.events import Event, NodeStatus, RunStatus
from jupyter_workflow.model.spec import canonical_json, parse_workflow
from jupyter_workflow.runtime.artifacts import ArtifactRef
from jupyter_workflow.store import (
    AmbiguousRunId,
    AuditNote,
    RunNotFound,
    RunStore,
    StoreUnavailable,
    VersionNotFound,
)
from jupyter_workflow.store.models import Base
from jupyter_workflow.store.schema import HEAD_REVISION, alembic_config

T0 = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=timezone.utc)
DOCUMENT = {"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "a.ipynb"}}}
TABLES = {"workflow_versions", "runs", "node_runs", "run_events", "audit_log", "claims"}


@pytest.fixture
def db_url(tmp_path):
    """A SQLite file in a folder of its own."""
    return f"sqlite:///{tmp_path / 'db' / 'workflow.db'}"


def opened(db_url: str):
    store = RunStore(db_url)
    yield store
    store.close()


@pytest.fixture
def store(store_url):
    yield from opened(store_url)


@pytest.fixture
def file_store(db_url):
    yield from opened(db_url)


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


def test_migration_creates_the_schema_of_the_models(store_url):
    command.upgrade(alembic_config(store_url), "head")
    engine = create_engine(store_url)
    with engine.connect() as connection:
        assert TABLES <= set(inspect(connection).get_table_names())
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
    engine.dispose()


def test_opening_migrates_to_head(store):
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert HEAD_REVISION == head  # the constant that lets a current store open without Alembic
    with store.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
        assert TABLES <= set(inspect(connection).get_table_names())


def test_a_sqlite_file_is_made_in_its_folder_and_runs_in_wal_mode(file_store, tmp_path):
    with file_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    file_store.close()
    assert (tmp_path / "db" / "workflow.db").is_file()
    database = sqlite3.connect(tmp_path / "db" / "workflow.db")  # WAL mode stays with the file
    assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    database.close()


def test_reopening_does_not_run_migrations(store_url, monkeypatch):
    RunStore(store_url).close()

    def fail(*args, **kwargs):
        raise AssertionError("migrations ran again on an up-to-date database")

    monkeypatch.setattr(command, "upgrade", fail)
    store = RunStore(store_url)
    assert store.list_runs() == ([], None)
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


def test_the_json_form_of_each_record(store, tmp_path):
    """Keys in this order, ISO-8601 times, ``duration_s`` after ``finished_at``, artifacts encoded, nodes nested."""
    ref = artifact(tmp_path)
    run = make_run(tmp_path)
    store.begin(run)
    play(store, run, ref)
    document = {**DOCUMENT, "nodes": {"a": {"notebook": "a.ipynb", "parameters": {"p": {"$artifact": "x"}}}}}
    version = store.save_version(document, "literal", "bob")
    store.audit("ada", "run.start", run.run_id, {"workflow": "demo.workflow.json"})
    [entry] = store.audit_log()

    node = {
        "run_id": run.run_id, "node_id": "a", "status": "succeeded", "attempt": 1,
        "started_at": "2026-01-02T03:04:06.123456+00:00", "finished_at": "2026-01-02T03:04:08.623456+00:00",
        "duration_s": 2.5, "notebook": str(run.run_dir / "a.ipynb"),
        "outputs": {"table": {"$artifact": ref.meta}, "count": 7}, "error": None,
    }
    listed = {
        "id": run.run_id, "version_id": store.get_run(run.run_id).version_id,
        "content_hash": run.workflow.content_hash, "workflow_name": "demo",
        "workflow_path": str(tmp_path / "demo.workflow.json"), "status": "succeeded", "inputs": {"n": 3},
        "outputs": {"table": {"$artifact": ref.meta}}, "error": None, "trigger": "cli", "user": "ada",
        "created_at": "2026-01-02T03:04:05.123456+00:00", "started_at": "2026-01-02T03:04:05.123456+00:00",
        "finished_at": "2026-01-02T03:04:09.123456+00:00", "duration_s": 4.0, "run_dir": str(run.run_dir),
        "retry_of": None, "host": socket.gethostname(), "pid": os.getpid(), "fire_id": None,
    }
    assert list(store.list_runs()[0][0].to_dict().items()) == list(listed.items())
    shown = store.get_run(run.run_id).to_dict()
    assert list(shown.items()) == [*listed.items(), ("nodes", [node])]
    assert list(shown["nodes"][0].items()) == list(node.items())
    assert list(version.to_dict().items()) == [
        ("id", version.id), ("content_hash", version.content_hash), ("name", "literal"),
        ("spec", document),  # a workflow document holds no artifact: kept as it is
        ("created_at", version.created_at.isoformat()), ("created_by", "bob"),
    ]
    assert list(entry.to_dict().items()) == [
        ("id", entry.id), ("time", entry.time.isoformat()), ("user", "ada"), ("action", "run.start"),
        ("target", run.run_id), ("details", {"workflow": "demo.workflow.json"}),
    ]
    finished = store.events(run.run_id)[-1]
    assert list(finished.to_dict().items()) == [
        ("id", finished.id), ("type", "run.finished"), ("run_id", run.run_id), ("node_id", None),
        ("data", {"status": "succeeded"}), ("time", "2026-01-02T03:04:09.123456+00:00"),
    ]


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
    assert store.list_runs(status="failed")[0][0].id == run.run_id


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
    with pytest.raises(VersionNotFound, match=f"^no workflow version with content hash '{'0' * 64}'$"):
        store.get_version("0" * 64)


def test_list_runs_newest_first_and_filtered(store, tmp_path):
    for index, name in enumerate(["one", "two", "one"]):
        run = make_run(tmp_path, f"{index:032x}", {**DOCUMENT, "name": name}, T0 + timedelta(minutes=index))
        store.begin(run)

    def ids(**filters):
        runs, cursor = store.list_runs(**filters)
        assert cursor is None
        return [run.id[-1] for run in runs]

    assert ids() == ["2", "1", "0"]
    assert ids(workflow="one") == ["2", "0"]
    assert [run.id[-1] for run in store.list_runs(limit=1)[0]] == ["2"]
    assert store.list_runs(status="running") == ([], None)
    assert ids(trigger="cli") == ["2", "1", "0"] and ids(trigger="schedule") == []
    assert ids(since=T0 + timedelta(minutes=1)) == ["2", "1"]
    assert ids(until=T0 + timedelta(minutes=1)) == ["0"]
    assert store.list_runs(limit=0) == ([], None)
    runs, _ = store.list_runs()
    assert all(run.nodes is None for run in runs)
    assert "nodes" not in runs[0].to_dict()


def test_get_run_by_prefix(store, tmp_path):
    store.begin(make_run(tmp_path, "abc" + "1" * 29))
    store.begin(make_run(tmp_path, "abd" + "2" * 29))

    assert store.get_run("abc").id == "abc" + "1" * 29
    assert store.get_run("abd2").id == "abd" + "2" * 29
    with pytest.raises(AmbiguousRunId, match="abc1+, abd2+"):
        store.get_run("ab")
    with pytest.raises(RunNotFound, match="^no run with id 'fff'$"):
        store.get_run("fff")
    with pytest.raises(RunNotFound, match="^no run id given$"):
        store.get_run("")
    with pytest.raises(RunNotFound):  # LIKE wildcards are taken literally
        store.get_run("%")


def test_two_stores_share_one_database(store_url, tmp_path):
    first, second = RunStore(store_url), RunStore(store_url)
    try:
        run_one, run_two = make_run(tmp_path, "1" * 32), make_run(tmp_path, "2" * 32)
        first.begin(run_one)
        second.begin(run_two)
        run_one.status = RunStatus.RUNNING
        first.record(run_one, Event("run.started", run_one.run_id, None, {}))

        assert second.get_run("1").status == "running"
        assert {run.id for run in first.list_runs()[0]} == {"1" * 32, "2" * 32}
        assert [event.type for event in second.events(run_one.run_id)] == ["run.started"]
    finally:
        first.close()
        second.close()


def test_concurrent_first_opens_migrate_once(store_url, tmp_path):
    errors, stores = [], []

    def open_and_write(index):
        try:
            store = RunStore(store_url)
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
    assert len(stores[0].list_runs()[0]) == 6
    with stores[0].engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT count(*) FROM workflow_versions").scalar() == 1
    for store in stores:
        store.close()


def test_begin_records_host_pid_and_retry_of(store, tmp_path):
    first = make_run(tmp_path, "1" * 32)
    store.begin(first)
    retry = make_run(tmp_path, "2" * 32)
    retry.retry_of = first.run_id  # RunState may not declare the field yet
    store.begin(retry)

    stored = store.get_run(first.run_id)
    assert (stored.host, stored.pid, stored.retry_of) == (socket.gethostname(), os.getpid(), None)
    stored = store.get_run(retry.run_id)
    assert stored.retry_of == first.run_id
    payload = stored.to_dict()
    assert (payload["retry_of"], payload["host"], payload["pid"]) == (first.run_id, socket.gethostname(), os.getpid())
    assert store.list_runs()[0][0].retry_of == first.run_id


def test_record_returns_the_growing_event_ids(store, tmp_path):
    run = make_run(tmp_path)
    store.begin(run)
    ids = [store.record(run, Event(kind, run.run_id, None, {})) for kind in ("run.started", "a", "b", "c")]
    assert all(isinstance(event_id, int) for event_id in ids)
    assert ids == sorted(set(ids))
    assert [event.id for event in store.events(run.run_id)] == ids
    assert [event.type for event in store.events(run.run_id, after_id=ids[1])] == ["b", "c"]


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def set_process(store, run_id, host, pid):
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE runs SET host = :host, pid = :pid WHERE id = :id"),
                           {"host": host, "pid": pid, "id": run_id})


def test_recover_interrupted_marks_runs_of_dead_processes(store, tmp_path):
    pid, host = dead_pid(), socket.gethostname()
    workflow = {"format": "jupyter-workflow/1",
                "nodes": {"a": {"notebook": "a.ipynb"}, "b": {"notebook": "b.ipynb"}, "c": {"notebook": "c.ipynb"}}}

    dead = make_run(tmp_path, "d" * 32, workflow)
    store.begin(dead)
    dead.status, dead.started_at = RunStatus.RUNNING, T0
    dead.nodes["a"].status, dead.nodes["a"].finished_at = NodeStatus.SUCCEEDED, T0 + timedelta(seconds=1)
    store.record(dead, Event("node.finished", dead.run_id, "a", {}))
    dead.nodes["b"].status = NodeStatus.RUNNING
    store.record(dead, Event("node.started", dead.run_id, "b", {}))
    set_process(store, dead.run_id, host, pid)

    unknown = make_run(tmp_path, "0" * 32)  # stored before host and pid were recorded
    store.begin(unknown)
    set_process(store, unknown.run_id, None, None)

    alive = make_run(tmp_path, "a" * 32)  # this very process
    store.begin(alive)
    elsewhere = make_run(tmp_path, "e" * 32)
    store.begin(elsewhere)
    set_process(store, elsewhere.run_id, "another-" + host, pid)
    done = make_run(tmp_path, "f" * 32)
    done.status = RunStatus.SUCCEEDED
    store.begin(done)
    set_process(store, done.run_id, host, pid)

    assert sorted(store.recover_interrupted()) == sorted([dead.run_id, unknown.run_id])

    stored = store.get_run(dead.run_id)
    assert stored.status == "interrupted"
    assert stored.finished_at is not None and stored.finished_at.tzinfo is not None
    nodes = {node.node_id: node for node in stored.nodes}
    assert {key: node.status for key, node in nodes.items()} == {"a": "succeeded", "b": "cancelled", "c": "cancelled"}
    assert nodes["a"].finished_at == T0 + timedelta(seconds=1)
    assert nodes["b"].finished_at == nodes["c"].finished_at == stored.finished_at
    events = store.events(dead.run_id)
    assert [(event.type, event.node_id) for event in events[-2:]] == [("run.interrupted", None), ("run.finished", None)]
    assert events[-2].data == {
        "reason": f"the process running it (pid {pid} on {host}) ended before the run finished"}
    assert events[-1].data == {"status": "interrupted", "duration_s": stored.duration_s, "error": None}
    assert stored.duration_s == round((stored.finished_at - T0).total_seconds(), 3)

    assert store.get_run(unknown.run_id).status == "interrupted"
    assert "ended before the run finished" in store.events(unknown.run_id)[-2].data["reason"]
    for run, status in ((alive, "pending"), (elsewhere, "pending"), (done, "succeeded")):
        assert store.get_run(run.run_id).status == status
        assert store.events(run.run_id) == []
    assert store.recover_interrupted() == []  # nothing left to recover
    assert len(store.events(dead.run_id)) == len(events)


def test_recover_interrupted_counts_a_process_of_another_user_as_alive(store, tmp_path, monkeypatch):
    run = make_run(tmp_path)
    store.begin(run)
    set_process(store, run.run_id, socket.gethostname(), 1)

    def kill(pid, signal):
        assert (pid, signal) == (1, 0)
        raise PermissionError

    monkeypatch.setattr(os, "kill", kill)
    assert store.recover_interrupted() == []
    assert store.get_run(run.run_id).status == "pending"


STATUSES = ["succeeded", "failed", "running"]
TRIGGERS = ["cli", "api"]


@pytest.fixture(scope="module", params=DATABASES)
def paged(request, tmp_path_factory):
    """A store of 250 runs, three per minute (so that times tie), of two workflows,
    statuses and triggers; and the runs newest first. Shared: only read from it."""
    tmp_path = tmp_path_factory.mktemp("paged")
    store = RunStore(empty_database(request.param, tmp_path, request))
    expected = []
    for index in range(250):
        run = make_run(tmp_path, f"{(index * 7919) % 1000:032x}", {**DOCUMENT, "name": ["one", "two"][index % 2]},
                       T0 + timedelta(minutes=index // 3))
        run.status, run.trigger = STATUSES[index % 3], TRIGGERS[index % 5 == 0]
        store.begin(run)
        expected.append(run)
    expected.sort(key=lambda run: (run.created_at, run.run_id), reverse=True)
    yield store, expected
    store.close()


def all_pages(store, limit, **filters):
    seen, cursor, pages = [], None, 0
    while True:
        runs, cursor = store.list_runs(limit=limit, cursor=cursor, **filters)
        assert len(runs) <= limit
        seen.extend(run.id for run in runs)
        pages += 1
        if cursor is None:
            return seen, pages
        assert len(runs) == limit


@pytest.mark.parametrize("limit", [1, 7, 50, 250, 500])
def test_list_runs_pages_return_every_run_once_in_order(paged, limit):
    store, many_runs = paged
    seen, pages = all_pages(store, limit)
    assert seen == [run.run_id for run in many_runs]
    assert pages == max(1, -(-250 // limit))


@pytest.mark.parametrize("filters", [
    {"workflow": "two"},
    {"status": "failed"},
    {"trigger": "api"},
    {"workflow": "one", "status": "running", "trigger": "cli"},
    {"since": T0 + timedelta(minutes=10), "until": T0 + timedelta(minutes=50)},
    {"status": "succeeded", "since": T0 + timedelta(minutes=30, seconds=1)},
    {"workflow": "nothing"},
])
def test_list_runs_pages_with_filters(paged, filters):
    store, many_runs = paged
    def matches(run):
        return (run.workflow.name == filters.get("workflow", run.workflow.name)
                and run.status == filters.get("status", run.status)
                and run.trigger == filters.get("trigger", run.trigger)
                and run.created_at >= filters.get("since", run.created_at)
                and (run.created_at < filters["until"] if "until" in filters else True))

    expected = [run.run_id for run in many_runs if matches(run)]
    assert all_pages(store, 11, **filters)[0] == expected
    assert all_pages(store, 1000, **filters) == (expected, 1)


@pytest.mark.parametrize("paged", ["sqlite"], indirect=True)  # SQLite's planner, on a file
def test_list_runs_query_plans_use_an_index_for_the_order(paged):
    store, _ = paged
    statements = []

    def capture(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and "FROM runs" in statement:
            statements.append((statement, parameters))

    listen(store.engine, "before_cursor_execute", capture)
    try:
        _, cursor = store.list_runs(limit=5)
        for filters in ({}, {"status": "failed"}, {"workflow": "one"}, {"trigger": "api"}):
            store.list_runs(limit=5, **filters)
            store.list_runs(limit=5, cursor=cursor, since=T0, **filters)
    finally:
        remove(store.engine, "before_cursor_execute", capture)

    assert len(statements) == 9
    with store.engine.connect() as connection:
        for statement, parameters in statements:
            plan = " ".join(row[-1] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                          parameters))
            assert "USING INDEX ix_runs_" in plan, plan
            assert "TEMP B-TREE" not in plan, plan
            assert "SCAN runs" not in plan or "USING INDEX ix_runs_created_at_id" in plan, plan


@pytest.mark.parametrize("cursor", [
    "", "not base64!", "bm90IGpzb24", base64.urlsafe_b64encode(b'["2026-01-01T00:00:00", "x"]').decode(),
    base64.urlsafe_b64encode(b'["yesterday", "x"]').decode(), base64.urlsafe_b64encode(b'{"a": 1}').decode(),
    base64.urlsafe_b64encode(b'["2026-01-01T00:00:00+00:00", 5]').decode(), base64.urlsafe_b64encode(b"\xff").decode(),
])
def test_list_runs_rejects_a_malformed_cursor(store, cursor):
    with pytest.raises(ValueError, match="^invalid cursor$"):
        store.list_runs(cursor=cursor)


def test_list_runs_wants_aware_times(store):
    with pytest.raises(ValueError, match="timezone-aware"):
        store.list_runs(since=datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.list_runs(until=datetime(2026, 1, 1))


def test_list_runs_since_and_until_in_another_time_zone(store, tmp_path):
    for index in range(3):
        store.begin(make_run(tmp_path, f"{index:032x}", created_at=T0 + timedelta(hours=index)))
    plus_two = timezone(timedelta(hours=2))
    since = (T0 + timedelta(hours=1)).astimezone(plus_two)
    runs, _ = store.list_runs(since=since)
    assert [run.id[-1] for run in runs] == ["2", "1"]


def test_versions_save_list_and_get(store, tmp_path):
    first = store.save_version(DOCUMENT, "demo", "ada")
    workflow = parse_workflow(DOCUMENT, tmp_path, tmp_path / "demo.workflow.json")
    assert first.content_hash == workflow.content_hash
    assert first.spec == DOCUMENT and (first.name, first.created_by) == ("demo", "ada")
    assert first.created_at.tzinfo is not None

    reordered = json.loads(canonical_json(DOCUMENT))  # same content, keys in another order
    reordered = dict(reversed(list(reordered.items())))
    again = store.save_version(reordered, "renamed", "bob")
    assert again == first  # the first save keeps its name, author and time

    second = store.save_version({**DOCUMENT, "title": "v2"}, "demo", None)
    other = store.save_version({**DOCUMENT, "name": "other"}, "other", "bob")
    assert len({first.id, second.id, other.id}) == 3

    assert [version.id for version in store.list_versions()] == [other.id, second.id, first.id]
    assert [version.id for version in store.list_versions(name="demo")] == [second.id, first.id]
    assert [version.id for version in store.list_versions(limit=1)] == [other.id]
    assert store.list_versions(name="missing") == []
    assert store.get_version(second.content_hash) == second
    assert json.loads(json.dumps(second.to_dict()))["created_by"] is None

    run = make_run(tmp_path)  # a run of a saved version reuses it
    store.begin(run)
    assert store.get_run(run.run_id).version_id == first.id
    assert len(store.list_versions()) == 3


def test_save_version_from_many_threads_stores_one_version(store):
    results, errors = [], []

    def save():
        try:
            results.append(store.save_version(DOCUMENT, "demo", "ada"))
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=save) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len({version.id for version in results}) == 1
    assert len(store.list_versions()) == 1


def test_audit_log(store):
    before = datetime.now(timezone.utc)
    store.audit("ada", "run.start", "1" * 32, {"workflow": "demo.workflow.json"})
    store.audit("bob", "file.save", "/home/bob/demo.workflow.json")
    store.audit(None, "run.cancel", "1" * 32, {"reason": "user"})
    long_target = "/data/" + "x" * 300
    store.audit("ada", "file.save", long_target)

    entries = store.audit_log()
    assert [entry.action for entry in entries] == ["file.save", "run.cancel", "file.save", "run.start"]
    assert [entry.id for entry in entries] == sorted((entry.id for entry in entries), reverse=True)
    assert all(entry.time >= before and entry.time.tzinfo is not None for entry in entries)
    assert entries[1].user is None and entries[1].details == {"reason": "user"}
    assert entries[2].details == {}
    assert len(entries[0].target) == 255 and entries[0].details == {"target": long_target}

    assert [entry.user for entry in store.audit_log(action="file.save")] == ["ada", "bob"]
    assert [entry.action for entry in store.audit_log(target="1" * 32)] == ["run.cancel", "run.start"]
    assert [entry.action for entry in store.audit_log(action="run.start", target="1" * 32)] == ["run.start"]
    assert len(store.audit_log(limit=2)) == 2
    assert store.audit_log(action="missing") == []

    payload = json.loads(json.dumps(entries[-1].to_dict()))
    assert payload == {"id": entries[-1].id, "time": entries[-1].time.isoformat(), "user": "ada",
                       "action": "run.start", "target": "1" * 32, "details": {"workflow": "demo.workflow.json"}}


def test_store_methods_from_worker_threads(store, tmp_path):
    import asyncio

    async def main():
        runs = [make_run(tmp_path, f"{index:032x}") for index in range(10)]
        await asyncio.gather(*(asyncio.to_thread(store.begin, run) for run in runs))
        ids = await asyncio.gather(*(asyncio.to_thread(store.record, run, Event("run.started", run.run_id, None, {}))
                                     for run in runs))
        await asyncio.gather(*(asyncio.to_thread(store.audit, "ada", "run.start", run.run_id) for run in runs))
        listed, _ = await asyncio.to_thread(store.list_runs, 100)
        return ids, listed

    ids, listed = asyncio.run(main())
    assert len(set(ids)) == 10 and len(listed) == 10
    assert len(store.audit_log()) == 10


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan"), "\ud800"])
def test_the_store_refuses_to_write_what_is_not_json_and_every_read_still_answers(store, tmp_path, bad):
    with pytest.raises((ValueError, SQLAlchemyError)):
        store.begin(replace(make_run(tmp_path, "1" * 32), inputs={"n": bad}))
    run = make_run(tmp_path, "2" * 32)
    store.begin(run)
    with pytest.raises((ValueError, SQLAlchemyError)):
        store.record(run, Event("node.output", run.run_id, "a", {"text": bad}))
    run.nodes["a"].outputs = {"y": bad}
    with pytest.raises((ValueError, SQLAlchemyError)):
        store.record(run, Event("node.finished", run.run_id, "a", {}))
    with pytest.raises((ValueError, SQLAlchemyError)):
        store.audit("ada", "workflow.save", "x.workflow.json", {"spec": bad})

    runs, _ = store.list_runs()
    assert [r.id for r in runs] == ["2" * 32]
    for record in (*runs, store.get_run("2" * 32)):
        json.dumps(record.to_dict(), allow_nan=False).encode("utf-8")
    assert store.events("2" * 32) == [] and store.audit_log() == []


def test_values_an_older_version_stored_as_nan_or_infinity_read_as_null(file_store, db_url, tmp_path):
    store = file_store
    store.begin(make_run(tmp_path))
    with sqlite3.connect(db_url.removeprefix("sqlite:///")) as raw:  # as a version without the door wrote it
        raw.execute("UPDATE runs SET inputs = '{\"n\": Infinity, \"m\": [NaN, -Infinity, 1.5]}'")
    [listed], _ = store.list_runs()
    assert listed.inputs == store.get_run("0" * 32).inputs == {"n": None, "m": [None, None, 1.5]}
    json.dumps(listed.to_dict(), allow_nan=False)


def test_a_read_only_store_answers_reads_and_refuses_writes_as_unavailable(db_url, tmp_path):
    writer = RunStore(db_url)
    writer.begin(make_run(tmp_path))
    writer.close()
    store = RunStore(f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true")
    assert [run.id for run in store.list_runs()[0]] == ["0" * 32]
    run = make_run(tmp_path, "1" * 32)
    for write in (lambda: store.begin(run), lambda: store.audit("ada", "run.cancel", "0" * 32),
                  lambda: store.record(make_run(tmp_path), Event("run.started", "0" * 32, None, {}))):
        with pytest.raises(StoreUnavailable, match="readonly database"):
            write()
    entered = []
    with pytest.raises(StoreUnavailable, match="readonly database"):
        with store.saving(DOCUMENT, "demo", AuditNote("ada", "workflow.save", "x.workflow.json")):
            entered.append(True)
    assert entered == [] and store.list_versions() != [] and store.audit_log() == []
    store.close()


def test_a_store_whose_file_was_removed_goes_on_in_a_new_file(file_store, db_url, tmp_path):
    store = file_store
    run = make_run(tmp_path)
    store.begin(run)
    restored = []

    def store_again():
        store.ensure_run(run)
        restored.append(run.run_id)

    stop = store.when_file_replaced(store_again)
    before = store.record(run, Event("run.created", run.run_id, None, {}))
    for file in (tmp_path / "db").iterdir():  # the database and its write-ahead log
        file.unlink()
    run.status = "running"
    after = store.record(run, Event("run.started", run.run_id, None, {}))
    assert restored == ["0" * 32]
    assert after > before  # a live view resuming from the last id it saw misses nothing
    store.begin(make_run(tmp_path, "1" * 32))

    other = RunStore(db_url)
    assert sorted(r.id for r in other.list_runs()[0]) == ["0" * 32, "1" * 32]
    assert other.get_run("0" * 32).status == "running" and [e.type for e in other.events("0" * 32)] == ["run.started"]
    other.close()
    stop()
    assert not store.file_replaced()


def test_importing_the_store_loads_no_kernel_machinery():
    """The store stands on the light modules only: no kernel pool, nbclient, zmq or papermill."""
    code = (
        "import sys\n"
        "import jupyter_workflow.store\n"
        "heavy = ('jupyter_workflow.engine.pool', 'nbclient', 'zmq', 'papermill', 'jupyter_client', 'alembic')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
