"""Benchmarks: medians (with p95 and min–max) and ratios against baselines measured in the same run.

    python benchmarks/run.py [--only imports|coldstart|server|workflows|panel|scheduling] [--store-runs N] ...

(--help lists all options)

Sections:

* imports (``imports.py``): what every node's kernel pays for ``from jupyter_workflow
  import record``, in fresh interpreters, against modules kernels commonly import.
* coldstart (``coldstart.py``): wall time of fresh ``jupyter workflow --help``, ``runs
  list`` (on a store of ``--coldstart-runs`` runs) and ``validate`` processes against
  ``python -c "import sqlalchemy"``, the store's floor, with a verdict for each target.
* server (``server.py``): a real ``jupyter server`` with the extension, on a SQLite store
  pre-filled with 100,000 runs: ``GET /workflow/api/runs`` latency against ``GET
  /api/status``, and the delay from a node's state change to a WebSocket client against
  a ping/pong round trip. It prints a verdict for each target of the issue.
* workflows (``workflows.py``, ``workloads.py``, ``baselines.py``): whole workflows
  (``chain10``, ``fanout8``, ``diamond``, ``wide200``) run by our CLI (cold), our Python
  API (warm: 2nd+ run in one process), the papermill CLI node by node, a papermill loop in
  one process, Ploomber (serial and parallel executors) and the floor (every cell on one
  running kernel); a DataFrame passed between two nodes against a hand-written Parquet
  twin (transfer time, peak RSS); a run of ``--cached-nodes`` cached nodes. Medians of
  ``--workflow-repeat`` repetitions (``wide200``: ``--wide-repeat``), ratios, a verdict
  for each target. By default it takes ~40 min on 2 CPUs, ~25 of them for ``wide200``
  (its papermill CLI row alone ~13 min) and ~2.5 for filling the 1,000-node cache with
  real kernels; pick parts with ``--workloads`` and ``--ways``.
* panel (``panel.py``): the JupyterLab panel in headless Chromium (Debian's) against a real
  ``jupyter lab``: time to draw generated workflows of 100, 300 and 1,000 nodes without saved
  positions (first and later open) against JupyterLab's JSON editor opening the same file;
  frame intervals while panning and dragging at 1,000 nodes against the idle page; the delay
  from a node's state change on the server to its colour on the canvas against the event's
  arrival on the page's WebSocket. ``--panel-repeat`` pages per open row and gestures;
  ``--panel-runs`` timed runs of a ``--panel-live-nodes``-node workflow. About 4 min on 2 CPUs.
* scheduling (``scheduling.py``): 1, 2 and 4 ``jupyter workflow scheduler`` processes on one
  store of 100 schedules firing every minute for ``--schedule-span-min`` minutes (default 2;
  ``--schedule-every-s N`` fires every N seconds instead, for a quick run), on SQLite and on
  PostgreSQL (a private cluster started as ``tests/postgres.py`` does, or a line saying why
  not): fire lateness p50/p99/max from the fires table, duplicate fires and runs, missed
  fires, and a verdict for "a fire within 1 s of its time while a scheduler is up"; then an
  idle warm ``jupyter workflow worker``: enqueue (and fire) → the node's ``node.started``,
  over ``--scheduling-runs`` runs, against a warm ``jupyter_workflow.run`` in one process.
  About 15 min with the defaults (6 rows of a 2-minute span, then the warm rows); about 3.5
  with ``--schedule-every-s 5 --schedule-span-min 0.25``.

It exits 0 whatever the numbers (it is a report), and 1 if the server does not start.
"""

import argparse
import signal
import sys
import time

import coldstart
import imports
import panel
import scheduling
import server
import workflows


def names_of(choices):
    """An argparse type: a comma-separated subset of ``choices``, in the order given."""

    def parse(text: str) -> list[str]:
        names = [name.strip() for name in text.split(",") if name.strip()]
        unknown = [name for name in names if name not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(choices)} (got {text!r})")
        return names

    return parse


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of repetitions, 1 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number is needed (got {text!r})") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"at least 1 (got {value})")
    return value


def positive_number(text: str) -> float:
    """An argparse type: a number above 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number is needed (got {text!r})") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"above 0 (got {value:g})")
    return value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("imports", "coldstart", "server", "workflows", "panel", "scheduling"), help="run one section only")
    parser.add_argument("--repeat", type=at_least_one, default=9,
                        help="fresh interpreters per import and cold-start row (default 9)")
    parser.add_argument("--coldstart-runs", type=int, default=1000,
                        help="runs in the store that `runs list` reads (default 1000)")
    parser.add_argument("--store-runs", type=int, default=100_000, help="runs in the server's store (default 100000)")
    parser.add_argument("--requests", type=at_least_one, default=300, help="timed requests per HTTP row (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests before each HTTP row (default 20)")
    parser.add_argument("--pages", type=int, default=300, help="next_cursor hops to the deep page (default 300)")
    parser.add_argument("--events", type=at_least_one, default=100, help="node state changes to receive at least (default 100)")
    parser.add_argument("--workflow-repeat", type=at_least_one, default=3,
                        help="repetitions per workflow row, dataframe and cached runs (default 3)")
    parser.add_argument("--wide-repeat", type=at_least_one, default=1, help="repetitions per wide200 row (default 1)")
    parser.add_argument("--cached-nodes", type=int, default=1000, help="nodes of the cached workflows (default 1000)")
    parser.add_argument("--dataframe-rows", type=int, default=10_000_000,
                        help="rows of the dataframe workload's DataFrame (default 10000000)")
    parser.add_argument("--workloads", type=names_of(workflows.ALL_WORKLOADS), default=list(workflows.ALL_WORKLOADS),
                        help=f"comma-separated workloads of the workflows section "
                             f"(default {','.join(workflows.ALL_WORKLOADS)})")
    parser.add_argument("--ways", type=names_of(workflows.WAYS), default=list(workflows.WAYS),
                        help=f"comma-separated ways to run the graph workloads (default {','.join(workflows.WAYS)})")
    parser.add_argument("--panel-repeat", type=at_least_one, default=5,
                        help="fresh pages per panel open row, and gestures per frames row (default 5)")
    parser.add_argument("--panel-runs", type=at_least_one, default=3,
                        help="timed runs followed by the panel for the live-state row (default 3)")
    parser.add_argument("--panel-live-nodes", type=at_least_one, default=40,
                        help="nodes of the workflow the panel follows (default 40)")
    parser.add_argument("--schedule-span-min", type=positive_number, default=2.0,
                        help="minutes the schedulers fire for, per scheduler count and database (default 2)")
    parser.add_argument("--schedule-every-s", type=scheduling.every_seconds,
                        help="schedules fire every N seconds (a seconds field) instead of every minute, for a quick run")
    parser.add_argument("--scheduling-runs", type=at_least_one, default=9,
                        help="timed runs per warm worker and baseline row (default 9)")
    args = parser.parse_args()
    # A SIGTERM (kill, a CI timeout) unwinds like Ctrl-C: the server stops, the temporary folder goes.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    began = time.perf_counter()
    if args.only in (None, "imports"):
        imports.section(args.repeat)
    if args.only is None:
        print("\n")
    if args.only in (None, "coldstart"):
        coldstart.section(args.repeat, args.coldstart_runs)
    if args.only is None:
        print("\n")
    if args.only in (None, "server"):
        try:
            server.section(args.store_runs, args.requests, args.warmup, args.pages, args.events)
        except server.ServerDidNotStart as error:
            print(f"\nFAILED: the jupyter server did not start: {error}", file=sys.stderr)
            return 1
    if args.only is None:
        print("\n")
    if args.only in (None, "workflows"):
        workflows.section(args.workloads, args.ways, args.workflow_repeat, args.wide_repeat, args.cached_nodes,
                          args.dataframe_rows)
    if args.only is None:
        print("\n")
    if args.only in (None, "panel"):
        panel.section(args.panel_repeat, args.panel_runs, args.panel_live_nodes)
    if args.only is None:
        print("\n")
    if args.only in (None, "scheduling"):
        scheduling.section(args.schedule_span_min, args.schedule_every_s, args.scheduling_runs)
    print(f"\nbench took {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
