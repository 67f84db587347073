"""The Python API: run a workflow file from a script or a notebook.

Runs execute on an event loop of their own, in a background thread that lives as long as
the process, with a warm kernel pool: a later run in the same process finds its kernels
already started, and its run store already open. The pool's kernels are killed, and the
stores closed, when the process exits.
"""

import asyncio
import concurrent.futures
import getpass
import threading
import warnings

from jupyter_workflow.config import WorkflowConfig, resolve_config
from jupyter_workflow.engine import Engine, KernelExecutor, KernelPool, RunListener, RunState
from jupyter_workflow.model import load_workflow
from jupyter_workflow.store import RunStore, ThreadedJournal


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
        # At exit, before worker threads stop taking work: closing the pool needs them.
        threading._register_atexit(self.close)

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
    session = Session.get(settings)
    store = session.store(settings.db_url)
    journal = ThreadedJournal(store)
    executor = KernelExecutor(session.pool)
    engine = Engine(settings.runs_dir, settings.max_parallel, executor, listeners=[journal, *listeners], cache=store)

    async def run_and_store():
        try:
            return await engine.run(workflow, inputs, trigger=trigger, user=getpass.getuser())
        finally:
            await journal.flush()

    try:
        return session.run(run_and_store())
    finally:
        journal.close()
