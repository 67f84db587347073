"""The Jupyter server extension: REST API and live run events under ``/workflow/api/``, and the scheduler."""

import asyncio
import threading
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from traitlets import Int, Type, Unicode

from jupyter_workflow.config import resolve_config
from jupyter_workflow.engine import KernelExecutor
from jupyter_workflow.schedules.worker import Worker
from jupyter_workflow.schedules.scheduler import Scheduler
from jupyter_workflow.server.handlers import routes
from jupyter_workflow.server.service import RunService
from jupyter_workflow.store import RunStore, StoreUnavailable, safe_url


class WorkflowExtension(ExtensionApp):
    """Stores workflows and runs, and runs workflows in the background on the server's loop.

    The run store, runs folder and parallelism come from ``c.WorkflowConfig`` in the
    server's configuration (or ``JUPYTER_WORKFLOW_DB_URL`` / ``JUPYTER_WORKFLOW_RUNS_DIR``):
    the same store as the ``jupyter workflow`` command line. Unless
    ``c.WorkflowConfig.scheduler`` is False, a scheduler fires the store's schedules from
    a thread of the server, beside any other scheduler on the same store.
    """

    name = "jupyter_workflow"
    load_other_extensions = True

    root_dir = Unicode(
        "", config=True, help="Folder whose workflows and notebooks the API serves (default: the server's root_dir)."
    )
    max_body_size = Int(
        10 * 1024 * 1024, config=True, help="Largest request body the API accepts, in bytes (larger: 413)."
    )
    executor_class = Type(
        default_value=KernelExecutor,
        klass=object,
        config=True,
        help="Class that executes nodes, built with ``from_config(settings, keep_warm=True, fork_process=None)``.",
    )
    store_class = Type(
        default_value=RunStore, klass=RunStore, config=True, help="Class of the run store, built with the store's URL."
    )

    def initialize_settings(self):
        settings = resolve_config(config=self.serverapp.config)
        root = Path(self.root_dir or self.serverapp.root_dir).expanduser().resolve()
        self.service = RunService(settings, root, store_class=self.store_class, executor_class=self.executor_class)
        try:
            interrupted = self.service.store.recover_interrupted()
        except StoreUnavailable as error:
            self.log.warning("could not mark runs of ended processes interrupted: %s", error)
            interrupted = []
        if interrupted:
            self.log.warning("marked %d runs interrupted (their process had ended): %s", len(interrupted), ", ".join(interrupted))
        self.settings["jupyter_workflow_service"] = self.service
        self.log.info("jupyter-workflow: runs in %s, store %s", settings.runs_dir, safe_url(settings.db_url))
        self.worker, self._worker_task = None, None
        if settings.server_workers > 0:
            self.worker = Worker(settings, concurrency=settings.server_workers, store=self.service.store,
                                 executor_class=self.executor_class, publish=self.service.publish)
        self._scheduler_stop = threading.Event()
        self.scheduler_thread = None
        if settings.scheduler:
            scheduler = Scheduler(self.service.store, settings)
            self.scheduler_thread = threading.Thread(target=scheduler.serve, args=(self._scheduler_stop,),
                                                     name=scheduler.name, daemon=True)
            self.scheduler_thread.start()
            self.log.info("jupyter-workflow: scheduler %s started", scheduler.name)

    async def _start_jupyter_server_extension(self, serverapp):
        if getattr(self, "worker", None) is not None:
            self._worker_task = asyncio.ensure_future(self.worker.run())
            self.log.info("jupyter-workflow: worker %s executes queued runs, %d at once", self.worker.name,
                          self.worker.concurrency)

    async def stop_scheduler(self):
        """Stop the server's scheduler, if it runs, once its pass is over."""
        thread = getattr(self, "scheduler_thread", None)
        if thread is not None:
            self._scheduler_stop.set()
            await asyncio.to_thread(thread.join)

    def initialize_handlers(self):
        self.handlers.extend(routes())

    async def stop_extension(self):
        await self.stop_scheduler()
        if getattr(self, "_worker_task", None) is not None:
            self.worker.stop()
            [outcome] = await asyncio.gather(self._worker_task, return_exceptions=True)
            if isinstance(outcome, Exception):
                self.log.error("jupyter-workflow: the worker had stopped on an error: %s", outcome)
        service = getattr(self, "service", None)  # absent if the extension failed to start
        if service is not None:
            await service.stop()
