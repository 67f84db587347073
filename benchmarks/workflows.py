"""Whole workflows, ours against the ways people run notebooks today.

Workloads (``workloads.py``, written into a temporary folder): ``chain10``, ``fanout8``,
``diamond``, ``wide200``, ``dataframe`` and ``cached``. Each graph workload is run these
ways, one table row each (median of ``--workflow-repeat`` repetitions, min–max):

1. ours, cold CLI: one ``jupyter workflow run --json`` subprocess, wall time as the user
   sees it (fresh run store and runs folder per repetition);
2. ours, warm API: one long-lived driver process runs the workflow once untimed, then
   times each later ``jupyter_workflow.run(...)`` (a warm kernel pool, when the engine has
   one, lives as long as the process);
3. papermill CLI node by node, 4. papermill ``execute_notebook`` loop in one process,
5. Ploomber ``build --force`` with the serial and the parallel executor, 6. the floor: all
   cells on one running kernel (see ``baselines.py``; baselines are handed the upstream
   values, which favours them).

``dataframe`` compares passing a DataFrame through ``record`` and a parameter with a
hand-written ``to_parquet``/``read_parquet`` twin: transfer time (``record`` timed inside
A, plus B's injected-parameters cell from nbclient's cell timing metadata) and each
kernel's peak RSS. ``cached`` times a run of N nodes that are all cached, after one
untimed run filled the cache.

Run as a script, this module is the driver of the in-process rows::

    python workflows.py api|dataframe|cached SPEC.json RESULT.json
"""

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import baselines
import workloads
from baselines import BIN, RowFailed, run_driver, run_process, tail

HERE = Path(__file__).resolve()

WAYS = {  # key → row label
    "ours-cli": "ours: cold CLI (jupyter workflow run)",
    "ours-api": "ours: warm API (jupyter_workflow.run, 2nd+)",
    "papermill-cli": "papermill CLI, one process per node",
    "papermill-loop": "papermill execute_notebook loop, 1 process",
    "ploomber-serial": "Ploomber build, serial executor",
    "ploomber-parallel": "Ploomber build, parallel executor",
    "floor": "floor: all cells on 1 running kernel",
}
ALL_WORKLOADS = ("chain10", "fanout8", "diamond", "wide200", "dataframe", "cached")

CHAIN_CLI_TARGET = 8  # papermill CLI ÷ ours cold CLI, chain10
CHAIN_API_TARGET = 3  # papermill loop ÷ ours warm API, chain10
FANOUT_TARGET = 1.3  # ours warm API ÷ critical path, fanout8
OVERHEAD_TARGET_S = 0.1  # (ours warm − floor) ÷ nodes
WARM_PAUSE_S = 2.0  # before each warm API run: the pool refills between runs
TRANSFER_TARGET = 1.5  # ours transfer ÷ hand twin's
CACHED_TARGET_S = 2.0  # a run of N cached nodes
NOTES = (
    "ratios compare medians. Every way runs the same notebooks (Ploomber's twins add `upstream`\n"
    "and `product` to the parameters cell, the body cells are identical). Baselines are handed\n"
    "the upstream values as parameters and not charged for reading them back; the papermill CLI\n"
    "runs nodes one after another, as a script would. The floor runs every node's cells\n"
    "(parameters, injected values, body) back to back on one already-running kernel."
)


def progress(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def section_env(tmp: Path) -> dict:
    """The environment of every subprocess: Jupyter's folders in ``tmp``, Ploomber offline."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),  # no user config
        "JUPYTER_DATA_DIR": str(tmp / "data"),  # no user kernelspecs
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),  # kernel connection files
        "IPYTHONDIR": str(tmp / "ipython"),
        # Temporary files go with the folder; it is the folder itself, not a subfolder, as
        # kernels' IPC sockets may live there and AF_UNIX paths are limited to 107 bytes.
        "TMPDIR": str(tmp),
        "PLOOMBER_STATS_ENABLED": "false",
        "PLOOMBER_VERSION_CHECK_DISABLED": "true",
        "PYTHONWARNINGS": "ignore",
        baselines.MARKER_ENV: uuid.uuid4().hex,  # see baselines.reap
    }
    return env


def store_env(env: dict, folder: Path) -> dict:
    """``env`` with a fresh run store and runs folder under ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    return {**env, "JUPYTER_WORKFLOW_DB_URL": f"sqlite:///{folder / 'store.db'}",
            "JUPYTER_WORKFLOW_RUNS_DIR": str(folder / "runs")}


# --- ours -----------------------------------------------------------------------------------------


def check_result(status: str, outputs: dict, expected: dict, error=None) -> None:
    if status != "succeeded":
        raise RowFailed(f"run {status}: {error_summary(error)}")
    wrong = {name: outputs.get(name) for name, value in expected.items() if outputs.get(name) != value}
    if wrong:
        raise RowFailed(f"run succeeded with wrong outputs {wrong}, expected {expected}")


def check_state(state, expected: dict) -> None:
    """``check_result`` for a ``RunState`` of the Python API, with its first node error."""
    first_error = next((node.error for node in state.nodes.values() if node.error), state.error)
    check_result(state.status, state.outputs, expected, first_error)


def error_summary(error) -> str:
    if not error:
        return "no error given"
    if isinstance(error, dict):
        return f"{error.get('ename', '')}: {error.get('evalue', error.get('message', error))}"[:300]
    return str(error)[:300]


def ours_cli(workload: workloads.Workload, folder: Path, env: dict) -> float:
    """Wall time of one ``jupyter workflow run`` on a fresh store; checks status and outputs."""
    env = store_env(env, folder)
    command = [BIN / "jupyter", "workflow", "--db", env["JUPYTER_WORKFLOW_DB_URL"], "run", workload.workflow_path,
               "--runs-dir", env["JUPYTER_WORKFLOW_RUNS_DIR"], "--parallel", str(workload.parallel), "--json"]
    wall, code, stdout, stderr = run_process(command, env, cwd=workload.folder, check=False)
    try:
        result = json.loads(stdout)
    except ValueError:
        raise RowFailed(f"jupyter workflow run exited with {code}:\n{baselines.tail(stderr or stdout)}") from None
    nodes = (result.get("nodes") or {}).values()
    first_error = next((node.get("error") for node in nodes if node.get("error")), None)
    check_result(result["status"], result.get("outputs", {}), workload.expected, first_error or result.get("error"))
    if code != 0:
        raise RowFailed(f"jupyter workflow run exited with {code} after a successful run:\n{baselines.tail(stderr)}")
    return wall


def drive_api(spec: dict) -> dict:
    """One untimed run, then ``repeat`` timed runs of ``jupyter_workflow.run`` in this process.

    Before each run the driver pauses: the pool tops up its kernels once a run's nodes
    are done, as it does between a user's runs; the pause keeps that out of the timing.
    """
    import jupyter_workflow

    samples = []
    for round_ in range(spec["repeat"] + 1):
        time.sleep(WARM_PAUSE_S)
        began = time.perf_counter()
        state = jupyter_workflow.run(spec["workflow"], parallel=spec["parallel"], db_url=spec["db_url"],
                                     runs_dir=spec["runs_dir"])
        wall = time.perf_counter() - began
        check_state(state, spec["expected"])
        if round_:
            samples.append(wall)
    return {"samples": samples}


def ours_api(workload: workloads.Workload, folder: Path, env: dict, repeat: int) -> list[float]:
    env = store_env(env, folder)
    spec = {"workflow": str(workload.workflow_path), "parallel": workload.parallel, "repeat": repeat,
            "expected": workload.expected, "db_url": env["JUPYTER_WORKFLOW_DB_URL"],
            "runs_dir": env["JUPYTER_WORKFLOW_RUNS_DIR"]}
    return run_driver(HERE, "api", spec, folder, env)["samples"]


# --- one graph workload, every way ------------------------------------------------------------------


class Row:
    """One way of running a workload: its samples, or why it failed."""

    def __init__(self, key: str, label: str):
        self.key, self.label = key, label
        self.samples: list[float] = []
        self.error: str | None = None
        self.extra: dict = {}

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples and not self.error else None


def repeated(row: Row, repeat: int, measure) -> None:
    """``measure(i)`` → seconds, ``repeat`` times; the first failure ends the row."""
    for i in range(repeat):
        row.samples.append(measure(i))


def measure_graph(workload: workloads.Workload, ways: list[str], repeat: int, env: dict, tmp: Path) -> dict:
    rows = {}
    for key in ways:
        label = WAYS[key] + (f" ({workload.parallel})" if key == "ploomber-parallel" else "")
        row = rows[key] = Row(key, label)
        progress(f"{workload.name}: {row.label}")
        began = time.perf_counter()
        row_env = store_env(env, tmp / "store")  # baselines do not use it; nothing shares a store
        try:
            if key == "ours-cli":
                repeated(row, repeat, lambda i: ours_cli(workload, fresh(tmp / f"cli{i}"), env))
            elif key == "ours-api":
                row.samples = ours_api(workload, fresh(tmp / "api"), env, repeat)
            elif key == "papermill-cli":
                repeated(row, repeat, lambda i: baselines.papermill_cli(workload, fresh(tmp / f"pm{i}"), row_env))
            elif key == "papermill-loop":
                spec = baselines.loop_spec(workload, fresh(tmp / "loop") / "out", repeat)
                row.samples = run_driver(baselines.__file__, "papermill-loop", spec, tmp / "loop", row_env)["samples"]
            elif key.startswith("ploomber-"):
                executor = key.split("-")[1]
                repeated(row, repeat, lambda i: baselines.ploomber_build(workload, executor, row_env))
            elif key == "floor":
                spec = baselines.loop_spec(workload, fresh(tmp / "floor"), repeat)
                result = run_driver(baselines.__file__, "floor", spec, tmp / "floor", row_env)
                row.samples, row.extra["per_node"] = result["samples"], result["per_node"]
        except Exception as error:  # the row shows why; the other rows go on
            row.error = str(error) if isinstance(error, RowFailed) else f"{type(error).__name__}: {error}"
        finally:
            left = baselines.reap(env[baselines.MARKER_ENV])
            cleanup(tmp)
        if left:
            row.extra["left"] = left
        progress(f"{workload.name}: {row.label}: {time.perf_counter() - began:.0f} s"
                 + (" (FAILED)" if row.error else ""))
    return rows


def fresh(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def cleanup(tmp: Path) -> None:
    """Remove a workload's run folders (stores, runs, executed notebooks) between rows."""
    for child in tmp.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)


# --- the dataframe workload ------------------------------------------------------------------------


def cell_seconds(notebook, tag: str) -> float:
    """Execution time of the cell tagged ``tag``, from nbclient's ``execution`` metadata."""
    for cell in notebook.cells:
        if tag in cell.metadata.get("tags", []):
            timing = cell.metadata.get("execution", {})
            try:
                began = datetime.fromisoformat(timing["iopub.execute_input"])
                ended = datetime.fromisoformat(timing["shell.execute_reply"])
            except KeyError:
                raise RuntimeError(f"the cell tagged {tag!r} has no execution timing metadata: {timing}") from None
            return (ended - began).total_seconds()
    raise RuntimeError(f"no cell tagged {tag!r} in the executed notebook")


def drive_dataframe(spec: dict) -> dict:
    """Ours then the hand twin, ``repeat`` times; transfer times and peak RSS of each kernel."""
    import nbformat
    import papermill

    import jupyter_workflow

    keys = ("ours_write_s", "ours_load_s", "ours_rss_a_kb", "ours_rss_b_kb", "ours_wall_s",
            "hand_write_s", "hand_read_s", "hand_rss_a_kb", "hand_rss_b_kb", "hand_wall_s", "parquet_bytes")
    result = {key: [] for key in keys}
    for rep in range(spec["repeat"]):
        folder = Path(spec["out"]) / f"rep{rep}"
        folder.mkdir(parents=True)
        began = time.perf_counter()
        state = jupyter_workflow.run(spec["workflow"], db_url=spec["db_url"], runs_dir=str(folder / "runs"))
        result["ours_wall_s"].append(time.perf_counter() - began)
        check_state(state, {"rows": spec["rows"]})
        a, b = state.nodes["a"].outputs, state.nodes["b"].outputs
        result["ours_write_s"].append(a["write_s"])
        result["ours_load_s"].append(cell_seconds(nbformat.read(state.nodes["b"].notebook, as_version=4),
                                                  "injected-parameters"))
        result["ours_rss_a_kb"].append(a["peak_rss_kb"])
        result["ours_rss_b_kb"].append(b["peak_rss_kb"])
        result["parquet_bytes"].append(getattr(a["df"], "meta", {}).get("size"))
        shutil.rmtree(folder / "runs")

        parquet, stats_a, stats_b = folder / "frame.parquet", folder / "a.json", folder / "b.json"
        began = time.perf_counter()
        papermill.execute_notebook(spec["hand_a"], str(folder / "hand_a.ipynb"), progress_bar=False,
                                   parameters={"rows": spec["rows"], "seed": 0, "path": str(parquet),
                                               "stats": str(stats_a)})
        executed_b = papermill.execute_notebook(spec["hand_b"], str(folder / "hand_b.ipynb"), progress_bar=False,
                                                parameters={"path": str(parquet), "stats": str(stats_b)})
        result["hand_wall_s"].append(time.perf_counter() - began)
        hand_a, hand_b = json.loads(stats_a.read_text()), json.loads(stats_b.read_text())
        if hand_b["rows"] != spec["rows"]:
            raise RuntimeError(f"the hand twin read {hand_b['rows']} rows, not {spec['rows']}")
        result["hand_write_s"].append(hand_a["write_s"])
        result["hand_read_s"].append(cell_seconds(executed_b, spec["hand_read_tag"]))
        result["hand_rss_a_kb"].append(hand_a["peak_rss_kb"])
        result["hand_rss_b_kb"].append(hand_b["peak_rss_kb"])
        shutil.rmtree(folder)
    return result


def measure_dataframe(rows: int, repeat: int, env: dict, tmp: Path) -> dict:
    spec = workloads.write_dataframe(tmp / "workload", rows)
    env = store_env(env, tmp / "store")
    spec.update(repeat=repeat, out=str(fresh(tmp / "out")), db_url=env["JUPYTER_WORKFLOW_DB_URL"])
    progress(f"dataframe: {rows:,} rows, ours and the hand twin, {repeat}×")
    return run_driver(HERE, "dataframe", spec, tmp, env)


# --- the cached workload --------------------------------------------------------------------------


def drive_cached(spec: dict) -> dict:
    """Fill the cache with one run of the wide shape (untimed), then time runs of each shape."""
    import jupyter_workflow

    def run(path):
        began = time.perf_counter()
        state = jupyter_workflow.run(path, parallel=spec["parallel"], db_url=spec["db_url"], runs_dir=spec["runs_dir"])
        wall = time.perf_counter() - began
        check_state(state, {"y": spec["count"]})
        statuses = [node.status for node in state.nodes.values()]
        return wall, {status: statuses.count(status) for status in sorted(set(statuses))}

    fill_s, fill_statuses = run(spec["paths"]["wide"])
    result = {"fill_s": fill_s, "fill_statuses": fill_statuses, "samples": {}, "statuses": {}}
    for shape, path in spec["paths"].items():
        result["samples"][shape], result["statuses"][shape] = [], {}
        for _ in range(spec["repeat"]):
            wall, statuses = run(path)
            result["samples"][shape].append(wall)
            for status, count in statuses.items():
                result["statuses"][shape][status] = result["statuses"][shape].get(status, 0) + count
    return result


def measure_cached(count: int, repeat: int, env: dict, tmp: Path) -> dict:
    paths = workloads.write_cached(tmp / "workload", count)
    env = store_env(env, tmp / "store")
    spec = {"paths": {shape: str(path) for shape, path in paths.items()}, "count": count, "repeat": repeat,
            "parallel": os.cpu_count() or 1, "db_url": env["JUPYTER_WORKFLOW_DB_URL"],
            "runs_dir": env["JUPYTER_WORKFLOW_RUNS_DIR"]}
    progress(f"cached: filling the cache with {count} nodes (one untimed run), then {repeat} timed runs per shape")
    return run_driver(HERE, "cached", spec, tmp, env)


# --- printing -----------------------------------------------------------------------------------


def indented(error: str) -> str:
    """The last lines of a failure, indented under its heading."""
    return tail(error).replace("\n", "\n    ")


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def ratio(value: float | None, reference: float | None) -> str:
    return f"{value / reference:.2f}×" if value is not None and reference else ""


def print_graph_table(workload: workloads.Workload, rows: dict, repeat: int) -> None:
    cold, warm = rows.get("ours-cli"), rows.get("ours-api")
    cold_median, warm_median = cold and cold.median, warm and warm.median
    print(f"{workload.name}: {workload.description}; {len(workload.nodes)} nodes, parallel {workload.parallel}, "
          f"{plural(repeat, 'repetition')}\n")
    print(f"{'way':52} {'n':>3} {'median s':>9} {'min–max s':>13} {'÷ ours cold':>12} {'÷ ours warm':>12}")
    errors = []
    for row in rows.values():
        if row.error:
            reason = row.error.strip().splitlines()[0] if row.error.strip() else "failed"
            print(f"{row.label:52} FAILED: {reason[:90]}")
            errors.append(row)
            continue
        samples = row.samples
        spread = f"{min(samples):.2f}–{max(samples):.2f}"
        print(f"{row.label:52} {len(samples):3d} {row.median:9.2f} {spread:>13} "
              f"{ratio(row.median, cold_median):>12} {ratio(row.median, warm_median):>12}")
    for row in errors:
        print(f"\n  {row.label} failed:\n    " + indented(row.error))
    for row in rows.values():
        if row.extra.get("left"):
            print(f"\n  note: {row.extra['left']} process(es) started by \"{row.label}\" outlived it "
                  "(killed by the bench)")


def print_dataframe(result: dict | None, error: str | None, rows: int, repeat: int) -> None:
    print(f"dataframe: A builds a {rows:,} × 3 float DataFrame and passes it to B; "
          f"ours (record → parameter) against a hand twin (to_parquet → read_parquet); "
          f"{plural(repeat, 'repetition')}\n")
    if error:
        print("FAILED:\n    " + indented(error))
        return
    med = {key: statistics.median(values) for key, values in result.items() if values and None not in values}
    med["ours_transfer_s"], med["hand_transfer_s"] = transfer_medians(result)
    print(f"{'what':52} {'ours':>10} {'hand twin':>10} {'ours ÷ hand':>12}")
    lines = [
        ("A: record(df) / df.to_parquet(path), s", "ours_write_s", "hand_write_s", 1),
        ("B: injected-parameters cell / read_parquet cell, s", "ours_load_s", "hand_read_s", 1),
        ("transfer = A + B, s", "ours_transfer_s", "hand_transfer_s", 1),
        ("wall, both nodes (API run / papermill A then B), s", "ours_wall_s", "hand_wall_s", 1),
        ("peak RSS of A's kernel, MB", "ours_rss_a_kb", "hand_rss_a_kb", 1024),
        ("peak RSS of B's kernel, MB", "ours_rss_b_kb", "hand_rss_b_kb", 1024),
    ]
    for label, ours_key, hand_key, divisor in lines:
        ours, hand = med[ours_key] / divisor, med[hand_key] / divisor
        print(f"{label:52} {ours:10.2f} {hand:10.2f} {ratio(ours, hand):>12}")
    if "parquet_bytes" in med:
        print(f"\n(ours: jupyter_workflow.run; the twin: papermill.execute_notebook A then B, in the same process;\n"
              f"medians; the Parquet file is {med['parquet_bytes'] / 1e6:,.0f} MB; transfer min–max: ours "
              f"{min(map(sum, zip(result['ours_write_s'], result['ours_load_s']))):.2f}–"
              f"{max(map(sum, zip(result['ours_write_s'], result['ours_load_s']))):.2f} s, hand "
              f"{min(map(sum, zip(result['hand_write_s'], result['hand_read_s']))):.2f}–"
              f"{max(map(sum, zip(result['hand_write_s'], result['hand_read_s']))):.2f} s)")


def print_cached(result: dict | None, error: str | None, count: int, repeat: int) -> None:
    print(f"cached: {count} trivial nodes with \"cache\": true, all cached after one filling run; "
          f"API runs in the filling process, {plural(repeat, 'repetition')}\n")
    if error:
        print("FAILED:\n    " + indented(error))
        return
    print(f"{'shape':52} {'n':>3} {'median s':>9} {'min–max s':>13} {'node states':>20}")
    labels = {"wide": f"wide: {count} independent nodes", "deep": f"deep: a chain of {count} (after edges)"}
    for shape, samples in result["samples"].items():
        states = ", ".join(f"{n} {status}" for status, n in result["statuses"][shape].items())
        spread = f"{min(samples):.2f}–{max(samples):.2f}"
        print(f"{labels[shape]:52} {len(samples):3d} {statistics.median(samples):9.2f} {spread:>13}   {states}")
    fill = ", ".join(f"{n} {status}" for status, n in result["fill_statuses"].items())
    print(f"\n(the filling run, untimed for the target: {result['fill_s']:.0f} s, {fill})")


# --- verdicts -----------------------------------------------------------------------------------


def verdict(label: str, met: bool | None, detail: str) -> str:
    state = "cannot tell" if met is None else ("met" if met else "NOT MET")
    return f"  {label}: {state} ({detail})"


def graph_verdicts(name: str, rows: dict, workload: workloads.Workload) -> list[str]:
    get = rows.get
    lines = []

    def both(a, b):
        return a is not None and b is not None and a.median is not None and b.median is not None

    def absent(*keys):
        return "no result for: " + ", ".join(WAYS[key] for key in keys if get(key) is None or get(key).median is None)

    if name == "chain10":
        pm, cold = get("papermill-cli"), get("ours-cli")
        lines.append(verdict(f"chain10: papermill CLI ÷ ours cold CLI ≥ {CHAIN_CLI_TARGET}",
                             pm.median / cold.median >= CHAIN_CLI_TARGET if both(pm, cold) else None,
                             f"{pm.median / cold.median:.2f}×" if both(pm, cold) else absent("papermill-cli",
                                                                                                 "ours-cli")))
        loop, warm, serial = get("papermill-loop"), get("ours-api"), get("ploomber-serial")
        lines.append(verdict(f"chain10: papermill loop ÷ ours warm API ≥ {CHAIN_API_TARGET}",
                             loop.median / warm.median >= CHAIN_API_TARGET if both(loop, warm) else None,
                             f"{loop.median / warm.median:.2f}×" if both(loop, warm) else absent("papermill-loop",
                                                                                                     "ours-api")))
        lines.append(verdict("chain10: ours warm API < Ploomber serial",
                             warm.median < serial.median if both(warm, serial) else None,
                             f"{warm.median:.2f} s vs {serial.median:.2f} s" if both(warm, serial)
                             else absent("ours-api", "ploomber-serial")))
    if name.startswith("fanout"):
        warm, floor = get("ours-api"), get("floor")
        if both(warm, floor):
            per_node = floor.extra["per_node"]
            path = [sum(times) for times in zip(*(per_node[node] for node in workload.critical_path))]
            critical = statistics.median(path)
            lines.append(verdict(f"{name}: ours warm API ≤ {FANOUT_TARGET} × critical path",
                                 warm.median <= FANOUT_TARGET * critical,
                                 f"{warm.median:.2f} s = {warm.median / critical:.2f} × {critical:.2f} s; critical "
                                 f"path = floor of {' + '.join(workload.critical_path)}, the sleep included"))
        else:
            lines.append(verdict(f"{name}: ours warm API ≤ {FANOUT_TARGET} × critical path", None,
                                 absent("ours-api", "floor")))
    if name in ("chain10", "diamond") or name.startswith("wide"):
        warm, floor = get("ours-api"), get("floor")
        label = f"{name}: per-node overhead on a warm pool, (ours warm − floor) ÷ {len(workload.nodes)} nodes < " \
                f"{OVERHEAD_TARGET_S:g} s"
        if both(warm, floor):
            overhead = (warm.median - floor.median) / len(workload.nodes)
            lines.append(verdict(label, overhead < OVERHEAD_TARGET_S,
                                 f"{overhead * 1000:.0f} ms a node: ({warm.median:.2f} − {floor.median:.2f}) s "
                                 f"÷ {len(workload.nodes)}"))
        else:
            lines.append(verdict(label, None, absent("ours-api", "floor")))
    return lines


def transfer_medians(result: dict) -> tuple[float, float]:
    """Medians over repetitions of each repetition's transfer (A's write + B's load): ours, hand twin."""
    ours = statistics.median([w + r for w, r in zip(result["ours_write_s"], result["ours_load_s"])])
    hand = statistics.median([w + r for w, r in zip(result["hand_write_s"], result["hand_read_s"])])
    return ours, hand


def dataframe_verdict(result: dict | None, error: str | None) -> str:
    label = f"dataframe: transfer ours ÷ hand twin ≤ {TRANSFER_TARGET}"
    if error or result is None:
        return verdict(label, None, "the dataframe workload failed")
    ours, hand = transfer_medians(result)
    rss = (f"peak RSS A {statistics.median(result['ours_rss_a_kb']) / 1024:.0f} vs "
           f"{statistics.median(result['hand_rss_a_kb']) / 1024:.0f} MB, B "
           f"{statistics.median(result['ours_rss_b_kb']) / 1024:.0f} vs "
           f"{statistics.median(result['hand_rss_b_kb']) / 1024:.0f} MB")
    return verdict(label, ours / hand <= TRANSFER_TARGET, f"{ours:.2f} s ÷ {hand:.2f} s = {ours / hand:.2f}×; {rss}")


def cached_verdicts(result: dict | None, error: str | None, count: int) -> list[str]:
    if error or result is None:
        return [verdict(f"cached: a run of {count} cached nodes < {CACHED_TARGET_S:g} s", None,
                        "the cached workload failed")]
    lines = []
    for shape, samples in result["samples"].items():
        value = statistics.median(samples)
        all_cached = result["statuses"][shape].get("cached", 0) == count * len(samples)
        note = "" if all_cached else "; NOT all nodes were cached: " + json.dumps(result["statuses"][shape])
        lines.append(verdict(f"cached: a run of {count} cached nodes, {shape} < {CACHED_TARGET_S:g} s",
                             value < CACHED_TARGET_S and all_cached, f"median {value:.2f} s{note}"))
    return lines


# --- the section --------------------------------------------------------------------------------


def section(names: list[str], ways: list[str], repeat: int, wide_repeat: int, cached_nodes: int,
            dataframe_rows: int) -> None:
    began = time.perf_counter()
    verdicts = []
    print(f"workflows: ours against papermill, Ploomber and the floor, on {os.cpu_count()} CPUs\n")
    with tempfile.TemporaryDirectory(prefix="jwb-") as folder:
        tmp = Path(folder)
        env = section_env(tmp)
        try:
            for name in names:
                if name in workloads.GRAPH_WORKLOADS:
                    workload = workloads.write_graph_workload(name, tmp / "workloads" / name)
                    reps = wide_repeat if name.startswith("wide") else repeat
                    rows = measure_graph(workload, ways, reps, env, fresh(tmp / "runs" / name))
                    print_graph_table(workload, rows, reps)
                    verdicts += graph_verdicts(name, rows, workload)
                elif name == "dataframe":
                    result, error = attempt(measure_dataframe, dataframe_rows, repeat, env, fresh(tmp / "dataframe"))
                    print_dataframe(result, error, dataframe_rows, repeat)
                    verdicts.append(dataframe_verdict(result, error))
                elif name == "cached":
                    result, error = attempt(measure_cached, cached_nodes, repeat, env, fresh(tmp / "cached"))
                    print_cached(result, error, cached_nodes, repeat)
                    verdicts += cached_verdicts(result, error, cached_nodes)
                left = baselines.reap(env[baselines.MARKER_ENV])
                if left:
                    print(f"\n  note: {left} process(es) started for {name} outlived it (killed by the bench)")
                print("\n")
        finally:
            leftovers = baselines.reap(env[baselines.MARKER_ENV])
            if leftovers:
                print(f"  (killed {leftovers} process(es) the bench had started and left behind)", file=sys.stderr)
    if any(name in workloads.GRAPH_WORKLOADS for name in names):
        print(NOTES + "\n")
    print("targets")
    for line in verdicts:
        print(line)
    print(f"\nworkflows section took {time.perf_counter() - began:.0f} s")


def attempt(measure, *args):
    """``(result, None)``, or ``(None, reason)`` when the measurement failed."""
    try:
        return measure(*args), None
    except Exception as error:  # the table shows why; the section goes on
        return None, str(error) if isinstance(error, RowFailed) else f"{type(error).__name__}: {error}"


if __name__ == "__main__":
    sys.exit(baselines.driver_main({"api": drive_api, "dataframe": drive_dataframe, "cached": drive_cached}))
