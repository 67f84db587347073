"""Schedules and their fires: a workflow run on a cron schedule, fired exactly once per time.

A schedule names a workflow file (run as it is at fire time, or pinned to a stored
``content_hash``), a cron expression in an IANA time zone, the inputs of its runs, a
catch-up policy and limits (:mod:`jupyter_workflow.schedules.catchup`). Its
``next_fire_at`` is the next time owed, None while it is disabled; ``version`` grows with
every change, and an update names the version it read (:class:`ScheduleConflict` if it
changed since).

Any number of schedulers share the database, and each owed time fires once:
:meth:`Schedules.claim_due_fires` takes each due schedule in a transaction of its own —
on SQLite every transaction takes the write lock at its start (``BEGIN IMMEDIATE``), on
PostgreSQL the schedule's row is locked, and a row another scheduler holds is passed over
(``FOR UPDATE SKIP LOCKED``) —, records the fires the plan makes, and advances
``next_fire_at`` by compare-and-set: if another scheduler advanced it first, nothing is
kept. ``UNIQUE(schedule_id, scheduled_for)`` backs both up. A claimed fire gets its run
through :meth:`~jupyter_workflow.store.runs.Runs.enqueue`, which gives a fire one run at most.
"""

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_workflow.events import UNFINISHED_RUN_STATUSES, now
from jupyter_workflow.model.problems import Problem, pointer
from jupyter_workflow.schedules.catchup import CATCH_UP_POLICIES, CLAIMED, FAILED, plan_fires
from jupyter_workflow.schedules.cron import CronError, check_cron, check_timezone, next_fire_time
from jupyter_workflow.store.audit import audit_values
from jupyter_workflow.store.database import Database, on_current_file, require_aware, resolve_id
from jupyter_workflow.store.errors import AmbiguousScheduleId, InvalidSchedule, ScheduleConflict, ScheduleNotFound
from jupyter_workflow.store.models import AuditEntry, Fire, Run, Schedule
from jupyter_workflow.store.records import AuditNote, FireRecord, ScheduleRecord

# A new schedule's settings when not given.
DEFAULTS = {
    "content_hash": None,
    "timezone": "UTC",
    "inputs": {},
    "enabled": True,
    "catch_up": "latest",
    "catch_up_limit": 10,
    "max_concurrent": 1,
    "retries": 0,
    "notify": {},
    "owner": None,
}
REQUIRED = ("name", "workflow_path", "cron")
LARGEST_SETTING = 2**31 - 1  # the largest value of an INTEGER column on every database
EDITABLE = frozenset(REQUIRED) | frozenset(DEFAULTS)
# What a change to one of these does to the times owed: they are computed again.
TIMING = frozenset({"cron", "timezone", "enabled"})


def _moment(at: datetime | None) -> datetime:
    require_aware("at", at)
    return now() if at is None else at


def _whole_number(values: dict, name: str, least: int) -> str | None:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= LARGEST_SETTING:
        return f"must be a whole number from {least} to {LARGEST_SETTING}, not {value!r}"
    return None


def schedule_problems(values: dict) -> list[Problem]:
    """What is wrong with a schedule's ``values`` (every editable field), each at its field."""
    problems = []

    def check(name: str, message: str | None) -> None:
        if message:
            problems.append(Problem(pointer(name), message))

    for name in ("name", "workflow_path"):
        check(name, None if isinstance(values[name], str) and values[name].strip() else "must be a non-empty text")
    try:
        check_cron(values["cron"])
    except CronError as error:
        check("cron", str(error))
    try:
        check_timezone(values["timezone"])
    except CronError as error:
        check("timezone", str(error))
    check("catch_up", None if values["catch_up"] in CATCH_UP_POLICIES else
          f"must be one of {', '.join(CATCH_UP_POLICIES)}, not {values['catch_up']!r}")
    check("catch_up_limit", _whole_number(values, "catch_up_limit", 1))
    check("max_concurrent", _whole_number(values, "max_concurrent", 1))
    check("retries", _whole_number(values, "retries", 0))
    for name in ("inputs", "notify"):
        check(name, None if isinstance(values[name], dict) else "must be an object")
    check("enabled", None if isinstance(values["enabled"], bool) else "must be true or false")
    for name in ("content_hash", "owner"):
        check(name, None if values[name] is None or isinstance(values[name], str) else "must be a text or null")
    return problems


def _checked(values: dict) -> None:
    problems = schedule_problems(values)
    if problems:
        raise InvalidSchedule(problems)


def _write_note(session: Session, note: AuditNote | None) -> None:
    """Write ``note`` to the audit log in the transaction of the change it tells of."""
    if note is not None:
        session.execute(insert(AuditEntry).values(**audit_values(note)))


def _next_fire_at(values: dict, at: datetime) -> datetime | None:
    """The first time owed after ``at`` (in UTC, as the store reads times back), None while disabled."""
    if not values["enabled"]:
        return None
    return next_fire_time(values["cron"], values["timezone"], at).astimezone(timezone.utc)


class Schedules(Database):
    """The part of the run store that keeps schedules and their fires."""

    # -- schedules ------------------------------------------------------------------------

    @on_current_file
    def create_schedule(self, at: datetime | None = None, note: AuditNote | None = None, **settings) -> ScheduleRecord:
        """A new schedule: ``name``, ``workflow_path`` and ``cron`` are required, the rest as :data:`DEFAULTS`.

        Raises :class:`InvalidSchedule` naming every field that is wrong. ``at`` (now) is its
        creation time, from which its first time is owed. Every change of a schedule takes
        an optional ``note`` for the audit log, stored with the change.
        """
        at = _moment(at)
        unknown = sorted(set(settings) - EDITABLE)
        missing = [name for name in REQUIRED if name not in settings]
        if unknown or missing:
            raise InvalidSchedule([Problem(pointer(name), "is not a setting of a schedule") for name in unknown]
                                  + [Problem(pointer(name), "is required") for name in missing])
        values = DEFAULTS | settings
        _checked(values)
        row = Schedule(id=uuid.uuid4().hex, **values, created_at=at, updated_at=at, version=1,
                       next_fire_at=_next_fire_at(values, at), last_fire_at=None)
        if note is not None and note.target is None:  # the note of a creation names what it made
            note = replace(note, target=row.id)
        with self._session.begin() as session:
            session.add(row)
            _write_note(session, note)
        return ScheduleRecord.from_row(row)

    @on_current_file
    def get_schedule(self, schedule_id: str) -> ScheduleRecord:
        """The schedule with this id or unique id prefix (:class:`ScheduleNotFound`, :class:`AmbiguousScheduleId`)."""
        with self._session() as session:
            return ScheduleRecord.from_row(session.get(Schedule, self._resolve_schedule(session, schedule_id)))

    @on_current_file
    def list_schedules(self) -> list[ScheduleRecord]:
        """Every schedule, by name."""
        with self._session() as session:
            return [ScheduleRecord.from_row(row) for row in session.scalars(select(Schedule).order_by(Schedule.name,
                                                                                                       Schedule.id))]

    @on_current_file
    def update_schedule(self, schedule_id: str, changes: dict, expected_version: int,
                        at: datetime | None = None, note: AuditNote | None = None) -> ScheduleRecord:
        """The schedule with ``changes`` made, if it is still at ``expected_version`` (else :class:`ScheduleConflict`).

        Its times owed are computed again from ``at`` (now) when its cron, zone or
        ``enabled`` change (a time owed before is then not owed any more). Raises :class:`InvalidSchedule` for values it cannot have.
        """
        at = _moment(at)
        unknown = sorted(set(changes) - EDITABLE)
        if unknown:
            raise InvalidSchedule([Problem(pointer(name), "is not a setting of a schedule") for name in unknown])
        with self._session.begin() as session:
            row = self._locked(session, schedule_id)
            if row.version != expected_version:
                raise ScheduleConflict(f"schedule {row.id} is at version {row.version}, not {expected_version}: "
                                       "it changed since it was read; read it again and redo the change")
            before = {name: getattr(row, name) for name in EDITABLE}
            values = before | changes
            _checked(values)
            retimed = any(values[name] != before[name] for name in TIMING)
            timing = {"next_fire_at": _next_fire_at(values, at)} if retimed else {}
            updated = session.execute(
                update(Schedule).where(Schedule.id == row.id, Schedule.version == expected_version)
                .values(**changes, **timing, version=expected_version + 1, updated_at=at)
            ).rowcount
            if not updated:
                raise ScheduleConflict(f"schedule {row.id} changed while it was being updated: read it again")
            _write_note(session, note)
        return self.get_schedule(row.id)

    @on_current_file
    def set_enabled(self, schedule_id: str, enabled: bool, expected_version: int | None = None,
                    at: datetime | None = None, note: AuditNote | None = None) -> ScheduleRecord:
        """The schedule enabled or disabled (at ``expected_version`` if given, else whatever its version)."""
        if expected_version is None:
            expected_version = self.get_schedule(schedule_id).version
        return self.update_schedule(schedule_id, {"enabled": enabled}, expected_version, at, note)

    @on_current_file
    def delete_schedule(self, schedule_id: str, note: AuditNote | None = None) -> None:
        """Remove the schedule and its fires (their runs stay)."""
        with self._session.begin() as session:
            found = self._resolve_schedule(session, schedule_id)
            session.execute(delete(Fire).where(Fire.schedule_id == found))
            session.execute(delete(Schedule).where(Schedule.id == found))
            _write_note(session, note)

    def _resolve_schedule(self, session: Session, schedule_id: str) -> str:
        return resolve_id(session, Schedule.id, schedule_id, "schedule", ScheduleNotFound, AmbiguousScheduleId)

    def _locked(self, session: Session, schedule_id: str) -> Schedule:
        """The schedule's row, locked for the transaction (SQLite's transactions hold the write lock already)."""
        query = select(Schedule).where(Schedule.id == self._resolve_schedule(session, schedule_id))
        if self.engine.dialect.name != "sqlite":
            query = query.with_for_update()
        return session.scalar(query)

    @on_current_file
    def next_due_at(self) -> datetime | None:
        """The soonest time owed by an enabled schedule, or None."""
        with self._reader.connect() as connection:
            return connection.scalar(select(func.min(Schedule.next_fire_at)).where(Schedule.enabled.is_(True)))

    # -- fires ----------------------------------------------------------------------------

    @on_current_file
    def list_fires(self, schedule_id: str, limit: int = 100) -> list[FireRecord]:
        """The schedule's latest ``limit`` fires, the newest first."""
        with self._session() as session:
            found = self._resolve_schedule(session, schedule_id)
            rows = session.scalars(select(Fire).where(Fire.schedule_id == found)
                                   .order_by(Fire.scheduled_for.desc(), Fire.id.desc()).limit(limit))
            return [FireRecord.from_row(row) for row in rows]

    @on_current_file
    def running_count(self, schedule_id: str) -> int:
        """How many runs of the schedule are queued, pending or running."""
        with self._session() as session:
            return self._running(session, self._resolve_schedule(session, schedule_id))

    @staticmethod
    def _running(session: Session, schedule_id: str) -> int:
        return session.scalar(
            select(func.count()).select_from(Run).join(Fire, Fire.id == Run.fire_id)
            .where(Fire.schedule_id == schedule_id, Run.status.in_(UNFINISHED_RUN_STATUSES))
        )

    @on_current_file
    def claim_due_fires(self, scheduler: str, at: datetime | None = None,
                        each: Callable[[FireRecord], object] | None = None) -> list[FireRecord]:
        """Record the fires owed at ``at`` (now) by every due schedule; the claimed ones, to make their runs.

        Each schedule is taken in a transaction of its own, so that schedulers share the
        work; a schedule another scheduler took first is left to it. ``each(fire)``, if given,
        is called for each claimed fire as soon as its schedule's transaction is over, before
        the next schedule is taken: a scheduler makes its run there, so that with many
        schedules due at once the first runs need not wait for the last claims.
        """
        at = _moment(at)
        with self._reader.connect() as connection:
            due = connection.scalars(select(Schedule.id).where(Schedule.enabled.is_(True), Schedule.next_fire_at <= at)
                                     .order_by(Schedule.next_fire_at)).all()
        claimed = []
        for schedule_id in due:
            try:
                fires = self._claim_schedule(schedule_id, scheduler, at)
            except IntegrityError:  # another scheduler recorded these times first
                continue
            claimed += fires
            for fire in fires if each is not None else ():
                each(fire)
        return claimed

    def _claim_schedule(self, schedule_id: str, scheduler: str, at: datetime) -> list[FireRecord]:
        with self._session.begin() as session:
            query = select(Schedule).where(Schedule.id == schedule_id, Schedule.enabled.is_(True),
                                           Schedule.next_fire_at <= at)
            if self.engine.dialect.name != "sqlite":
                query = query.with_for_update(skip_locked=True)
            row = session.scalar(query)
            if row is None:  # taken, disabled or removed meanwhile
                return []
            plan = plan_fires(ScheduleRecord.from_row(row), at, self._running(session, schedule_id))
            claimed_times = [fire.scheduled_for for fire in plan.fires if fire.status == CLAIMED]
            advanced = session.execute(
                update(Schedule).where(Schedule.id == schedule_id, Schedule.next_fire_at == row.next_fire_at)
                .values(next_fire_at=plan.next_fire_at,
                        last_fire_at=max(claimed_times) if claimed_times else row.last_fire_at)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not advanced:  # another scheduler fired these times: nothing was written
                return []
            ids = session.scalars(insert(Fire).returning(Fire.id), [
                {"schedule_id": schedule_id, "scheduled_for": fire.scheduled_for, "fired_at": at,
                 "status": fire.status, "reason": fire.reason, "run_id": None, "scheduler": scheduler,
                 "notifications": []} for fire in plan.fires]).all()
            rows = session.scalars(select(Fire).where(Fire.id.in_(ids), Fire.status == CLAIMED)
                                   .order_by(Fire.scheduled_for)).all()
            return [FireRecord.from_row(fire) for fire in rows]

    @on_current_file
    def fire_now(self, schedule_id: str, user: str | None, at: datetime | None = None,
                 note: AuditNote | None = None) -> FireRecord:
        """A fire of the schedule at ``at`` (now) outside its cron, claimed for its run to be made."""
        at = _moment(at)
        with self._session.begin() as session:
            found = self._resolve_schedule(session, schedule_id)
            fire = Fire(schedule_id=found, scheduled_for=at, fired_at=at, status=CLAIMED,
                        reason=f"run now, asked by {user or 'an unnamed user'}", run_id=None, scheduler=None,
                        notifications=[])
            session.add(fire)
            _write_note(session, note)
        return FireRecord.from_row(fire)

    @on_current_file
    def unfinished_fires(self, older_than: datetime) -> list[FireRecord]:
        """Claimed fires that have no run and were claimed at ``older_than`` or before (their scheduler died)."""
        require_aware("older_than", older_than)
        with self._session() as session:
            rows = session.scalars(select(Fire).where(Fire.status == CLAIMED, Fire.run_id.is_(None),
                                                      Fire.fired_at <= older_than).order_by(Fire.scheduled_for))
            return [FireRecord.from_row(row) for row in rows]

    @on_current_file
    def fail_fire(self, fire_id: int, reason: str) -> bool:
        """Mark a claimed fire that could make no run ``failed`` with ``reason``; False if it has a run."""
        with self._session.begin() as session:
            return bool(session.execute(
                update(Fire).where(Fire.id == fire_id, Fire.run_id.is_(None)).values(status=FAILED, reason=reason)
            ).rowcount)
