"""Running workflows: scheduling, executors, and the state of runs."""

from jupyter_workflow.engine.engine import Engine
from jupyter_workflow.engine.executor import NodeExecutor, NodeOutcome, NodeTask
from jupyter_workflow.engine.kernel_executor import KernelExecutor
from jupyter_workflow.engine.pool import KernelPool
from jupyter_workflow.engine.state import NodeState, RunListener, RunState
from jupyter_workflow.events import Event, NodeStatus, RunStatus

__all__ = [
    "Engine",
    "Event",
    "KernelExecutor",
    "KernelPool",
    "NodeExecutor",
    "NodeOutcome",
    "NodeState",
    "NodeStatus",
    "NodeTask",
    "RunListener",
    "RunState",
    "RunStatus",
]
