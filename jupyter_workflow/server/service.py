"""The server's runs: started in the background on the event loop, cancelled, retried.

A request either happens and is recorded, or does not happen: a run is stored (with its
audit entry) before it starts, and a workflow file is written inside the transaction that
records its version.
"""

import asyncio
import json
import logging
import os
import tempfile
from pathlib import Path

from jupyter_workflow.apps import AppExists, default_app_path, write_app
from jupyter_workflow.config import WorkflowConfig
from jupyter_workflow.engine import KernelExecutor, RunState
from jupyter_workflow.model import Workflow, load_workflow
from jupyter_workflow.model.components import NotANotebook, inspect_notebook
from jupyter_workflow.model.paths import PathOutsideRoot, read_inside, resolve_inside
from jupyter_workflow.model.spec import content_hash, read_document
from jupyter_workflow.model.validation import checked_workflow
from jupyter_workflow.runner import Runner
from jupyter_workflow.server import listing
from jupyter_workflow.server.events import EventHub
from jupyter_workflow.store import AuditNote, NotFound, RunStore

log = logging.getLogger(__name__)


class NotAWorkflowFile(ValueError):
    """A path that does not name a ``*.workflow.json`` file, or a file that is not UTF-8 text."""


class VersionConflict(Exception):
    """A save or restore against a version that is no longer the file's current one."""

    def __init__(self, path: str, current: str | None, base: str | None):
        super().__init__(path)
        self.path, self.current, self.base = path, current, base


class RunService:
    """Owns the runner (store, journal, engine) and the runs in progress for one server."""

    def __init__(self, settings: WorkflowConfig, root_dir: Path, *, store_class: type[RunStore] = RunStore,
                 executor_class: type = KernelExecutor):
        self.root = Path(root_dir).resolve()
        self.hub = EventHub()
        self.runner = Runner.from_config(
            settings,
            store_class=store_class,
            executor_class=executor_class,
            publish=self.publish,
        )
        self.store = self.runner.store
        self.active: dict[str, asyncio.Task] = {}

    def publish(self, event_id: int, event) -> None:
        """Send a stored event to the server's live views (of its own runs, or of its worker's)."""
        self.hub.publish(event.message(event_id))

    def resolve(self, relative: str) -> Path:
        """``relative`` under the served folder, links followed; :class:`PathOutsideRoot` if it leaves it."""
        return resolve_inside(self.root, relative)

    def load(self, path: str | None = None, spec: dict | None = None, inputs: dict | None = None) -> Workflow:
        """A validated workflow from a file (relative to the root) or an inline document.

        Blocking (files, notebooks, JSON Schema): call it off the event loop.
        """
        if path is not None:
            return load_workflow(self.resolve(path), inputs=inputs)
        return checked_workflow(spec, self.root, inputs=inputs)

    def components(self, folder: str, limit: int, cursor: str | None) -> tuple[list[dict], str | None]:
        """One page of the notebooks under ``folder`` (see :mod:`~jupyter_workflow.server.listing`) and the next cursor.

        Each is inspected (parameters, outputs); one that cannot be read is listed with
        its ``error``. The runs folder is left out when it lies under the served folder.
        """
        base = self.resolve(folder)
        if not base.is_dir():
            raise FileNotFoundError(f"no folder {folder!r} under the server root")
        every_path = listing.notebook_paths(self.root, base, excluded=[self.runner.engine.runs_dir])
        paths, next_cursor = listing.page(every_path, limit, cursor)
        return [self._component(path) for path in paths], next_cursor

    def _component(self, relative: str) -> dict:
        try:
            return {**inspect_notebook(self.resolve(relative)).to_dict(), "path": relative}
        except (NotANotebook, PathOutsideRoot) as error:
            return {"path": relative, "error": str(error)}

    async def start(self, workflow: Workflow, inputs: dict | None, note: AuditNote) -> str:
        """Store a new run with ``note`` (its target: the run's id), start it in the background, return its id.

        Nothing runs unless the run is stored: a store that cannot be written raises
        :class:`~jupyter_workflow.store.StoreUnavailable` here.
        """
        return await self._launch(self.runner.new_run(workflow, inputs, trigger="server", user=note.user), note)

    async def _launch(self, run: RunState, note: AuditNote) -> str:
        note.target = run.run_id
        await asyncio.to_thread(self.runner.begin, run, note)
        self.active[run.run_id] = asyncio.ensure_future(self._execute(run))
        return run.run_id

    async def _execute(self, run: RunState) -> None:
        try:
            await self.runner.execute(run)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.exception("run %s stopped on an internal error", run.run_id)
        finally:
            self.active.pop(run.run_id, None)

    async def cancel(self, run_id: str, user: str | None) -> bool:
        """Cancel a run in progress here (its kernels are killed), or a queued run no worker took yet.

        False if it is neither. The cancel is written to the audit log first (with a queued
        run's end, in one transaction): a store that cannot record it raises, and the run goes on.
        """
        task = self.active.get(run_id)
        if task is None:
            return await asyncio.to_thread(self.store.cancel_queued, run_id, AuditNote(user, "run.cancel", run_id))
        await asyncio.to_thread(self.store.audit, user, "run.cancel", run_id)
        task.cancel()
        await asyncio.wait([task])
        await self.runner.journal.flush()
        return True

    async def retry(self, run_id: str, user: str | None) -> str:
        """Run again the nodes of a finished run that did not succeed, reusing the others (see :meth:`Runner.retry_run`).

        The run's workflow file must lie under the served folder, as for a new run
        (:class:`PathOutsideRoot` otherwise): a run started elsewhere, by the command
        line, is not executed again through the server.
        """
        run = await asyncio.to_thread(self.runner.retry_run, run_id, trigger="retry", user=user, root=self.root)
        return await self._launch(run, AuditNote(user, "run.retry", None, {"retry_of": run.retry_of}))

    def write_workflow(self, path: str, spec: dict, base: str | None, user: str | None, action: str) -> str:
        """Write ``spec`` to the workflow file ``path`` if the file is still at version ``base``; the new version.

        The version and the audit entry are stored in the transaction the file is written
        in: if they cannot be stored, the file is put back as it was. Raises
        :class:`VersionConflict` if the file changed since ``base``. Blocking.
        """
        target = self.resolve(path)
        if not target.name.endswith(".workflow.json"):
            raise NotAWorkflowFile(f"{path!r} is not a *.workflow.json file")
        name = spec.get("name") if isinstance(spec.get("name"), str) else target.name.removesuffix(".workflow.json")
        version = content_hash(spec)
        note = AuditNote(user, action, path, {"version": version, "base_version": base})
        previous, written = None, False
        try:
            with self.store.saving(spec, name, note):
                previous = self._read(target)
                current = content_hash(_document(previous, path)) if previous is not None else None
                if current != base:
                    raise VersionConflict(path, current, base)
                replace_file(target, (json.dumps(spec, indent=2) + "\n").encode("utf-8"))
                written = True
        except BaseException:
            if written:  # the store could not commit: the save did not happen
                put_back(target, previous)
            raise
        return version

    def restore_version(self, path: str, content_hash: str, base: str | None, user: str | None) -> str:
        """Write the stored version ``content_hash`` back into the workflow file ``path`` (see :meth:`write_workflow`)."""
        spec = self.store.get_version(content_hash).spec
        return self.write_workflow(path, spec, base, user, action="version.restore")

    def executed_notebook(self, run_id: str, node_id: str) -> str:
        """The text of the notebook that node ``node_id`` of run ``run_id`` left; :class:`NotFound` if none. Blocking."""
        record = self.store.get_run(run_id)
        node = next((n for n in record.nodes if n.node_id == node_id), None)
        if node is None:
            raise NotFound(f"run {record.id} has no node {node_id!r}")
        if not node.notebook:
            raise NotFound(f"node {node_id!r} of run {record.id} has no executed notebook ({node.status})")
        with open(node.notebook, encoding="utf-8") as stream:
            return stream.read()

    def app(self, path: str) -> tuple[str, bool]:
        """The app notebook of the workflow file ``path`` (``apps/<name>.ipynb`` beside it), written if missing.

        Returns its path relative to the root and whether it was written now. The workflow
        must be valid (:class:`InvalidWorkflow` otherwise). Blocking.
        """
        workflow = self.resolve(path)
        if not workflow.name.endswith(".workflow.json"):
            raise NotAWorkflowFile(f"{path!r} is not a *.workflow.json file")
        if not workflow.is_file():
            raise FileNotFoundError(f"no workflow file {path!r}")
        app = self.resolve(default_app_path(workflow).relative_to(self.root).as_posix())
        try:
            write_app(workflow, app)
            created = True
        except AppExists:
            created = False
        return app.relative_to(self.root).as_posix(), created

    def read_workflow(self, path: str) -> tuple[dict, str]:
        """The document of the workflow file ``path`` and its version (content hash). Blocking."""
        content = self._read(self.resolve(path))
        if content is None:
            raise FileNotFoundError(f"no workflow file {path!r}")
        document = _document(content, path)
        return document, content_hash(document)

    def _read(self, target: Path) -> bytes | None:
        """The bytes of the file at ``target``, checked to be under the served folder as it is read; None if none."""
        try:
            return read_inside(self.root, target)[1]
        except FileNotFoundError:
            return None

    async def stop(self) -> None:
        """Cancel the runs in progress and release the store."""
        for task in list(self.active.values()):
            task.cancel()
        if self.active:
            await asyncio.wait(list(self.active.values()))
        await self.runner.close()


def _document(content: bytes, path: str) -> dict:
    """The workflow document in a file's bytes (:class:`InvalidWorkflow` or :class:`NotAWorkflowFile` if it holds none)."""
    try:
        return read_document(content.decode("utf-8"), path)
    except UnicodeDecodeError:
        raise NotAWorkflowFile(f"{path} is not UTF-8 text") from None


def put_back(target: Path, content: bytes | None) -> None:
    """Put a file back as it was: ``content``, or no file when None."""
    if content is None:
        target.unlink(missing_ok=True)
    else:
        replace_file(target, content)


def replace_file(target: Path, content: bytes) -> None:
    """Write ``content`` to ``target`` at once: into a file beside it, then renamed over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
