"""The workflows the ``workflows`` section measures, written into a folder with nbformat.

Each workload is one folder holding its component notebooks, its ``*.workflow.json``
(format ``jupyter-workflow/1``), a Ploomber ``pipeline.serial.yaml`` and
``pipeline.parallel.yaml`` with Ploomber twins of the notebooks, and what the other ways
of running it need: every node's notebook, its upstream nodes and the parameter values it
receives (known in advance: baselines are handed them rather than reading them back).

* ``chain10``: 10 trivial nodes in a chain, node i+1's ``x`` is node i's ``y``.
* ``fanout8``: one node → 8 independent nodes sleeping 0.5 s → one node taking the 8
  values (fan-in binding ``{"outputs": [...], "reduce": "list"}``).
* ``diamond``: a → b, c → d (d takes b's and c's values by fan-in).
* ``wide200``: 200 independent trivial nodes.
* ``dataframe`` (:func:`write_dataframe`): A builds a seeded random DataFrame and records
  it, B receives it as a parameter; plus a hand-written twin passing a Parquet path.
* ``cached`` (:func:`write_cached`): N trivial nodes with ``"cache": true``, wide
  (independent) and deep (a chain of ``after`` edges) with the same notebooks and
  parameter values, so one filling run of the wide shape fills the cache for both.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

SLEEP_S = 0.5
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

# Component notebooks: name → (parameters cell, body cells, declared outputs). The body
# cells are the same, character for character, in the Ploomber twins (see ploomber_twin).
ADD_ONE = ("x = 0", ['from jupyter_workflow import record\n\nrecord("y", x + 1)'], {"y": {"type": "integer"}})
SLEEP = (
    "x = 0",
    [f'import time\n\nfrom jupyter_workflow import record\n\ntime.sleep({SLEEP_S})\nrecord("y", x + 1)'],
    {"y": {"type": "integer"}},
)
TOTAL = ("values = []", ['from jupyter_workflow import record\n\nrecord("total", sum(values))'],
         {"total": {"type": "integer"}})
COMPONENTS = {"add_one.ipynb": ADD_ONE, "sleep.ipynb": SLEEP, "total.ipynb": TOTAL}

# The dataframe workload: ours (record / parameter) and the hand-written twin (Parquet path).
FRAME_BUILD = (
    "import resource\nimport time\n\nimport numpy as np\nimport pandas as pd\n\n"
    'df = pd.DataFrame(np.random.default_rng(seed).random((rows, 3)), columns=["a", "b", "c"])'
)
MAKE_FRAME = (
    "rows = 1000\nseed = 0",
    [
        FRAME_BUILD,
        "from jupyter_workflow import record\n\n"
        "began = time.perf_counter()\n"
        'record("df", df)\n'
        'record("write_s", time.perf_counter() - began)\n'
        'record("peak_rss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)',
    ],
    {"df": {"type": "dataframe"}, "write_s": {"type": "number"}, "peak_rss_kb": {"type": "integer"}},
)
FRAME_ROWS = (
    "df = None",
    [
        "import resource\n\nfrom jupyter_workflow import record\n\n"
        'record("rows", len(df))\n'
        'record("peak_rss_kb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)'
    ],
    {"rows": {"type": "integer"}, "peak_rss_kb": {"type": "integer"}},
)
HAND_MAKE_FRAME = (
    'rows = 1000\nseed = 0\npath = "frame.parquet"\nstats = "a.json"',
    [
        FRAME_BUILD,
        "import json\n\n"
        "began = time.perf_counter()\n"
        "df.to_parquet(path)\n"
        "write_s = time.perf_counter() - began\n"
        "with open(stats, \"w\") as stream:\n"
        "    peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        '    json.dump({"write_s": write_s, "peak_rss_kb": peak_rss_kb}, stream)',
    ],
    {},
)
# The read cell imports pandas itself: ours' injected cell pays the same import inside load_artifact.
HAND_READ_TAG = "read-parquet"
HAND_FRAME_ROWS = (
    'path = "frame.parquet"\nstats = "b.json"',
    [
        "import pandas as pd\n\ndf = pd.read_parquet(path)",
        "import json\nimport resource\n\n"
        "with open(stats, \"w\") as stream:\n"
        '    json.dump({"rows": len(df), "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, stream)',
    ],
    {},
)


@dataclass
class Node:
    """One node: its notebook, the values it receives, its bindings in the workflow file."""

    notebook: str
    params: dict  # the values the node receives, known in advance (what baselines are given)
    bindings: dict  # the workflow file's parameter bindings (literals or {"output": ...})
    upstream: list[str] = field(default_factory=list)


@dataclass
class Workload:
    """A workload written into ``folder``; ``nodes`` are in a topological order."""

    name: str
    description: str
    folder: Path
    nodes: dict[str, Node]
    parallel: int  # nodes at once, for ours and for Ploomber's parallel executor
    expected: dict  # the workflow's outputs after a successful run
    critical_path: list[str] = field(default_factory=list)

    @property
    def workflow_path(self) -> Path:
        return self.folder / f"{self.name}.workflow.json"

    def pipeline_path(self, executor: str) -> Path:
        return self.folder / f"pipeline.{executor}.yaml"

    def floor_cells(self) -> list[tuple[str, list[str]]]:
        """Per node, what papermill would execute: parameters cell, injected values, body."""
        return [(node_id, node_cells(self.folder / node.notebook, node.params)) for node_id, node in self.nodes.items()]


# --- writing notebooks ---------------------------------------------------------------------


def make_notebook(path: Path, parameters: str, body: list[str], outputs: dict | None = None,
                  body_tags: dict[int, str] | None = None) -> None:
    """A notebook whose first cell is tagged ``parameters``; ``outputs`` declared in its metadata."""
    cells = [new_code_cell(parameters, metadata={"tags": ["parameters"]})]
    for index, source in enumerate(body):
        tags = [body_tags[index]] if body_tags and index in body_tags else []
        cells.append(new_code_cell(source, metadata={"tags": tags} if tags else {}))
    metadata = {"kernelspec": KERNEL, "language_info": {"name": "python"}}
    if outputs:
        metadata["jupyter_workflow"] = {"outputs": outputs}
    notebook = new_notebook(cells=cells, metadata=metadata)
    nbformat.validate(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))


def ploomber_twin(source: Path, target: Path) -> None:
    """``source`` with ``upstream`` and ``product`` declared in its parameters cell, as Ploomber requires.

    Every other cell is copied unchanged: the body cells Ploomber runs are ours.
    """
    notebook = nbformat.read(str(source), as_version=4)
    first = notebook.cells[0]
    first.source = "upstream = None\nproduct = None\n" + first.source
    notebook.metadata.pop("jupyter_workflow", None)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(target))


def node_cells(notebook: Path, params: dict) -> list[str]:
    """The sources papermill executes for this node: its cells with the injected cell after ``parameters``."""
    cells = nbformat.read(str(notebook), as_version=4).cells
    injected = "\n".join(f"{name} = {value!r}" for name, value in params.items())
    sources = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        sources.append(cell.source)
        if "parameters" in cell.metadata.get("tags", []) and injected:
            sources.append(injected)
    return sources


def write_components(folder: Path) -> None:
    for name, (parameters, body, outputs) in COMPONENTS.items():
        make_notebook(folder / name, parameters, body, outputs)
        ploomber_twin(folder / name, folder / "ploomber" / name)


def write_workflow_file(workload: Workload, outputs: dict) -> None:
    document = {
        "format": "jupyter-workflow/1",
        "name": workload.name,
        "nodes": {
            node_id: {"notebook": node.notebook, "parameters": node.bindings}
            for node_id, node in workload.nodes.items()
        },
        "outputs": outputs,
    }
    workload.workflow_path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def write_pipelines(workload: Workload) -> None:
    """Ploomber specs, serial and parallel: upstream edges given in the spec, values as ``params``.

    JSON is YAML, so the specs are written with ``json``.
    """
    for executor in ("serial", "parallel"):
        tasks = []
        for node_id, node in workload.nodes.items():
            task = {
                "source": f"ploomber/{node.notebook}",
                "name": node_id,
                "product": f"products/{executor}/{node_id}.ipynb",
            }
            if node.params:
                task["params"] = node.params
            if node.upstream:
                task["upstream"] = node.upstream
            tasks.append(task)
        spec = {
            "meta": {"extract_upstream": False, "extract_product": False},
            "executor": "serial" if executor == "serial" else {
                "dotted_path": "ploomber.executors.Parallel", "processes": workload.parallel,
            },
            "tasks": tasks,
        }
        workload.pipeline_path(executor).write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")


def output(ref: str) -> dict:
    return {"output": ref}


# --- the workloads -----------------------------------------------------------------------


def chain10(folder: Path, length: int = 10) -> tuple[Workload, dict]:
    nodes = {}
    for i in range(length):
        bindings = {"x": output(f"n{i - 1}.y")} if i else {"x": 0}
        nodes[f"n{i}"] = Node("add_one.ipynb", {"x": i}, bindings, [f"n{i - 1}"] if i else [])
    workload = Workload(f"chain{length}", f"{length} trivial nodes in a chain", folder, nodes,
                        os.cpu_count() or 1, {"y": length})
    return workload, {"y": output(f"n{length - 1}.y")}


def fanout8(folder: Path, width: int = 8) -> tuple[Workload, dict]:
    nodes = {"first": Node("add_one.ipynb", {"x": 0}, {"x": 0})}
    sleepers = [f"s{i}" for i in range(1, width + 1)]
    for sleeper in sleepers:
        nodes[sleeper] = Node("sleep.ipynb", {"x": 1}, {"x": output("first.y")}, ["first"])
    nodes["last"] = Node("total.ipynb", {"values": [2] * width},
                         {"values": {"outputs": [f"{s}.y" for s in sleepers], "reduce": "list"}}, sleepers)
    workload = Workload(f"fanout{width}", f"1 → {width} nodes sleeping {SLEEP_S:g} s → 1 (fan-in)", folder, nodes,
                        width, {"total": 2 * width}, critical_path=["first", sleepers[0], "last"])
    return workload, {"total": output("last.total")}


def diamond(folder: Path) -> tuple[Workload, dict]:
    nodes = {
        "a": Node("add_one.ipynb", {"x": 0}, {"x": 0}),
        "b": Node("add_one.ipynb", {"x": 1}, {"x": output("a.y")}, ["a"]),
        "c": Node("add_one.ipynb", {"x": 1}, {"x": output("a.y")}, ["a"]),
        "d": Node("total.ipynb", {"values": [2, 2]}, {"values": {"outputs": ["b.y", "c.y"], "reduce": "list"}},
                  ["b", "c"]),
    }
    workload = Workload("diamond", "a → b, c → d, trivial", folder, nodes, os.cpu_count() or 1, {"total": 4})
    return workload, {"total": output("d.total")}


def wide200(folder: Path, width: int = 200) -> tuple[Workload, dict]:
    nodes = {f"w{i:03d}": Node("add_one.ipynb", {"x": i}, {"x": i}) for i in range(width)}
    workload = Workload(f"wide{width}", f"{width} independent trivial nodes", folder, nodes, os.cpu_count() or 1,
                        {"y": width})
    return workload, {"y": output(f"w{width - 1:03d}.y")}


GRAPH_WORKLOADS = {"chain10": chain10, "fanout8": fanout8, "diamond": diamond, "wide200": wide200}


def write_graph_workload(name: str, folder: Path) -> Workload:
    """Write workload ``name`` (one of :data:`GRAPH_WORKLOADS`) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    write_components(folder)
    workload, outputs = GRAPH_WORKLOADS[name](folder)
    write_workflow_file(workload, outputs)
    write_pipelines(workload)
    return workload


def write_dataframe(folder: Path, rows: int) -> dict:
    """Ours (``record`` / DataFrame parameter) and the hand twin (``to_parquet`` / ``read_parquet``).

    Returns the paths and parameters the dataframe driver needs.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for name, (parameters, body, outputs), tags in (
        ("make_frame.ipynb", MAKE_FRAME, None),
        ("frame_rows.ipynb", FRAME_ROWS, None),
        ("hand_make_frame.ipynb", HAND_MAKE_FRAME, None),
        ("hand_frame_rows.ipynb", HAND_FRAME_ROWS, {0: HAND_READ_TAG}),
    ):
        make_notebook(folder / name, parameters, body, outputs, body_tags=tags)
    document = {
        "format": "jupyter-workflow/1",
        "name": "dataframe",
        "nodes": {
            "a": {"notebook": "make_frame.ipynb", "parameters": {"rows": rows, "seed": 0}},
            "b": {"notebook": "frame_rows.ipynb", "parameters": {"df": output("a.df")}},
        },
        "outputs": {"rows": output("b.rows")},
    }
    workflow = folder / "dataframe.workflow.json"
    workflow.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return {
        "workflow": str(workflow),
        "rows": rows,
        "hand_a": str(folder / "hand_make_frame.ipynb"),
        "hand_b": str(folder / "hand_frame_rows.ipynb"),
        "hand_read_tag": HAND_READ_TAG,
    }


def write_cached(folder: Path, count: int) -> dict[str, Path]:
    """Two workflows of ``count`` cached trivial nodes with the same cache keys: wide and deep."""
    folder.mkdir(parents=True, exist_ok=True)
    write_components(folder)
    paths = {}
    for shape in ("wide", "deep"):
        nodes = {}
        for i in range(count):
            node = {"notebook": "add_one.ipynb", "parameters": {"x": i}, "cache": True}
            if shape == "deep" and i:
                node["after"] = [f"c{i - 1:04d}"]
            nodes[f"c{i:04d}"] = node
        document = {"format": "jupyter-workflow/1", "name": f"cached_{shape}", "nodes": nodes,
                    "outputs": {"y": output(f"c{count - 1:04d}.y")}}
        paths[shape] = folder / f"cached_{shape}.workflow.json"
        paths[shape].write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return paths
