"""Scheduling: how punctually ``jupyter workflow scheduler`` processes fire, and how soon a worker starts the run.

Everything lives in a temporary folder made and removed here: the run stores (a SQLite
file per measurement; on PostgreSQL a database per measurement in a private cluster that
``tests/postgres.py`` starts: ``initdb`` in a temporary folder, a loopback port, the
tests' settings), the runs folder, and a workflow of one trivial notebook.

Firing: 1, 2 and 4 ``jupyter workflow scheduler`` processes share one store holding 100
schedules of that workflow that fire every minute (``* * * * *``; ``--schedule-every-s N``
makes them fire every N seconds with a leading seconds field, for a quick run) for
``--schedule-span-min`` minutes. No worker runs: the fires' runs stay queued, and the
schedules allow that many runs at once, so that every owed time is due a run. Then, from
the store: lateness (``fires.fired_at − scheduled_for``, the moment the claiming pass
began) and the same up to the run's creation (``runs.created_at``), duplicates (more than
one fire for a schedule and time, or more than one run for a fire) and missed fires (owed
times with no fire, or a fire that made no run).

Warm worker: a ``jupyter workflow worker`` is started and left idle with its pool warm,
then runs of the same one-node workflow are queued one at a time (``RunStore.enqueue``):
the time from the enqueue to the node's ``node.started`` event; then a scheduler fires a
schedule every few seconds: from the fire's ``fired_at`` to ``node.started``. Baseline: a
warm run of the same workflow through the Python API in one process (``jupyter_workflow.run``,
2nd+ run): from the call to ``node.started``.

Run as a script, this module is the driver of the baseline::

    python scheduling.py api SPEC.json RESULT.json
"""

import argparse
import importlib.util
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from itertools import count
from pathlib import Path

from jupyter_workflow.events import UNFINISHED_RUN_STATUSES
from jupyter_workflow.schedules.worker import DEFAULT_POLL_S

import baselines
from baselines import BIN, RowFailed, run_driver, stop_group, tail
from server import write_fanout_workflow
from stats import percentile, print_table
from workflows import WARM_PAUSE_S, section_env

HERE = Path(__file__).resolve()
POSTGRES_MODULE = HERE.parent.parent / "tests" / "postgres.py"
SCHEDULES = 100
SCHEDULER_COUNTS = (1, 2, 4)
FIRE_TARGET_S = 1.0  # a fire happens within 1 s of its time while a scheduler is up
WARM_FIRE_EVERY_S = 4  # the warm worker's schedule: a fire every this many seconds
SETTLE_S = 30  # how long after the last owed time its fires may still come in
START_TIMEOUT_S = 60  # for a scheduler or worker to beat its first heartbeat
RUN_TIMEOUT_S = 120  # for a queued run to end with a worker up


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def wait_for(condition, timeout: float, what: str, interval: float = 0.05):
    """``condition()``'s first truthy value, polled every ``interval`` s; :class:`RowFailed` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RowFailed(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


# --- databases ------------------------------------------------------------------------------------


@dataclass
class Database:
    """Where the stores of a measurement go: ``new_url()`` gives an empty database each time."""

    name: str
    new_url: Callable[[], str]
    note: str = ""


def load_postgres_module():
    """``tests/postgres.py`` (the tests' private cluster), imported by its path: the tests folder is no package."""
    spec = importlib.util.spec_from_file_location("jupyter_workflow_test_postgres", POSTGRES_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@contextmanager
def databases(tmp: Path):
    """SQLite, and PostgreSQL if a private cluster starts; yields (databases, why PostgreSQL is missing)."""
    numbers = count(1)
    sqlite = Database("SQLite", lambda: f"sqlite:///{tmp / f'store-{next(numbers)}.db'}", "a file in WAL mode")
    if not POSTGRES_MODULE.exists():
        yield [sqlite], f"{POSTGRES_MODULE.relative_to(HERE.parent.parent)} is missing"
        return
    postgres = load_postgres_module()
    try:
        progress("starting a private PostgreSQL cluster")
        cluster = postgres.start_cluster()
    except postgres.ClusterUnavailable as error:
        yield [sqlite], str(error).splitlines()[0]
        return
    note = ", ".join([f"private cluster on 127.0.0.1:{cluster.port}", *getattr(postgres, "TEST_SETTINGS", ())])
    try:
        yield [sqlite, Database("PostgreSQL", cluster.new_database, note)], None
    finally:
        cluster.stop()


# --- the processes --------------------------------------------------------------------------------


class Processes:
    """``jupyter workflow`` daemons (scheduler, worker) on one store, each in a session of its own.

    Leaving the ``with`` sends each SIGTERM (their clean stop), SIGKILL if it lingers.
    """

    def __init__(self, db_url: str, env: dict, logs: Path):
        self.db_url, self.env, self.logs = db_url, env, logs
        self.started: list[tuple[subprocess.Popen, Path]] = []

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *exc_info) -> None:
        for process, _ in self.started:
            stop_group(process)

    def start(self, command: str, name: str, *options: str) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log_path = self.logs / f"{name}.log"
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                [str(BIN / "jupyter"), "workflow", "--db", self.db_url, command, "--name", name, *options],
                env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
        self.started.append((process, log_path))

    def check_alive(self) -> None:
        for process, log_path in self.started:
            if process.poll() is not None:
                raise RowFailed(f"{log_path.stem} exited with {process.returncode}:\n{tail(log_path.read_text())}")

    def wait_beating(self, store, kind: str, names: list[str]) -> None:
        """Return once every process of ``names`` beat its heartbeat."""

        def beating() -> bool:
            self.check_alive()
            return set(names) <= {beat.name for beat in store.heartbeats(kind) if beat.stopped_at is None}

        wait_for(beating, START_TIMEOUT_S, f"{kind}s {', '.join(names)} beating")


# --- firing: lateness, duplicates, missed ---------------------------------------------------------


@dataclass
class Firing:
    """One store, ``schedulers`` schedulers: what the fires table says of the owed times."""

    schedulers: int
    owed: int = 0
    fires: int = 0
    lateness: list[float] = field(default_factory=list)  # fired_at − scheduled_for
    run_lateness: list[float] = field(default_factory=list)  # the run's created_at − scheduled_for
    duplicate_fires: int = 0  # fires beyond the first for one (schedule, time)
    duplicate_runs: int = 0  # runs beyond the first for one fire
    no_fire: int = 0  # owed times with no fire
    no_run: int = 0  # fires that made no run (skipped or failed), by status
    statuses: Counter = field(default_factory=Counter)
    per_scheduler: Counter = field(default_factory=Counter)
    error: str | None = None

    @property
    def missed(self) -> int:
        return self.no_fire + self.no_run


def every_seconds(text: str) -> int:
    """An argparse type: a whole number of seconds from 1 to 59, the step of a cron seconds field."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 59:
        raise argparse.ArgumentTypeError(f"a whole number of seconds from 1 to 59 is needed (got {text!r})")
    return value


def cron_of(every_s: int | None) -> str:
    return f"*/{every_s} * * * * *" if every_s else "* * * * *"


def owed_times(cron: str, created_at: datetime, until: datetime) -> list[datetime]:
    """The schedule's times after its creation up to ``until``, as the library computes them."""
    from jupyter_workflow.schedules.cron import next_fire_times

    times, after = [], created_at
    while True:
        [following] = next_fire_times(cron, "UTC", after, 1)
        if following > until:
            return times
        times.append(following.astimezone(timezone.utc))
        after = following


def fire_rows(db_url: str) -> tuple[list, Counter]:
    """Every fire (schedule, scheduled_for, fired_at, status, run_id, scheduler, run created_at) and runs per fire."""
    from sqlalchemy import create_engine, func, select

    from jupyter_workflow.store.models import Fire, Run

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            fires = connection.execute(
                select(Fire.schedule_id, Fire.scheduled_for, Fire.fired_at, Fire.status, Fire.run_id, Fire.scheduler,
                       Run.created_at).outerjoin(Run, Run.id == Fire.run_id)
            ).all()
            runs_per_fire = Counter(dict(connection.execute(
                select(Run.fire_id, func.count()).where(Run.fire_id.is_not(None)).group_by(Run.fire_id)
            ).all()))
    finally:
        engine.dispose()
    return fires, runs_per_fire


def measure_firing(db_url: str, schedulers: int, workflow: Path, span: timedelta, every_s: int | None, env: dict,
                   logs: Path) -> Firing:
    """Start ``schedulers`` schedulers, add the schedules, wait out the span, count from the fires table."""
    from jupyter_workflow.store import RunStore

    result = Firing(schedulers)
    cron = cron_of(every_s)
    store = RunStore(db_url)
    names = [f"bench-scheduler-{number}" for number in range(1, schedulers + 1)]
    try:
        with Processes(db_url, env, logs) as processes:
            for name in names:
                processes.start("scheduler", name)
            processes.wait_beating(store, "scheduler", names)
            began = datetime.now(timezone.utc)
            until = began + span
            owed = {}
            for number in range(SCHEDULES):
                schedule = store.create_schedule(name=f"bench-{number:03d}", workflow_path=str(workflow), cron=cron,
                                                 max_concurrent=1_000_000)
                for time_owed in owed_times(cron, schedule.created_at, until):
                    owed[schedule.id, time_owed] = True
            result.owed = len(owed)
            progress(f"{schedulers} scheduler(s): {len(owed)} owed times until {until:%H:%M:%S} UTC")

            def span_over() -> bool:
                """After the span, once every owed time has its fire (or :data:`SETTLE_S` later)."""
                processes.check_alive()
                moment = datetime.now(timezone.utc)
                if moment <= until:  # the store is not read during the span: no load of ours on it
                    return False
                fired = {(row.schedule_id, row.scheduled_for) for row in fire_rows(db_url)[0]}
                return owed.keys() <= fired or moment > until + timedelta(seconds=SETTLE_S)

            wait_for(span_over, span.total_seconds() + SETTLE_S + 30, "the span's fires", interval=1)
    finally:
        store.close()
    fires, runs_per_fire = fire_rows(db_url)
    seen = Counter()
    for row in fires:
        if (row.schedule_id, row.scheduled_for) not in owed:
            continue  # after the span
        seen[row.schedule_id, row.scheduled_for] += 1
        result.fires += 1
        result.statuses[row.status] += 1
        result.per_scheduler[row.scheduler] += 1
        result.lateness.append((row.fired_at - row.scheduled_for).total_seconds())
        if row.run_id is None:
            result.no_run += 1
        else:
            result.run_lateness.append((row.created_at - row.scheduled_for).total_seconds())
    result.duplicate_fires = sum(fires - 1 for fires in seen.values())
    result.no_fire = sum(1 for key in owed if key not in seen)
    result.duplicate_runs = sum(runs - 1 for runs in runs_per_fire.values())
    return result


# --- warm worker: queued or fired → node.started ----------------------------------------------------


def node_started_at(store, run_id: str) -> datetime | None:
    """The time of the run's first ``node.started`` event, or None before it."""
    return next((event.time for event in store.events(run_id) if event.type == "node.started"), None)


def wait_run_ended(store, run_id: str) -> str:
    """The run's status once it ended (a worker executes it)."""

    def ended():
        status = store.get_run(run_id).status
        return status not in UNFINISHED_RUN_STATUSES and status

    return wait_for(ended, RUN_TIMEOUT_S, f"run {run_id} ending")


@dataclass
class WarmWorker:
    """One idle warm worker: seconds from a run's enqueue or fire to its node's start, and how the runs ended."""

    enqueued: list[float] = field(default_factory=list)  # enqueue → node.started
    fired: list[float] = field(default_factory=list)  # fires.fired_at → node.started
    owed: list[float] = field(default_factory=list)  # fires.scheduled_for → node.started
    statuses: Counter = field(default_factory=Counter)


def measure_warm_worker(db_url: str, workflow: Path, runs: int, env: dict, logs: Path) -> WarmWorker:
    """One idle warm worker: queued runs one at a time, then a schedule's fires, each to its node's start."""
    from jupyter_workflow.engine import Engine
    from jupyter_workflow.model import load_workflow
    from jupyter_workflow.store import RunStore

    result = WarmWorker()
    store = RunStore(db_url)
    engine = Engine(env["JUPYTER_WORKFLOW_RUNS_DIR"], 1)  # only new_run: it starts no kernel
    loaded = load_workflow(workflow)
    jitter = random.Random(15)
    try:
        with Processes(db_url, env, logs) as processes:
            processes.start("worker", "bench-worker")
            processes.wait_beating(store, "worker", ["bench-worker"])
            for round_ in range(runs + 1):  # the first one warms the worker up, untimed
                # The pool tops up its kernels after a run, as between a user's runs; the jitter spreads
                # the enqueues over the worker's poll, which would otherwise always be met in the same phase.
                time.sleep(WARM_PAUSE_S + jitter.uniform(0, DEFAULT_POLL_S))
                run = engine.new_run(loaded, {}, trigger="queue", user="bench")
                queued = datetime.now(timezone.utc)
                store.enqueue(run)
                status = wait_run_ended(store, run.run_id)
                started = node_started_at(store, run.run_id)
                if status != "succeeded" or started is None:
                    raise RowFailed(f"queued run {run.run_id} ended {status}: {store.get_run(run.run_id).error}")
                if round_:
                    result.enqueued.append((started - queued).total_seconds())
                    result.statuses[status] += 1
            processes.start("scheduler", "bench-scheduler")
            processes.wait_beating(store, "scheduler", ["bench-scheduler"])
            schedule = store.create_schedule(name="bench-warm", workflow_path=str(workflow),
                                             cron=f"*/{WARM_FIRE_EVERY_S} * * * * *")

            def fires_done():
                processes.check_alive()
                fires = [fire for fire in store.list_fires(schedule.id) if fire.run_id]
                ended = [fire for fire in fires if store.get_run(fire.run_id).status not in UNFINISHED_RUN_STATUSES]
                return fires if len(ended) >= runs else None

            fires = wait_for(fires_done, runs * (WARM_FIRE_EVERY_S + RUN_TIMEOUT_S), "the schedule's runs",
                             interval=0.5)
            store.set_enabled(schedule.id, False)
            for fire in sorted(fires, key=lambda fire: fire.scheduled_for)[:runs]:
                status = wait_run_ended(store, fire.run_id)
                started = node_started_at(store, fire.run_id)
                result.statuses[status] += 1
                if started is not None:
                    result.fired.append((started - fire.fired_at).total_seconds())
                    result.owed.append((started - fire.scheduled_for).total_seconds())
    finally:
        store.close()
    return result


def drive_api(spec: dict) -> dict:
    """One untimed run, then ``runs`` timed runs of ``jupyter_workflow.run``: from the call to ``node.started``."""
    import jupyter_workflow
    from jupyter_workflow.store import RunStore

    samples = []
    store = RunStore(spec["db_url"])
    try:
        for round_ in range(spec["runs"] + 1):
            time.sleep(WARM_PAUSE_S)
            called = datetime.now(timezone.utc)
            state = jupyter_workflow.run(spec["workflow"], db_url=spec["db_url"], runs_dir=spec["runs_dir"])
            started = node_started_at(store, state.run_id)
            if state.status != "succeeded" or started is None:
                raise RowFailed(f"run {state.run_id} ended {state.status}: {state.error}")
            if round_:
                samples.append((started - called).total_seconds())
    finally:
        store.close()
    return {"samples": samples}


# --- the section ----------------------------------------------------------------------------------


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_firing(results: list[Firing]) -> None:
    print(f"{'schedulers':>10} {'owed':>6} {'fires':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
          f"{'run max ms':>10} {'dup fires':>9} {'dup runs':>8} {'missed':>6}  fires per scheduler")
    for result in results:
        if result.error:
            print(f"{result.schedulers:>10}  failed: {result.error}")
            continue
        late, runs = result.lateness or [float("nan")], result.run_lateness or [float("nan")]
        shares = "/".join(str(fires) for _, fires in sorted(result.per_scheduler.items()))
        print(f"{result.schedulers:>10} {result.owed:>6} {result.fires:>6} {ms(percentile(late, 0.5)):>8} "
              f"{ms(percentile(late, 0.99)):>8} {ms(max(late)):>8} {ms(max(runs)):>10} {result.duplicate_fires:>9} "
              f"{result.duplicate_runs:>8} {result.missed:>6}  {shares}")
        if result.missed:
            print(f"{'':>10} missed: {result.no_fire} owed times without a fire, {result.no_run} fires without a run "
                  f"({dict(result.statuses)})")
    rows = []
    for result in results:
        if result.error or not result.lateness:
            continue
        rows.append((f"{result.schedulers} scheduler(s): fired_at − scheduled_for", result.lateness, None))
        rows.append((f"{result.schedulers} scheduler(s): run created − scheduled_for", result.run_lateness, None))
    if rows:
        print()
        print_table(rows, ratio_title="")


def firing_verdicts(database: Database, results: list[Firing]) -> list[str]:
    """The target, read two ways: the fire recorded (``fired_at``), and its run queued (``runs.created_at``)."""
    measured = [result for result in results if not result.error and result.lateness]
    if not measured:
        return [f"  {database.name}: a fire within {FIRE_TARGET_S:.0f} s of its time: no measurement"]
    missed = sum(result.missed for result in measured)
    duplicates = sum(result.duplicate_fires + result.duplicate_runs for result in measured)
    fires = sum(result.fires for result in measured)
    failed = len(results) - len(measured)
    lines = []
    for what, samples in (("fire recorded (fired_at)", [late for result in measured for late in result.lateness]),
                          ("its run queued (runs.created_at)",
                           [late for result in measured for late in result.run_lateness])):
        worst = max(samples, default=float("inf"))
        met = "met" if worst <= FIRE_TARGET_S and not missed and not duplicates else "NOT MET"
        lines.append(f"  {database.name}: within {FIRE_TARGET_S:.0f} s of its time while a scheduler is up, {what}: "
                     f"{met} (p99 {ms(percentile(samples, 0.99)) if samples else '–'} ms, worst {ms(worst)} ms; "
                     f"{fires} fires, {missed} missed, {duplicates} duplicates"
                     + (f"; {failed} row(s) failed)" if failed else ")"))
    return lines


def print_warm(database: Database, warm: WarmWorker | None, baseline: list[float] | None, error: str | None) -> None:
    rows = [("baseline: warm API run, call → node.started", baseline, baseline)] if baseline else []
    if warm:
        if warm.enqueued:
            rows.append(("idle warm worker: enqueue → node.started", warm.enqueued, baseline))
        if warm.fired:
            rows.append(("idle warm worker: fired_at → node.started", warm.fired, baseline))
            rows.append(("idle warm worker: scheduled_for → node.started", warm.owed, baseline))
    if rows:
        print_table(rows)
    if warm and warm.statuses:
        print(f"  runs ended: {', '.join(f'{runs} {status}' for status, runs in sorted(warm.statuses.items()))}")
    if error:
        print(f"  {database.name}: {error}")


def section(span_min: float, every_s: int | None, warm_runs: int) -> None:
    """Print the firing tables per database, the warm worker's rows against the API baseline, the verdicts."""
    began = time.perf_counter()
    span = timedelta(minutes=span_min)
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="jupyter-workflow-bench-") as folder, ExitStack() as stack:
        tmp = Path(folder)
        env = section_env(tmp)
        env["JUPYTER_WORKFLOW_RUNS_DIR"] = str(tmp / "runs")
        root = tmp / "root"
        root.mkdir()
        workflow = root / write_fanout_workflow(root, 1)
        try:
            found, missing = stack.enter_context(databases(tmp))
            how_often = f"every {every_s} s ({cron_of(every_s)})" if every_s else "every minute (* * * * *)"
            print(f"scheduling: {SCHEDULES} schedules firing {how_often} "
                  f"for {span_min:g} min, 1 node each; no worker (their runs stay queued);\n"
                  f"`jupyter workflow scheduler` processes with the default poll, on {os.cpu_count()} CPUs")
            if missing:
                print(f"PostgreSQL: not available ({missing})")
            for database in found:
                print(f"\n{database.name} ({database.note})\n")
                results = []
                for schedulers in SCHEDULER_COUNTS:
                    progress(f"{database.name}: firing with {schedulers} scheduler(s) for {span_min:g} min")
                    try:
                        results.append(measure_firing(database.new_url(), schedulers, workflow, span, every_s, env,
                                                      tmp / "logs" / f"{database.name}-{schedulers}"))
                    except Exception as error:  # the table says why; the section goes on
                        results.append(Firing(schedulers, error=reason(error)))
                print_firing(results)
                verdicts += firing_verdicts(database, results)
            print("\nlateness: fired_at is when the claiming pass began; a run is created after its fire is claimed.\n"
                  "dup fires: fires beyond the first for one (schedule, time); dup runs: runs beyond the first for\n"
                  "one fire; missed: owed times with no fire, or whose fire made no run (skipped or failed).")
            baseline, baseline_error = None, None
            progress(f"baseline: {warm_runs} warm API runs")
            try:
                url = found[0].new_url()
                spec = {"workflow": str(workflow), "runs": warm_runs, "db_url": url,
                        "runs_dir": env["JUPYTER_WORKFLOW_RUNS_DIR"]}
                baseline = run_driver(HERE, "api", spec, tmp / "api", env)["samples"]
            except Exception as error:
                baseline_error = f"baseline failed: {reason(error)}"
            pause = f"{WARM_PAUSE_S:g}–{WARM_PAUSE_S + DEFAULT_POLL_S:g} s"
            print(f"\nwarm worker: a workflow of 1 trivial node; `jupyter workflow worker` started, warmed by one run "
                  f"and idle;\n{warm_runs} runs queued one at a time, {pause} apart (its pool refills; its "
                  f"{DEFAULT_POLL_S:g} s poll is met at any phase),\nthen {warm_runs} fires of a schedule every "
                  f"{WARM_FIRE_EVERY_S} s with one scheduler up; baseline: jupyter_workflow.run, 2nd+ run in one "
                  f"process (SQLite)")
            if baseline_error:
                print(f"  {baseline_error}")
            for database in found:
                print(f"\n{database.name}\n")
                progress(f"{database.name}: warm worker, {warm_runs} queued runs and {warm_runs} fires")
                warm, error = None, None
                try:
                    warm = measure_warm_worker(database.new_url(), workflow, warm_runs, env,
                                               tmp / "logs" / f"{database.name}-worker")
                except Exception as failure:
                    error = reason(failure)
                print_warm(database, warm, baseline, error)
        finally:
            left = baselines.reap(env[baselines.MARKER_ENV])
            if left:
                print(f"  (killed {left} process(es) the bench had started and left behind)", file=sys.stderr)
    print("\ntargets")
    for line in verdicts:
        print(line)
    print(f"\nscheduling section took {time.perf_counter() - began:.0f} s")


def reason(error: Exception) -> str:
    return str(error) if isinstance(error, RowFailed) else f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    sys.exit(baselines.driver_main({"api": drive_api}))
