"""The run store's tables: workflow versions, runs, node runs, the event log, the audit log, claims,
schedules and their fires, and the heartbeats of scheduler and worker processes.

Every change to these models needs a migration in ``migrations/versions``.
"""

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime stored as UTC; read back aware even from SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value.isoformat()} given to the run store: use an aware one")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class WorkflowVersion(Base):
    """One exact workflow document, identified by the SHA-256 of its canonical JSON."""

    __tablename__ = "workflow_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    spec: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(255))


class Run(Base):
    """One execution of one workflow version with its input values.

    ``host`` and ``pid`` name the process that executes it, so that a run whose process
    died can be told from one still going; ``retry_of`` is the run it repeats; ``fire_id``
    the fire of a schedule that made it (a retry keeps it).

    Runs are listed newest first by ``(created_at, id)`` and paged by that key; each
    index ends with it so that a filter on one column still reads the runs in order.
    """

    __tablename__ = "runs"
    __table_args__ = (
        Index("ix_runs_created_at_id", "created_at", "id"),
        Index("ix_runs_workflow_name_created_at_id", "workflow_name", "created_at", "id"),
        Index("ix_runs_status_created_at_id", "status", "created_at", "id"),
        Index("ix_runs_trigger_created_at_id", "trigger", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id"))
    workflow_name: Mapped[str] = mapped_column(String(255))
    workflow_path: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[dict] = mapped_column(JSON)
    outputs: Mapped[dict] = mapped_column(JSON)
    error: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    trigger: Mapped[str] = mapped_column(String(64))
    user: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_dir: Mapped[str] = mapped_column(Text)
    retry_of: Mapped[str | None] = mapped_column(String(32), index=True)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    fire_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the schedule's fire that made it


class NodeRun(Base):
    """One node's part of a run: status, attempts, times, executed notebook, outputs."""

    __tablename__ = "node_runs"
    __table_args__ = (UniqueConstraint("run_id", "node_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    notebook: Mapped[str | None] = mapped_column(Text)
    outputs: Mapped[dict] = mapped_column(JSON)
    error: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    cache_key: Mapped[str | None] = mapped_column(String(64), index=True)


class RunEvent(Base):
    """One entry of a run's append-only event log; ``id`` is where clients resume from."""

    __tablename__ = "run_events"
    # AUTOINCREMENT: SQLite never reuses an event id, even after rows are deleted.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    node_id: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(64))
    data: Mapped[dict] = mapped_column(JSON)
    time: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One action of a user: who did what to which run, file or version, and when."""

    __tablename__ = "audit_log"
    # AUTOINCREMENT: SQLite never reuses an entry id, even after rows are deleted.
    __table_args__ = (
        Index("ix_audit_log_time_id", "time", "id"),
        Index("ix_audit_log_action_time_id", "action", "time", "id"),
        Index("ix_audit_log_target_time_id", "target", "time", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    time: Mapped[datetime] = mapped_column(UTCDateTime)
    user: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    details: Mapped[dict] = mapped_column(JSON)


class Claim(Base):
    """A worker's hold on a run until its lease expires (see :mod:`jupyter_workflow.store.claims`).

    ``host`` and ``pid`` name the process that claimed it, as they do for a run.
    """

    __tablename__ = "claims"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    worker: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Schedule(Base):
    """A workflow run on a cron schedule (see :mod:`jupyter_workflow.store.schedules`).

    ``version`` grows with every change: an update names the version it read, so that two
    editors cannot overwrite each other. ``next_fire_at`` is the next time owed (None while
    disabled); schedulers advance it by compare-and-set as they fire.
    """

    __tablename__ = "schedules"
    __table_args__ = (Index("ix_schedules_enabled_next_fire_at", "enabled", "next_fire_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    workflow_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str | None] = mapped_column(String(64))  # pinned version; None: the file at fire time
    cron: Mapped[str] = mapped_column(String(255))
    timezone: Mapped[str] = mapped_column(String(64))
    inputs: Mapped[dict] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    catch_up: Mapped[str] = mapped_column(String(16))  # skip | latest | all
    catch_up_limit: Mapped[int] = mapped_column(Integer)  # the most fires "all" makes up at once
    max_concurrent: Mapped[int] = mapped_column(Integer)
    retries: Mapped[int] = mapped_column(Integer)  # of a run interrupted under a worker
    notify: Mapped[dict] = mapped_column(JSON)
    owner: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
    next_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_fire_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Fire(Base):
    """One time a schedule fired (or was owed and skipped), and the run it made.

    ``UNIQUE(schedule_id, scheduled_for)`` backs up the claim: a time fires once.
    ``status``: ``queued`` (a run was made), ``skipped`` (catch-up or concurrency said no;
    ``reason`` says why). ``notifications`` holds what each notification gave.
    """

    __tablename__ = "fires"
    __table_args__ = (
        UniqueConstraint("schedule_id", "scheduled_for"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    run_id: Mapped[str | None] = mapped_column(String(32), index=True)
    scheduler: Mapped[str | None] = mapped_column(String(255))
    notifications: Mapped[list] = mapped_column(JSON)


class Heartbeat(Base):
    """A scheduler or worker process that says it is alive: its name, host, pid and last beat."""

    __tablename__ = "heartbeats"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # scheduler | worker
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_beat_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict] = mapped_column(JSON)
