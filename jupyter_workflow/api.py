"""The Python API: run a workflow file, or retry a run, from a script or a notebook.

Runs execute on an event loop of their own, in a background thread that lives as long as
the process, with a warm kernel pool: a later run in the same process finds its kernels
already started, and its run store already open. The pool's kernels are killed, and the
stores closed, when the process exits.
"""

import asyncio
import atexit
import concurrent.futures
import getpass
import os
import shutil
import threading
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path

from jupyter_workflow.config import WorkflowConfig, resolve_config
from jupyter_workflow.engine import KernelExecutor, KernelPool, RunListener, RunState
from jupyter_workflow.model import InvalidWorkflow, Workflow, load_workflow
from jupyter_workflow.model.problems import Problem, pointer
from jupyter_workflow.runner import Runner
from jupyter_workflow.store import RunStore


class WorkflowWarning(UserWarning):
    """A problem that does not stop a run: what a node with ``"strict": false`` lets through."""


class Session:
    """The process's background event loop, warm kernel pool and open run stores, started on first use."""

    _lock = threading.Lock()
    _current: "Session | None" = None
    KEPT_STORES = 4  # run stores kept open, the most recently used

    def __init__(self, settings: WorkflowConfig):
        self.pool: KernelPool = settings.kernel_pool(keep_warm=True)
        self._stores: dict[str, RunStore] = {}  # by URL, least recently used first
        self._stores_lock = threading.Lock()
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, name="jupyter-workflow", daemon=True).start()
        atexit.register(self.close)

    @classmethod
    def get(cls, settings: WorkflowConfig) -> "Session":
        """The session, its pool grown to these settings' size if they ask for more."""
        with cls._lock:
            if cls._current is None:
                cls._current = cls(settings)
            session = cls._current
        wanted = settings.max_pool_size
        session.loop.call_soon_threadsafe(lambda: setattr(session.pool, "size", max(session.pool.size, wanted)))
        return session

    def store(self, db_url: str) -> RunStore:
        """The run store at ``db_url``, kept open for later runs (opening and closing one costs milliseconds).

        A store follows its SQLite file: if the file is removed meanwhile, it goes on in a new one.
        """
        with self._stores_lock:
            store = self._stores.pop(db_url, None)
            self._stores[db_url] = store = store or RunStore(db_url)
            while len(self._stores) > self.KEPT_STORES:  # a run still using one goes on: closing drops idle connections
                self._stores.pop(next(iter(self._stores))).close()
            return store

    def start(self, coroutine) -> "BackgroundTask":
        """Run ``coroutine`` on the session's loop, in the background."""
        return BackgroundTask(self.loop, coroutine)

    def run(self, coroutine):
        """Run ``coroutine`` on the session's loop and wait for it (see :meth:`BackgroundTask.wait`)."""
        return self.start(coroutine).wait()

    def close(self) -> None:
        """Kill the pool's kernels, stop the loop and close the run stores (at exit)."""
        if self.loop.is_closed():
            return
        try:
            asyncio.run_coroutine_threadsafe(self.pool.close(), self.loop).result(timeout=10)
        except (concurrent.futures.TimeoutError, RuntimeError):
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        with self._stores_lock:
            for store in self._stores.values():
                store.close()
            self._stores.clear()


class BackgroundTask:
    """A coroutine running as a task on another thread's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, coroutine):
        self._loop = loop
        self._task: asyncio.Task | None = None
        self.future: concurrent.futures.Future = concurrent.futures.Future()  # set once the task has ended
        loop.call_soon_threadsafe(self._start, coroutine)

    def _start(self, coroutine) -> None:
        self._task = self._loop.create_task(coroutine)
        self._task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task) -> None:
        if task.cancelled():
            self.future.set_exception(concurrent.futures.CancelledError())
        elif task.exception() is not None:
            self.future.set_exception(task.exception())
        else:
            self.future.set_result(task.result())

    def cancel(self) -> None:
        """Cancel the task (from any thread); :attr:`future` is set once it has wound down."""
        # After _start (calls run in order) and after the task's first step, so that its coroutine
        # has begun and its own clean-up runs: a task cancelled before its first step never runs.
        self._loop.call_soon_threadsafe(lambda: self._loop.call_soon(self._task.cancel))

    def wait(self):
        """Its result. Interrupting the caller (Ctrl-C, the kernel's stop button) cancels it and waits until it has ended."""
        try:
            return self.future.result()
        except KeyboardInterrupt:
            self.cancel()
            concurrent.futures.wait([self.future])
            raise


def current_user() -> str | None:
    """Who starts a run from this process: JupyterHub's user when there is one, else the system's."""
    try:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return None


def run(
    path,
    inputs: dict | None = None,
    parallel: int | None = None,
    *,
    db_url: str | None = None,
    runs_dir: str | None = None,
    trigger: str = "api",
    listeners: list[RunListener] = (),
) -> RunState:
    """Run the workflow file at ``path`` with ``inputs`` and wait for the end.

    Returns the final :class:`~jupyter_workflow.engine.RunState`: ``status``,
    ``outputs`` (artifacts as ``ArtifactRef``, whose ``load()`` gives the object),
    ``error`` and ``nodes`` (per node: status, duration, executed notebook, outputs,
    error). The run is kept in the run store. Invalid workflows or inputs raise
    :class:`~jupyter_workflow.model.InvalidWorkflow` before anything runs.
    """
    handle = start(path, inputs, parallel=parallel, db_url=db_url, runs_dir=runs_dir, trigger=trigger,
                   listeners=listeners, _stacklevel=3)
    return handle.wait()


def start(
    workflow,
    inputs: dict | None = None,
    *,
    files: dict[str, tuple[str, bytes]] | None = None,
    trigger: str = "api",
    user: str | None = None,
    listeners: list[RunListener] = (),
    parallel: int | None = None,
    db_url: str | None = None,
    runs_dir: str | None = None,
    _stacklevel: int = 2,
) -> "RunHandle":
    """Start a run of ``workflow`` in the background and return at once with its :class:`RunHandle`.

    ``workflow`` is a workflow file's path, or a :class:`~jupyter_workflow.model.Workflow`
    (an in-memory document checked by ``checked_workflow``). ``files`` maps inputs to
    uploaded files, ``(file name, content)``: each is written into the run's folder, under
    ``uploads/INPUT/``, and the input's value is its path. ``user`` defaults to
    :func:`current_user`. ``listeners`` hear the run's events on the session's thread,
    not the caller's. Invalid workflows or inputs raise
    :class:`~jupyter_workflow.model.InvalidWorkflow` here, before anything runs.
    """
    settings = resolve_config(db_url=db_url, runs_dir=runs_dir, parallel=parallel)
    if not isinstance(workflow, Workflow):
        path = workflow
        workflow = load_workflow(path, inputs={**(inputs or {}), **dict.fromkeys(files or {}, "")})
        for problem in workflow.warnings:  # what a node with "strict": false lets through
            warnings.warn(f"{path}: {problem.pointer}: {problem.message}", WorkflowWarning, stacklevel=_stacklevel)
    unknown = [name for name in files or {} if name not in workflow.inputs]
    if unknown:  # checked before a file is written: a name is also a folder's
        raise InvalidWorkflow([Problem(pointer("inputs", name), f"the workflow has no input {name!r} to upload a file to")
                               for name in unknown], str(workflow.path) if workflow.path else None)
    session = Session.get(settings)
    runner = Runner.from_config(
        settings, store=session.store(settings.db_url), executor=KernelExecutor(session.pool), listeners=listeners
    )
    run_id = uuid.uuid4().hex
    run_folder = runner.engine.run_folder(run_id)
    try:
        uploaded = {name: _keep_upload(run_folder, name, *file) for name, file in (files or {}).items()}
        run = runner.new_run(workflow, {**(inputs or {}), **uploaded}, trigger=trigger,
                             user=user if user is not None else current_user(), run_id=run_id)
    except BaseException:  # a refused run keeps nothing, not even its uploads
        shutil.rmtree(run_folder / "uploads", ignore_errors=True)
        if run_folder.is_dir() and not any(run_folder.iterdir()):
            run_folder.rmdir()
        session.run(runner.close())
        raise
    return RunHandle(session, runner, run)


def _keep_upload(run_folder: Path, input_name: str, file_name: str, content: bytes) -> str:
    """Write an uploaded file for ``input_name`` into the run's folder; its path."""
    name = Path(file_name).name
    if name in ("", ".", ".."):
        raise ValueError(f"input {input_name!r}: {file_name!r} is not a file name")
    folder = run_folder / "uploads" / input_name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return str(folder / name)


class RunHandle:
    """A run going on in the background: its live state, a way to cancel it, and its end.

    ``run`` is the engine's :class:`~jupyter_workflow.engine.RunState`, updated on the
    session's thread as the run goes; read it, do not change it.
    """

    def __init__(self, session: Session, runner: Runner, run: RunState):
        self.run = run
        self.run_id = run.run_id
        self._task = session.start(self._execute(runner))

    async def _execute(self, runner: Runner) -> RunState:
        try:
            begun = asyncio.ensure_future(asyncio.to_thread(runner.begin, self.run))
            try:
                await asyncio.shield(begun)
            except asyncio.CancelledError:  # cancelled while being stored: it is stored, then ends cancelled
                await begun
                execution = asyncio.ensure_future(runner.execute(self.run))
                await asyncio.sleep(0)  # the engine starts the run, so that cancelling it ends every node
                execution.cancel()
                await asyncio.gather(execution, return_exceptions=True)
                raise
            return await runner.execute(self.run)
        finally:
            await runner.close()

    def cancel(self) -> None:
        """Cancel the run, from any thread: its running nodes are stopped, and every unfinished node ends cancelled."""
        self._task.cancel()

    def done(self) -> bool:
        """Whether the run has ended (succeeded, failed or cancelled) and its events are stored."""
        return self._task.future.done()

    def error(self) -> BaseException | None:
        """What stopped the run from being executed or followed (not a node's failure: that is in ``run.error``).

        ``None`` while it goes, when it ended normally, and when it was cancelled.
        """
        if not self.done():
            return None
        error = self._task.future.exception()
        return None if isinstance(error, concurrent.futures.CancelledError) else error

    def result(self, timeout: float | None = None) -> RunState:
        """The final state (a cancelled run's too); blocks up to ``timeout`` seconds, then raises ``TimeoutError``."""
        try:
            return self._task.future.result(timeout)
        except concurrent.futures.CancelledError:
            return self.run

    def add_done_callback(self, callback: Callable[["RunHandle"], None]) -> None:
        """Call ``callback(handle)`` once the run has ended and its events are stored (on the session's thread)."""
        self._task.future.add_done_callback(lambda _: callback(self))

    def wait(self) -> RunState:
        """The final state. Interrupting the caller (Ctrl-C, the kernel's stop button) cancels the run and waits for that."""
        try:
            return self._task.wait()
        except concurrent.futures.CancelledError:
            return self.run


def list_runs(workflow_name: str, limit: int = 10, *, db_url: str | None = None) -> list:
    """The newest ``limit`` runs of the workflow named ``workflow_name`` (newest first, without their nodes). Blocking."""
    settings = resolve_config(db_url=db_url)
    runs, _ = Session.get(settings).store(settings.db_url).list_runs(limit=limit, workflow=workflow_name)
    return runs


def retry(
    run_id: str,
    parallel: int | None = None,
    *,
    db_url: str | None = None,
    runs_dir: str | None = None,
    listeners: list[RunListener] = (),
) -> RunState:
    """Run again what did not succeed in the finished run ``run_id`` (or a unique prefix), and wait for the end.

    Nodes that succeeded keep their results (they show as ``cached``); the new run's
    ``retry_of`` is the old run's id. Raises ``LookupError`` for an unknown or
    ambiguous id, :class:`~jupyter_workflow.runner.RunStillActive` for a run not yet
    finished, :class:`~jupyter_workflow.runner.CannotRetry` for a run that took secret
    inputs, and :class:`~jupyter_workflow.model.InvalidWorkflow` if the workflow no
    longer fits its notebooks.
    """
    settings = resolve_config(db_url=db_url, runs_dir=runs_dir, parallel=parallel)
    session = Session.get(settings)
    runner = Runner.from_config(
        settings, store=session.store(settings.db_url), executor=KernelExecutor(session.pool), listeners=listeners
    )

    try:
        run = runner.retry_run(run_id, trigger="retry", user=current_user())
    except BaseException:
        session.run(runner.close())
        raise
    return RunHandle(session, runner, run).wait()
