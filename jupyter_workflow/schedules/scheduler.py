"""The scheduler: fires the schedules' owed times and queues one run for each fire.

A :class:`Scheduler` runs in the ``jupyter workflow scheduler`` daemon or inside the
Jupyter server, as many of them as wanted on one database: the store gives each owed time
to one of them (:meth:`~jupyter_workflow.store.schedules.Schedules.claim_due_fires`), and a
fire gets one run at most (:meth:`~jupyter_workflow.store.runs.Runs.enqueue`). A pass
claims the due fires and makes their runs: the workflow file as it is now (or the version
pinned by the schedule's ``content_hash``), the schedule's inputs, trigger ``schedule``,
the schedule's owner as the user; the run is queued for a worker. A fire whose workflow
cannot be loaded is marked ``failed`` with the reason, and makes no run. A fire claimed by
a scheduler that died before making its run gets it from the next pass of any scheduler.
"""

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from jupyter_workflow.config import WorkflowConfig
from jupyter_workflow.engine import Engine
from jupyter_workflow.events import now
from jupyter_workflow.model import Workflow
from jupyter_workflow.model.problems import InvalidWorkflow
from jupyter_workflow.model.spec import load_workflow
from jupyter_workflow.model.validation import checked_workflow
from jupyter_workflow.store import FireRecord, NotFound, RunStore, ScheduleRecord, StoreUnavailable
from jupyter_workflow.store.heartbeats import process_name

TRIGGER = "schedule"
# A claimed fire still without a run this long after its claim lost its scheduler (or was
# fired on demand): a pass makes its run. A run is made well within it.
UNFINISHED_AFTER_S = 5
# How often the scheduler says it is alive (a beat is a write: not at every pass).
BEAT_EVERY_S = 5
# The shortest wait between passes, so that a due schedule another scheduler holds is not polled in a spin.
MIN_WAIT_S = 0.05

log = logging.getLogger(__name__)


class Scheduler:
    """Fires the due schedules of ``store`` into queued runs, pass after pass.

    ``settings`` gives the runs folder and ``scheduler_poll_s``; ``name`` is its heartbeat's
    (default: ``scheduler-<host>-<pid>``); ``clock`` gives the time (aware), for tests.
    """

    def __init__(self, store: RunStore, settings: WorkflowConfig, name: str | None = None,
                 clock: Callable[[], datetime] = now):
        self.store = store
        self.name = name or process_name("scheduler")
        self.poll_s = settings.scheduler_poll_s
        self.clock = clock
        # only new_run is used: its executor (kernels) is never started here
        self.engine = Engine(settings.runs_dir, settings.max_parallel)

    def run_pass(self, at: datetime | None = None) -> list[FireRecord]:
        """Claim the fires due at ``at`` (now) and make their runs; the fires handled."""
        at = self.clock() if at is None else at
        fires = self.store.claim_due_fires(self.name, at, each=self.make_run)  # each run made after its claim
        claimed = {fire.id for fire in fires}
        unfinished = [fire for fire in self.store.unfinished_fires(at - timedelta(seconds=UNFINISHED_AFTER_S))
                      if fire.id not in claimed]
        for fire in unfinished:
            self.make_run(fire)
        return fires + unfinished

    def make_run(self, fire: FireRecord) -> str | None:
        """Queue the run of a claimed fire; its id, or None if the fire failed or has a run already."""
        try:
            schedule = self.store.get_schedule(fire.schedule_id)
        except NotFound:  # removed since: its fires went with it
            return None
        try:
            workflow = self.workflow(schedule)
            run = self.engine.new_run(workflow, schedule.inputs, trigger=TRIGGER, user=schedule.owner)
        except (InvalidWorkflow, NotFound) as error:
            reason = f"the workflow cannot run: {error}"
            log.warning("schedule %s (%s), fire of %s: %s", schedule.name, schedule.id,
                        fire.scheduled_for.isoformat(), reason)
            self.store.fail_fire(fire.id, reason)
            return None
        return run.run_id if self.store.enqueue(run, fire_id=fire.id) else None

    def workflow(self, schedule: ScheduleRecord) -> Workflow:
        """The schedule's workflow: its pinned version, or its file as it is now.

        Raises :class:`InvalidWorkflow` (or ``NotFound`` for a pinned version the store lacks).
        """
        path = Path(schedule.workflow_path).expanduser().absolute()
        if schedule.content_hash is None:
            return load_workflow(path)
        version = self.store.get_version(schedule.content_hash)
        return checked_workflow(version.spec, path.parent, path, source=f"{path} (version {schedule.content_hash[:12]})")

    def wait_s(self) -> float:
        """How long to wait before the next pass: until the next owed time, at most ``poll_s``."""
        due = self.store.next_due_at()
        if due is None:
            return self.poll_s
        return min(self.poll_s, max(MIN_WAIT_S, (due - self.clock()).total_seconds()))

    def serve(self, stop: threading.Event) -> None:
        """Beat, pass, wait — until ``stop`` is set; then note the clean stop in the heartbeat.

        A pass that fails (a database that cannot be used for a while) is logged, and the
        next one tries again.
        """
        log.info("scheduler %s started", self.name)
        last_beat = None
        try:
            while not stop.is_set():
                wait = self.poll_s
                try:
                    if last_beat is None or (self.clock() - last_beat).total_seconds() >= BEAT_EVERY_S:
                        self.store.beat(self.name, "scheduler", details={"poll_s": self.poll_s})
                        last_beat = self.clock()
                    self.run_pass()
                    wait = self.wait_s()
                except StoreUnavailable as error:
                    log.warning("scheduler %s: %s", self.name, error)
                except Exception:
                    log.exception("scheduler %s: the pass failed; the next one tries again", self.name)
                stop.wait(wait)
        finally:
            try:
                self.store.stop_beating(self.name)
            except StoreUnavailable as error:
                log.warning("scheduler %s could not note its stop: %s", self.name, error)
            log.info("scheduler %s stopped", self.name)
