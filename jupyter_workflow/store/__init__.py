"""The run store: runs, their events, workflow versions, the audit log, claims and schedules in a SQL database."""

from jupyter_workflow.store.database import safe_url
from jupyter_workflow.store.errors import (
    AmbiguousRunId,
    AmbiguousScheduleId,
    InvalidCursor,
    InvalidSchedule,
    NotFound,
    RunNotFound,
    ScheduleConflict,
    ScheduleNotFound,
    StoreUnavailable,
    VersionNotFound,
)
from jupyter_workflow.store.journal import ThreadedJournal
from jupyter_workflow.store.records import (
    AuditNote,
    AuditRecord,
    ClaimRecord,
    EventRecord,
    FireRecord,
    HeartbeatRecord,
    NodeRunRecord,
    RunRecord,
    ScheduleRecord,
    VersionRecord,
)
from jupyter_workflow.store.store import RunStore

__all__ = [
    "AmbiguousRunId",
    "AmbiguousScheduleId",
    "AuditNote",
    "AuditRecord",
    "ClaimRecord",
    "EventRecord",
    "FireRecord",
    "HeartbeatRecord",
    "InvalidCursor",
    "InvalidSchedule",
    "NodeRunRecord",
    "NotFound",
    "RunNotFound",
    "RunRecord",
    "RunStore",
    "ScheduleConflict",
    "ScheduleNotFound",
    "ScheduleRecord",
    "StoreUnavailable",
    "ThreadedJournal",
    "VersionNotFound",
    "VersionRecord",
    "safe_url",
]
