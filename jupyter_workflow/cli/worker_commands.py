"""``jupyter workflow worker`` (execute queued runs) and ``jupyter workflow run FILE --queue`` (queue a run).

Like every command, these import what they use when they run.
"""

import argparse
import sys

from jupyter_workflow.cli import main as cli

DEFAULT_LEASE_S = 30.0  # as jupyter_workflow.schedules.worker, which this module does not import at start


def command_queue(args) -> int:
    """Store a run of FILE as ``queued`` for a worker; print its id."""
    import asyncio
    import getpass

    from jupyter_workflow.model import load_workflow
    from jupyter_workflow.runner import Runner

    settings = cli._settings(args)
    inputs = cli.parse_assignments(args.param, cli.read_declarations(args.file))
    workflow = load_workflow(args.file, inputs=inputs)
    for warning in workflow.warnings:
        print(f"{args.file}: {warning}", file=sys.stderr)
    if workflow.secret_inputs():
        names = ", ".join(workflow.secret_inputs())
        raise cli.UsageError(f"{args.file} takes secret inputs ({names}), which are never stored: a queued run "
                             "cannot have them; run it without --queue")

    async def enqueue():
        runner = Runner.from_config(settings, keep_warm=False)
        try:
            run = runner.new_run(workflow, inputs, trigger="queue", user=getpass.getuser())
            await asyncio.to_thread(runner.store.enqueue, run)
            return run.run_id
        finally:
            await runner.close()

    print(asyncio.run(enqueue()))
    return cli.EXIT_OK


def command_worker(args) -> int:
    """Execute queued runs until SIGTERM (or Ctrl-C), then finish the runs under way (a second signal cancels them); exit 0."""
    import asyncio
    import logging
    import signal

    from jupyter_workflow.schedules.worker import Worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    settings = cli._settings(args)

    async def work(fork_process):
        worker = Worker(settings, args.name, lease_s=args.lease, concurrency=args.concurrency,
                        fork_process=fork_process)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # The first signal lets the runs under way finish; a second one cancels them.
            loop.add_signal_handler(signum, lambda: worker.stop(finish_runs=not worker.stopping))
        await worker.run()

    with cli.fork_server(settings) as fork_process:
        asyncio.run(work(fork_process))
    return cli.EXIT_OK


def positive(kind):
    """An argparse type: a number of ``kind`` above 0."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = 0
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a number above 0, got {text!r}")
        return value

    return parse


def add_worker_parser(commands) -> None:
    """The ``worker`` command's parser, under ``commands``."""
    worker = commands.add_parser("worker", help="execute queued runs (scheduled, run --queue) until stopped")
    worker.add_argument("--db", default=argparse.SUPPRESS, help="run store URL (as jupyter workflow --db)")
    worker.add_argument("--runs-dir", help="folder for executed notebooks and artifacts")
    worker.add_argument("--name", help="the worker's name in heartbeats and claims (default: worker-HOST-PID)")
    worker.add_argument("--concurrency", type=positive(int), default=1, metavar="N", help="runs executed at once (default 1)")
    worker.add_argument("--lease", type=positive(float), default=DEFAULT_LEASE_S, metavar="S",
                        help=f"seconds a claimed run stays this worker's without renewal (default {DEFAULT_LEASE_S:g})")
    worker.set_defaults(handler=command_worker)
