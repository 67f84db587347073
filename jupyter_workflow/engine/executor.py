"""Executors run one node: a notebook, its parameters, a fresh kernel, a time limit.

The engine talks to executors through :class:`NodeExecutor` only, so other ways of
running a node (a warm kernel pool, a Dask cluster) plug in without touching scheduling.
:class:`PapermillExecutor` runs each node with ``papermill.execute_notebook`` in a worker
thread, in its own kernel, started in the notebook's folder.
"""

import asyncio
import os
import re
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol

from jupyter_workflow.runtime import ARTIFACTS_DIR_ENV

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class NodeTask:
    """Everything an executor needs to run one attempt of one node."""

    run_id: str
    node_id: str
    notebook: Path
    output_notebook: Path
    parameters: dict
    artifacts_dir: Path
    kernel_name: str | None = None
    timeout: float | None = None
    on_output: Callable[[str, str], None] | None = None  # (stream name, text) as the node prints

    @property
    def cwd(self) -> Path:
        return self.notebook.parent


@dataclass
class NodeOutcome:
    """What one attempt produced: recorded outputs, or an error.

    ``error`` is ``{"ename", "evalue", "traceback"}`` (traceback as plain text).
    """

    outputs: dict = field(default_factory=dict)
    error: dict | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


class NodeExecutor(Protocol):
    """Runs one node attempt; must kill the node's kernel on timeout or cancellation."""

    async def execute(self, task: NodeTask) -> NodeOutcome: ...

    def close(self) -> None: ...


def error_info(ename: str, evalue: str, traceback="") -> dict:
    if isinstance(traceback, (list, tuple)):
        traceback = "\n".join(traceback)
    return {"ename": ename, "evalue": evalue, "traceback": ANSI_ESCAPE.sub("", traceback or "")}


class KernelHandle:
    """The process of a node's kernel, so another thread can kill it at any moment."""

    def __init__(self):
        self._lock = threading.Lock()
        self.pid: int | None = None
        self.killed = False

    def attach(self, pid: int) -> None:
        with self._lock:
            self.pid = pid
            if self.killed:
                self._signal()

    def kill(self) -> None:
        with self._lock:
            self.killed = True
            if self.pid is not None:
                self._signal()

    def _signal(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _node_kernel_manager(handle: KernelHandle, env: dict):
    """A kernel manager class that starts its kernel with ``env`` and reports its pid."""
    import zmq
    from jupyter_client import AsyncKernelManager
    from traitlets import default

    class NodeKernelManager(AsyncKernelManager):
        @default("transport_encryption")
        def _encrypt_when_possible(self):
            return "auto" if zmq.has("curve") else "disabled"

        async def start_kernel(self, **kw):
            kw["env"] = {**os.environ, **kw.get("env", {}), **env}
            await super().start_kernel(**kw)
            handle.attach(self.provisioner.pid)

    return NodeKernelManager


class _StreamRelay:
    """A write-only file that hands each write of a node's stream to a callback."""

    def __init__(self, name: str, callback: Callable[[str, str], None]):
        self.name, self.callback = name, callback

    def write(self, text: str) -> None:
        self.callback(self.name, text)

    def flush(self) -> None:
        pass


def _stream_files(on_output) -> dict:
    """papermill's ``stdout_file``/``stderr_file`` arguments relaying to ``on_output``."""
    if on_output is None:
        return {}
    return {"stdout_file": _StreamRelay("stdout", on_output), "stderr_file": _StreamRelay("stderr", on_output)}


def notebook_kernel_name(notebook) -> str:
    return notebook.metadata.get("kernelspec", {}).get("name") or "python3"


class PapermillExecutor:
    """Runs each node with papermill in a kernel of its own, in a worker thread."""

    def __init__(self, max_workers: int = 8, start_timeout: float = 60):
        from jupyter_workflow.engine.parameters import register_translator

        register_translator()
        self._pool = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="jupyter-workflow-node")
        self.start_timeout = start_timeout

    async def execute(self, task: NodeTask) -> NodeOutcome:
        handle = KernelHandle()
        future = asyncio.get_running_loop().run_in_executor(self._pool, self._execute_blocking, task, handle)
        try:
            return await asyncio.wait_for(asyncio.shield(future), task.timeout)
        except asyncio.TimeoutError:
            handle.kill()
            await asyncio.wait([future])
            return NodeOutcome(
                error=error_info(
                    "TimeoutError",
                    f"node {task.node_id!r} ran longer than its timeout of {task.timeout:g} s; its kernel was killed",
                )
            )
        except asyncio.CancelledError:
            handle.kill()
            await asyncio.wait([future])
            raise

    def _execute_blocking(self, task: NodeTask, handle: KernelHandle) -> NodeOutcome:
        import nbformat
        import papermill
        from papermill.exceptions import PapermillExecutionError

        from jupyter_workflow.engine.records import read_records

        try:
            notebook = nbformat.read(task.notebook, as_version=4)
            task.artifacts_dir.mkdir(parents=True, exist_ok=True)
            task.output_notebook.parent.mkdir(parents=True, exist_ok=True)
            kernel_name = task.kernel_name or notebook_kernel_name(notebook)
            # papermill formats output paths with the parameters: escape braces.
            output_path = str(task.output_notebook).replace("{", "{{").replace("}", "}}")
            executed = papermill.execute_notebook(
                notebook,
                output_path,
                parameters=task.parameters,
                kernel_name=kernel_name,
                progress_bar=False,
                start_timeout=self.start_timeout,
                kernel_manager_class=_node_kernel_manager(handle, {ARTIFACTS_DIR_ENV: str(task.artifacts_dir)}),
                resources={"metadata": {"path": str(task.cwd)}},
                shutdown_kernel="immediate",
                **_stream_files(task.on_output),
            )
            return NodeOutcome(outputs=read_records(executed))
        except PapermillExecutionError as error:
            return NodeOutcome(error=error_info(error.ename, error.evalue, error.traceback))
        except Exception as error:  # unreadable notebook, kernel died or did not start, bad record
            return NodeOutcome(error=error_info(type(error).__name__, str(error)))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
