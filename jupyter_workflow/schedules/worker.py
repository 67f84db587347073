"""Workers: processes that execute queued runs, with no lab server.

A run is queued by a schedule's fire, by ``jupyter workflow run --queue``, or as the retry
of a run whose worker was lost. A :class:`Worker` loops: it beats its heartbeat (kind
``worker``), interrupts the runs whose lease expired (:meth:`~jupyter_workflow.store.queue.Queue.interrupt_expired`)
and queues a retry of each as policy allows, then claims queued runs, up to
``concurrency`` at once, and executes them on a warm kernel pool. While a run executes its
lease is renewed every third of the lease; a worker that cannot renew it has lost the run
(another worker may have interrupted it) and cancels it.

When a run it executed ends, the worker sends the notifications of its schedule
(:func:`~jupyter_workflow.schedules.notify.notify_after_run`). A retry runs again only the
nodes that did not succeed: the others keep their results (``cached``). How many times an interrupted run is retried: its schedule's ``retries``, or
``WorkflowConfig.queue_retries`` for a run of no schedule.
"""

import asyncio
import logging
from collections.abc import Callable

from jupyter_workflow.config import WorkflowConfig
from jupyter_workflow.engine import KernelExecutor
from jupyter_workflow.engine.executor import error_info
from jupyter_workflow.events import Event, RunStatus
from jupyter_workflow.model.problems import InvalidWorkflow
from jupyter_workflow.runner import CannotRetry, Runner
from jupyter_workflow.schedules.notify import notify_after_run
from jupyter_workflow.store import RunRecord, RunStore, StoreUnavailable
from jupyter_workflow.store.heartbeats import process_name

DEFAULT_LEASE_S = 30.0
DEFAULT_POLL_S = 1.0

log = logging.getLogger(__name__)


class Worker:
    """Claims queued runs from the store of ``settings`` and executes them, ``concurrency`` at once.

    ``lease_s``: how long a claim lasts unless renewed (a lost worker's runs are
    interrupted that long after its last renewal); ``poll_s``: the pause between two looks
    for queued runs; ``on_run_finished(run_id)``: called (on a thread) after each run it
    executed ends, however it ended. ``store`` and ``executor_class`` as for
    :meth:`~jupyter_workflow.runner.Runner.from_config`; ``fork_process``: a fork server
    from :meth:`~jupyter_workflow.config.WorkflowConfig.start_fork_server`; ``publish``:
    called with each event of its runs once stored (a server's live views).

    :meth:`run` works until :meth:`stop`; then the runs under way are cancelled (they end
    ``cancelled``), their claims released, and the heartbeat notes the stop.
    """

    def __init__(
        self,
        settings: WorkflowConfig,
        name: str | None = None,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        poll_s: float = DEFAULT_POLL_S,
        concurrency: int = 1,
        on_run_finished: Callable[[str], None] | None = None,
        store: RunStore | None = None,
        executor_class: type = KernelExecutor,
        fork_process=None,
        publish: Callable[[int, Event], None] | None = None,
    ):
        if concurrency < 1:
            raise ValueError(f"a worker executes at least one run at once, not {concurrency}")
        if not lease_s > 0 or not poll_s > 0:
            raise ValueError("a worker's lease and pause last a positive number of seconds")
        self.settings = settings
        self.name = name or process_name("worker")
        self.lease_s, self.poll_s, self.concurrency = lease_s, poll_s, concurrency
        self.on_run_finished = on_run_finished
        self._store, self._executor_class, self._fork_process = store, executor_class, fork_process
        self._publish = publish
        self._runner: Runner | None = None
        self._runs: dict[str, asyncio.Task] = {}  # run id → the task executing it
        self._stopping = False
        self._finishing = False  # stopping, once the runs under way have ended
        self._wake: asyncio.Event | None = None

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called."""
        return self._stopping

    def stop(self, finish_runs: bool = False) -> None:
        """Stop claiming runs; :meth:`run` returns once the runs under way ended. Call it on the worker's loop.

        With ``finish_runs`` they go on to their end, their leases renewed (a later ``stop()``
        cancels them); without it they are cancelled now and end ``cancelled``.
        """
        self._stopping = True
        self._finishing = finish_runs
        if not finish_runs:
            for task in self._runs.values():
                task.cancel()
        elif self._runs:
            log.info("worker %s: finishing %d runs before it stops", self.name, len(self._runs))
        if self._wake is not None:
            self._wake.set()

    async def run(self) -> None:
        """Claim and execute queued runs until :meth:`stop`."""
        self._wake = asyncio.Event()
        self._runner = await asyncio.to_thread(
            Runner.from_config, self.settings, store=self._store, executor_class=self._executor_class, keep_warm=True,
            fork_process=self._fork_process, publish=self._publish,
        )
        log.info("worker %s: executing queued runs of %s, %d at once", self.name, self.settings.db_url, self.concurrency)
        try:
            while not self._stopping or (self._finishing and self._runs):
                try:
                    await self._turn()
                except StoreUnavailable as error:
                    log.warning("worker %s: %s", self.name, error)
                await self._pause()
        finally:
            for task in self._runs.values():
                task.cancel()
            await asyncio.gather(*self._runs.values(), return_exceptions=True)
            try:
                await asyncio.to_thread(self._runner.store.stop_beating, self.name)
            except StoreUnavailable as error:
                log.warning("worker %s: could not note its stop: %s", self.name, error)
            await self._runner.close()
            log.info("worker %s stopped", self.name)

    async def _turn(self) -> None:
        """Beat, interrupt the runs of lost leases (queueing their retries), claim what there is room for."""
        store = self._runner.store
        details = {"runs": sorted(self._runs), "concurrency": self.concurrency, "lease_s": self.lease_s}
        await asyncio.to_thread(store.beat, self.name, "worker", details)
        for run_id in await asyncio.to_thread(store.interrupt_expired):
            log.warning("worker %s: run %s lost its worker and was marked interrupted", self.name, run_id)
            await asyncio.to_thread(self._queue_retry, run_id)
        while len(self._runs) < self.concurrency and not self._stopping:
            record = await asyncio.to_thread(store.claim_next_run, self.name, self.lease_s)
            if record is None:
                return
            log.info("worker %s: claimed run %s of %s", self.name, record.id, record.workflow_name)
            self._runs[record.id] = asyncio.ensure_future(self._execute(record))

    async def _pause(self) -> None:
        """Wait ``poll_s``, or less if a run ends or the worker is stopped."""
        try:
            await asyncio.wait_for(self._wake.wait(), self.poll_s)
        except TimeoutError:
            pass
        self._wake.clear()

    def _queue_retry(self, run_id: str) -> None:
        """Queue a retry of the interrupted run ``run_id``'s unfinished nodes, if its policy allows one more. Blocking."""
        store = self._runner.store
        allowed = store.schedule_retries(run_id)
        allowed = self.settings.queue_retries if allowed is None else allowed
        done = store.retries_before(run_id)
        if done >= allowed:
            log.warning("worker %s: run %s is not retried: it was retried %d of %d times allowed", self.name, run_id,
                        done, allowed)
            return
        record = store.get_run(run_id)
        try:
            retry = self._runner.retry_of(record, trigger="retry", user=record.user)
        except (InvalidWorkflow, CannotRetry) as error:
            log.warning("worker %s: run %s cannot be retried: %s", self.name, run_id, error)
            return
        store.enqueue(retry)
        log.info("worker %s: queued run %s, retry %d of %d of run %s", self.name, retry.run_id, done + 1, allowed, run_id)

    async def _execute(self, record: RunRecord) -> None:
        """Execute one claimed run to its end under its lease, then release the claim and tell ``on_run_finished``."""
        runner = self._runner
        try:
            try:
                run = await asyncio.to_thread(runner.claimed_run, record)
            except (InvalidWorkflow, CannotRetry) as error:
                log.warning("worker %s: run %s cannot start: %s", self.name, record.id, error)
                problem = {**error_info(type(error).__name__, str(error)), "node": None}
                await asyncio.to_thread(runner.store.end_claimed, record.id, RunStatus.FAILED, problem)
                return
            except asyncio.CancelledError:  # stopped before the run began
                await asyncio.to_thread(runner.store.end_claimed, record.id, RunStatus.CANCELLED)
                raise
            execution = asyncio.ensure_future(runner.execute(run))
            lease = asyncio.ensure_future(self._keep_lease(record.id, execution))
            try:
                await execution
            except asyncio.CancelledError:
                if asyncio.current_task().cancelling():
                    raise
                # only the run was cancelled, by the lease lost: it ended cancelled
            finally:
                lease.cancel()
            log.info("worker %s: run %s %s", self.name, record.id, run.status)
        except Exception:
            log.exception("worker %s: run %s broke off", self.name, record.id)
        finally:
            await self._after(record.id)

    async def _after(self, run_id: str) -> None:
        """A run ended: release its claim, make room, send its schedule's notifications, tell ``on_run_finished``."""
        self._runs.pop(run_id, None)
        self._wake.set()
        try:
            await asyncio.to_thread(self._runner.store.release_claim, run_id, self.name)
        except StoreUnavailable as error:
            log.warning("worker %s: could not release run %s (its lease will lapse): %s", self.name, run_id, error)
        # The notifications its schedule asks for (none for a run no fire made); they never raise.
        await asyncio.to_thread(notify_after_run, self._runner.store, self.settings, run_id)
        if self.on_run_finished is not None:
            try:
                await asyncio.to_thread(self.on_run_finished, run_id)
            except Exception:
                log.exception("worker %s: on_run_finished failed for run %s", self.name, run_id)

    async def _keep_lease(self, run_id: str, execution: asyncio.Future) -> None:
        """Renew the claim on ``run_id`` every third of the lease; cancel ``execution`` once it is lost."""
        store = self._runner.store
        while True:
            await asyncio.sleep(self.lease_s / 3)
            try:
                renewed = await asyncio.to_thread(store.renew_claim, run_id, self.name, self.lease_s)
            except StoreUnavailable as error:
                log.warning("worker %s: could not renew the lease on run %s: %s", self.name, run_id, error)
                continue
            if renewed is None:
                log.error("worker %s: lost the lease on run %s: cancelling it", self.name, run_id)
                execution.cancel()
                return
