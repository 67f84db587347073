"""Executors run one node: a notebook, its parameters, a fresh kernel, a time limit.

The engine talks to executors through :class:`NodeExecutor` only, so other ways of
running a node (a Dask cluster) plug in without touching scheduling.
:class:`KernelExecutor` runs each node on the engine's event loop: papermill injects the
parameters and marks errors as ``papermill`` does, nbclient runs the cells on a fresh
kernel from a :class:`~jupyter_workflow.engine.pool.KernelPool`, and the kernel is
killed once the node is done.
"""

import asyncio
import copy
import functools
import logging
import re
from collections import Counter, deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Protocol

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

from jupyter_workflow.engine.pool import HAND_OVER_ATTEMPTS, Kernel, KernelDidNotStart, KernelPool
from jupyter_workflow.model.paths import read_inside
from jupyter_workflow.runtime import ARTIFACTS_DIR_ENV

log = logging.getLogger(__name__)

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
    kernel_name: str | None = None
    announced: bool = False  # the executor was told ahead that this node would need a kernel
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

    def kernel_name(self, root: Path, notebook: Path, kernel: str | None) -> str:
        """The kernelspec a node of ``notebook`` (inside ``root``) runs in; ``kernel`` overrides the notebook's."""

    def expect(self, kernels: Counter) -> None:
        """Nodes of these kernelspecs are about to run: prepare for them."""

    def forget(self, kernels: Counter) -> None:
        """Announced nodes that will not run after all."""

    def ahead(self, task: NodeTask) -> None:
        """An announced node runs as soon as its upstream ends: make its kernel ready now.

        ``task`` has no parameters yet and names its kernelspec. :meth:`execute` of the same
        run and node takes what was made ready; :meth:`release` drops it if the node does not run.
        """

    def release(self, run_id: str, node_id: str) -> None:
        """Drop what :meth:`ahead` made ready for a node that did not take it."""

    async def execute(self, task: NodeTask) -> NodeOutcome: ...

    async def settle(self) -> None:
        """A run has ended: release what no other run needs."""

    async def close(self) -> None: ...


def error_info(ename: str, evalue: str, traceback="") -> dict:
    if isinstance(traceback, (list, tuple)):
        traceback = "\n".join(traceback)
    return {"ename": ename, "evalue": evalue, "traceback": ANSI_ESCAPE.sub("", traceback or "")}


def notebook_kernel_name(notebook) -> str:
    return notebook.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"


class NodeNotebookClient(NotebookClient):
    """nbclient on a kernel that is already running; stream output goes to ``on_output``."""

    def __init__(self, notebook, kernel: Kernel, on_output=None, **options):
        super().__init__(notebook, km=kernel.manager, **options)
        self.kernel = kernel
        self.kc = kernel.client
        self.on_output = on_output
        self.answered = False  # the kernel sent a message about one of the node's cells

    def process_message(self, msg, cell, cell_index):
        self.answered = True
        return super().process_message(msg, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        if self.on_output is not None and msg["msg_type"] == "stream":
            self.on_output(msg["content"]["name"], msg["content"]["text"])
        return super().output(outs, msg, display_id, cell_index)

    async def run_cells(self) -> None:
        """Execute every cell in order, stopping at the first error (as papermill does).

        All the cells' execute requests are sent at once, so the kernel goes from one cell
        to the next without waiting for this loop to read the previous cell's messages. The
        kernel still runs them one by one and, after a cell's error, aborts those queued
        behind it unless the cell allows errors, as it does when they arrive one by one.
        """
        self.reset_execution_trackers()
        if self.kernel.language_info is not None:  # from the kernel's first reply (nbclient asks again)
            self.nb.metadata["language_info"] = self.kernel.language_info
        cells = [(cell.source, not self._allows_errors(cell)) for cell in self.nb.cells if self._executes(cell)]
        self.kc = SentAhead(self.kernel.client, cells, self.kernel.first_request_metadata)
        try:
            for index, cell in enumerate(self.nb.cells):
                await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
        except CellExecutionError:
            pass  # the cell keeps its error output; papermill's check reports it
        self.set_widgets_metadata()

    def _executes(self, cell) -> bool:
        """Whether nbclient sends ``cell`` to the kernel (see ``async_execute_cell``)."""
        tags = cell.metadata.get("tags", [])
        return cell.cell_type == "code" and bool(cell.source.strip()) and self.skip_cells_with_tag not in tags

    def _allows_errors(self, cell) -> bool:
        """Whether later cells run after ``cell`` fails (nbclient's ``cell_allows_errors``)."""
        tags = cell.metadata.get("tags", [])
        return not self.force_raise_errors and (self.allow_errors or "raises-exception" in tags)


class SentAhead:
    """A kernel client whose execute requests for ``cells`` (source, stop on error) were sent at once.

    The first request carries ``first_metadata``. ``execute`` hands out the id of the
    request already sent for the same source, in order; everything else is the wrapped
    client's.
    """

    def __init__(self, client, cells: list[tuple[str, bool]], first_metadata: dict):
        self._client = client
        self._sent = deque(
            (source, self._send(source, stop, first_metadata if index == 0 else {}))
            for index, (source, stop) in enumerate(cells)
        )

    def _send(self, source: str, stop_on_error: bool, metadata: dict) -> str:
        """``KernelClient.execute`` as nbclient calls it, with ``metadata``; the request's id."""
        content = {"code": source, "silent": False, "store_history": True, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": stop_on_error}
        request = self._client.session.msg("execute_request", content, metadata=metadata)
        self._client.shell_channel.send(request)
        return request["header"]["msg_id"]

    def execute(self, code: str, **options) -> str:
        source, msg_id = self._sent.popleft()
        if source != code:
            raise RuntimeError("cells were executed in another order than they were sent")
        return msg_id

    def __getattr__(self, name):
        return getattr(self._client, name)


def prepare_notebook(task: NodeTask, kernel_name: str):
    """The node's notebook with its parameters injected, written out as the run's copy.

    The notebook is read through the containment rule at this moment
    (:func:`read_source_notebook`). papermill is imported here, in a worker thread, the
    first time a node needs it.
    """
    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.parameterize import parameterize_notebook

    from jupyter_workflow.engine.parameters import register_translator

    register_translator()
    resolved, source = read_source_notebook(task.root, task.notebook)
    notebook = copy.deepcopy(source)
    if task.parameters:
        notebook = parameterize_notebook(notebook, task.parameters, kernel_name=kernel_name)
    notebook = remove_error_markers(prepare_notebook_metadata(notebook, str(resolved), str(task.output_notebook)))
    task.artifacts_dir.mkdir(parents=True, exist_ok=True)
    task.output_notebook.parent.mkdir(parents=True, exist_ok=True)
    _write_notebook(notebook, task.output_notebook)
    return notebook


def read_source_notebook(root: Path, path: Path):
    """The resolved path of the node notebook at ``path`` and the notebook, read inside ``root``.

    The path is checked as the file is read (:func:`~jupyter_workflow.model.paths.read_inside`),
    and :class:`~jupyter_workflow.model.paths.PathOutsideRoot` raised if it leads outside
    ``root``; the bytes read are parsed once while they stay the same. Nodes that share
    a notebook (a fan-out) each take a copy of it.
    """
    resolved, data = read_inside(root, path)
    return resolved, _parse_notebook(str(resolved), data)


@functools.lru_cache(maxsize=64)
def _parse_notebook(path: str, data: bytes):
    """``data``, the notebook at ``path``, parsed and validated as papermill's ``load_notebook_node`` does."""
    import nbformat
    from papermill import __version__ as papermill_version

    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    notebook = nbformat.v4.upgrade(notebook) or notebook
    notebook.metadata.setdefault(
        "papermill",
        {"default_parameters": {}, "parameters": {}, "environment_variables": {}, "version": papermill_version},
    )
    for cell in notebook.cells:
        cell.metadata.setdefault("tags", [])
        cell.metadata.setdefault("papermill", {})
    return notebook


def _write_notebook(notebook, path: Path) -> None:
    """Write ``notebook`` as nbformat does, without validating it again.

    The source was validated when it was read; what the engine adds, nbformat and
    nbclient built (papermill's writer would validate the whole notebook at each write).
    """
    import nbformat

    path.write_text(nbformat.v4.writes(notebook) + "\n", encoding="utf-8")


def conclude_notebook(notebook, task: NodeTask) -> NodeOutcome:
    """Write the executed notebook (error-marked like papermill's) and read its outcome."""
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import raise_for_execution_errors

    from jupyter_workflow.engine.records import read_records

    try:
        raise_for_execution_errors(notebook, str(task.output_notebook))
    except PapermillExecutionError as error:
        return NodeOutcome(error=error_info(error.ename, error.evalue, error.traceback))
    _write_notebook(notebook, task.output_notebook)
    return NodeOutcome(outputs=read_records(notebook))


class KernelExecutor:
    """Runs each node on a fresh kernel from ``pool``, on the engine's event loop.

    A timeout or a cancellation kills the node's kernel at once. The pool is closed with
    the executor unless it was given (a pool shared by several engines).
    """

    def __init__(self, pool: KernelPool | None = None, *, owns_pool: bool | None = None):
        self.owns_pool = pool is None if owns_pool is None else owns_pool
        self.pool = pool or KernelPool()
        self._ahead: dict[tuple[str, str], asyncio.Task] = {}  # (run id, node id) → its kernel, handed over
        self._released: set[asyncio.Task] = set()  # ahead kernels being dropped

    def kernel_name(self, root: Path, notebook: Path, kernel: str | None) -> str:
        if kernel:
            return kernel
        _, source = read_source_notebook(root, notebook)
        return notebook_kernel_name(source)

    def expect(self, kernels: Counter) -> None:
        self.pool.expect(kernels)

    def forget(self, kernels: Counter) -> None:
        self.pool.forget(kernels)

    def ahead(self, task: NodeTask) -> None:
        key = (task.run_id, task.node_id)
        if key not in self._ahead:
            self._ahead[key] = asyncio.ensure_future(self._acquire(task, task.kernel_name))

    def release(self, run_id: str, node_id: str) -> None:
        kernel = self._ahead.pop((run_id, node_id), None)
        if kernel is None:
            return
        if not kernel.done():
            kernel.cancel()  # the pool discards a kernel it was handing over
            self._released.add(kernel)
            kernel.add_done_callback(self._released.discard)
        elif not kernel.cancelled() and kernel.exception() is None:
            self.pool.discard(kernel.result())

    async def execute(self, task: NodeTask) -> NodeOutcome:
        for attempt in range(1, HAND_OVER_ATTEMPTS + 1):
            try:
                notebook, kernel = await self._prepare(task)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # unreadable notebook, kernel did not start
                return NodeOutcome(error=error_info(type(error).__name__, str(error)))
            try:
                failure = await self._run_cells(task, notebook, kernel)
                break
            except KernelDidNotStart as error:  # nothing of the node ran: another kernel runs it
                failure = error_info(type(error).__name__, str(error))
                if attempt < HAND_OVER_ATTEMPTS:
                    log.warning("%s; taking another", error)
                task = replace(task, announced=False)  # counted off with its first kernel
        try:
            outcome = await asyncio.to_thread(conclude_notebook, notebook, task)
        except Exception as error:  # a malformed record
            outcome = NodeOutcome(error=error_info(type(error).__name__, str(error)))
        return NodeOutcome(error=failure) if failure else outcome

    async def _run_cells(self, task: NodeTask, notebook, kernel: Kernel) -> dict | None:
        """Run the node's cells on ``kernel``, then discard it; the failure, if any.

        Raises :class:`KernelDidNotStart` if the kernel died before the node's first cell.
        """
        client = NodeNotebookClient(notebook, kernel, task.on_output, timeout=None, startup_timeout=self.pool.start_timeout)
        # Awaited through asyncio.wait: nbclient turns a cancellation into DeadKernelError,
        # and the engine must see a cancelled node as cancelled.
        cells = asyncio.ensure_future(client.run_cells())
        try:
            done, _ = await asyncio.wait({cells}, timeout=task.timeout)
        finally:
            self.pool.discard(kernel)
            if not cells.done():
                cells.cancel()
                await asyncio.wait({cells})
        if not done:
            return error_info(
                "TimeoutError",
                f"node {task.node_id!r} ran longer than its timeout of {task.timeout:g} s; its kernel was killed",
            )
        error = cells.exception()
        if isinstance(error, DeadKernelError) and not client.answered:
            raise KernelDidNotStart(f"the kernel of node {task.node_id!r} (pid {kernel.pid}) died before its first cell")
        return error_info(type(error).__name__, str(error)) if error is not None else None  # the kernel died

    async def _prepare(self, task: NodeTask):
        """The parameterized notebook and a kernel in the node's folder, got side by side."""
        kernel_name = task.kernel_name or await asyncio.to_thread(self.kernel_name, task.root, task.notebook, None)
        prepared = asyncio.ensure_future(asyncio.to_thread(prepare_notebook, task, kernel_name))
        ahead = self._ahead.pop((task.run_id, task.node_id), None)
        try:
            kernel = await (ahead if ahead is not None else self._acquire(task, kernel_name))
        except BaseException:
            await asyncio.wait([prepared])
            raise
        try:
            return await prepared, kernel
        except BaseException:
            self.pool.discard(kernel)
            raise

    async def _acquire(self, task: NodeTask, kernel_name: str) -> Kernel:
        """A ``kernel_name`` kernel for ``task``'s node, in its folder and with its artifact folder set."""
        env = {ARTIFACTS_DIR_ENV: str(task.artifacts_dir)}
        return await self.pool.acquire(kernel_name, task.cwd, env, announced=task.announced)

    async def settle(self) -> None:
        if self._released:
            await asyncio.wait(set(self._released))
        await self.pool.trim()

    async def close(self) -> None:
        if self.owns_pool:
            await self.pool.close()
