"""What runs say: run and node statuses, and the events of a run's event log, defined once.

The engine emits these events, the run store keeps them, the server publishes them (its
OpenAPI document describes each one, and a test holds the two together), and the command
line and drawings show statuses with the labels and colours below. Importing this module
loads only the standard library and the kernel-side runtime.

Node runs move ``pending → queued → running → succeeded | failed | skipped | cancelled``
(``cached`` when an earlier identical result is reused); runs move ``pending → running →
succeeded | failed | cancelled`` (``interrupted`` when their process ended first), and a run
left for a worker starts ``queued``.
"""

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Literal, NotRequired, TypedDict

from jupyter_workflow.runtime.artifacts import encode_refs


class NodeStatus(StrEnum):
    """Where one node of a run is, in the order of its life."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    CACHED = "cached"


class RunStatus(StrEnum):
    """Where a run is, in the order of its life."""

    QUEUED = "queued"  # stored for a worker to claim (a scheduled run, ``run --queue``)
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # its process ended before it finished (set by the store)


FINAL_NODE_STATUSES = frozenset(
    {NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED, NodeStatus.CANCELLED, NodeStatus.CACHED}
)
# A node in one of these has outputs its downstream nodes can use, and a retry reuses it.
USABLE_NODE_STATUSES = frozenset({NodeStatus.SUCCEEDED, NodeStatus.CACHED})
# A node in one of these ended without outputs: the nodes downstream of it are skipped.
UNUSABLE_NODE_STATUSES = FINAL_NODE_STATUSES - USABLE_NODE_STATUSES
FINAL_RUN_STATUSES = frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED, RunStatus.INTERRUPTED})
UNFINISHED_RUN_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.PENDING, RunStatus.RUNNING})
# A run in one of these has a process executing it (``runs.host``, ``runs.pid``); a queued one has none yet.
EXECUTING_RUN_STATUSES = frozenset({RunStatus.PENDING, RunStatus.RUNNING})


@dataclass(frozen=True)
class StatusStyle:
    """How a status is shown: a label, a terminal colour (ANSI SGR code), a fill colour."""

    label: str
    terminal: str
    fill: str


STATUS_STYLES: dict[str, StatusStyle] = {
    "pending": StatusStyle("Pending", "90", "#e0e0e0"),
    "queued": StatusStyle("Queued", "33", "#fff3bf"),
    "running": StatusStyle("Running", "36", "#a5d8ff"),
    "succeeded": StatusStyle("Succeeded", "32", "#b2f2bb"),
    "cached": StatusStyle("Cached", "32", "#d3f9d8"),
    "failed": StatusStyle("Failed", "31", "#ffa8a8"),
    "skipped": StatusStyle("Skipped", "90", "#f1f3f5"),
    "cancelled": StatusStyle("Cancelled", "90", "#ced4da"),
    "interrupted": StatusStyle("Interrupted", "35", "#ffd8a8"),
}


class EventType(StrEnum):
    """Every kind of event a run's log holds, in the order a run emits them."""

    RUN_STARTED = "run.started"
    NODE_TRIGGERED = "node.triggered"
    NODE_STARTED = "node.started"
    NODE_STATUS_CHANGED = "node.status.changed"
    NODE_OUTPUT = "node.output"
    NODE_FINISHED = "node.finished"
    RUN_FINISHED = "run.finished"
    RUN_INTERRUPTED = "run.interrupted"


class NodeError(TypedDict):
    """Why a node failed; ``cell_index`` and ``execution_count`` when a cell failed."""

    ename: str
    evalue: str
    traceback: str
    cell_index: NotRequired[int]
    execution_count: NotRequired[int | None]


class RunError(NodeError):
    """Why a run failed: the error of the node that failed first (None: the workflow's outputs)."""

    node: str | None


class RunStarted(TypedDict):
    inputs: dict


class NodeTriggered(TypedDict):
    """Its upstream nodes are done and it is queued to run (sent once, not per attempt)."""


class NodeStarted(TypedDict):
    attempt: int


NodeStatusChanged = TypedDict(
    "NodeStatusChanged",
    {
        "from": NodeStatus,
        "to": NodeStatus,
        "attempt": NotRequired[int],  # to running: which attempt
        "reason": NotRequired[str],  # to skipped: which upstream nodes did not succeed
        "from_run": NotRequired[str],  # to cached: the run whose result is reused
        "error": NotRequired[NodeError],  # to failed, or to queued for a retry: the last error
        "retry_in_s": NotRequired[float],  # to queued for a retry: the delay,
        "retry_at": NotRequired[str],  # the time of the next attempt (ISO 8601, UTC),
        "next_attempt": NotRequired[int],  # its number,
        "attempts": NotRequired[int],  # and how many attempts there are in all
    },
)
NodeStatusChanged.__doc__ = "A node moved from one status to another, with what explains the move."


class NodeOutput(TypedDict):
    """Text a node's kernel wrote while it ran."""

    stream: Literal["stdout", "stderr"]
    text: str


class NodeFinished(TypedDict):
    status: NodeStatus
    duration_s: float | None
    attempt: int
    error: NodeError | None


class RunFinished(TypedDict):
    status: RunStatus
    duration_s: float | None
    error: RunError | None


class RunInterrupted(TypedDict):
    """The run's process ended before the run did; a ``run.finished`` follows."""

    reason: str


EVENT_PAYLOADS: dict[EventType, type] = {
    EventType.RUN_STARTED: RunStarted,
    EventType.NODE_TRIGGERED: NodeTriggered,
    EventType.NODE_STARTED: NodeStarted,
    EventType.NODE_STATUS_CHANGED: NodeStatusChanged,
    EventType.NODE_OUTPUT: NodeOutput,
    EventType.NODE_FINISHED: NodeFinished,
    EventType.RUN_FINISHED: RunFinished,
    EventType.RUN_INTERRUPTED: RunInterrupted,
}


def now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class Event:
    """One entry of a run's event log: its type, its run and node, its payload (``data``)."""

    type: EventType
    run_id: str
    node_id: str | None
    data: dict
    time: datetime = field(default_factory=now)

    def message(self, event_id: int) -> dict:
        """The JSON message clients see for this event, stored with id ``event_id``.

        Times are ISO 8601; artifact references are ``{"$artifact": meta}``.
        """
        return {
            "id": event_id,
            "type": self.type,
            "run_id": self.run_id,
            "node_id": self.node_id,
            "data": encode_refs(self.data),
            "time": self.time.isoformat(),
        }
