"""Cold start of the command line: wall time of fresh ``jupyter workflow`` processes.

Rows, as a user types them: ``jupyter workflow --help``, ``jupyter workflow runs list``
on a SQLite store pre-filled with ``--coldstart-runs`` runs (``fill_store.py``), and
``jupyter workflow validate`` of the example workflow (``notebooks/``). The baseline is
``python -c "import sqlalchemy"``, the run store's own floor. Every repetition runs each
row once, in turn, so that a busy machine slows all rows alike; everything Jupyter reads
or writes lives in a temporary folder (no user config, no user kernelspecs), and our
modules' bytecode is cached as in an installed package.

Targets: ``--help`` no slower than the floor, ``runs list`` within 2× of it.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fill_store import fill_store
from stats import print_table

BIN = Path(sys.executable).parent
EXAMPLE_WORKFLOW = Path(__file__).resolve().parent.parent / "notebooks" / "reconcile.workflow.json"
FLOOR = ("baseline: python -c 'import sqlalchemy'", [sys.executable, "-c", "import sqlalchemy"])
COMMANDS = [
    ("jupyter workflow --help", ["--help"]),
    ("jupyter workflow runs list", ["runs", "list"]),
    (f"jupyter workflow validate {EXAMPLE_WORKFLOW.name}", ["validate", str(EXAMPLE_WORKFLOW)]),
]
TARGETS = {"jupyter workflow --help": 1.0, "jupyter workflow runs list": 2.0}  # at most this × the floor


def wall_time(command: list[str], env: dict) -> float:
    """Seconds from start to exit of ``command``, which must succeed."""
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return wall


def section(repeat: int, store_runs: int) -> None:
    rows = [FLOOR] + [(label, [str(BIN / "jupyter"), "workflow", *args]) for label, args in COMMANDS]
    samples: dict[str, list[float]] = {label: [] for label, _ in rows}
    with tempfile.TemporaryDirectory(prefix="jupyter-workflow-coldstart-") as folder:
        tmp = Path(folder)
        db_url = f"sqlite:///{tmp / 'workflow.db'}"
        fill_store(db_url, store_runs, runs_dir=str(tmp / "runs"))
        env = {
            **os.environ,
            "JUPYTER_WORKFLOW_DB_URL": db_url,
            "JUPYTER_WORKFLOW_RUNS_DIR": str(tmp / "runs"),
            "JUPYTER_CONFIG_DIR": str(tmp / "config"),
            "JUPYTER_DATA_DIR": str(tmp / "data"),
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            "IPYTHONDIR": str(tmp / "ipython"),
        }
        # An installed command starts from compiled bytecode (pip compiles it); so does this one,
        # whatever the caller's PYTHONDONTWRITEBYTECODE: the untimed first run of each row writes it.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for label, command in rows:
            wall_time(command, env)
        for _ in range(repeat):
            for label, command in rows:
                samples[label].append(wall_time(command, env))

    floor = samples[FLOOR[0]]
    print(f"cold start of the command line: fresh processes, {repeat} repetitions per row, "
          f"store of {store_runs:,} runs in SQLite\n")
    print_table([(label, samples[label], floor) for label, _ in rows], ratio_title="vs floor")
    print("\nratios compare medians with the floor measured in the same run (each repetition runs every row once).")
    print("\ntargets")
    for label, limit in TARGETS.items():
        ratio = statistics.median(samples[label]) / statistics.median(floor)
        met = "met" if ratio <= limit else "NOT MET"
        print(f"  {label}: at most {limit:g}× the floor: {met} ({ratio:.2f}×)")
