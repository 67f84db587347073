"""The run store: runs, their events, workflow versions and the audit log in a SQL database."""

from jupyter_workflow.store.journal import ThreadedJournal
from jupyter_workflow.store.store import (
    AmbiguousRunId,
    AuditNote,
    AuditRecord,
    EventRecord,
    NodeRunRecord,
    RunRecord,
    RunStore,
    StoreUnavailable,
    VersionRecord,
)

__all__ = [
    "AmbiguousRunId",
    "AuditNote",
    "AuditRecord",
    "EventRecord",
    "NodeRunRecord",
    "RunRecord",
    "RunStore",
    "StoreUnavailable",
    "ThreadedJournal",
    "VersionRecord",
]
