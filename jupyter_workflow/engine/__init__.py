"""Running workflows: scheduling, executors, and the state of runs."""

from jupyter_workflow.engine.engine import Engine
from jupyter_workflow.engine.executor import NodeExecutor, NodeOutcome, NodeTask, PapermillExecutor
from jupyter_workflow.engine.state import Event, NodeState, NodeStatus, RunListener, RunState, RunStatus

__all__ = [
    "Engine",
    "Event",
    "NodeExecutor",
    "NodeOutcome",
    "NodeState",
    "NodeStatus",
    "NodeTask",
    "PapermillExecutor",
    "RunListener",
    "RunState",
    "RunStatus",
]
