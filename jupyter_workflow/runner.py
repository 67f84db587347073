"""The one assembly of a run's parts: the run store, the event journal, the executor and the engine.

The Python API, the command line and the server build their runs here, from the settings
(:class:`~jupyter_workflow.config.WorkflowConfig`), so that a run started from any of them
is stored, journaled and executed the same way. Retrying a run lives here too: a retry
runs again only the nodes that did not succeed, reusing the others' results.
"""

import asyncio
from collections.abc import Callable
from pathlib import Path

from jupyter_workflow.config import WorkflowConfig
from jupyter_workflow.engine import Engine, KernelExecutor, NodeExecutor, NodeState, RunListener, RunState
from jupyter_workflow.events import UNFINISHED_RUN_STATUSES, USABLE_NODE_STATUSES, Event, NodeStatus
from jupyter_workflow.model import Workflow
from jupyter_workflow.model.paths import PathOutsideRoot, is_inside
from jupyter_workflow.model.validation import checked_workflow
from jupyter_workflow.store import AuditNote, RunRecord, RunStore, ThreadedJournal


class CannotRetry(Exception):
    """A run that cannot be retried here."""


class RunStillActive(CannotRetry):
    """A retry asked for a run that has not finished."""


def _reuse_nodes(run: RunState, record: RunRecord) -> None:
    """Give ``run`` the results of the nodes of ``record`` that succeeded (or were reused), as ``cached``."""
    for node in record.nodes:
        if node.status in USABLE_NODE_STATUSES and node.node_id in run.workflow.nodes:
            run.nodes[node.node_id] = NodeState(
                node.node_id, NodeStatus.CACHED, node.attempt, node.started_at, node.finished_at, node.notebook,
                node.outputs,
            )


class Runner:
    """A store, a journal writing the engine's events to it, and an engine with its executor.

    Build one with :meth:`from_config`. Runs go ``new_run`` (or ``retry_run``) then
    ``execute``; :meth:`close` releases what the runner built (not what it was given).
    """

    def __init__(self, store: RunStore, journal: ThreadedJournal, engine: Engine, *, owns_store: bool,
                 owns_executor: bool):
        self.store = store
        self.journal = journal
        self.engine = engine
        self._owns_store = owns_store
        self._owns_executor = owns_executor

    @classmethod
    def from_config(
        cls,
        settings: WorkflowConfig,
        *,
        store: RunStore | None = None,
        executor: NodeExecutor | None = None,
        store_class: type[RunStore] = RunStore,
        executor_class: type = KernelExecutor,
        listeners: list[RunListener] = (),
        publish: Callable[[int, Event], None] | None = None,
        keep_warm: bool = True,
        fork_process=None,
    ) -> "Runner":
        """The parts a run needs, built from ``settings``.

        ``store``: a store to share (else ``store_class(settings.db_url)`` is opened, and
        closed with the runner); ``executor``: an executor to share (else
        ``executor_class.from_config(settings, keep_warm=..., fork_process=...)``, whose
        kernels stay warm between runs when ``keep_warm``, forked from ``fork_process``
        if given); ``listeners``: told of every event after the journal; ``publish``:
        called with each event once stored, with its id.
        """
        owns_store, owns_executor = store is None, executor is None
        store = store if store is not None else store_class(settings.db_url)
        try:
            if executor is None:
                executor = executor_class.from_config(settings, keep_warm=keep_warm, fork_process=fork_process)
            journal = ThreadedJournal(store, publish=publish)
        except BaseException:
            if owns_store:
                store.close()
            raise
        engine = Engine(settings.runs_dir, settings.max_parallel, executor, listeners=[journal, *listeners], cache=store)
        return cls(store, journal, engine, owns_store=owns_store, owns_executor=owns_executor)

    def new_run(self, workflow: Workflow, inputs: dict | None, *, trigger: str, user: str | None,
                run_id: str | None = None) -> RunState:
        """A pending run of ``workflow``; invalid inputs raise :class:`~jupyter_workflow.model.InvalidWorkflow`."""
        return self.engine.new_run(workflow, inputs, trigger=trigger, user=user, run_id=run_id)

    def retry_run(self, run_id: str, *, trigger: str, user: str | None, root: Path | None = None) -> RunState:
        """A pending run that runs again the nodes of a finished run that did not succeed.

        ``run_id`` may be a unique prefix. The run's stored workflow version is checked
        again against its notebooks as they are now; nodes that succeeded (or came from
        the cache) keep their results and show as ``cached``. Runs whose process ended
        are first marked interrupted, so they can be retried. Raises what the store
        raises for an unknown or ambiguous id, :class:`RunStillActive`,
        :class:`PathOutsideRoot` if ``root`` is given and the run's file lies outside it,
        and :class:`CannotRetry` for a run of an inline document when no ``root`` is given.
        Blocking.
        """
        self.store.recover_interrupted()
        record = self.store.get_run(run_id)
        if record.status in UNFINISHED_RUN_STATUSES:
            raise RunStillActive(f"run {record.id} is still {record.status}; cancel it or wait for the end")
        path = Path(record.workflow_path) if record.workflow_path else None
        if path is None and root is None:
            raise CannotRetry(f"run {record.id} ran a workflow sent to a server, not a file: retry it there")
        if root is not None and path is not None and not is_inside(root, path):
            raise PathOutsideRoot(f"run {record.id} ran {path}, which is outside the server root")
        return self.retry_of(record, trigger=trigger, user=user, root=root)

    def retry_of(self, record: RunRecord, *, trigger: str, user: str | None, root: Path | None = None) -> RunState:
        """A pending run that runs again the nodes of the finished run ``record`` that did not succeed.

        As :meth:`retry_run` without its checks of the run's state and place; the retry keeps
        the run's fire (``fire_id``), if a schedule made it. Raises
        :class:`~jupyter_workflow.model.InvalidWorkflow` when the workflow no longer fits its
        notebooks, :class:`CannotRetry` when the run took secret inputs. Blocking.
        """
        workflow = self._stored_workflow(record, root)
        if workflow.secret_inputs():
            names = ", ".join(workflow.secret_inputs())
            raise CannotRetry(f"run {record.id} took secret inputs ({names}), which are not stored: start a new run")
        run = self.new_run(workflow, record.inputs, trigger=trigger, user=user)
        run.retry_of = record.id
        run.fire_id = record.fire_id
        _reuse_nodes(run, record)
        return run

    def claimed_run(self, record: RunRecord) -> RunState:
        """The run a worker claimed (queued, then claimed), rebuilt from the store to be executed.

        The same id, inputs, folder and ``retry_of``; the nodes a retry reuses stay
        ``cached``. The journal is told that the run is stored already. Raises
        :class:`~jupyter_workflow.model.InvalidWorkflow` when the stored workflow version no
        longer fits its notebooks or the inputs, :class:`CannotRetry` for a run of a document
        sent to a server (no file to find its notebooks from). Blocking.
        """
        if not record.workflow_path:
            raise CannotRetry(f"run {record.id} is of a workflow sent to a server, not a file: a worker cannot find its notebooks")
        run = self.new_run(self._stored_workflow(record), record.inputs, trigger=record.trigger, user=record.user,
                           run_id=record.id)
        run.retry_of, run.fire_id = record.retry_of, record.fire_id
        run.created_at, run.run_dir = record.created_at, Path(record.run_dir)
        _reuse_nodes(run, record)
        self.journal.adopt(run)
        return run

    def _stored_workflow(self, record: RunRecord, root: Path | None = None) -> Workflow:
        """The workflow version ``record`` ran, checked again against its notebooks as they are now."""
        path = Path(record.workflow_path) if record.workflow_path else None
        version = self.store.get_version(record.content_hash)
        return checked_workflow(version.spec, path.parent if path else root, path)

    def begin(self, run: RunState, note: AuditNote | None = None) -> None:
        """Store the run (and ``note`` in the audit log) now, before it executes. Blocking."""
        self.journal.begin_now(run, note)

    async def execute(self, run: RunState) -> RunState:
        """Execute a pending run to its end; its events are all stored when this returns."""
        try:
            return await self.engine.execute(run)
        finally:
            await self.journal.flush()

    async def close(self) -> None:
        """Stop the journal; close the executor (its kernels) and the store if they were built here."""
        await self.journal.flush()
        self.journal.close()
        if self._owns_executor:
            await self.engine.close()
        if self._owns_store:
            await asyncio.to_thread(self.store.close)
