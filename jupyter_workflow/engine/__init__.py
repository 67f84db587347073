"""Running workflows: scheduling, executors, and the state of runs.

The state of runs and the executor interface are light and imported here. The engine,
the kernel executor and the kernel pool bring nbclient, zmq and papermill, so their names
are imported on first use (PEP 562): what only reads runs (the store, ``jupyter workflow
runs``) does not pay for them, and ``from jupyter_workflow.engine import Engine`` loads
them.
"""

import importlib

from jupyter_workflow.engine.executor import NodeExecutor, NodeOutcome, NodeTask
from jupyter_workflow.engine.state import NodeState, RunListener, RunState
from jupyter_workflow.events import Event, NodeStatus, RunStatus

# Each heavy name and the module that defines it.
_HEAVY_NAMES = {
    "Engine": "jupyter_workflow.engine.engine",
    "KernelExecutor": "jupyter_workflow.engine.kernel_executor",
    "KernelPool": "jupyter_workflow.engine.pool",
}

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


def __getattr__(name: str):
    """A heavy name, imported from its module the first time it is asked for."""
    module = _HEAVY_NAMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from jupyter_workflow.model.schema import import_jsonschema

    import_jsonschema()  # before nbclient imports it through nbformat, at full cost (see model/schema.py)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
