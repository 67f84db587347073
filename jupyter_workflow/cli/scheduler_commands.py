"""``jupyter workflow scheduler``: the scheduler daemon, until SIGTERM or SIGINT.

It needs no Jupyter server: it fires the schedules of the run store (``--db``) into queued
runs, for workers to execute (:mod:`jupyter_workflow.schedules.scheduler`). Any number may
run on one database. On SIGTERM or SIGINT it finishes its pass, notes its stop in its
heartbeat and exits 0.
"""

import logging
import signal
import threading


def command_scheduler(args) -> int:
    from jupyter_workflow.cli.main import EXIT_OK, UsageError, _settings
    from jupyter_workflow.schedules.scheduler import Scheduler
    from jupyter_workflow.store import RunStore

    settings = _settings(args)
    if args.poll is not None:
        if args.poll <= 0:
            raise UsageError(f"--poll must be a number of seconds above 0, not {args.poll}")
        settings.scheduler_poll_s = args.poll
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    store = RunStore(settings.db_url)
    stop = threading.Event()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signal_number, lambda number, frame: stop.set())
    try:
        Scheduler(store, settings, name=args.name).serve(stop)
    finally:
        store.close()
    return EXIT_OK


def add_scheduler_parser(commands) -> None:
    """The ``scheduler`` command's options."""
    scheduler = commands.add_parser("scheduler", help="fire the schedules into queued runs, until SIGTERM")
    scheduler.add_argument("--poll", type=float, metavar="S", help="the longest wait between passes (default 1 s)")
    scheduler.add_argument("--name", help="the name of its heartbeat (default scheduler-HOST-PID)")
    scheduler.set_defaults(handler=command_scheduler)
