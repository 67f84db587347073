"""The run store: runs, node runs and their events in a SQL database (SQLite by default)."""

from jupyter_workflow.store.store import (
    AmbiguousRunId,
    EventRecord,
    NodeRunRecord,
    RunRecord,
    RunStore,
    StoreUnavailable,
    VersionRecord,
)

__all__ = ["AmbiguousRunId", "EventRecord", "NodeRunRecord", "RunRecord", "RunStore", "StoreUnavailable", "VersionRecord"]
