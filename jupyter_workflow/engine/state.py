"""The state of a run as the engine holds it, and who hears of its events.

Statuses and events are defined in :mod:`jupyter_workflow.events`; every transition is an
:class:`~jupyter_workflow.events.Event` that listeners (the run store, a progress display)
receive in order.
"""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

from jupyter_workflow.events import Event, NodeStatus, RunStatus, now
from jupyter_workflow.model.spec import Workflow
from jupyter_workflow.runtime.secrets import SecretRef


def duration(started: datetime | None, finished: datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return round((finished - started).total_seconds(), 3)


@dataclass
class NodeState:
    """One node's run: status, attempt count, times, executed notebook, outputs, error.

    ``outputs`` maps output names to JSON values or ``ArtifactRef``s; ``error`` is
    ``{"ename", "evalue", "traceback"}`` when the node failed. ``cache_key`` identifies
    the node's inputs (notebook, kernel, parameters) when the node is cacheable.
    """

    node_id: str
    status: NodeStatus = NodeStatus.PENDING
    attempt: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    notebook: str | None = None
    outputs: dict = field(default_factory=dict)
    error: dict | None = None
    cache_key: str | None = None

    @property
    def duration_s(self) -> float | None:
        return duration(self.started_at, self.finished_at)


@dataclass
class RunState:
    """One execution of one workflow spec with its input values."""

    run_id: str
    workflow: Workflow
    inputs: dict
    run_dir: Path
    trigger: str = "api"
    user: str | None = None
    retry_of: str | None = None
    parallel: int = 1  # at most this many of its nodes run at once: the engine's limit, set as it starts
    status: RunStatus = RunStatus.PENDING
    created_at: datetime = field(default_factory=now)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    nodes: dict[str, NodeState] = field(default_factory=dict)
    outputs: dict = field(default_factory=dict)
    error: dict | None = None
    # The values of the workflow's secret inputs: absent from ``inputs``, never stored.
    secrets: dict = field(default_factory=dict, repr=False)

    @property
    def duration_s(self) -> float | None:
        return duration(self.started_at, self.finished_at)

    def binding_inputs(self) -> dict:
        """The inputs as node parameters see them: each secret input as a :class:`SecretRef` to it."""
        return {**self.inputs, **{name: SecretRef(name) for name in self.secrets}}


class CachedResult(Protocol):
    """An earlier node result: the run it came from, its notebook and outputs."""

    run_id: str
    notebook: str | None
    outputs: dict


class ResultCache(Protocol):
    """Where the engine finds earlier results of cacheable nodes."""

    def find_cached(self, cache_keys: list[str]) -> dict[str, CachedResult]:
        """For each key that has one, the latest succeeded node run whose artifacts still exist."""


@runtime_checkable
class RunListener(Protocol):
    """What the engine tells about a run: its start, then every event in order.

    The run store implements it to persist runs; a progress display implements it to
    draw; an executor may implement it to prepare for the nodes to come. ``record`` is
    called after ``run`` was updated for the event.
    """

    def begin(self, run: RunState) -> None: ...

    def record(self, run: RunState, event: Event) -> None: ...
