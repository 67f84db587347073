"""The engine: runs a validated workflow as a DAG of papermill nodes on asyncio.

Each node waits for its upstream nodes, resolves its parameters, and runs through the
executor with at most ``parallel`` nodes at once. A node whose upstream did not succeed
is skipped; a failed attempt is retried per the node's ``retries``/``retry_delay``; a node
with ``"cache": true`` reuses an earlier result for the same notebook and parameters. Every
state change is an event sent to the listeners (the run store, a progress display).
"""

import asyncio
import traceback
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

from jupyter_workflow.engine.bindings import BindingError, resolve
from jupyter_workflow.engine.cache import CacheLookups, cache_key
from jupyter_workflow.engine.executor import KernelExecutor, NodeExecutor, NodeOutcome, NodeTask, error_info
from jupyter_workflow.engine.pool import KernelPool
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
        self.executor = executor or KernelExecutor(KernelPool(size=self.parallel + 2), owns_pool=True)
        self.listeners = list(listeners)
        self.cache = cache
        self._lookups = CacheLookups(cache) if cache is not None else None
        self._announced: dict[str, dict[str, str]] = {}  # run id → node id → kernelspec, until it asks
        self._prefetched: dict[str, dict[str, tuple]] = {}  # run id → node id → (cache key, earlier result)
        self._started: dict[str, dict[str, asyncio.Event]] = {}  # run id → node id → set once it runs or ends
        self._ahead: dict[str, set[str]] = {}  # run id → nodes whose kernels are made ready ahead, not taken yet

    def new_run(self, workflow: Workflow, inputs: dict | None = None, *, trigger="api", user=None) -> RunState:
        """A pending run of ``workflow``; invalid inputs raise :class:`InvalidWorkflow`."""
        resolved, problems = check_inputs(workflow.inputs, inputs or {})
        if problems:
            raise InvalidWorkflow(problems, str(workflow.path) if workflow.path else None)
        run_id = uuid.uuid4().hex
        return RunState(
            run_id=run_id,
            workflow=workflow,
            inputs=resolved,
            run_dir=self.runs_dir / run_id,
            trigger=trigger,
            user=user,
            nodes={node_id: NodeState(node_id) for node_id in workflow.nodes},
        )

    async def run(self, workflow: Workflow, inputs: dict | None = None, **options) -> RunState:
        """Run ``workflow`` to the end and return its final state."""
        return await self.execute(self.new_run(workflow, inputs, **options))

    async def execute(self, run: RunState) -> RunState:
        """Execute a pending run; cancelling this coroutine cancels the run."""
        for listener in self.listeners:
            listener.begin(run)
        run.status, run.started_at = RunStatus.RUNNING, now()
        self._emit(run, EventType.RUN_STARTED, None, RunStarted(inputs=run.inputs))
        slots = asyncio.Semaphore(self.parallel)
        dependencies = run.workflow.dependencies()
        tasks: dict[str, asyncio.Task] = {}
        self._started[run.run_id] = {node_id: asyncio.Event() for node_id in run.nodes}
        self._ahead[run.run_id] = set()
        for node in run.nodes.values():
            if node.status in USABLE_NODE_STATUSES:
                self._started[run.run_id][node.node_id].set()
        try:
            await self._announce(run)
            await self._prefetch(run)
            for node_id in run.workflow.nodes:
                tasks[node_id] = asyncio.ensure_future(self._run_node(run, node_id, dependencies[node_id], tasks, slots))
            await asyncio.gather(*tasks.values())
        except asyncio.CancelledError:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            for node in run.nodes.values():
                if node.status not in FINAL_NODE_STATUSES:
                    self._transition(run, node, NodeStatus.CANCELLED)
            self._finish(run, RunStatus.CANCELLED)
            raise
        finally:
            for mapping in (self._announced, self._prefetched, self._started, self._ahead):
                mapping.pop(run.run_id, None)
            await self.executor.settle()
        self._conclude(run)
        return run

    async def _announce(self, run: RunState) -> None:
        """Tell the executor which kernels the run's nodes will need, so it can start them ahead.

        Nodes that may come from the cache are left out: they ask only if they miss it.
        """
        ahead = [
            node_id
            for node_id, spec in run.workflow.nodes.items()
            if not spec.cache and run.nodes[node_id].status not in USABLE_NODE_STATUSES
        ]

        def kernel_names() -> dict[str, str]:
            workflow = run.workflow
            return {n: self.executor.kernel_name(workflow.root, workflow.notebook_path(n), workflow.nodes[n].kernel) for n in ahead}

        try:
            kernels = await asyncio.to_thread(kernel_names)
        except Exception:  # an unreadable notebook: its node reports it when it runs
            return
        self._announced[run.run_id] = kernels
        self.executor.expect(Counter(kernels.values()))

    async def _prefetch(self, run: RunState) -> None:
        """Look up at once the cacheable nodes whose parameters are known before anything runs.

        Their keys do not depend on upstream outputs, so one query answers all of them
        (a long chain of cached nodes would otherwise ask one node at a time).
        """
        known = [
            node_id
            for node_id, spec in run.workflow.nodes.items()
            if spec.cache and run.nodes[node_id].status not in USABLE_NODE_STATUSES
            and not any(output_refs(binding) for binding in spec.parameters.values())
        ]
        if not known or self.cache is None:
            return

        def look_up() -> dict[str, tuple]:
            keys = {}
            for node_id in known:
                spec = run.workflow.nodes[node_id]
                parameters = {name: resolve(b, run.inputs, {}) for name, b in spec.parameters.items()}
                keys[node_id] = cache_key(run.workflow.root, run.workflow.notebook_path(node_id), spec.kernel, parameters)
            found = self.cache.find_cached(list(set(keys.values())))
            return {node_id: (key, found.get(key)) for node_id, key in keys.items()}

        try:
            self._prefetched[run.run_id] = await asyncio.to_thread(look_up)
        except Exception:  # a node whose lookup fails looks again, and reports, when it runs
            return

    def _take_announcement(self, run: RunState, node_id: str) -> str | None:
        """The kernelspec announced for a node, once: its first attempt, or its end without one."""
        return self._announced.get(run.run_id, {}).pop(node_id, None)

    async def _run_node(self, run: RunState, node_id: str, upstream: set[str], tasks, slots) -> None:
        node = run.nodes[node_id]
        if node.status in USABLE_NODE_STATUSES:  # reused from the run this one retries
            return
        try:
            await self._run_ready_node(run, node, upstream, tasks, slots)
        finally:
            kernel = self._take_announcement(run, node_id)
            if kernel is not None:  # announced, but it never asked for its kernel
                self.executor.forget(Counter([kernel]))
            if node_id in self._ahead.get(run.run_id, ()):  # its kernel was made ready, and not taken
                self._ahead[run.run_id].discard(node_id)
                self.executor.release(run.run_id, node_id)

    async def _run_ready_node(self, run: RunState, node: NodeState, upstream: set[str], tasks, slots) -> None:
        node_id = node.node_id
        if upstream:
            started = self._started[run.run_id]
            await asyncio.gather(*(started[up].wait() for up in upstream))
            self._kernel_ahead(run, node_id, upstream)
            await asyncio.gather(*(tasks[up] for up in upstream))
        not_ok = sorted(up for up in upstream if run.nodes[up].status not in USABLE_NODE_STATUSES)
        if not_ok:
            self._transition(run, node, NodeStatus.SKIPPED, reason=f"upstream did not succeed: {', '.join(not_ok)}")
            return
        try:
            await self._execute_node(run, node, slots)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a fault around the notebook fails this node, not the whole run
            node.error = error_info(type(error).__name__, str(error), traceback.format_exc())
            self._transition(run, node, NodeStatus.FAILED, error=node.error)

    def _kernel_ahead(self, run: RunState, node_id: str, upstream: set[str]) -> None:
        """Every upstream node runs: have the executor make this node's kernel ready meanwhile.

        Its kernel then takes the node's folder while the upstream nodes work, not after.
        At most ``parallel`` nodes of a run hold a kernel made ready ahead.
        """
        ahead = self._ahead[run.run_id]
        if len(ahead) >= self.parallel or any(run.nodes[up].status in FINAL_NODE_STATUSES - USABLE_NODE_STATUSES for up in upstream):
            return
        kernel = self._take_announcement(run, node_id)
        if kernel is None:  # not announced: a cache node, or no kernel known
            return
        ahead.add(node_id)
        self.executor.ahead(self._node_task(run, node_id, {}, announced_kernel=kernel))

    async def _execute_node(self, run: RunState, node: NodeState, slots: asyncio.Semaphore) -> None:
        spec = run.workflow.nodes[node.node_id]
        outputs = {up: run.nodes[up].outputs for up in spec.upstream() if run.nodes[up].status in USABLE_NODE_STATUSES}
        try:
            parameters = {name: resolve(b, run.inputs, outputs) for name, b in spec.parameters.items()}
        except BindingError as error:
            node.error = error_info("BindingError", str(error))
            self._transition(run, node, NodeStatus.FAILED, error=node.error)
            return
        if spec.cache and self._lookups is not None:
            prefetched = self._prefetched.get(run.run_id, {}).pop(node.node_id, None)
            if prefetched is not None:
                node.cache_key, earlier = prefetched
            else:
                node.cache_key = cache_key(run.workflow.root, run.workflow.notebook_path(node.node_id), spec.kernel, parameters)
                earlier = await self._lookups.find(node.cache_key)
            if earlier is not None:
                node.outputs, node.notebook = earlier.outputs, earlier.notebook
                self._transition(run, node, NodeStatus.CACHED, from_run=earlier.run_id)
                return
        self._transition(run, node, NodeStatus.QUEUED)
        for attempt in range(1, spec.retries + 2):
            node.attempt = attempt
            async with slots:  # a node waiting to retry leaves its slot to others
                self._transition(run, node, NodeStatus.RUNNING, attempt=attempt)
                outcome = await self._attempt(run, node.node_id, parameters)
            if outcome.succeeded:
                node.outputs = outcome.outputs
                self._transition(run, node, NodeStatus.SUCCEEDED)
                return
            if attempt > spec.retries:
                break
            self._keep_failed_attempt(node, attempt)
            self._transition(run, node, NodeStatus.QUEUED, **self._retry(spec, attempt, outcome.error))
            await asyncio.sleep(spec.retry_delay)
        node.error = outcome.error
        self._transition(run, node, NodeStatus.FAILED, error=outcome.error)

    async def _attempt(self, run: RunState, node_id: str, parameters: dict) -> NodeOutcome:
        task = self._node_task(run, node_id, parameters, announced_kernel=self._take_announcement(run, node_id))
        run.nodes[node_id].notebook = str(task.output_notebook)
        self._ahead[run.run_id].discard(node_id)  # the executor hands it the kernel made ready ahead
        return await self.executor.execute(task)

    def _node_task(self, run: RunState, node_id: str, parameters: dict, announced_kernel: str | None) -> NodeTask:
        """One attempt of a node; ``announced_kernel``: the kernelspec announced for it, if it was."""
        spec = run.workflow.nodes[node_id]
        return NodeTask(
            run_id=run.run_id,
            node_id=node_id,
            root=run.workflow.root,
            notebook=run.workflow.notebook_path(node_id),
            output_notebook=run.run_dir / "nodes" / f"{node_id}.ipynb",
            parameters=parameters,
            artifacts_dir=run.run_dir / "artifacts" / node_id,
            kernel_name=announced_kernel or spec.kernel,
            announced=announced_kernel is not None,
            timeout=spec.timeout,
            on_output=self._output_relay(run, node_id),
        )

    def _output_relay(self, run: RunState, node_id: str):
        """A callback, safe from any thread, that turns a node's stdout/stderr into events."""
        loop = asyncio.get_running_loop()

        def relay(stream: str, text: str) -> None:
            try:
                loop.call_soon_threadsafe(self._emit, run, EventType.NODE_OUTPUT, node_id, NodeOutput(stream=stream, text=text))
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

    def _conclude(self, run: RunState) -> None:
        failed = [n for n in run.nodes.values() if n.status == NodeStatus.FAILED]
        if failed:
            first = min(failed, key=lambda n: n.finished_at)
            run.error = {"node": first.node_id, **first.error}
            self._finish(run, RunStatus.FAILED)
            return
        outputs = {node_id: state.outputs for node_id, state in run.nodes.items()}
        try:
            run.outputs = {name: resolve(b, run.inputs, outputs) for name, b in run.workflow.outputs.items()}
        except BindingError as error:
            run.error = {"node": None, **error_info("BindingError", f"workflow outputs: {error}")}
            self._finish(run, RunStatus.FAILED)
            return
        self._finish(run, RunStatus.SUCCEEDED)

    def _finish(self, run: RunState, status: RunStatus) -> None:
        run.status, run.finished_at = status, now()
        self._emit(run, EventType.RUN_FINISHED, None, RunFinished(status=status, duration_s=run.duration_s, error=run.error))

    def _transition(self, run: RunState, node: NodeState, status: NodeStatus, **data) -> None:
        previous, node.status = node.status, status
        if status == NodeStatus.QUEUED and previous == NodeStatus.PENDING:
            self._emit(run, EventType.NODE_TRIGGERED, node.node_id, NodeTriggered())
        if status == NodeStatus.RUNNING:
            node.started_at = node.started_at or now()
            self._emit(run, EventType.NODE_STARTED, node.node_id, NodeStarted(attempt=node.attempt))
        if status in FINAL_NODE_STATUSES:
            node.finished_at = now()
        started = self._started.get(run.run_id, {}).get(node.node_id)
        if started is not None and (status == NodeStatus.RUNNING or status in FINAL_NODE_STATUSES):
            started.set()
        self._emit(run, EventType.NODE_STATUS_CHANGED, node.node_id, NodeStatusChanged({"from": previous, "to": status, **data}))
        if status in FINAL_NODE_STATUSES:
            finished = NodeFinished(status=status, duration_s=node.duration_s, attempt=node.attempt, error=node.error)
            self._emit(run, EventType.NODE_FINISHED, node.node_id, finished)

    def _emit(self, run: RunState, type_: EventType, node_id: str | None, data: dict) -> None:
        event = Event(type_, run.run_id, node_id, data)
        for listener in self.listeners:
            listener.record(run, event)

    async def close(self) -> None:
        """Release the executor's kernels."""
        await self.executor.close()
