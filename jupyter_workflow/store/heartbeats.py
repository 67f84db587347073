"""Heartbeats: scheduler and worker processes saying they are alive.

Each process beats under a name of its own (``scheduler-<host>-<pid>``, a worker's name):
:meth:`Heartbeats.beat` creates or refreshes its row, :meth:`Heartbeats.stop_beating` notes a
clean stop. The API and the CLI list them, so that an operator sees what runs where and
when each last spoke; a process whose last beat is old has died or hangs.
"""

import os
import socket
from datetime import datetime

from sqlalchemy import select, update

from jupyter_workflow.events import now
from jupyter_workflow.store.database import Database, on_current_file, require_aware
from jupyter_workflow.store.models import Heartbeat
from jupyter_workflow.store.records import HeartbeatRecord

PROCESS_KINDS = ("scheduler", "worker")


def process_name(kind: str) -> str:
    """This process's name as a ``kind`` when it is given none: ``<kind>-<host>-<pid>``."""
    return f"{kind}-{socket.gethostname()}-{os.getpid()}"


class Heartbeats(Database):
    """The part of the run store that keeps the heartbeats of schedulers and workers."""

    @on_current_file
    def beat(self, name: str, kind: str, details: dict | None = None, at: datetime | None = None) -> None:
        """Say that the process ``name`` (a ``kind`` of :data:`PROCESS_KINDS`) is alive at ``at`` (now).

        The first beat of a name (or the first after a stop) notes this process, its host and
        its start; ``details`` (JSON) replaces the ones of the last beat when given.
        """
        if kind not in PROCESS_KINDS:
            raise ValueError(f"a heartbeat is a scheduler's or a worker's, not a {kind!r}'s")
        require_aware("at", at)
        at = now() if at is None else at
        process = {"host": socket.gethostname(), "pid": os.getpid()}
        changes = {"last_beat_at": at, **({"details": details} if details is not None else {})}
        with self._session.begin() as session:
            refreshed = session.execute(
                update(Heartbeat).where(Heartbeat.name == name, Heartbeat.stopped_at.is_(None),
                                        Heartbeat.pid == process["pid"], Heartbeat.host == process["host"])
                .values(**changes)
            ).rowcount
            if refreshed:
                return
            row = session.get(Heartbeat, name)
            if row is None:
                session.add(Heartbeat(name=name, kind=kind, started_at=at, stopped_at=None, details=details or {},
                                      **process, last_beat_at=at))
            else:  # the name's earlier process stopped or died: this one takes the name over
                for key, value in {"kind": kind, "started_at": at, "stopped_at": None, "details": details or {},
                                   **process, "last_beat_at": at}.items():
                    setattr(row, key, value)

    @on_current_file
    def stop_beating(self, name: str, at: datetime | None = None) -> None:
        """Note that the process ``name`` stopped cleanly at ``at`` (now)."""
        require_aware("at", at)
        with self._session.begin() as session:
            session.execute(update(Heartbeat).where(Heartbeat.name == name).values(stopped_at=now() if at is None else at))

    @on_current_file
    def heartbeats(self, kind: str | None = None) -> list[HeartbeatRecord]:
        """The processes that ever beat (of ``kind`` when given), the latest beat first."""
        query = select(Heartbeat).order_by(Heartbeat.last_beat_at.desc(), Heartbeat.name)
        if kind is not None:
            query = query.where(Heartbeat.kind == kind)
        with self._session() as session:
            return [HeartbeatRecord.from_row(row) for row in session.scalars(query)]
