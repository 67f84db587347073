"""What the engine asks of an executor: run one attempt of one node, and hear when a run ends.

The engine talks to executors through :class:`NodeExecutor` only, so other ways of
running a node (a Dask cluster) plug in without touching scheduling. An attempt is a
:class:`NodeTask` (the notebook, its parameters, the run's folders for the node, a time
limit) and ends as a :class:`NodeOutcome` (recorded outputs, or an error). An executor
that needs to prepare for the nodes to come also listens to the runs it serves (a
:class:`~jupyter_workflow.engine.state.RunListener`), as
:class:`~jupyter_workflow.engine.kernel_executor.KernelExecutor` does for its kernels.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from jupyter_workflow.engine.state import RunState
from jupyter_workflow.runtime.secrets import SecretRef

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class NodeTask:
    """Everything an executor needs to run one attempt of one node."""

    run_id: str
    node_id: str
    root: Path  # the workflow's root folder: the notebook is read only if it is inside
    notebook: Path
    output_notebook: Path
    parameters: dict
    artifacts_dir: Path
    kernel_name: str | None = None  # the node's kernelspec; None: its notebook's
    timeout: float | None = None
    on_output: Callable[[str, str], None] | None = None  # (stream name, text) as the node prints
    secrets: dict = field(default_factory=dict, repr=False)  # the secret inputs its parameters take, by name

    @classmethod
    def of(cls, run: RunState, node_id: str, parameters: dict | None = None, on_output=None) -> "NodeTask":
        """An attempt of ``run``'s node ``node_id`` with ``parameters``, in the run's folders."""
        spec = run.workflow.nodes[node_id]
        return cls(
            run_id=run.run_id,
            node_id=node_id,
            root=run.workflow.root,
            notebook=run.workflow.notebook_path(node_id),
            output_notebook=run.run_dir / "nodes" / f"{node_id}.ipynb",
            parameters=parameters or {},
            artifacts_dir=run.run_dir / "artifacts" / node_id,
            kernel_name=spec.kernel,
            timeout=spec.timeout,
            on_output=on_output,
            secrets={value.name: run.secrets[value.name] for value in (parameters or {}).values()
                     if isinstance(value, SecretRef)},
        )

    @property
    def cwd(self) -> Path:
        return self.notebook.parent


@dataclass
class NodeOutcome:
    """What one attempt produced: recorded outputs, or an error.

    ``error`` is ``{"ename", "evalue", "traceback"}`` (traceback as plain text), with
    ``cell_index`` and ``execution_count`` when a cell did not complete (see :func:`cell_error`).
    """

    outputs: dict = field(default_factory=dict)
    error: dict | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


class NodeExecutor(Protocol):
    """How the engine runs nodes: one attempt at a time, and a word when each run ends.

    An executor that also implements :class:`~jupyter_workflow.engine.state.RunListener`
    (``begin(run)``, ``record(run, event)``) hears of every run it serves as it begins,
    then every event of it, after the engine's other listeners: what it needs to prepare
    for the nodes to come.
    """

    async def execute(self, task: NodeTask) -> NodeOutcome:
        """Run one attempt of one node; on timeout or cancellation, stop what runs it at once."""

    async def settle(self, run: RunState) -> None:
        """``run`` has ended: give back what was kept for it."""

    async def close(self) -> None:
        """Release everything; no run is in progress."""


def error_info(ename: str, evalue: str, traceback="") -> dict:
    if isinstance(traceback, (list, tuple)):
        traceback = "\n".join(traceback)
    return {"ename": ename, "evalue": evalue, "traceback": ANSI_ESCAPE.sub("", traceback or "")}


def cell_error(cell_index: int, execution_count: int | None, ename: str, evalue: str, traceback=None) -> dict:
    """The error of a node whose cell did not complete, as the kernel gave it.

    ``cell_index`` is the cell's position in the executed notebook as written (after
    papermill's error markers), ``execution_count`` its ``In [n]``. Without a traceback
    from the kernel, the traceback reads ``ename: evalue``.
    """
    return {
        **error_info(ename, evalue, traceback or f"{ename}: {evalue}"),
        "cell_index": cell_index,
        "execution_count": execution_count,
    }
