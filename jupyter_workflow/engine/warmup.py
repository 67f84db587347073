"""Kernels got ready for a run's nodes before they ask: the kernel executor's warm-up.

As a run begins, the kernelspecs its nodes will need are worked out (in a thread: a node
without a ``kernel`` of its own runs in its notebook's) and announced to the pool, which
starts kernels ahead (:meth:`~jupyter_workflow.engine.pool.KernelPool.expect`). Nodes that
may come from the cache, and nodes an earlier run already did, are left out: they ask
only if they must run. A node's attempt takes what was announced for it once the
announcement is done.

Once every upstream node of a node runs (none of them failed, was skipped or cancelled),
its kernel is taken from the pool and handed over to its folder right away, while the
upstream nodes work: the node starts its cells as soon as its inputs exist. At most
``run.parallel`` nodes of a run hold such a kernel. What a node never takes (it was
skipped, cancelled, cached or failed before running) is given back as it ends.
"""

import asyncio
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

from jupyter_workflow.engine.executor import NodeTask
from jupyter_workflow.engine.state import RunState
from jupyter_workflow.events import FINAL_NODE_STATUSES, UNUSABLE_NODE_STATUSES, USABLE_NODE_STATUSES, NodeStatus

if TYPE_CHECKING:
    from jupyter_workflow.engine.kernel_executor import KernelExecutor


class RunWarmUp:
    """What ``executor`` prepares for one run's nodes, from the run's start to its end."""

    def __init__(self, run: RunState, executor: "KernelExecutor"):
        self.run = run
        self.executor = executor
        self.upstream = run.workflow.dependencies()
        self.downstream: dict[str, list[str]] = defaultdict(list)
        for node_id, upstream in self.upstream.items():
            for up in upstream:
                self.downstream[up].append(node_id)
        self.going = {node_id for node_id, node in run.nodes.items() if node.status in USABLE_NODE_STATUSES}
        self.ended = set(self.going)  # nodes in a final status
        self.kernels: dict[str, str] = {}  # node id → kernelspec announced, until the node asks or ends
        self.announced = False  # the kernelspecs are known
        self.ahead: dict[str, tuple[str, asyncio.Task]] = {}  # node id → kernelspec and its kernel being made ready
        self.released: set[asyncio.Task] = set()  # kernels made ready ahead and given back, being discarded
        # Nodes whose upstream nodes all run, before the kernelspecs were known: considered once they are.
        self.due = [node_id for node_id, upstream in self.upstream.items()
                    if upstream and upstream <= self.going and node_id not in self.going]
        wanted = [node_id for node_id, spec in run.workflow.nodes.items() if not spec.cache and node_id not in self.going]
        self.announcing = asyncio.ensure_future(self._announce(wanted))

    async def _announce(self, node_ids: list[str]) -> None:
        workflow = self.run.workflow

        def kernel_names() -> dict[str, str]:
            return {
                node_id: self.executor.kernel_name(workflow.root, workflow.notebook_path(node_id), workflow.nodes[node_id].kernel)
                for node_id in node_ids
            }

        try:
            kernels = await asyncio.to_thread(kernel_names) if node_ids else {}
        except Exception:  # an unreadable notebook: its node reports it when it runs
            kernels = {}
        self.kernels = {node_id: kernel for node_id, kernel in kernels.items() if node_id not in self.ended}
        self.executor.pool.expect(Counter(self.kernels.values()))
        self.announced = True
        due, self.due = self.due, []
        for node_id in due:
            self._upstream_going(node_id)

    def moved(self, node_id: str, status: NodeStatus) -> None:
        """The engine moved ``node_id`` to ``status``."""
        if status in FINAL_NODE_STATUSES:
            self._ended(node_id)
        if node_id in self.going or (status != NodeStatus.RUNNING and status not in FINAL_NODE_STATUSES):
            return
        self.going.add(node_id)
        for downstream in self.downstream[node_id]:
            if self.upstream[downstream] <= self.going:
                self._upstream_going(downstream)

    def _upstream_going(self, node_id: str) -> None:
        """Every upstream node of ``node_id`` runs or has ended: make its kernel ready, if it is worth it."""
        if not self.announced:
            self.due.append(node_id)
            return
        nodes = self.run.nodes
        if len(self.ahead) >= self.run.parallel or any(nodes[up].status in UNUSABLE_NODE_STATUSES for up in self.upstream[node_id]):
            return
        kernel_name = self.kernels.pop(node_id, None)
        if kernel_name is None:  # not announced: a cacheable node, or its kernelspec is not known
            return
        task = NodeTask.of(self.run, node_id)
        self.ahead[node_id] = kernel_name, asyncio.ensure_future(self.executor.acquire(task, kernel_name, announced=True))

    async def take(self, node_id: str) -> tuple[str | None, asyncio.Task | None]:
        """What was prepared for an attempt of ``node_id``: its kernelspec if announced, its kernel if made ready.

        A node's first attempt takes them; later attempts find nothing.
        """
        if not self.announcing.done():
            await asyncio.wait({self.announcing})
        if node_id in self.ahead:
            return self.ahead.pop(node_id)
        return self.kernels.pop(node_id, None), None

    def _ended(self, node_id: str) -> None:
        """Give back what ``node_id`` did not take: its announced kernelspec, its kernel made ready."""
        self.ended.add(node_id)
        kernel_name = self.kernels.pop(node_id, None)
        if kernel_name is not None:
            self.executor.pool.forget(Counter([kernel_name]))
        if node_id in self.ahead:
            _, kernel = self.ahead.pop(node_id)
            self._release(kernel)

    def _release(self, kernel: asyncio.Task) -> None:
        if kernel.done():
            self._discard(kernel)
        else:
            kernel.cancel()  # the pool discards a kernel it was handing over
            self.released.add(kernel)
            kernel.add_done_callback(self._discard)

    def _discard(self, kernel: asyncio.Task) -> None:
        """Discard the kernel a released task got, if it got one; take its error, if it failed."""
        self.released.discard(kernel)
        if not kernel.cancelled() and kernel.exception() is None:
            self.executor.pool.discard(kernel.result())

    async def end(self) -> None:
        """The run has ended: give back what is left, and wait until the kernels given back are gone."""
        self.announcing.cancel()
        await asyncio.wait({self.announcing})
        for node_id in [*self.ahead, *self.kernels]:
            self._ended(node_id)
        if self.released:
            await asyncio.wait(set(self.released))
