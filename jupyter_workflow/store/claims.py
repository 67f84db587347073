"""Claims: a worker's hold on a run, for as long as its lease lasts.

Headless workers hold the queued runs they execute here (:mod:`~jupyter_workflow.store.queue`
claims them), so that each run is executed by one worker only and a run whose worker died
is noticed and interrupted.

The ``claims`` table holds at most one claim per run:

============================  ==========================================================
``run_id``                    the run claimed (primary key; references ``runs.id``, a
                              claim goes with its run)
``worker``                    the name of the worker holding it
``host``, ``pid``             the process that claimed it, as ``runs.host`` and
                              ``runs.pid`` name the process that executes a run
``claimed_at``                when the worker claimed it (or took it over)
``lease_expires_at``          when the claim lapses unless renewed (indexed: the
                              expired claims are looked up by it)
============================  ==========================================================

A lease is live while ``lease_expires_at`` is later than the time asked about. Claiming is
atomic: of several workers claiming one run at once, exactly one wins; a claim whose lease
expired may be taken over by any worker. Only the holder renews a lease, and only while it
is live: a worker whose lease expired has lost the run, and must stop working on it.
Each method takes the time it acts at (``at``, timezone-aware; now when not given), so
that a lease's expiry can be decided without waiting for it.
"""

import os
import socket
from dataclasses import asdict
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from jupyter_workflow.events import now
from jupyter_workflow.store.database import Database, on_current_file, require_aware
from jupyter_workflow.store.errors import RunNotFound
from jupyter_workflow.store.models import Claim, Run
from jupyter_workflow.store.records import ClaimRecord


def _moment(at: datetime | None) -> datetime:
    require_aware("at", at)
    return now() if at is None else at


def _lease(lease_s: float) -> timedelta:
    if not lease_s > 0:
        raise ValueError(f"a lease lasts a positive number of seconds, not {lease_s}")
    return timedelta(seconds=lease_s)


class Claims(Database):
    """The part of the run store that hands runs to workers under leases."""

    @on_current_file
    def claim(self, run_id: str, worker: str, lease_s: float, at: datetime | None = None) -> ClaimRecord | None:
        """Claim the run ``run_id`` (a full id) for ``worker`` for ``lease_s`` seconds from ``at``.

        Returns the claim, or None if another claim of the run is live, even one of
        ``worker`` (which extends its own with :meth:`renew_claim`). An expired claim is
        taken over. Raises :class:`~jupyter_workflow.store.errors.RunNotFound` if no run has
        that id.
        """
        at = _moment(at)
        claim = ClaimRecord(run_id=run_id, worker=worker, host=socket.gethostname(), pid=os.getpid(),
                            claimed_at=at, lease_expires_at=at + _lease(lease_s))
        values = asdict(claim)
        claims = Claim.__table__
        with self.engine.begin() as connection:
            if connection.scalar(select(Run.id).where(Run.id == run_id)) is None:
                raise RunNotFound(f"no run with id {run_id!r}")
            taken_over = connection.execute(
                update(claims).where(claims.c.run_id == run_id, claims.c.lease_expires_at <= at).values(**values)
            )
            if taken_over.rowcount == 1:
                return claim
            try:
                with connection.begin_nested():
                    connection.execute(insert(claims).values(**values))
            except IntegrityError:  # a live claim is there, or was made meanwhile
                return None
        return claim

    @on_current_file
    def renew_claim(self, run_id: str, worker: str, lease_s: float, at: datetime | None = None) -> ClaimRecord | None:
        """Extend the live claim of ``worker`` on ``run_id`` to ``lease_s`` seconds from ``at``.

        Returns the claim renewed, or None if ``worker`` holds no live claim of the run
        (it expired, was taken over or released): the worker has lost the run.
        """
        at = _moment(at)
        expires = at + _lease(lease_s)
        claims = Claim.__table__
        with self.engine.begin() as connection:
            row = connection.execute(
                update(claims)
                .where(claims.c.run_id == run_id, claims.c.worker == worker, claims.c.lease_expires_at > at)
                .values(lease_expires_at=expires)
                .returning(*claims.c)
            ).first()
        return None if row is None else ClaimRecord.from_row(row)

    @on_current_file
    def release_claim(self, run_id: str, worker: str) -> bool:
        """Give up the claim of ``worker`` on ``run_id``, live or expired; whether it held one."""
        claims = Claim.__table__
        with self.engine.begin() as connection:
            released = connection.execute(delete(claims).where(claims.c.run_id == run_id, claims.c.worker == worker))
        return released.rowcount == 1

    @on_current_file
    def expired_claims(self, at: datetime | None = None) -> list[ClaimRecord]:
        """The claims whose lease had expired at ``at``, the longest expired first."""
        at = _moment(at)
        claims = Claim.__table__
        query = (
            select(claims)
            .where(claims.c.lease_expires_at <= at)
            .order_by(claims.c.lease_expires_at, claims.c.run_id)
        )
        with self._reader.connect() as connection:
            return [ClaimRecord.from_row(row) for row in connection.execute(query)]
