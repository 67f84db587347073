"""A run store pre-filled with many realistic runs, for benchmarking the server against it.

``fill_store(db_url, runs)`` opens :class:`jupyter_workflow.store.RunStore` once so that
Alembic creates the schema, then bulk-inserts with SQLAlchemy core into the real tables:
a handful of workflow versions, and ``runs`` runs spread over several workflow names,
statuses, triggers and the last 180 days, each with 3 node runs and 6 events. Rows go in
oldest first, as the engine would have written them. Seeded, so every fill is the same.
"""

import hashlib
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import create_engine, event, func, insert, literal, null, select, union_all

from jupyter_workflow.store import RunStore
from jupyter_workflow.store.models import NodeRun, Run, RunEvent, WorkflowVersion

WORKFLOWS = ["reconcile", "nightly_etl", "train_model", "weekly_report", "ingest_invoices"]
NODES = ["extract", "transform", "load"]
# (status, weight): mostly successes, some failures, a few cancelled or interrupted.
STATUSES = [("succeeded", 80), ("failed", 12), ("cancelled", 5), ("interrupted", 3)]
TRIGGERS = [("cli", 40), ("server", 35), ("api", 20), ("retry", 5)]
USERS = ["alice", "bob", "carol", "dave", None]
CHUNK = 5_000


def _spec(name: str, revision: int) -> dict:
    return {
        "format": "jupyter-workflow/1",
        "name": name,
        "inputs": {"day": {"type": "string", "default": "2024-01-01"}, "threshold": {"type": "number", "default": 0.8}},
        "nodes": {
            "extract": {"notebook": f"components/{name}/extract.ipynb", "parameters": {"day": {"input": "day"}}},
            "transform": {
                "notebook": f"components/{name}/transform.ipynb",
                "parameters": {"table": {"output": "extract.table"}, "threshold": {"input": "threshold"}},
                "retries": revision,
            },
            "load": {
                "notebook": f"components/{name}/load.ipynb", "parameters": {"table": {"output": "transform.table"}}
            },
        },
        "outputs": {"rows": {"output": "load.rows"}},
    }


def _hash(document: dict) -> str:
    return hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _fast_sqlite(dbapi_connection, connection_record) -> None:
    """A bulk load needs no fsync per commit; the store's own connections keep their settings."""
    dbapi_connection.execute("PRAGMA synchronous = OFF")
    dbapi_connection.execute("PRAGMA cache_size = -262144")


def _node_rows(rng, run_id, run_dir, status, started, finished) -> list[dict]:
    """Three node runs; in a failed run the middle node failed and the last was skipped."""
    rows, at = [], started
    for index, node in enumerate(NODES):
        node_status = "succeeded"
        if status == "failed" and index >= 1:
            node_status = "failed" if index == 1 else "skipped"
        elif status in ("cancelled", "interrupted") and index == 2:
            node_status = "cancelled"
        end = min(finished, at + timedelta(seconds=rng.uniform(1, 60)))
        rows.append(
            {
                "run_id": run_id,
                "node_id": node,
                "status": node_status,
                "attempt": 0 if node_status == "skipped" else 1,
                "started_at": None if node_status == "skipped" else at,
                "finished_at": end,
                "notebook": None if node_status == "skipped" else f"{run_dir}/nodes/{node}.ipynb",
                "outputs": {"rows": rng.randrange(10_000)} if node_status == "succeeded" else {},
                "error": {"ename": "ValueError", "evalue": "bad row 17", "traceback": "..."}
                if node_status == "failed"
                else None,
                "cache_key": None,
            }
        )
        at = end
    return rows


def _insert_events(connection) -> None:
    """Six events per run, made by the database from the runs and node runs, in time order.

    ``run.started``, one ``node.output``, ``node.finished`` per node, ``run.finished``: an
    ``INSERT … SELECT`` is much faster than sending 600,000 rows from Python.
    """
    runs, nodes = Run.__table__, NodeRun.__table__
    output = json.dumps({"stream": "stdout", "text": "read 512 rows\n"})
    kinds = union_all(
        select(runs.c.id, null(), literal("run.started"), literal('{"inputs": {}}'), runs.c.started_at, literal(0)),
        select(runs.c.id, literal("extract"), literal("node.output"), literal(output), runs.c.started_at, literal(1)),
        select(
            nodes.c.run_id, nodes.c.node_id, literal("node.finished"),
            func.json_object("status", nodes.c.status, "attempt", nodes.c.attempt), nodes.c.finished_at, literal(2),
        ),
        select(
            runs.c.id, null(), literal("run.finished"), func.json_object("status", runs.c.status), runs.c.finished_at,
            literal(3),
        ),
    ).subquery()
    run_id, node_id, kind, data, time, order = kinds.c
    connection.execute(
        insert(RunEvent).from_select(
            ["run_id", "node_id", "type", "data", "time"],
            select(run_id, node_id, kind, data, time).order_by(time, order),
        )
    )


def fill_store(db_url: str, runs: int, runs_dir: str = "/srv/workflow/runs", seed: int = 1) -> None:
    """Create the schema at ``db_url`` and insert ``runs`` runs (see the module doc)."""
    RunStore(db_url).close()  # Alembic creates the schema
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    engine = create_engine(db_url)
    event.listen(engine, "connect", _fast_sqlite)
    versions = [(name, revision) for name in WORKFLOWS for revision in range(1 if name == "ingest_invoices" else 2)]
    with engine.begin() as connection:
        version_ids = {}
        for name, revision in versions:
            document = _spec(name, revision)
            version_ids.setdefault(name, []).append(
                connection.execute(
                    insert(WorkflowVersion).values(
                        content_hash=_hash(document), name=name, spec=document,
                        created_at=now - timedelta(days=200 - 10 * revision), created_by="alice",
                    )
                ).inserted_primary_key[0]
            )
        # Oldest first, as they were written; all finished by now (a run lasts at most ~10 minutes).
        offsets = sorted((rng.uniform(900, 180 * 86400) for _ in range(runs)), reverse=True)
        names = rng.choices(WORKFLOWS, k=runs)
        statuses = rng.choices(*zip(*STATUSES), k=runs)
        triggers = rng.choices(*zip(*TRIGGERS), k=runs)
        previous_id = None
        for start in range(0, runs, CHUNK):
            run_rows, node_rows = [], []
            for offset, name, status, trigger in zip(
                offsets[start:start + CHUNK], names[start:start + CHUNK], statuses[start:start + CHUNK],
                triggers[start:start + CHUNK],
            ):
                run_id = f"{rng.getrandbits(128):032x}"
                created = now - timedelta(seconds=offset)
                started = created + timedelta(milliseconds=rng.uniform(20, 500))
                finished = started + timedelta(seconds=rng.uniform(5, 600))
                run_dir = f"{runs_dir}/{run_id}"
                nodes = _node_rows(rng, run_id, run_dir, status, started, finished)
                run_rows.append(
                    {
                        "id": run_id,
                        "version_id": rng.choice(version_ids[name]),
                        "workflow_name": name,
                        "workflow_path": f"/srv/workflows/{name}.workflow.json",
                        "status": status,
                        "inputs": {"day": created.date().isoformat(), "threshold": round(rng.uniform(0.5, 1), 2)},
                        "outputs": {"rows": nodes[-1]["outputs"]["rows"]} if status == "succeeded" else {},
                        "error": {"node": "transform", **nodes[1]["error"]} if status == "failed" else None,
                        "trigger": trigger,
                        "user": rng.choice(USERS),
                        "created_at": created,
                        "started_at": started,
                        "finished_at": finished,
                        "run_dir": run_dir,
                        "retry_of": previous_id if trigger == "retry" else None,
                        "host": "worker-1",
                        "pid": rng.randrange(1000, 60000),
                    }
                )
                node_rows.extend(nodes)
                previous_id = run_id
            connection.execute(insert(Run), run_rows)
            connection.execute(insert(NodeRun), node_rows)
        _insert_events(connection)
    engine.dispose()


if __name__ == "__main__":  # python benchmarks/fill_store.py /tmp/x.db 100000: time the fill alone
    import sys
    import time

    began = time.perf_counter()
    fill_store(f"sqlite:///{Path(sys.argv[1]).resolve()}", int(sys.argv[2]))
    print(f"filled in {time.perf_counter() - began:.1f} s")
