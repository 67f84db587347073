"""The kernel executor: each node on a fresh kernel, its parameters injected as papermill does.

:class:`KernelExecutor` runs each node on the engine's event loop: papermill's conventions
inject the parameters and mark errors, nbclient runs the cells on a fresh kernel from a
:class:`~jupyter_workflow.engine.pool.KernelPool`, and the kernel is killed once the node
is done. It listens to the runs it serves to have kernels ready before their nodes ask
(:mod:`~jupyter_workflow.engine.warmup`).
"""

import asyncio
import copy
import functools
import logging
from collections import deque
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from jupyter_workflow.engine.executor import NodeOutcome, NodeTask, cell_error, error_info
from jupyter_workflow.engine.pool import HAND_OVER_ATTEMPTS, Kernel, KernelDidNotStart, KernelPool
from jupyter_workflow.engine.state import RunState
from jupyter_workflow.engine.warmup import RunWarmUp
from jupyter_workflow.events import Event, EventType
from jupyter_workflow.model.paths import read_inside
from jupyter_workflow.runtime import ARTIFACTS_DIR_ENV
from jupyter_workflow.runtime.secrets import secret_environment

log = logging.getLogger(__name__)


def notebook_kernel_name(notebook) -> str:
    return notebook.get("metadata", {}).get("kernelspec", {}).get("name") or "python3"


class NodeNotebookClient(NotebookClient):
    """nbclient on a kernel that is already running; stream output goes to ``on_output``.

    After :meth:`run_cells`, ``failure`` is the error of the cell that did not complete
    (see :func:`cell_error`), or None.
    """

    def __init__(self, notebook, kernel: Kernel, on_output=None, **options):
        super().__init__(notebook, km=kernel.manager, **options)
        self.kernel = kernel
        self.kc = kernel.client
        self.on_output = on_output
        self.answered = False  # the kernel sent a message about one of the node's cells
        self.failure: dict | None = None
        self.ended = False  # a cell ended the notebook: it failed, or it was a deliberate exit
        self._watchers: set[asyncio.Task] = set()  # nbclient's checks that the kernel is alive

    def process_message(self, msg, cell, cell_index):
        self.answered = True
        return super().process_message(msg, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):
        if self.on_output is not None and msg["msg_type"] == "stream":
            self.on_output(msg["content"]["name"], msg["content"]["text"])
        return super().output(outs, msg, display_id, cell_index)

    async def run_cells(self) -> None:
        """Execute every cell in order, up to the first one that does not complete.

        That cell's error becomes ``failure`` and the cell is marked failed as papermill
        marks it. A ``SystemExit`` of 0 or nothing (``sys.exit(0)``) ends the notebook
        early and successfully, as in papermill. A kernel that stops at a failure (a node
        kernel) gets all the cells' execute requests at once: it goes from one cell to
        the next without waiting for this loop to read the previous cell's messages, and
        refuses those behind a failed cell. Another kernel gets them one by one.
        """
        self.reset_execution_trackers()
        if self.kernel.language_info is not None:  # from the kernel's first reply (nbclient asks again)
            self.nb.metadata["language_info"] = self.kernel.language_info
        ahead = []
        if self.kernel.stops_at_failure:
            ahead = [(cell.source, not self._allows_errors(cell)) for cell in self.nb.cells if self._executes(cell)]
        self.kc = NodeRequests(self.kernel.client, self.kernel.first_request_metadata, ahead)
        try:
            for index, cell in enumerate(self.nb.cells):
                try:
                    await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
                except DeadKernelError:
                    if not self.answered:  # nothing of the node ran: the executor takes another kernel
                        raise
                    self._kernel_died(index)
                if self.ended:
                    break
        finally:
            for watcher in self._watchers:  # a cancelled cell leaves its watcher to nbclient
                watcher.cancel()
        self.set_widgets_metadata()

    async def _async_poll_kernel_alive(self) -> None:
        """nbclient's check, during a cell, that the kernel is alive; it ends with the node."""
        watcher = asyncio.current_task()
        self._watchers.add(watcher)
        try:
            await super()._async_poll_kernel_alive()
        finally:
            self._watchers.discard(watcher)

    async def _check_raise_for_error(self, cell, cell_index, exec_reply) -> None:
        """Note the end of the notebook at ``cell`` if its reply says it did not complete.

        nbclient's own check raises only for an ``error`` reply; an ``aborted`` one, or a
        cell that ended the kernel with cells left to run, ends the node as well.
        """
        content = exec_reply["content"] if exec_reply is not None else {}
        status = content.get("status")
        if status == "error" and not self._allows_errors(cell):
            if deliberate_exit(content):
                self.ended = True
            else:
                self._fail(cell, cell_index, content.get("ename", ""), content.get("evalue", ""), content.get("traceback"))
        elif status == "aborted":
            self._fail(cell, cell_index, "CellAborted", "the kernel aborted this cell instead of running it")
        elif asks_exit(content) and any(self._executes(later) for later in self.nb.cells[cell_index + 1:]):
            self._fail(cell, cell_index, "KernelExited", "the cell ended the kernel (exit() or quit()); the cells after it did not run")

    def _kernel_died(self, index: int) -> None:
        """Fail the cell the kernel died in: the one at ``index``, or the next one if ``index`` replied.

        A kernel that dies right after a reply can take the end of that cell's outputs
        with it; the reply (noted in nbclient's timings) says the cell itself completed.
        """
        cells = self.nb.cells
        cells[index].execution_count = self.code_cells_executed  # it was sent, and ran in part or whole
        replied = "shell.execute_reply" in cells[index].metadata.get("execution", {})
        later = [i for i in range(index + 1, len(cells)) if self._executes(cells[i])]
        if replied and later:  # it ran to its end: the kernel died in the next cell, or before it
            index = later[0]
            self.code_cells_executed += 1
            cells[index].execution_count = self.code_cells_executed
        self._fail(cells[index], index, "DeadKernelError", f"the kernel (pid {self.kernel.pid}) died before this cell completed")

    def _fail(self, cell, cell_index: int, ename: str, evalue: str, traceback=None) -> None:
        self.failure = cell_error(cell_index, cell.execution_count, ename, evalue, traceback)
        self.ended = True
        cell.metadata.setdefault("papermill", {})["exception"] = True  # as papermill marks a failed cell

    def _executes(self, cell) -> bool:
        """Whether nbclient sends ``cell`` to the kernel (see ``async_execute_cell``)."""
        tags = cell.metadata.get("tags", [])
        return cell.cell_type == "code" and bool(cell.source.strip()) and self.skip_cells_with_tag not in tags

    def _allows_errors(self, cell) -> bool:
        """Whether later cells run after ``cell`` fails (nbclient's ``cell_allows_errors``)."""
        tags = cell.metadata.get("tags", [])
        return not self.force_raise_errors and (self.allow_errors or "raises-exception" in tags)


def deliberate_exit(reply: dict) -> bool:
    """Whether an error reply is a ``SystemExit`` of 0 or nothing, which papermill takes for a successful end."""
    return reply.get("ename") == "SystemExit" and reply.get("evalue") in ("", "0")


def asks_exit(reply: dict) -> bool:
    """Whether an execute reply says the kernel is about to exit (IPython's ``exit()`` and ``quit()``)."""
    return any(p.get("source") == "ask_exit" and not p.get("keepkernel") for p in reply.get("payload", ()))


class NodeRequests:
    """The kernel client nbclient uses for a node: its first execute request carries ``first_metadata``.

    With ``ahead`` cells ((source, stop on error) pairs), their execute requests are all
    sent at once, and ``execute`` hands out the id of the request already sent for the
    same source, in order. Everything else is the wrapped client's.
    """

    def __init__(self, client, first_metadata: dict, ahead: list[tuple[str, bool]] = ()):
        self._client = client
        self._metadata = first_metadata
        self._sent = deque((source, self._send(source, stop)) for source, stop in ahead)

    def _send(self, source: str, stop_on_error: bool, store_history: bool = True) -> str:
        """``KernelClient.execute`` as nbclient calls it, the first time with the metadata; the request's id."""
        content = {"code": source, "silent": False, "store_history": store_history, "user_expressions": {},
                   "allow_stdin": False, "stop_on_error": stop_on_error}
        request = self._client.session.msg("execute_request", content, metadata=self._metadata)
        self._metadata = {}
        self._client.shell_channel.send(request)
        return request["header"]["msg_id"]

    def execute(self, code: str, store_history: bool = True, stop_on_error: bool = True, **options) -> str:
        if not self._sent:
            return self._send(code, stop_on_error, store_history)
        source, msg_id = self._sent.popleft()
        if source != code:
            raise RuntimeError("cells were executed in another order than they were sent")
        return msg_id

    def __getattr__(self, name):
        return getattr(self._client, name)


def prepare_notebook(task: NodeTask, kernel_name: str):
    """The node's notebook with its parameters injected, written out as the run's copy.

    The notebook is read through the containment rule at this moment
    (:func:`read_source_notebook`). Every code cell starts without outputs or execution
    count, as papermill starts a notebook: the executed notebook shows only what this run
    produced. papermill is imported here, in a worker thread, the first time a node needs it.
    """
    from papermill.execute import prepare_notebook_metadata, remove_error_markers

    from jupyter_workflow.engine.parameters import inject_parameters

    resolved, source = read_source_notebook(task.root, task.notebook)
    notebook = copy.deepcopy(source)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)  # nbclient's timings of an earlier execution
            cell.metadata["papermill"] = {}
    if task.parameters:
        notebook = inject_parameters(notebook, task.parameters, kernel_name)
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


def mark_failure(notebook, failure: dict) -> dict:
    """Put papermill's error markers in ``notebook``: a note at the top, an anchor before the failed cell.

    Returns ``failure`` with the failed cell's index among the marked notebook's cells.
    """
    import nbformat
    from papermill.execute import ERROR_ANCHOR_MSG, ERROR_MARKER_TAG, ERROR_MESSAGE_TEMPLATE

    anchor = nbformat.v4.new_markdown_cell(ERROR_ANCHOR_MSG, metadata={"tags": [ERROR_MARKER_TAG]})
    note = nbformat.v4.new_markdown_cell(
        ERROR_MESSAGE_TEMPLATE % failure["execution_count"], metadata={"tags": [ERROR_MARKER_TAG]}
    )
    notebook.cells.insert(failure["cell_index"], anchor)
    notebook.cells.insert(0, note)
    return {**failure, "cell_index": failure["cell_index"] + 2}


def conclude_notebook(notebook, task: NodeTask, failure: dict | None) -> NodeOutcome:
    """Write the executed notebook, error-marked like papermill's if a cell failed; the node's outcome."""
    from jupyter_workflow.engine.records import read_records

    if failure is not None and "cell_index" in failure:
        failure = mark_failure(notebook, failure)
    _write_notebook(notebook, task.output_notebook)
    if failure is not None:
        return NodeOutcome(error=failure)
    return NodeOutcome(outputs=read_records(notebook))


class KernelExecutor:
    """Runs each node on a fresh kernel from ``pool``, on the engine's event loop.

    A timeout or a cancellation kills the node's kernel at once. As a run begins, and as
    its nodes run, a :class:`~jupyter_workflow.engine.warmup.RunWarmUp` has the pool get
    kernels ready for the nodes to come. The pool is closed with the executor unless it
    was given (a pool shared by several engines).
    """

    def __init__(self, pool: KernelPool | None = None, *, owns_pool: bool | None = None):
        self.owns_pool = pool is None if owns_pool is None else owns_pool
        self.pool = pool or KernelPool()
        self._warm_ups: dict[str, RunWarmUp] = {}  # run id → the kernels prepared for its nodes

    @classmethod
    def from_config(cls, settings, *, keep_warm: bool = True, fork_process=None) -> "KernelExecutor":
        """An executor with a pool of its own, sized and configured by ``settings`` (a ``WorkflowConfig``).

        ``keep_warm``: kernels stay ready between runs; ``fork_process``: a fork server
        started ahead (:meth:`~jupyter_workflow.config.WorkflowConfig.start_fork_server`).
        """
        return cls(settings.kernel_pool(keep_warm=keep_warm, fork_process=fork_process), owns_pool=True)

    def begin(self, run: RunState) -> None:
        """``run`` begins: announce the kernels its nodes will need."""
        self._warm_ups[run.run_id] = RunWarmUp(run, self)

    def record(self, run: RunState, event: Event) -> None:
        """Follow ``run``'s nodes, to make a node's kernel ready once its upstream nodes run."""
        if event.type == EventType.NODE_STATUS_CHANGED and run.run_id in self._warm_ups:
            self._warm_ups[run.run_id].moved(event.node_id, event.data["to"])

    def kernel_name(self, root: Path, notebook: Path, kernel: str | None) -> str:
        """The kernelspec a node of ``notebook`` (inside ``root``) runs in; ``kernel`` overrides the notebook's."""
        if kernel:
            return kernel
        _, source = read_source_notebook(root, notebook)
        return notebook_kernel_name(source)

    async def execute(self, task: NodeTask) -> NodeOutcome:
        warm_up = self._warm_ups.get(task.run_id)
        kernel_name, ready = await warm_up.take(task.node_id) if warm_up is not None else (None, None)
        announced = kernel_name is not None and ready is None  # the pool counts it until it asks
        for attempt in range(1, HAND_OVER_ATTEMPTS + 1):
            try:
                notebook, kernel = await self._prepare(task, kernel_name or task.kernel_name, ready, announced)
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
                ready, announced = None, False  # counted off with its first kernel
        try:
            return await asyncio.to_thread(conclude_notebook, notebook, task, failure)
        except Exception as error:  # a malformed record
            return NodeOutcome(error=error_info(type(error).__name__, str(error)))

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
            error = None if cells.cancelled() else cells.exception()  # taken even when this is cancelled
        if not done:  # the position of the cell that was running, if known
            return {**(client.failure or {}), **error_info(
                "TimeoutError",
                f"node {task.node_id!r} ran longer than its timeout of {task.timeout:g} s; its kernel was killed",
            )}
        if isinstance(error, DeadKernelError) and not client.answered:
            raise KernelDidNotStart(f"the kernel of node {task.node_id!r} (pid {kernel.pid}) died before its first cell")
        return error_info(type(error).__name__, str(error)) if error is not None else client.failure

    async def _prepare(self, task: NodeTask, kernel_name: str | None, ready: asyncio.Task | None, announced: bool):
        """The parameterized notebook and a kernel in the node's folder, got side by side.

        ``kernel_name``: the node's kernelspec if known (None: its notebook's); ``ready``:
        the node's kernel if one was made ready ahead; ``announced``: see :meth:`acquire`.
        """
        kernel_name = kernel_name or await asyncio.to_thread(self.kernel_name, task.root, task.notebook, None)
        prepared = asyncio.ensure_future(asyncio.to_thread(prepare_notebook, task, kernel_name))
        try:
            kernel = await (ready if ready is not None else self.acquire(task, kernel_name, announced))
        except BaseException:
            await asyncio.wait([prepared])
            if not prepared.cancelled():
                prepared.exception()  # taken: the kernel's failure is the one reported
            raise
        try:
            return await prepared, kernel
        except BaseException:
            self.pool.discard(kernel)
            raise

    async def acquire(self, task: NodeTask, kernel_name: str, announced: bool = False) -> Kernel:
        """A ``kernel_name`` kernel for ``task``'s node, in its folder and with its artifact folder set.

        ``announced``: the pool was told the node would ask (see :meth:`KernelPool.acquire`).
        """
        env = {ARTIFACTS_DIR_ENV: str(task.artifacts_dir), **secret_environment(task.secrets)}
        return await self.pool.acquire(kernel_name, task.cwd, env, announced=announced)

    async def settle(self, run: RunState) -> None:
        warm_up = self._warm_ups.pop(run.run_id, None)
        if warm_up is not None:
            await warm_up.end()
        await self.pool.trim()

    async def close(self) -> None:
        if self.owns_pool:
            await self.pool.close()
