"""Runs: what the engine tells the store of each run as it goes, and the queries on runs.

:class:`Runs` is the engine's :class:`~jupyter_workflow.engine.state.RunListener`:
:meth:`~Runs.begin` stores a new run (its workflow version once per content, the run,
its node rows), :meth:`~Runs.record` appends each event to the run's event log and saves
the run and the event's node as they are then. The CLI, the server and the widgets read
them back as records: one run by id or unique id prefix, pages of runs newest first
(paged by an opaque cursor over ``(created_at, id)``), the events after an id.
"""

import base64
import binascii
import json
import os
import socket
from datetime import datetime

from sqlalchemy import Connection, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from jupyter_workflow.engine.state import NodeState, RunState
from jupyter_workflow.events import Event, RunStatus
from jupyter_workflow.runtime.artifacts import encode_refs
from jupyter_workflow.store.audit import audit_values
from jupyter_workflow.store.database import Database, on_current_file, require_aware, resolve_id
from jupyter_workflow.store.errors import AmbiguousRunId, InvalidCursor, RunNotFound
from jupyter_workflow.store.models import AuditEntry, Fire, NodeRun, Run, RunEvent, WorkflowVersion
from jupyter_workflow.store.records import AuditNote, EventRecord, NodeRunRecord, RunRecord
from jupyter_workflow.store.versions import version_row


def _run_values(run: RunState) -> dict:
    return {
        "status": run.status,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "outputs": encode_refs(run.outputs),
        "error": run.error,
    }


def _node_values(node: NodeState) -> dict:
    return {
        "status": node.status,
        "attempt": node.attempt,
        "started_at": node.started_at,
        "finished_at": node.finished_at,
        "notebook": node.notebook,
        "outputs": encode_refs(node.outputs),
        "error": node.error,
        "cache_key": node.cache_key,
    }


def _encode_cursor(created_at: datetime, run_id: str) -> str:
    payload = json.dumps([created_at.isoformat(), run_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) key of the last run of a page; :class:`InvalidCursor` if malformed."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
        created_at, run_id = payload
        created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None or not isinstance(run_id, str):
            raise ValueError
    except (TypeError, ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor from None
    return created_at, run_id


class Runs(Database):
    """The part of the run store that stores runs, node runs and events, and answers queries on them."""

    @on_current_file
    def begin(self, run: RunState, note: AuditNote | None = None) -> None:
        """Store a new run: its workflow version (once per content), run and node rows.

        The run is marked as executed by this process on this host (see
        :mod:`~jupyter_workflow.store.recovery`); ``run.retry_of``, if set, names the run
        it repeats. ``note``, if given, goes into the audit log in the same transaction.
        """
        self._insert_run(run, note)

    @on_current_file
    def enqueue(self, run: RunState, fire_id: int | None = None, note: AuditNote | None = None) -> bool:
        """Store a new pending run as ``queued``, for a worker to claim: no process executes it yet.

        With ``fire_id`` the run is the one run of that fire of a schedule: in the same
        transaction the fire takes it (``fires.run_id``, status ``queued``) unless the fire has
        a run already, and then nothing is stored and False is returned. A run's
        ``fire_id`` attribute, if set (a retry of a scheduled run), is stored as its fire.
        """
        return self._insert_run(run, note, queued=True, fire_id=fire_id)

    @on_current_file
    def ensure_run(self, run: RunState) -> None:
        """Store ``run`` as it is now, unless the store has it already (e.g. in a new file)."""
        self._insert_run(run, if_missing=True)

    def _insert_run(self, run: RunState, note: AuditNote | None = None, if_missing: bool = False,
                    queued: bool = False, fire_id: int | None = None) -> bool:
        workflow = run.workflow
        with self._session.begin() as session:
            if if_missing and session.get(Run, run.run_id) is not None:
                return False
            if fire_id is not None:
                taken = session.execute(
                    update(Fire).where(Fire.id == fire_id, Fire.run_id.is_(None))
                    .values(run_id=run.run_id, status=RunStatus.QUEUED)
                ).rowcount
                if not taken:
                    return False
            version = version_row(session, workflow.document, workflow.name, run.user, run.created_at)
            values = _run_values(run)
            if queued:
                values["status"] = RunStatus.QUEUED
            session.execute(
                insert(Run).values(
                    id=run.run_id,
                    version_id=version.id,
                    workflow_name=workflow.name,
                    workflow_path=str(workflow.path) if workflow.path is not None else None,
                    inputs=encode_refs(run.inputs),
                    trigger=run.trigger,
                    user=run.user,
                    created_at=run.created_at,
                    run_dir=str(run.run_dir),
                    retry_of=getattr(run, "retry_of", None),
                    host=None if queued else socket.gethostname(),
                    pid=None if queued else os.getpid(),
                    fire_id=fire_id if fire_id is not None else getattr(run, "fire_id", None),
                    **values,
                )
            )
            if run.nodes:
                rows = [{"run_id": run.run_id, "node_id": key, **_node_values(node)} for key, node in run.nodes.items()]
                session.execute(insert(NodeRun), rows)
            if note is not None:
                session.execute(insert(AuditEntry).values(**audit_values(note)))
        return True

    def record(self, run: RunState, event: Event) -> int:
        """Append ``event`` and save the run and the event's node as they are now.

        Returns the id of the stored event: the position clients resume from
        (``events(run_id, after_id=...)``).
        """
        return self.record_many([(run, event)])[0]

    @on_current_file
    def record_many(self, entries: list[tuple[RunState, Event]]) -> list[int]:
        """``record`` for several events at once, in one transaction; their ids in order.

        The events go in with one bulk insert; each run and each node the events touch
        is then saved once, as the newest state in ``entries`` shows it.
        """
        if not entries:
            return []
        rows = [
            {"run_id": e.run_id, "node_id": e.node_id, "type": e.type, "data": encode_refs(e.data), "time": e.time}
            for _, e in entries
        ]
        newest = {run.run_id: run for run, _ in entries}
        nodes = {(run.run_id, e.node_id): run.nodes[e.node_id] for run, e in entries if e.node_id is not None}
        # Core statements, not the ORM: the event log is the store's hottest write.
        events, runs = RunEvent.__table__, Run.__table__
        with self.engine.begin() as connection:
            ids = list(connection.scalars(insert(events).returning(events.c.id, sort_by_parameter_order=True), rows))
            for run_id, run in newest.items():
                connection.execute(update(runs).where(runs.c.id == run_id).values(**_run_values(run)))
            if nodes:
                self._save_nodes(connection, nodes)
        self._last_event_id = max(self._last_event_id, ids[-1])
        return ids

    @staticmethod
    def _save_nodes(connection: Connection, nodes: dict[tuple[str, str], NodeState]) -> None:
        """Save the newest state of each touched node with one bulk UPDATE."""
        table = NodeRun.__table__
        rows = [
            {"b_run_id": run_id, "b_node_id": node_id, **_node_values(node)}
            for (run_id, node_id), node in nodes.items()
        ]
        statement = update(table).where(table.c.run_id == bindparam("b_run_id"), table.c.node_id == bindparam("b_node_id"))
        if connection.execute(statement, rows).rowcount == len(rows):
            return
        for row in rows:  # some node was added after ``begin``: insert the ones not there yet
            run_id, node_id = row.pop("b_run_id"), row.pop("b_node_id")
            exists = connection.scalar(select(table.c.id).where(table.c.run_id == run_id, table.c.node_id == node_id))
            if exists is None:
                connection.execute(insert(table).values(run_id=run_id, node_id=node_id, **row))

    @staticmethod
    def _resolve(session: Session, run_id: str) -> str:
        return resolve_id(session, Run.id, run_id, "run", RunNotFound, AmbiguousRunId)

    @on_current_file
    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id or unique id prefix, with its nodes.

        Raises :class:`RunNotFound` if no run matches, :class:`AmbiguousRunId` if several do.
        """
        with self._session() as session:
            run_id = self._resolve(session, run_id)
            row, content_hash = session.execute(
                select(Run, WorkflowVersion.content_hash).join(WorkflowVersion).where(Run.id == run_id)
            ).one()
            node_rows = session.scalars(
                select(NodeRun)
                .where(NodeRun.run_id == run_id)
                .order_by(NodeRun.started_at.is_(None), NodeRun.started_at, NodeRun.node_id)
            )
            nodes = [NodeRunRecord.from_row(node) for node in node_rows]
            return RunRecord.from_row(row, content_hash=content_hash, nodes=nodes)

    @on_current_file
    def list_runs(
        self,
        limit: int = 50,
        workflow: str | None = None,
        status: str | None = None,
        trigger: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        cursor: str | None = None,
    ) -> tuple[list[RunRecord], str | None]:
        """One page of runs (without nodes), newest first, and the cursor of the next page.

        ``workflow``, ``status`` and ``trigger`` select runs with that value; ``since``
        (inclusive) and ``until`` (exclusive) bound ``created_at`` and must be
        timezone-aware. The cursor is None on the last page; pass it back, with the same
        filters, for the page after. Raises :class:`InvalidCursor` for a cursor
        this store did not make.
        """
        require_aware("since", since)
        require_aware("until", until)
        if limit <= 0:
            return [], None
        query = select(Run, WorkflowVersion.content_hash).join(WorkflowVersion)
        if workflow is not None:
            query = query.where(Run.workflow_name == workflow)
        if status is not None:
            query = query.where(Run.status == status)
        if trigger is not None:
            query = query.where(Run.trigger == trigger)
        if since is not None:
            query = query.where(Run.created_at >= since)
        if until is not None:
            query = query.where(Run.created_at < until)
        if cursor is not None:
            after_created_at, after_id = _decode_cursor(cursor)
            # (created_at, id) < key, spelled so that the first term bounds an index range.
            query = query.where(
                Run.created_at <= after_created_at,
                or_(Run.created_at < after_created_at, and_(Run.created_at == after_created_at, Run.id < after_id)),
            )
        query = query.order_by(Run.created_at.desc(), Run.id.desc()).limit(limit + 1)
        with self._session() as session:
            rows = session.execute(query).all()
        runs = [RunRecord.from_row(row, content_hash=content_hash) for row, content_hash in rows[:limit]]
        next_cursor = _encode_cursor(runs[-1].created_at, runs[-1].id) if len(rows) > limit else None
        return runs, next_cursor

    @on_current_file
    def events(self, run_id: str | None, after_id: int = 0) -> list[EventRecord]:
        """The events of a run (full id; None: of all runs) with an id above ``after_id``, in order."""
        query = select(RunEvent).where(RunEvent.id > after_id).order_by(RunEvent.id)
        if run_id is not None:
            query = query.where(RunEvent.run_id == run_id)
        with self._session() as session:
            return [EventRecord.from_row(row) for row in session.scalars(query)]

    @on_current_file
    def last_event_id(self) -> int:
        """The id of the newest event (0 when there is none)."""
        with self._session() as session:
            return session.scalar(select(func.max(RunEvent.id))) or 0
