"""The run store: every run, node run and event of the engine, kept in a database.

:class:`RunStore` is the engine's :class:`~jupyter_workflow.engine.state.RunListener`
that persists runs, and answers the queries of the CLI, the server and the widgets with
plain records. It also keeps the saved workflow versions and an audit log of who did
what. Any SQLAlchemy URL works; SQLite files run in WAL mode so that several processes
can share one.

Every method opens its own session on the one engine, so a store may be called from any
thread (for instance through ``asyncio.to_thread``).

A store refuses to write a value that is not JSON (NaN, an infinity, a lone surrogate),
raises :class:`StoreUnavailable` when the database cannot be opened or written, and
follows its SQLite file: when the file was removed or replaced, the next operation goes on
in the file now at that path, never in the one nobody else can see.
"""

import base64
import binascii
import functools
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import (
    URL,
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    func,
    insert,
    make_url,
    or_,
    select,
    update,
)
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.event import listen
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from jupyter_workflow.engine.state import NodeState, RunState, duration
from jupyter_workflow.events import (
    FINAL_NODE_STATUSES,
    UNFINISHED_RUN_STATUSES,
    Event,
    EventType,
    NodeStatus,
    RunFinished,
    RunInterrupted,
    RunStatus,
)
from jupyter_workflow.model.spec import content_hash as document_hash
from jupyter_workflow.processes import process_alive
from jupyter_workflow.runtime.artifacts import decode_refs, encode_refs, iter_refs
from jupyter_workflow.store.models import AuditEntry, NodeRun, Run, RunEvent, WorkflowVersion

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest migration's revision: a store already there opens without loading Alembic.
HEAD_REVISION = "0001"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Key of the PostgreSQL advisory lock held while migrating.
MIGRATION_LOCK_KEY = 0x6A7077

AUDIT_TARGET_LENGTH = 255
# What a SQLite error says when the database cannot be opened or written (read-only, full,
# gone, locked for longer than the busy timeout).
SQLITE_UNAVAILABLE = (
    "readonly database",
    "unable to open database file",
    "disk I/O error",
    "database or disk is full",
    "database is locked",
    "file is not a database",
)
# SQLSTATEs of a database server that refuses writes: a read-only transaction, no privilege.
SERVER_UNAVAILABLE = ("25006", "42501")

log = logging.getLogger(__name__)


class StoreUnavailable(RuntimeError):
    """The configured database cannot be opened or written (bad URL, missing driver, no access, read-only)."""


def safe_url(db_url: str | URL) -> str:
    """The URL as it may be shown: without its password."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return repr(db_url)


class AmbiguousRunId(LookupError):
    """A run id prefix that matches several runs."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class NodeRunRecord:
    """One node of a stored run."""

    run_id: str
    node_id: str
    status: str
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None
    notebook: str | None
    outputs: dict
    error: dict | None

    @property
    def duration_s(self) -> float | None:
        return duration(self.started_at, self.finished_at)

    def to_dict(self) -> dict:
        """JSON-safe: ISO-8601 times, artifact references as ``{"$artifact": meta}``."""
        return {
            "run_id": self.run_id,
            "node_id": self.node_id,
            "status": self.status,
            "attempt": self.attempt,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_s": self.duration_s,
            "notebook": self.notebook,
            "outputs": encode_refs(self.outputs),
            "error": self.error,
        }


@dataclass
class RunRecord:
    """One stored run; ``nodes`` is None when not loaded (``list_runs``)."""

    id: str
    version_id: int
    content_hash: str
    workflow_name: str
    workflow_path: str | None
    status: str
    inputs: dict
    outputs: dict
    error: dict | None
    trigger: str
    user: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run_dir: str
    nodes: list[NodeRunRecord] | None = None
    retry_of: str | None = None
    host: str | None = None
    pid: int | None = None

    @property
    def duration_s(self) -> float | None:
        return duration(self.started_at, self.finished_at)

    def to_dict(self) -> dict:
        """JSON-safe: ISO-8601 times, artifact references as ``{"$artifact": meta}``."""
        result = {
            "id": self.id,
            "version_id": self.version_id,
            "content_hash": self.content_hash,
            "workflow_name": self.workflow_name,
            "workflow_path": self.workflow_path,
            "status": self.status,
            "inputs": encode_refs(self.inputs),
            "outputs": encode_refs(self.outputs),
            "error": self.error,
            "trigger": self.trigger,
            "user": self.user,
            "created_at": _iso(self.created_at),
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "duration_s": self.duration_s,
            "run_dir": self.run_dir,
            "retry_of": self.retry_of,
            "host": self.host,
            "pid": self.pid,
        }
        if self.nodes is not None:
            result["nodes"] = [node.to_dict() for node in self.nodes]
        return result


@dataclass(frozen=True, kw_only=True)
class EventRecord(Event):
    """One stored entry of a run's event log; ``id`` grows with every event stored."""

    id: int

    def to_dict(self) -> dict:
        """The message clients see (:meth:`Event.message`)."""
        return self.message(self.id)


@dataclass
class VersionRecord:
    """One stored workflow document."""

    id: int
    content_hash: str
    name: str
    spec: dict
    created_at: datetime
    created_by: str | None

    def to_dict(self) -> dict:
        """JSON-safe: ISO-8601 time."""
        return {
            "id": self.id,
            "content_hash": self.content_hash,
            "name": self.name,
            "spec": self.spec,
            "created_at": _iso(self.created_at),
            "created_by": self.created_by,
        }


@dataclass
class AuditNote:
    """An audit log entry to write in the same transaction as the change it tells of."""

    user: str | None
    action: str
    target: str | None
    details: dict = field(default_factory=dict)


@dataclass
class AuditRecord:
    """One entry of the audit log: ``user`` did ``action`` to ``target`` at ``time``."""

    id: int
    time: datetime
    user: str | None
    action: str
    target: str | None
    details: dict

    def to_dict(self) -> dict:
        """JSON-safe: ISO-8601 time."""
        return {
            "id": self.id,
            "time": _iso(self.time),
            "user": self.user,
            "action": self.action,
            "target": self.target,
            "details": self.details,
        }


def alembic_config(db_url: str | None = None):
    """The Alembic configuration of the store's migrations (no ini file needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if db_url is not None:
        config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    return config


def _to_json(value) -> str:
    """The JSON text of a value to store.

    NaN and infinities raise ``ValueError`` here, and a lone surrogate fails where the
    driver encodes the text: a value that no later read could answer is never written.
    """
    return json.dumps(value, allow_nan=False, ensure_ascii=False)


def _from_json(text: str):
    """A stored JSON value; a ``NaN`` or an infinity that an older version wrote reads as null.

    Such a value can no longer be written (:func:`_to_json`), and none may break a read.
    """
    return json.loads(text, parse_constant=lambda name: None)


def _unavailable(context: ExceptionContext) -> StoreUnavailable | None:
    """:class:`StoreUnavailable` in place of an error saying the database cannot be opened or written."""
    error = context.original_exception
    if context.dialect is not None and context.dialect.name == "sqlite":
        unavailable = any(text in str(error) for text in SQLITE_UNAVAILABLE)
    else:
        unavailable = (
            context.is_disconnect
            or isinstance(context.sqlalchemy_exception, OperationalError)
            or getattr(error, "sqlstate", getattr(error, "pgcode", None)) in SERVER_UNAVAILABLE
        )
    if not unavailable:
        return None
    url = safe_url(context.engine.url) if context.engine is not None else "database"
    return StoreUnavailable(f"the run store {url} cannot be used: {error}")


def _sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite URL, ``file:`` URIs included; None for any other database."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if url.database.startswith("file:"):
        return None if url.query.get("mode") == "memory" else Path(urlsplit(url.database).path)
    return Path(url.database)


def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    # In WAL mode NORMAL stays consistent after a crash and skips an fsync per commit,
    # which the event log (one small commit per event) cannot afford.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _sqlite_autocommit_driver(dbapi_connection, connection_record) -> None:
    """Let SQLAlchemy, not the sqlite3 module, decide when transactions begin."""
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Take SQLite's write lock at the start of each transaction.

    A deferred transaction that reads and then writes fails at once with "database is
    locked" if another process wrote in between; an immediate one waits its turn.
    Connections in autocommit mode (single-statement reads) take no lock at all.
    """
    if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_for_migration(connection: Connection) -> None:
    """Make other processes wait while this one migrates (SQLite transactions already do)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")


def _revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def _at_head(engine: Engine) -> bool:
    """Whether the schema is at :data:`HEAD_REVISION`, asked with one query."""
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == HEAD_REVISION
    except (DBAPIError, StoreUnavailable):  # no version table yet, or another process is creating the file
        return False  # then the migration's transaction waits its turn (or says why it cannot)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest migration unless it is there already."""
    if _at_head(engine):
        return
    from alembic import command

    config = alembic_config()
    with engine.begin() as connection:
        _lock_for_migration(connection)
        if _revision(connection) != HEAD_REVISION:  # another process may have just migrated
            config.attributes["connection"] = connection
            command.upgrade(config, "head")


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


def _identity(file: Path | None) -> tuple[int, int] | None:
    """Which file is at ``file`` (device and inode), or None if none is."""
    if file is None:
        return None
    try:
        stat = file.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _encode_cursor(created_at: datetime, run_id: str) -> str:
    payload = json.dumps([created_at.isoformat(), run_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at, id) key of the last run of a page; ``ValueError`` if malformed."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("utf-8"))
        created_at, run_id = payload
        created_at = datetime.fromisoformat(created_at)
        if created_at.tzinfo is None or not isinstance(run_id, str):
            raise ValueError
    except (TypeError, ValueError, binascii.Error, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None
    return created_at, run_id


def _require_aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value.isoformat()}")


def _version_record(row: WorkflowVersion) -> VersionRecord:
    return VersionRecord(
        id=row.id,
        content_hash=row.content_hash,
        name=row.name,
        spec=row.spec,
        created_at=row.created_at,
        created_by=row.created_by,
    )


def _audit_record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id, time=row.time, user=row.user, action=row.action, target=row.target, details=row.details
    )


def _audit_values(note: AuditNote) -> dict:
    """The audit log row of ``note``; a target longer than the column is cut, and kept whole in the details."""
    target, details = note.target, dict(note.details)
    if target is not None and len(target) > AUDIT_TARGET_LENGTH:
        details.setdefault("target", target)
        target = target[:AUDIT_TARGET_LENGTH]
    return {"time": _utcnow(), "user": note.user, "action": note.action, "target": target, "details": details}


def _on_current_file(method):
    """Run a store method on the file now at the store's path (see ``RunStore._using_current_file``)."""

    @functools.wraps(method)
    def on_current_file(self, *args, **kwargs):
        with self._using_current_file():
            return method(self, *args, **kwargs)

    return on_current_file


def _interrupted_reason(host: str | None, pid: int | None) -> str:
    process = f"pid {pid}" if pid is not None else "pid unknown"
    return f"the process running it ({process} on {host or 'an unknown host'}) ended before the run finished"


def _node_record(row: NodeRun) -> NodeRunRecord:
    return NodeRunRecord(
        run_id=row.run_id,
        node_id=row.node_id,
        status=row.status,
        attempt=row.attempt,
        started_at=row.started_at,
        finished_at=row.finished_at,
        notebook=row.notebook,
        outputs=decode_refs(row.outputs),
        error=row.error,
    )


def _run_record(row: Run, content_hash: str, nodes: list[NodeRunRecord] | None = None) -> RunRecord:
    return RunRecord(
        id=row.id,
        version_id=row.version_id,
        content_hash=content_hash,
        workflow_name=row.workflow_name,
        workflow_path=row.workflow_path,
        status=row.status,
        inputs=decode_refs(row.inputs),
        outputs=decode_refs(row.outputs),
        error=row.error,
        trigger=row.trigger,
        user=row.user,
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        run_dir=row.run_dir,
        nodes=nodes,
        retry_of=row.retry_of,
        host=row.host,
        pid=row.pid,
    )


class RunStore:
    """Runs, node runs and events in the database at ``db_url``.

    Opening it creates the SQLite folder if needed and migrates the schema to the
    latest version. It is the engine's ``RunListener``: ``begin`` stores a new run,
    ``record`` each of its events.
    """

    def __init__(self, db_url: str):
        self._when_file_replaced: list[Callable[[], None]] = []
        self._users = 0  # operations under way, on any thread
        self._users_changed = threading.Condition()
        self._thread = threading.local()  # .inside: an operation of this thread is under way
        self._last_event_id = 0  # the newest event id this store gave out: a new file goes on after it
        try:
            url = make_url(db_url)
            self._file = _sqlite_file(url)
            self.engine = create_engine(url, json_serializer=_to_json, json_deserializer=_from_json)
            if url.get_backend_name() == "sqlite":
                listen(self.engine, "connect", _sqlite_autocommit_driver)
                listen(self.engine, "connect", _sqlite_pragmas)
                listen(self.engine, "begin", _sqlite_begin_immediate)
            listen(self.engine, "handle_error", _unavailable)
            self._open_file()
        except (SQLAlchemyError, ImportError, OSError) as error:
            raise StoreUnavailable(f"cannot open the run store {safe_url(db_url)}: {error}") from error
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        # For one-statement reads on hot paths: no transaction, so no wait for writers.
        self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def _open_file(self) -> None:
        """Create the SQLite file (and its folder) if needed, migrate it, and note which file it is."""
        if self._file is not None:
            self._file.parent.mkdir(parents=True, exist_ok=True)
        upgrade(self.engine)
        self._file_identity = _identity(self._file)

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    def file_replaced(self) -> bool:
        """Whether its SQLite file was removed or replaced since the store opened it.

        Always False for a database server. The store's next operation then goes on in
        the file now at that path (see :meth:`when_file_replaced`).
        """
        return self._file is not None and _identity(self._file) != self._file_identity

    def when_file_replaced(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` each time the store goes on in a new file, before any other operation.

        For whoever holds state the new file lacks (the runs in progress). Returns a
        function that stops the calls.
        """
        self._when_file_replaced.append(callback)
        return lambda: self._when_file_replaced.remove(callback)

    @contextmanager
    def _using_current_file(self) -> Iterator[None]:
        """Hold an operation on the file now at the store's path.

        Connections opened on a file that was removed would go on writing into it, where
        nobody else sees the writes, and a new file at that path must not start while they
        are open (SQLite's write-ahead log is found by the file's name). So the first
        operation that finds the file replaced waits until the operations under way end,
        closes every connection, opens the new file (creating it) and calls the
        :meth:`when_file_replaced` callbacks; then it and the others go on.
        """
        if getattr(self._thread, "inside", False):  # an outer operation of this thread checked
            yield
            return
        with self._users_changed:
            if self.file_replaced():
                self._users_changed.wait_for(lambda: self._users == 0)
                if self.file_replaced():
                    self._go_on_in_new_file()
            self._users += 1
        self._thread.inside = True
        try:
            yield
        finally:
            self._thread.inside = False
            with self._users_changed:
                self._users -= 1
                self._users_changed.notify_all()

    def _go_on_in_new_file(self) -> None:
        log.warning("the run store file %s was removed or replaced: going on in the file now at that path", self._file)
        self.engine.dispose()
        try:
            self._open_file()
        except OSError as error:
            raise StoreUnavailable(f"cannot open the run store file {self._file} again: {error}") from error
        self._continue_event_ids()
        self._thread.inside = True  # the callbacks' own operations are on the new file
        try:
            for callback in list(self._when_file_replaced):
                callback()
        finally:
            self._thread.inside = False

    def _continue_event_ids(self) -> None:
        """Make the new file's event ids follow the ones this store gave out in the old file.

        Live views resume from the last id they saw and skip any lower one: ids starting
        again at 1 would hide the new events from them.
        """
        with self.engine.begin() as connection:
            updated = connection.exec_driver_sql(
                "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'run_events'", (self._last_event_id,)
            )
            if updated.rowcount == 0:
                connection.exec_driver_sql(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES ('run_events', ?)", (self._last_event_id,)
                )

    @_on_current_file
    def begin(self, run: RunState, note: AuditNote | None = None) -> None:
        """Store a new run: its workflow version (once per content), run and node rows.

        The run is marked as executed by this process on this host (see
        :meth:`recover_interrupted`); ``run.retry_of``, if set, names the run it repeats.
        ``note``, if given, goes into the audit log in the same transaction.
        """
        self._insert_run(run, note)

    @_on_current_file
    def ensure_run(self, run: RunState) -> None:
        """Store ``run`` as it is now, unless the store has it already (e.g. in a new file)."""
        self._insert_run(run, if_missing=True)

    def _insert_run(self, run: RunState, note: AuditNote | None = None, if_missing: bool = False) -> None:
        workflow = run.workflow
        with self._session.begin() as session:
            if if_missing and session.get(Run, run.run_id) is not None:
                return
            version = self._version_row(session, workflow.document, workflow.name, run.user, run.created_at)
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
                    host=socket.gethostname(),
                    pid=os.getpid(),
                    **_run_values(run),
                )
            )
            if run.nodes:
                rows = [{"run_id": run.run_id, "node_id": key, **_node_values(node)} for key, node in run.nodes.items()]
                session.execute(insert(NodeRun), rows)
            if note is not None:
                session.execute(insert(AuditEntry).values(**_audit_values(note)))

    def record(self, run: RunState, event: Event) -> int:
        """Append ``event`` and save the run and the event's node as they are now.

        Returns the id of the stored event: the position clients resume from
        (``events(run_id, after_id=...)``).
        """
        return self.record_many([(run, event)])[0]

    @_on_current_file
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

    @_on_current_file
    def recover_interrupted(self) -> list[str]:
        """Mark the unfinished runs whose process has ended as ``interrupted``.

        A run that is ``pending`` or ``running`` counts as orphaned when its process is
        on this host and no longer alive, or when its host or pid is unknown. Its
        unfinished nodes become ``cancelled``, and ``run.interrupted`` then
        ``run.finished`` events are appended. Runs of live processes and of other hosts
        are left alone. Returns the ids of the runs marked, oldest first.
        """
        hostname = socket.gethostname()
        with self._session() as session:
            candidates = session.execute(
                select(Run.id, Run.host, Run.pid)
                .where(
                    Run.status.in_(UNFINISHED_RUN_STATUSES),
                    or_(Run.host == hostname, Run.host.is_(None), Run.pid.is_(None)),
                )
                .order_by(Run.created_at, Run.id)
            ).all()
        recovered = []
        for run_id, host, pid in candidates:
            if host is not None and pid is not None and process_alive(pid):
                continue
            if self._mark_interrupted(run_id, _interrupted_reason(host, pid)):
                recovered.append(run_id)
        return recovered

    def _mark_interrupted(self, run_id: str, reason: str) -> bool:
        """Interrupt one run in one transaction, unless it finished meanwhile."""
        with self._session.begin() as session:
            finished_at = _utcnow()
            interrupted = session.execute(
                update(Run)
                .where(Run.id == run_id, Run.status.in_(UNFINISHED_RUN_STATUSES))
                .values(status=RunStatus.INTERRUPTED, finished_at=finished_at)
                .returning(Run.started_at)
            ).first()
            if interrupted is None:
                return False
            session.execute(
                update(NodeRun)
                .where(NodeRun.run_id == run_id, NodeRun.status.not_in(FINAL_NODE_STATUSES))
                .values(status=NodeStatus.CANCELLED, finished_at=finished_at)
            )
            session.execute(
                insert(RunEvent),
                [
                    {"run_id": run_id, "node_id": None, "type": EventType.RUN_INTERRUPTED,
                     "data": RunInterrupted(reason=reason), "time": finished_at},
                    {"run_id": run_id, "node_id": None, "type": EventType.RUN_FINISHED,
                     "data": RunFinished(status=RunStatus.INTERRUPTED, duration_s=duration(interrupted.started_at, finished_at), error=None),
                     "time": finished_at},
                ],
            )
        return True

    def _resolve(self, session: Session, run_id: str) -> str:
        if not run_id:
            raise KeyError("no run id given")
        if session.get(Run, run_id) is not None:
            return run_id
        matches = session.scalars(
            select(Run.id).where(Run.id.startswith(run_id, autoescape=True)).order_by(Run.id).limit(6)
        ).all()
        if not matches:
            raise KeyError(f"no run with id {run_id!r}")
        if len(matches) > 1:
            shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
            raise AmbiguousRunId(f"run id prefix {run_id!r} matches several runs: {shown}")
        return matches[0]

    @_on_current_file
    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id or unique id prefix, with its nodes.

        Raises ``KeyError`` if no run matches, :class:`AmbiguousRunId` if several do.
        """
        with self._session() as session:
            run_id = self._resolve(session, run_id)
            row, content_hash = session.execute(
                select(Run, WorkflowVersion.content_hash).join(WorkflowVersion).where(Run.id == run_id)
            ).one()
            nodes = session.scalars(
                select(NodeRun)
                .where(NodeRun.run_id == run_id)
                .order_by(NodeRun.started_at.is_(None), NodeRun.started_at, NodeRun.node_id)
            ).all()
            return _run_record(row, content_hash, [_node_record(node) for node in nodes])

    @_on_current_file
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
        filters, for the page after. Raises ``ValueError("invalid cursor")`` for a cursor
        this store did not make.
        """
        _require_aware("since", since)
        _require_aware("until", until)
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
        runs = [_run_record(row, content_hash) for row, content_hash in rows[:limit]]
        next_cursor = _encode_cursor(runs[-1].created_at, runs[-1].id) if len(rows) > limit else None
        return runs, next_cursor

    @_on_current_file
    def events(self, run_id: str | None, after_id: int = 0) -> list[EventRecord]:
        """The events of a run (full id; None: of all runs) with an id above ``after_id``, in order."""
        query = select(RunEvent).where(RunEvent.id > after_id).order_by(RunEvent.id)
        if run_id is not None:
            query = query.where(RunEvent.run_id == run_id)
        with self._session() as session:
            return [
                EventRecord(
                    id=row.id,
                    run_id=row.run_id,
                    node_id=row.node_id,
                    type=row.type,
                    data=decode_refs(row.data),
                    time=row.time,
                )
                for row in session.scalars(query)
            ]

    @_on_current_file
    def last_event_id(self) -> int:
        """The id of the newest event (0 when there is none)."""
        with self._session() as session:
            return session.scalar(select(func.max(RunEvent.id))) or 0

    @_on_current_file
    def find_cached(self, cache_keys: list[str]) -> dict[str, NodeRunRecord]:
        """For each key that has one, the latest succeeded node run whose artifacts still exist.

        One query for all the keys: the engine asks for the nodes that became ready together.
        Only runs that executed the node count: a ``cached`` node run repeats one of them.
        """
        table = NodeRun.__table__
        found: dict[str, NodeRunRecord] = {}
        with self._reader.connect() as connection:
            for start in range(0, len(cache_keys), 500):  # a bounded IN list
                rows = connection.execute(
                    select(table)
                    .where(table.c.cache_key.in_(cache_keys[start : start + 500]))
                    .where(table.c.status == NodeStatus.SUCCEEDED)  # "cached" rows repeat the run they reused
                    .order_by(table.c.finished_at.desc())
                ).all()
                for row in rows:
                    if row.cache_key in found:
                        continue
                    record = _node_record(row)
                    if all(ref.path.exists() for ref in iter_refs(record.outputs)):
                        found[row.cache_key] = record
        return found

    @_on_current_file
    def get_version(self, content_hash: str) -> VersionRecord:
        """The stored workflow document with this content hash; ``KeyError`` if none."""
        with self._session() as session:
            row = session.scalar(select(WorkflowVersion).where(WorkflowVersion.content_hash == content_hash))
            if row is None:
                raise KeyError(f"no workflow version with content hash {content_hash!r}")
            return _version_record(row)

    @_on_current_file
    def save_version(self, document: dict, name: str, user: str | None) -> VersionRecord:
        """Store a workflow document once per content and return its version.

        The content hash is that of ``Workflow.content_hash`` (SHA-256 of the canonical
        JSON). A document stored before keeps its first name, time and author.
        """
        with self._session.begin() as session:
            return _version_record(self._version_row(session, document, name, user, _utcnow()))

    @contextmanager
    def saving(self, document: dict, name: str, note: AuditNote) -> Iterator[VersionRecord]:
        """Store a workflow document (as :meth:`save_version`) and ``note`` together, on leaving the block.

        For a change that must be recorded or not happen at all, such as writing a file from
        the document: make it inside the ``with`` block. An exception in the block stores
        nothing; a commit that fails raises :class:`StoreUnavailable` as the block ends, so
        the caller can undo the change.
        """
        with self._using_current_file():
            try:
                with self._session.begin() as session:
                    version = _version_record(self._version_row(session, document, name, note.user, _utcnow()))
                    session.execute(insert(AuditEntry).values(**_audit_values(note)))
                    yield version
            except SQLAlchemyError as error:
                reason = getattr(error, "orig", None) or error
                raise StoreUnavailable(f"the run store could not record {note.action}: {reason}") from error

    @staticmethod
    def _version_row(
        session: Session, document: dict, name: str, user: str | None, created_at: datetime
    ) -> WorkflowVersion:
        """The version row of ``document``, inserted unless the store has it."""
        content_hash = document_hash(document)
        query = select(WorkflowVersion).where(WorkflowVersion.content_hash == content_hash)
        row = session.scalar(query)
        if row is not None:
            return row
        try:
            with session.begin_nested():
                row = WorkflowVersion(
                    content_hash=content_hash, name=name, spec=document, created_at=created_at, created_by=user
                )
                session.add(row)
        except IntegrityError:  # another process stored it meanwhile: use theirs
            row = session.scalar(query)
        return row

    @_on_current_file
    def list_versions(self, name: str | None = None, limit: int = 100) -> list[VersionRecord]:
        """The stored workflow versions, newest first, optionally of one workflow name."""
        query = select(WorkflowVersion)
        if name is not None:
            query = query.where(WorkflowVersion.name == name)
        query = query.order_by(WorkflowVersion.created_at.desc(), WorkflowVersion.id.desc()).limit(max(limit, 0))
        with self._session() as session:
            return [_version_record(row) for row in session.scalars(query)]

    @_on_current_file
    def audit(self, user: str | None, action: str, target: str | None, details: dict | None = None) -> None:
        """Append to the audit log that ``user`` did ``action`` (e.g. ``run.cancel``) to ``target``.

        ``details`` must be JSON-serialisable. A target longer than 255 characters is
        stored cut, and whole in ``details["target"]``.
        """
        with self._session.begin() as session:
            session.execute(insert(AuditEntry).values(**_audit_values(AuditNote(user, action, target, details or {}))))

    @_on_current_file
    def audit_log(self, limit: int = 100, action: str | None = None, target: str | None = None) -> list[AuditRecord]:
        """The latest audit log entries first, optionally of one action and one target."""
        query = select(AuditEntry)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        if target is not None:
            query = query.where(AuditEntry.target == target)
        query = query.order_by(AuditEntry.time.desc(), AuditEntry.id.desc()).limit(max(limit, 0))
        with self._session() as session:
            return [_audit_record(row) for row in session.scalars(query)]
