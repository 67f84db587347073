"""The server's runs: started in the background on the event loop, cancelled, retried."""

import asyncio
import logging
from pathlib import Path

from jupyter_workflow.config import WorkflowConfig
from jupyter_workflow.engine import Engine, KernelExecutor, NodeState, NodeStatus, RunState
from jupyter_workflow.model import Workflow, load_workflow
from jupyter_workflow.model.validation import checked_workflow
from jupyter_workflow.server.events import EventHub, event_payload
from jupyter_workflow.store import RunStore, ThreadedJournal

log = logging.getLogger(__name__)

REUSABLE = frozenset({NodeStatus.SUCCEEDED, NodeStatus.CACHED})


class PathOutsideRoot(ValueError):
    """A path that resolves outside the folder the server serves."""


class RunService:
    """Owns the store, the engine and the runs in progress for one server."""

    def __init__(self, settings: WorkflowConfig, root_dir: Path):
        self.root = Path(root_dir).resolve()
        self.store = RunStore(settings.db_url)
        self.hub = EventHub()
        self.journal = ThreadedJournal(
            self.store, publish=lambda event_id, event: self.hub.publish(event_payload(event_id, event))
        )
        executor = KernelExecutor(settings.kernel_pool(keep_warm=True), owns_pool=True)
        self.engine = Engine(
            settings.runs_dir, settings.max_parallel, executor, listeners=[self.journal], cache=self.store
        )
        self.active: dict[str, asyncio.Task] = {}

    def resolve(self, relative: str) -> Path:
        """``relative`` inside the served folder; raises :class:`PathOutsideRoot` otherwise."""
        if not isinstance(relative, str) or not relative or Path(relative).is_absolute():
            raise PathOutsideRoot(f"{relative!r} is not a path relative to the server root")
        path = (self.root / relative).resolve()
        if not path.is_relative_to(self.root):
            raise PathOutsideRoot(f"{relative!r} is outside the server root")
        return path

    def load(self, path: str | None = None, spec: dict | None = None, inputs: dict | None = None) -> Workflow:
        """A validated workflow from a file (relative to the root) or an inline document.

        Blocking (files, notebooks, JSON Schema): call it off the event loop.
        """
        if path is not None:
            return load_workflow(self.resolve(path), inputs=inputs)
        return checked_workflow(spec, self.root, inputs=inputs)

    def start(self, workflow: Workflow, inputs: dict | None, user: str | None, *, trigger="server",
              reuse: dict[str, NodeState] | None = None, retry_of: str | None = None) -> str:
        """Start a run in the background and return its id at once."""
        run = self.engine.new_run(workflow, inputs, trigger=trigger, user=user)
        run.retry_of = retry_of
        run.nodes.update(reuse or {})
        self.active[run.run_id] = asyncio.ensure_future(self._execute(run))
        return run.run_id

    async def stored(self) -> None:
        """Wait until the runs started so far are in the store: a client may ask for one at once."""
        await asyncio.sleep(0)  # a run just started stores itself in its first step
        await self.journal.flush()

    async def _execute(self, run: RunState) -> None:
        try:
            await self.engine.execute(run)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("run %s stopped on an internal error", run.run_id)
        finally:
            self.active.pop(run.run_id, None)

    async def cancel(self, run_id: str) -> bool:
        """Cancel a run in progress (its kernels are killed); False if it is not running here."""
        task = self.active.get(run_id)
        if task is None:
            return False
        task.cancel()
        await asyncio.wait([task])
        await self.journal.flush()
        return True

    async def retry(self, run_id: str, user: str | None) -> str:
        """Run again the nodes of a finished run that did not succeed, reusing the others."""
        record = await asyncio.to_thread(self.store.get_run, run_id)
        if record.id in self.active or record.status in ("pending", "running"):
            raise RunStillActive(f"run {record.id} is still {record.status}; cancel it or wait for the end")
        version = await asyncio.to_thread(self.store.get_version, record.content_hash)
        path = Path(record.workflow_path) if record.workflow_path else None
        root = path.parent if path else self.root
        workflow = await asyncio.to_thread(checked_workflow, version.spec, root, path)
        reuse = {
            node.node_id: NodeState(
                node.node_id, NodeStatus.CACHED, node.attempt, node.started_at, node.finished_at, node.notebook,
                node.outputs,
            )
            for node in record.nodes
            if node.status in REUSABLE and node.node_id in workflow.nodes
        }
        return self.start(workflow, record.inputs, user, trigger="retry", reuse=reuse, retry_of=record.id)

    async def stop(self) -> None:
        """Cancel the runs in progress and release the store."""
        for task in list(self.active.values()):
            task.cancel()
        if self.active:
            await asyncio.wait(list(self.active.values()))
        await self.journal.flush()
        self.journal.close()
        await self.engine.close()
        self.store.close()


class RunStillActive(RuntimeError):
    """A retry asked for a run that has not finished."""


