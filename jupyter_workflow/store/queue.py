"""The queue: queued runs handed to workers one at a time, and runs whose worker died.

A run is queued by :meth:`~jupyter_workflow.store.runs.Runs.enqueue` (a schedule's fire,
``jupyter workflow run --queue``, a retry). A worker takes the oldest one with
:meth:`Queue.claim_next_run`: atomically, so that of several workers asking at once
exactly one gets each run (PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``; SQLite: every
transaction takes the write lock as it begins). The worker holds the run under a lease
(:mod:`~jupyter_workflow.store.claims`) that it renews while the run executes and releases
at its end. A worker that stops renewing (killed, hung, cut off) loses the run: whoever
calls :meth:`Queue.interrupt_expired` then marks it ``interrupted``, as recovery marks the
runs of ended processes, and may queue a retry of its unfinished nodes.
"""

import os
import socket
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from jupyter_workflow.events import RunStatus
from jupyter_workflow.store.audit import audit_values
from jupyter_workflow.store.claims import _lease, _moment
from jupyter_workflow.store.database import Database, on_current_file
from jupyter_workflow.store.models import AuditEntry, Claim, Fire, Run, Schedule
from jupyter_workflow.store.records import AuditNote, RunRecord
from jupyter_workflow.store.recovery import Recovery


def _lapsed_reason(claim) -> str:
    return (f"the worker {claim.worker} (pid {claim.pid} on {claim.host}) holding it stopped renewing its lease, "
            f"which expired at {claim.lease_expires_at.isoformat()}")


class Queue(Database):
    """The part of the run store that hands queued runs to workers and interrupts the runs of lost leases."""

    @on_current_file
    def claim_next_run(self, worker: str, lease_s: float, at: datetime | None = None) -> RunRecord | None:
        """Take the oldest queued run for ``worker``, under a lease of ``lease_s`` seconds from ``at``.

        In one transaction the run gets its claim and becomes ``pending``, executed by this
        process on this host. Returns the run (with its nodes), or None when none is queued.
        """
        at = _moment(at)
        expires = at + _lease(lease_s)
        runs = Run.__table__
        with self.engine.begin() as connection:
            oldest = (
                select(runs.c.id).where(runs.c.status == RunStatus.QUEUED)
                .order_by(runs.c.created_at, runs.c.id).limit(1)
                .with_for_update(skip_locked=True)
            )
            run_id = connection.scalar(oldest)
            if run_id is None:
                return None
            process = {"host": socket.gethostname(), "pid": os.getpid()}
            connection.execute(
                update(runs).where(runs.c.id == run_id, runs.c.status == RunStatus.QUEUED)
                .values(status=RunStatus.PENDING, **process)
            )
            # A claim a queued run still holds is stale: no worker executes a queued run.
            connection.execute(delete(Claim.__table__).where(Claim.__table__.c.run_id == run_id))
            connection.execute(insert(Claim.__table__).values(run_id=run_id, worker=worker, claimed_at=at,
                                                              lease_expires_at=expires, **process))
        return self.get_run(run_id)

    @on_current_file
    def interrupt_expired(self, at: datetime | None = None) -> list[str]:
        """Interrupt the runs whose worker's lease had expired at ``at`` (now); their ids, oldest lease first.

        Each expired claim is dropped, and in the same transaction its run, if still
        unfinished, is marked ``interrupted`` (its unfinished nodes ``cancelled``,
        ``run.interrupted`` then ``run.finished`` appended). A run that recovery marked
        interrupted already (its process had ended) counts too: each run whose worker was
        lost is answered once, to one caller, so that one retry of it is queued.
        """
        claims = Claim.__table__
        answered = []
        for claim in self.expired_claims(at):
            with self._session.begin() as session:
                dropped = session.execute(
                    delete(claims).where(claims.c.run_id == claim.run_id, claims.c.worker == claim.worker,
                                         claims.c.lease_expires_at <= claim.lease_expires_at)
                ).rowcount
                if not dropped:  # renewed or taken by another caller meanwhile
                    continue
                if Recovery._end_run(session, claim.run_id, RunStatus.INTERRUPTED, reason=_lapsed_reason(claim)):
                    answered.append(claim.run_id)
                elif session.scalar(select(Run.status).where(Run.id == claim.run_id)) == RunStatus.INTERRUPTED:
                    answered.append(claim.run_id)
        return answered

    @on_current_file
    def end_claimed(self, run_id: str, status: RunStatus, error: dict | None = None) -> bool:
        """End a claimed run that never started (its workflow no longer fits: ``failed``; its worker stopped:
        ``cancelled``) with ``status`` and ``error``; whether it was unfinished."""
        with self._session.begin() as session:
            return Recovery._end_run(session, run_id, status, error=error)

    @on_current_file
    def cancel_queued(self, run_id: str, note: AuditNote | None = None) -> bool:
        """End the run ``run_id`` ``cancelled`` if it is still queued (no worker claimed it); whether it was.

        ``note``, if given, goes into the audit log in the same transaction.
        """
        with self._session.begin() as session:
            query = select(Run.status).where(Run.id == run_id)
            if self.engine.dialect.name != "sqlite":  # SQLite's transactions hold the write lock already
                query = query.with_for_update()
            if session.scalar(query) != RunStatus.QUEUED:
                return False
            Recovery._end_run(session, run_id, RunStatus.CANCELLED)
            if note is not None:
                session.execute(insert(AuditEntry).values(**audit_values(note)))
            return True

    @on_current_file
    def retries_before(self, run_id: str) -> int:
        """How many runs ``run_id`` retries, following ``retry_of`` back to the first run (0 for a first run)."""
        count = 0
        with self._session() as session:
            while True:
                run_id = session.scalar(select(Run.retry_of).where(Run.id == run_id))
                if run_id is None:
                    return count
                count += 1


    @on_current_file
    def schedule_retries(self, run_id: str) -> int | None:
        """The retries the schedule that made ``run_id`` allows an interrupted run; None for a run of no schedule."""
        with self._session() as session:
            return session.scalar(
                select(Schedule.retries).join(Fire, Fire.schedule_id == Schedule.id).join(Run, Run.fire_id == Fire.id)
                .where(Run.id == run_id)
            )
