"""Benchmarks: medians (with p95 and min–max) and ratios against baselines measured in the same run.

    python benchmarks/run.py [--only imports|server] [--store-runs N] [--requests N] ...  (--help lists all)

Sections:

* imports (``imports.py``): what every node's kernel pays for ``from jupyter_workflow
  import record``, in fresh interpreters, against modules kernels commonly import.
* server (``server.py``): a real ``jupyter server`` with the extension, on a SQLite store
  pre-filled with 100,000 runs: ``GET /workflow/api/runs`` latency against ``GET
  /api/status``, and the delay from a node's state change to a WebSocket client against
  a ping/pong round trip. It prints a verdict for each target of the issue.

It exits 0 whatever the numbers (it is a report), and 1 if the server does not start.
"""

import argparse
import signal
import sys
import time

import imports
import server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=("imports", "server"), help="run one section only")
    parser.add_argument("--repeat", type=int, default=9, help="fresh interpreters per import row (default 9)")
    parser.add_argument("--store-runs", type=int, default=100_000, help="runs in the server's store (default 100000)")
    parser.add_argument("--requests", type=int, default=300, help="timed requests per HTTP row (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed requests before each HTTP row (default 20)")
    parser.add_argument("--pages", type=int, default=300, help="next_cursor hops to the deep page (default 300)")
    parser.add_argument("--events", type=int, default=100, help="node state changes to receive at least (default 100)")
    args = parser.parse_args()
    # A SIGTERM (kill, a CI timeout) unwinds like Ctrl-C: the server stops, the temporary folder goes.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    began = time.perf_counter()
    if args.only in (None, "imports"):
        imports.section(args.repeat)
    if args.only is None:
        print("\n")
    if args.only in (None, "server"):
        try:
            server.section(args.store_runs, args.requests, args.warmup, args.pages, args.events)
        except server.ServerDidNotStart as error:
            print(f"\nFAILED: the jupyter server did not start: {error}", file=sys.stderr)
            return 1
    print(f"\nbench took {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
