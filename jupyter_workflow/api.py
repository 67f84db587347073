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
import threading
import warnings
from collections.abc import Callable

from jupyter_workflow.config import WorkflowConfig, resolve_config
from jupyter_workflow.engine import KernelExecutor, KernelPool, RunListener, RunState
from jupyter_workflow.model import load_workflow
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

    def run(self, coroutine):
        """Run ``coroutine`` on the session's loop and wait for it.

        Interrupting the caller (Ctrl-C, the kernel's stop button) cancels it, which
        cancels the run and kills its kernels, and waits until that is done.
        """
        finished = threading.Event()
        started: list[asyncio.Task] = []

        def start():
            task = self.loop.create_task(coroutine)
            task.add_done_callback(lambda _: finished.set())
            started.append(task)

        self.loop.call_soon_threadsafe(start)
        try:
            finished.wait()
        except KeyboardInterrupt:
            self.loop.call_soon_threadsafe(lambda: started[0].cancel())
            finished.wait()
            raise
        return started[0].result()

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
    settings = resolve_config(db_url=db_url, runs_dir=runs_dir, parallel=parallel)
    workflow = load_workflow(path, inputs=inputs or {})
    for problem in workflow.warnings:  # what a node with "strict": false lets through
        warnings.warn(f"{path}: {problem.pointer}: {problem.message}", WorkflowWarning, stacklevel=2)
    return _execute(settings, listeners, lambda runner: runner.new_run(workflow, inputs, trigger=trigger, user=getpass.getuser()))


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
    finished, and :class:`~jupyter_workflow.model.InvalidWorkflow` if the workflow no
    longer fits its notebooks.
    """
    settings = resolve_config(db_url=db_url, runs_dir=runs_dir, parallel=parallel)
    return _execute(settings, listeners, lambda runner: runner.retry_run(run_id, trigger="retry", user=getpass.getuser()))


def _execute(settings: WorkflowConfig, listeners: list[RunListener], prepare: Callable[[Runner], RunState]) -> RunState:
    """Build a runner on the session's pool and store, prepare a run with it, execute it and wait."""
    session = Session.get(settings)
    runner = Runner.from_config(
        settings, store=session.store(settings.db_url), executor=KernelExecutor(session.pool), listeners=listeners
    )

    async def execute():
        try:
            run = await asyncio.to_thread(prepare, runner)
            return await runner.execute(run)
        finally:
            await runner.close()

    return session.run(execute())
