"""The engine: runs a validated workflow as a DAG of papermill nodes on asyncio.

Each node waits for its upstream nodes, resolves its parameters, and runs through the
executor with at most ``parallel`` nodes at once. A node whose upstream did not succeed
is skipped; a failed attempt is retried per the node's ``retries``/``retry_delay``; a node
with ``"cache": true`` reuses an earlier result for the same notebook and parameters. Every
state change is an event sent to the listeners (the run store, a progress display), and
to the executor if it listens too (the kernel executor prepares kernels from them).
"""

import asyncio
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from jupyter_workflow.engine.bindings import BindingError, resolve, takes_secret
from jupyter_workflow.engine.cache import CacheLookups, cache_key
from jupyter_workflow.engine.executor import NodeExecutor, NodeOutcome, NodeTask, error_info
from jupyter_workflow.engine.state import NodeState, ResultCache, RunListener, RunState
from jupyter_workflow.events import (
    FINAL_NODE_STATUSES,
    USABLE_NODE_STATUSES,
    Event,
    EventType,
    NodeFinished,
    NodeOutput,
    NodeStarted,
    NodeStatus,
    NodeStatusChanged,
    NodeTriggered,
    RunFinished,
    RunStarted,
    RunStatus,
    now,
)
from jupyter_workflow.model.problems import InvalidWorkflow
from jupyter_workflow.model.spec import Workflow, output_refs
from jupyter_workflow.model.validation import check_inputs


@dataclass
class RunScope:
    """The engine's side of one run in progress, from :meth:`Engine.execute` to its end."""

    run: RunState
    listeners: list[RunListener]  # the engine's listeners, then its executor if it listens
    slots: asyncio.Semaphore  # one per node running at once
    dependencies: dict[str, set[str]]  # node id → its upstream node ids
    tasks: dict[str, asyncio.Task] = field(default_factory=dict)  # node id → the task that runs it
    prefetched: dict[str, tuple] = field(default_factory=dict)  # node id → (cache key, earlier result), until used


class Engine:
    """Runs workflows; one engine can run many workflows, one after another or at once."""

    def __init__(
        self,
        runs_dir,
        parallel: int = 1,
        executor: NodeExecutor | None = None,
        listeners: list[RunListener] = (),
        cache: ResultCache | None = None,
    ):
        self.runs_dir = Path(runs_dir).expanduser().resolve()
        self.parallel = max(1, parallel)
        self.executor = executor or kernel_executor(pool_size=self.parallel + 2)
        self.listeners = list(listeners)
        self.cache = cache
        self._lookups = CacheLookups(cache) if cache is not None else None

    def new_run(
        self, workflow: Workflow, inputs: dict | None = None, *, trigger="api", user=None, run_id: str | None = None
    ) -> RunState:
        """A pending run of ``workflow`` (its id ``run_id``, else a new one); invalid inputs raise :class:`InvalidWorkflow`.

        The values of secret inputs go to the run's ``secrets``, not its ``inputs``.
        """
        resolved, problems = check_inputs(workflow.inputs, inputs or {})
        if problems:
            raise InvalidWorkflow(problems, str(workflow.path) if workflow.path else None)
        secrets = {name: resolved.pop(name) for name in workflow.secret_inputs() if name in resolved}
        run_id = run_id or uuid.uuid4().hex
        return RunState(
            run_id=run_id,
            workflow=workflow,
            inputs=resolved,
            secrets=secrets,
            run_dir=self.run_folder(run_id),
            trigger=trigger,
            user=user,
            nodes={node_id: NodeState(node_id) for node_id in workflow.nodes},
        )

    def run_folder(self, run_id: str) -> Path:
        """Where the run ``run_id`` keeps its executed notebooks, artifacts and uploaded files."""
        return self.runs_dir / run_id

    async def run(self, workflow: Workflow, inputs: dict | None = None, **options) -> RunState:
        """Run ``workflow`` to the end and return its final state."""
        return await self.execute(self.new_run(workflow, inputs, **options))

    async def execute(self, run: RunState) -> RunState:
        """Execute a pending run; cancelling this coroutine cancels the run."""
        listeners = [*self.listeners, self.executor] if isinstance(self.executor, RunListener) else list(self.listeners)
        scope = RunScope(run, listeners, asyncio.Semaphore(self.parallel), run.workflow.dependencies())
        run.parallel = self.parallel
        for listener in listeners:
            listener.begin(run)
        run.status, run.started_at = RunStatus.RUNNING, now()
        self._emit(scope, EventType.RUN_STARTED, None, RunStarted(inputs=run.inputs))
        try:
            await self._prefetch(scope)
            for node_id in run.workflow.nodes:
                scope.tasks[node_id] = asyncio.ensure_future(self._run_node(scope, run.nodes[node_id]))
            await asyncio.gather(*scope.tasks.values())
        except asyncio.CancelledError:
            for task in scope.tasks.values():
                task.cancel()
            await asyncio.gather(*scope.tasks.values(), return_exceptions=True)
            for node in run.nodes.values():
                if node.status not in FINAL_NODE_STATUSES:
                    self._transition(scope, node, NodeStatus.CANCELLED)
            self._finish(scope, RunStatus.CANCELLED)
            raise
        finally:
            run.secrets.clear()  # held only while the run executes
            await self.executor.settle(run)
        self._conclude(scope)
        return run

    async def _prefetch(self, scope: RunScope) -> None:
        """Look up at once the cacheable nodes whose parameters are known before anything runs.

        Their keys do not depend on upstream outputs, so one query answers all of them
        (a long chain of cached nodes would otherwise ask one node at a time).
        """
        run = scope.run
        known = [
            node_id
            for node_id, spec in run.workflow.nodes.items()
            if spec.cache and run.nodes[node_id].status not in USABLE_NODE_STATUSES
            and not any(output_refs(binding) for binding in spec.parameters.values())
        ]
        inputs = run.binding_inputs()
        if not known or self.cache is None:
            return

        def look_up() -> dict[str, tuple]:
            keys = {}
            for node_id in known:
                spec = run.workflow.nodes[node_id]
                parameters = {name: resolve(b, inputs, {}) for name, b in spec.parameters.items()}
                if takes_secret(parameters):
                    continue
                keys[node_id] = cache_key(run.workflow.root, run.workflow.notebook_path(node_id), spec.kernel, parameters)
            found = self.cache.find_cached(list(set(keys.values())))
            return {node_id: (key, found.get(key)) for node_id, key in keys.items()}

        try:
            scope.prefetched = await asyncio.to_thread(look_up)
        except Exception:  # a node whose lookup fails looks again, and reports, when it runs
            return

    async def _run_node(self, scope: RunScope, node: NodeState) -> None:
        if node.status in USABLE_NODE_STATUSES:  # reused from the run this one retries
            return
        upstream = scope.dependencies[node.node_id]
        if upstream:
            await asyncio.gather(*(scope.tasks[up] for up in upstream))
        not_ok = sorted(up for up in upstream if scope.run.nodes[up].status not in USABLE_NODE_STATUSES)
        if not_ok:
            self._transition(scope, node, NodeStatus.SKIPPED, reason=f"upstream did not succeed: {', '.join(not_ok)}")
            return
        try:
            await self._execute_node(scope, node)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a fault around the notebook fails this node, not the whole run
            node.error = error_info(type(error).__name__, str(error), traceback.format_exc())
            self._transition(scope, node, NodeStatus.FAILED, error=node.error)

    async def _execute_node(self, scope: RunScope, node: NodeState) -> None:
        run = scope.run
        spec = run.workflow.nodes[node.node_id]
        outputs = {up: run.nodes[up].outputs for up in spec.upstream() if run.nodes[up].status in USABLE_NODE_STATUSES}
        try:
            parameters = {name: resolve(b, run.binding_inputs(), outputs) for name, b in spec.parameters.items()}
        except BindingError as error:
            node.error = error_info("BindingError", str(error))
            self._transition(scope, node, NodeStatus.FAILED, error=node.error)
            return
        if spec.cache and self._lookups is not None and not takes_secret(parameters):  # no result kept by secret
            prefetched = scope.prefetched.pop(node.node_id, None)
            if prefetched is not None:
                node.cache_key, earlier = prefetched
            else:
                node.cache_key = cache_key(run.workflow.root, run.workflow.notebook_path(node.node_id), spec.kernel, parameters)
                earlier = await self._lookups.find(node.cache_key)
            if earlier is not None:
                node.outputs, node.notebook = earlier.outputs, earlier.notebook
                self._transition(scope, node, NodeStatus.CACHED, from_run=earlier.run_id)
                return
        self._transition(scope, node, NodeStatus.QUEUED)
        for attempt in range(1, spec.retries + 2):
            node.attempt = attempt
            async with scope.slots:  # a node waiting to retry leaves its slot to others
                self._transition(scope, node, NodeStatus.RUNNING, attempt=attempt)
                outcome = await self._attempt(scope, node, parameters)
            if outcome.succeeded:
                node.outputs = outcome.outputs
                self._transition(scope, node, NodeStatus.SUCCEEDED)
                return
            if attempt > spec.retries:
                break
            self._keep_failed_attempt(node, attempt)
            self._transition(scope, node, NodeStatus.QUEUED, **self._retry(spec, attempt, outcome.error))
            await asyncio.sleep(spec.retry_delay)
        node.error = outcome.error
        self._transition(scope, node, NodeStatus.FAILED, error=outcome.error)

    async def _attempt(self, scope: RunScope, node: NodeState, parameters: dict) -> NodeOutcome:
        task = NodeTask.of(scope.run, node.node_id, parameters, on_output=self._output_relay(scope, node.node_id))
        node.notebook = str(task.output_notebook)
        return await self.executor.execute(task)

    def _output_relay(self, scope: RunScope, node_id: str):
        """A callback, safe from any thread, that turns a node's stdout/stderr into events."""
        loop = asyncio.get_running_loop()

        def relay(stream: str, text: str) -> None:
            try:
                loop.call_soon_threadsafe(self._emit, scope, EventType.NODE_OUTPUT, node_id, NodeOutput(stream=stream, text=text))
            except RuntimeError:  # the loop is gone: the run was cancelled and torn down
                pass

        return relay

    @staticmethod
    def _retry(spec, attempt: int, error: dict) -> dict:
        """What the event of a node waiting to retry says: when, which attempt of how many, and why."""
        return {
            "retry_in_s": spec.retry_delay,
            "retry_at": (now() + timedelta(seconds=spec.retry_delay)).isoformat(),
            "next_attempt": attempt + 1,
            "attempts": spec.retries + 1,
            "error": error,
        }

    @staticmethod
    def _keep_failed_attempt(node: NodeState, attempt: int) -> None:
        """Move a failed attempt's notebook aside so the retry does not overwrite it."""
        if node.notebook and Path(node.notebook).exists():
            current = Path(node.notebook)
            current.rename(current.with_name(f"{current.stem}.attempt-{attempt}.ipynb"))

    def _conclude(self, scope: RunScope) -> None:
        run = scope.run
        failed = [n for n in run.nodes.values() if n.status == NodeStatus.FAILED]
        if failed:
            first = min(failed, key=lambda n: n.finished_at)
            run.error = {"node": first.node_id, **first.error}
            self._finish(scope, RunStatus.FAILED)
            return
        outputs = {node_id: state.outputs for node_id, state in run.nodes.items()}
        try:
            run.outputs = {name: resolve(b, run.inputs, outputs) for name, b in run.workflow.outputs.items()}
        except BindingError as error:
            run.error = {"node": None, **error_info("BindingError", f"workflow outputs: {error}")}
            self._finish(scope, RunStatus.FAILED)
            return
        self._finish(scope, RunStatus.SUCCEEDED)

    def _finish(self, scope: RunScope, status: RunStatus) -> None:
        run = scope.run
        run.status, run.finished_at = status, now()
        self._emit(scope, EventType.RUN_FINISHED, None, RunFinished(status=status, duration_s=run.duration_s, error=run.error))

    def _transition(self, scope: RunScope, node: NodeState, status: NodeStatus, **data) -> None:
        previous, node.status = node.status, status
        if status == NodeStatus.QUEUED and previous == NodeStatus.PENDING:
            self._emit(scope, EventType.NODE_TRIGGERED, node.node_id, NodeTriggered())
        if status == NodeStatus.RUNNING:
            node.started_at = node.started_at or now()
            self._emit(scope, EventType.NODE_STARTED, node.node_id, NodeStarted(attempt=node.attempt))
        if status in FINAL_NODE_STATUSES:
            node.finished_at = now()
        self._emit(scope, EventType.NODE_STATUS_CHANGED, node.node_id, NodeStatusChanged({"from": previous, "to": status, **data}))
        if status in FINAL_NODE_STATUSES:
            finished = NodeFinished(status=status, duration_s=node.duration_s, attempt=node.attempt, error=node.error)
            self._emit(scope, EventType.NODE_FINISHED, node.node_id, finished)

    @staticmethod
    def _emit(scope: RunScope, type_: EventType, node_id: str | None, data: dict) -> None:
        event = Event(type_, scope.run.run_id, node_id, data)
        for listener in scope.listeners:
            listener.record(scope.run, event)

    async def close(self) -> None:
        """Release the executor's resources (its kernels)."""
        await self.executor.close()


def kernel_executor(pool_size: int) -> NodeExecutor:
    """The default executor: fresh kernels from a pool of its own that keeps ``pool_size`` ready."""
    from jupyter_workflow.engine.kernel_executor import KernelExecutor
    from jupyter_workflow.engine.pool import KernelPool

    return KernelExecutor(KernelPool(size=pool_size), owns_pool=True)
