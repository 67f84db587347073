"""The plain records the run store answers with, read from rows and written as JSON in one way each.

A record is a dataclass whose fields are named after the columns of its row:
:meth:`Record.from_row` reads it from a row, :meth:`Record.to_dict` gives its JSON form —
ISO-8601 times, artifact references as ``{"$artifact": meta}`` in the fields declared
with :func:`holding_artifacts`, nested records as their JSON form, a field declared
with :func:`loaded_apart` left out while it is not loaded, and for a
:class:`TimedRecord` its ``duration_s`` right after ``finished_at``. :class:`EventRecord` keeps the one JSON form of an event,
:meth:`~jupyter_workflow.events.Event.message`.
"""

from dataclasses import dataclass, field, fields
from datetime import datetime

from jupyter_workflow.engine.state import duration
from jupyter_workflow.events import Event
from jupyter_workflow.runtime.artifacts import decode_refs, encode_refs

# Keys of a field's metadata.
_ARTIFACTS = "holds_artifacts"
_LOADED_APART = "loaded_apart"


def holding_artifacts(**options):
    """A field whose value may hold artifact references: decoded from its row, encoded in the JSON form."""
    return field(metadata={_ARTIFACTS: True}, **options)


def loaded_apart():
    """A field that is not a column of the row: None until loaded, and then left out of the JSON form."""
    return field(default=None, metadata={_LOADED_APART: True})


def _json_value(value, holds_artifacts: bool = False):
    if holds_artifacts:
        return encode_refs(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    return value


class Record:
    """A dataclass the store answers with; see the module's docstring for its row and JSON forms."""

    @classmethod
    def from_row(cls, row, **given):
        """The record of a database row: each field not ``given`` is the row's attribute of that name."""
        values = dict(given)
        for item in fields(cls):
            if item.name in given or item.metadata.get(_LOADED_APART):
                continue
            value = getattr(row, item.name)
            values[item.name] = decode_refs(value) if item.metadata.get(_ARTIFACTS) else value
        return cls(**values)

    def to_dict(self) -> dict:
        """The JSON-safe form of the record, its keys in the order of its fields."""
        result = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if value is None and item.metadata.get(_LOADED_APART):
                continue
            result[item.name] = _json_value(value, item.metadata.get(_ARTIFACTS, False))
        return result


class TimedRecord(Record):
    """A record of something that started and finished: its ``duration_s`` follows from the two times."""

    started_at: datetime | None
    finished_at: datetime | None

    @property
    def duration_s(self) -> float | None:
        return duration(self.started_at, self.finished_at)

    def to_dict(self) -> dict:
        """The JSON-safe form of the record, with ``duration_s`` right after ``finished_at``."""
        result = {}
        for key, value in super().to_dict().items():
            result[key] = value
            if key == "finished_at":
                result["duration_s"] = self.duration_s
        return result


@dataclass
class NodeRunRecord(TimedRecord):
    """One node of a stored run."""

    run_id: str
    node_id: str
    status: str
    attempt: int
    started_at: datetime | None
    finished_at: datetime | None
    notebook: str | None
    outputs: dict = holding_artifacts()
    error: dict | None


@dataclass
class RunRecord(TimedRecord):
    """One stored run; ``nodes`` is None when not loaded (``list_runs``)."""

    id: str
    version_id: int
    content_hash: str
    workflow_name: str
    workflow_path: str | None
    status: str
    inputs: dict = holding_artifacts()
    outputs: dict = holding_artifacts()
    error: dict | None
    trigger: str
    user: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    run_dir: str
    retry_of: str | None = None
    host: str | None = None
    pid: int | None = None
    fire_id: int | None = None
    nodes: list[NodeRunRecord] | None = loaded_apart()


@dataclass(frozen=True, kw_only=True)
class EventRecord(Record, Event):
    """One stored entry of a run's event log; ``id`` grows with every event stored."""

    id: int

    @classmethod
    def from_row(cls, row, **given) -> "EventRecord":
        return super().from_row(row, data=decode_refs(row.data), **given)

    def to_dict(self) -> dict:
        """The message clients see (:meth:`Event.message`)."""
        return self.message(self.id)


@dataclass
class VersionRecord(Record):
    """One stored workflow document."""

    id: int
    content_hash: str
    name: str
    spec: dict
    created_at: datetime
    created_by: str | None


@dataclass
class AuditNote:
    """An audit log entry to write in the same transaction as the change it tells of."""

    user: str | None
    action: str
    target: str | None
    details: dict = field(default_factory=dict)


@dataclass
class AuditRecord(Record):
    """One entry of the audit log: ``user`` did ``action`` to ``target`` at ``time``."""

    id: int
    time: datetime
    user: str | None
    action: str
    target: str | None
    details: dict


@dataclass
class ClaimRecord(Record):
    """A worker's claim on a run: ``worker`` (process ``pid`` on ``host``) holds it until ``lease_expires_at``."""

    run_id: str
    worker: str
    host: str
    pid: int
    claimed_at: datetime
    lease_expires_at: datetime


@dataclass
class ScheduleRecord(Record):
    """A stored schedule: what runs (``workflow_path``, pinned ``content_hash`` or None), when, and what follows."""

    id: str
    name: str
    workflow_path: str
    content_hash: str | None
    cron: str
    timezone: str
    inputs: dict
    enabled: bool
    catch_up: str
    catch_up_limit: int
    max_concurrent: int
    retries: int
    notify: dict
    owner: str | None
    created_at: datetime
    updated_at: datetime
    version: int
    next_fire_at: datetime | None
    last_fire_at: datetime | None


@dataclass
class FireRecord(Record):
    """One fire of a schedule: the time it was owed, when it fired, and the run it made (or why none)."""

    id: int
    schedule_id: str
    scheduled_for: datetime
    fired_at: datetime
    status: str
    reason: str | None
    run_id: str | None
    scheduler: str | None
    notifications: list


@dataclass
class HeartbeatRecord(Record):
    """A scheduler's or worker's last sign of life."""

    name: str
    kind: str
    host: str
    pid: int
    started_at: datetime
    last_beat_at: datetime
    stopped_at: datetime | None
    details: dict
