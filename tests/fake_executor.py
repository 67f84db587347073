"""An executor without kernels, for scheduling tests: each node does what its script says.

``FakeExecutor(scripts)`` implements the engine's
:class:`~jupyter_workflow.engine.executor.NodeExecutor` and nothing more. A node's
:class:`Script` says what each attempt does: print, wait for an event, hang until
cancelled, fail its first attempts, then record outputs (a dict, or a function of the
attempt's parameters). A node without a script records nothing and succeeds. The fake
notes what happened: attempts per node, the tasks it was given, the nodes running at
once (``most_at_once``), the nodes cancelled while running, the runs it heard end.

Example::

    fake = FakeExecutor({"a": Script(outputs={"x": 1}), "b": Script(failures=1)})
    run = asyncio.run(Engine(tmp_path, 2, fake).run(workflow))
    assert fake.attempts == {"a": 1, "b": 1}
"""

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Callable

from jupyter_workflow.engine.executor import NodeOutcome, NodeTask, error_info

__all__ = ["FakeExecutor", "Script"]


@dataclass
class Script:
    """What a node does on each attempt, in this order."""

    prints: str = ""  # written to the node's stdout
    gate: asyncio.Event | None = None  # waited for
    hang: bool = False  # runs until cancelled
    failures: int = 0  # this many first attempts fail ("attempt N fails")
    outputs: dict | Callable[[dict], dict] = field(default_factory=dict)  # recorded, or made from the parameters


class FakeExecutor:
    """Runs nodes by their :class:`Script`; see the module doc."""

    def __init__(self, scripts: dict[str, Script] | None = None):
        self.scripts = scripts or {}
        self.attempts: Counter = Counter()  # node id → attempts begun
        self.tasks: list[NodeTask] = []  # every attempt's task, in order
        self.running: set[str] = set()
        self.most_at_once = 0
        self.cancelled: list[str] = []  # nodes cancelled while running
        self.settled: list[str] = []  # ids of the runs heard to end
        self.closed = False
        self._started: defaultdict[str, asyncio.Event] = defaultdict(asyncio.Event)

    @classmethod
    def from_config(cls, settings, **options) -> "FakeExecutor":
        """A fake whose nodes all succeed, as a server builds it from its ``executor_class`` setting."""
        return cls()

    def started(self, node_id: str) -> asyncio.Event:
        """Set once an attempt of ``node_id`` has begun."""
        return self._started[node_id]

    async def execute(self, task: NodeTask) -> NodeOutcome:
        script = self.scripts.get(task.node_id, Script())
        self.tasks.append(task)
        self.attempts[task.node_id] += 1
        attempt = self.attempts[task.node_id]
        self.running.add(task.node_id)
        self.most_at_once = max(self.most_at_once, len(self.running))
        self._started[task.node_id].set()
        try:
            if script.prints:
                task.on_output("stdout", script.prints)
            await asyncio.sleep(0)  # the other nodes given a slot start meanwhile
            if script.gate is not None:
                await script.gate.wait()
            if script.hang:
                await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            self.cancelled.append(task.node_id)
            raise
        finally:
            self.running.discard(task.node_id)
        if attempt <= script.failures:
            return NodeOutcome(error=error_info("RuntimeError", f"attempt {attempt} fails"))
        outputs = script.outputs(task.parameters) if callable(script.outputs) else script.outputs
        return NodeOutcome(outputs=dict(outputs))

    async def settle(self, run) -> None:
        self.settled.append(run.run_id)

    async def close(self) -> None:
        self.closed = True
