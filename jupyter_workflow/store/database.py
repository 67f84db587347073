"""The store's database: opening it, SQLite's settings, errors that mean it cannot be used, its file.

:class:`Database` is the base of :class:`~jupyter_workflow.store.RunStore`: it opens one
SQLAlchemy engine on any URL, migrates the schema (:mod:`~jupyter_workflow.store.schema`),
and gives the concerns of the store their sessions. SQLite files run in WAL mode, each
transaction takes the write lock at its start, so that several processes can share one.

A store refuses to write a value that is not JSON (NaN, an infinity, a lone surrogate),
raises :class:`StoreUnavailable` when the database cannot be opened or written (a
connection that a database server ended meanwhile is replaced first), and
follows its SQLite file: when the file was removed or replaced, the next operation goes on
in the file now at that path, never in the one nobody else can see. Every public method of
the store is wrapped in :func:`on_current_file` for that.
"""

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import URL, Connection, create_engine, make_url, select
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.event import listen
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from jupyter_workflow.store.errors import StoreUnavailable
from jupyter_workflow.store.schema import upgrade

SQLITE_BUSY_TIMEOUT_MS = 30_000
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
# The package extra that installs the driver of a database, by SQLAlchemy backend name.
DRIVER_EXTRAS = {"postgresql": "postgresql"}
# SQLSTATEs of a database server that refuses writes: a read-only transaction, no privilege.
SERVER_UNAVAILABLE = ("25006", "42501")

log = logging.getLogger(__name__)


def safe_url(db_url: str | URL) -> str:
    """The URL as it may be shown: without its password."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except SQLAlchemyError:
        return repr(db_url)


def _driver_hint(db_url: str) -> str:
    """How to install the missing driver of ``db_url``, when the package has an extra for it."""
    extra = DRIVER_EXTRAS.get(make_url(db_url).get_backend_name())
    return f" (install the driver: pip install 'jupyter-workflow[{extra}]')" if extra else ""


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
    if context.is_pre_ping:  # a pooled connection found dead before use: the pool replaces it
        return None
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


def _identity(file: Path | None) -> tuple[int, int] | None:
    """Which file is at ``file`` (device and inode), or None if none is."""
    if file is None:
        return None
    try:
        stat = file.stat()
    except FileNotFoundError:
        return None
    return stat.st_dev, stat.st_ino


def require_aware(name: str, value: datetime | None) -> None:
    """Refuse a naive datetime given to the store as ``name``."""
    if value is not None and value.tzinfo is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value.isoformat()}")


def resolve_id(session: Session, column: InstrumentedAttribute, given: str, noun: str,
               not_found: type[LookupError], ambiguous: type[LookupError]) -> str:
    """The one id of ``column`` equal to ``given`` or starting with it.

    Raises ``not_found`` if no id matches (or none was given), ``ambiguous`` if several do;
    ``noun`` names what the ids are of, in their messages.
    """
    if not given:
        raise not_found(f"no {noun} id given")
    if session.scalar(select(column).where(column == given)) is not None:
        return given
    matches = session.scalars(
        select(column).where(column.startswith(given, autoescape=True)).order_by(column).limit(6)
    ).all()
    if not matches:
        raise not_found(f"no {noun} with id {given!r}")
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", ..." if len(matches) > 5 else "")
        raise ambiguous(f"{noun} id prefix {given!r} matches several {noun}s: {shown}")
    return matches[0]


def on_current_file(method):
    """Run a store method on the file now at the store's path (see ``Database._using_current_file``)."""

    @functools.wraps(method)
    def on_current_file(self, *args, **kwargs):
        with self._using_current_file():
            return method(self, *args, **kwargs)

    return on_current_file


class Database:
    """The database at ``db_url``, opened: its engine, sessions, and the file it follows.

    Opening it creates the SQLite folder if needed and migrates the schema to the
    latest version. Every method opens its own session on the one engine, so a store
    may be called from any thread (for instance through ``asyncio.to_thread``).
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
            # A database server may have ended a pooled connection (a restart, an idle timeout):
            # each is tried before use and replaced, rather than failing the operation.
            self.engine = create_engine(url, json_serializer=_to_json, json_deserializer=_from_json,
                                        pool_pre_ping=url.get_backend_name() != "sqlite")
            if url.get_backend_name() == "sqlite":
                listen(self.engine, "connect", _sqlite_autocommit_driver)
                listen(self.engine, "connect", _sqlite_pragmas)
                listen(self.engine, "begin", _sqlite_begin_immediate)
            listen(self.engine, "handle_error", _unavailable)
            self._open_file()
        except ImportError as error:
            raise StoreUnavailable(f"cannot open the run store {safe_url(db_url)}: {error}{_driver_hint(db_url)}") from error
        except (SQLAlchemyError, OSError) as error:
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
