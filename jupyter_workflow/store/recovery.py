"""Recovery: runs left unfinished by a process that ended are marked ``interrupted``.

The server calls :meth:`Recovery.recover_interrupted` as it starts, so that no run stays
``running`` forever after a crash. A run names the process executing it (``runs.host``
and ``runs.pid``, written by :meth:`~jupyter_workflow.store.runs.Runs.begin`); a process
of another host cannot be checked and is left alone.
"""

import socket

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from jupyter_workflow.engine.state import duration
from jupyter_workflow.events import (
    EXECUTING_RUN_STATUSES,
    FINAL_NODE_STATUSES,
    UNFINISHED_RUN_STATUSES,
    EventType,
    NodeStatus,
    RunFinished,
    RunInterrupted,
    RunStatus,
    now,
)
from jupyter_workflow.processes import process_alive
from jupyter_workflow.store.database import Database, on_current_file
from jupyter_workflow.store.models import NodeRun, Run, RunEvent


def _interrupted_reason(host: str | None, pid: int | None) -> str:
    process = f"pid {pid}" if pid is not None else "pid unknown"
    return f"the process running it ({process} on {host or 'an unknown host'}) ended before the run finished"


class Recovery(Database):
    """The part of the run store that finds and marks the runs whose process ended."""

    @on_current_file
    def recover_interrupted(self) -> list[str]:
        """Mark the unfinished runs whose process has ended as ``interrupted``.

        A run that is ``pending`` or ``running`` (not ``queued``: no process has it yet) counts as orphaned when its process is
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
                    Run.status.in_(EXECUTING_RUN_STATUSES),
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
            return self._end_run(session, run_id, RunStatus.INTERRUPTED, reason=reason)

    @staticmethod
    def _end_run(session: Session, run_id: str, status: RunStatus, *, reason: str | None = None,
                 error: dict | None = None) -> bool:
        """End an unfinished run with ``status`` within ``session``'s transaction; whether it was unfinished.

        Its unfinished nodes become ``cancelled``; a ``run.interrupted`` event (when
        ``reason`` is given) then ``run.finished`` (with ``error``) are appended.
        """
        finished_at = now()
        ended = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status.in_(UNFINISHED_RUN_STATUSES))
            .values(status=status, finished_at=finished_at, error=error)
            .returning(Run.started_at)
        ).first()
        if ended is None:
            return False
        session.execute(
            update(NodeRun)
            .where(NodeRun.run_id == run_id, NodeRun.status.not_in(FINAL_NODE_STATUSES))
            .values(status=NodeStatus.CANCELLED, finished_at=finished_at)
        )
        events = [] if reason is None else [
            {"run_id": run_id, "node_id": None, "type": EventType.RUN_INTERRUPTED,
             "data": RunInterrupted(reason=reason), "time": finished_at}
        ]
        events.append(
            {"run_id": run_id, "node_id": None, "type": EventType.RUN_FINISHED,
             "data": RunFinished(status=status, duration_s=duration(ended.started_at, finished_at), error=error),
             "time": finished_at}
        )
        session.execute(insert(RunEvent), events)
        return True
