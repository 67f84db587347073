"""Import cost in a fresh interpreter: what every node's kernel pays for ``record``.

Each row times a fresh interpreter doing one thing, so module caches do not flatter
anyone. The runtime row is what every node's kernel pays for ``from jupyter_workflow
import record``; the baselines are what a kernel pays for modules it commonly imports.
"""

import statistics
import subprocess
import sys

TIMER = "import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"

IMPORTS = [
    ("runtime: from jupyter_workflow import record", "from jupyter_workflow import record"),
    ("baseline: import json", "import json"),
    ("baseline: import IPython.display", "import IPython.display"),
    ("baseline: import nbformat", "import nbformat"),
    ("baseline: import papermill", "import papermill"),
]


def time_statement(statement: str, repeat: int) -> list[float]:
    """Seconds taken by ``statement`` in ``repeat`` fresh interpreters."""
    samples = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", TIMER.format(statement=statement)], capture_output=True, text=True, check=True
        )
        samples.append(float(done.stdout))
    return samples


def section(repeat: int) -> None:
    rows = [(label, time_statement(statement, repeat)) for label, statement in IMPORTS]
    reference = statistics.median(rows[0][1])
    print(f"import cost in a fresh interpreter, {repeat} repetitions\n")
    print(f"{'what':48} {'median ms':>10} {'min–max ms':>16} {'vs runtime':>11}")
    for label, samples in rows:
        median = statistics.median(samples)
        spread = f"{min(samples) * 1000:.1f}–{max(samples) * 1000:.1f}"
        print(f"{label:48} {median * 1000:10.1f} {spread:>16} {median / reference:10.1f}×")
