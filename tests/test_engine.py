"""The engine with real kernels: data passing, parallelism, failures, retries, timeouts."""

import asyncio
import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest
from conftest import file_digests, process_gone, unchanged
from nbformat.v4 import new_code_cell, new_notebook
from notebook_factory import hanging_workflow, make_notebook, write_workflow

import jupyter_workflow
from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels

RECORD = "from jupyter_workflow import record\n"


def workflow(tmp_path, nodes: dict, **extra) -> Path:
    return write_workflow(tmp_path / "test.workflow.json", {"format": "jupyter-workflow/1", "nodes": nodes, **extra})


def test_a_million_row_dataframe_flows_to_the_next_node(tmp_path, workflow_home):
    make_notebook(
        tmp_path / "produce.ipynb",
        "rows = 10",
        RECORD + "import numpy as np, pandas as pd\n"
        "frame = pd.DataFrame({'i': np.arange(rows), 'x': np.arange(rows) * 0.5, 'k': np.arange(rows) % 7})\n"
        "record('table', frame)",
    )
    make_notebook(
        tmp_path / "consume.ipynb",
        "table = None",
        RECORD + "record('kind', type(table).__name__)\nrecord('rows', len(table))\n"
        "record('total', int(table['i'].sum()))\nrecord('columns', list(table.columns))",
    )
    path = workflow(
        tmp_path,
        {
            "produce": {"notebook": "produce.ipynb", "parameters": {"rows": 1_000_000}},
            "consume": {"notebook": "consume.ipynb", "parameters": {"table": {"output": "produce.table"}}},
        },
    )
    before = file_digests(tmp_path)
    run = jupyter_workflow.run(path)

    assert run.status == "succeeded", run.error
    consumed = run.nodes["consume"].outputs
    assert consumed == {"kind": "DataFrame", "rows": 1_000_000, "total": 999_999 * 1_000_000 // 2, "columns": ["i", "x", "k"]}
    artifact = run.nodes["produce"].outputs["table"]
    assert artifact.meta["format"] == "parquet" and artifact.path.is_file()
    assert artifact.path.stat().st_size == artifact.meta["size"]
    # The data travels as a file: the executed notebooks carry only a reference.
    assert Path(run.nodes["produce"].notebook).stat().st_size < 50_000
    assert Path(run.nodes["consume"].notebook).stat().st_size < 50_000
    assert unchanged(before, tmp_path)


def test_independent_nodes_run_at_the_same_time(tmp_path, workflow_home):
    """Each node leaves a file, then waits for the other's: only nodes running at once both end."""
    make_notebook(
        tmp_path / "meet.ipynb",
        "mine = ''\nother = ''",
        RECORD + "import pathlib, time\nstart = time.time()\npathlib.Path(mine).touch()\n"
        "while not pathlib.Path(other).exists():\n    time.sleep(0.01)\nrecord('start', start)\nrecord('end', time.time())",
    )
    files = {"left": str(tmp_path / "left.here"), "right": str(tmp_path / "right.here")}
    path = workflow(
        tmp_path,
        {node: {"notebook": "meet.ipynb", "parameters": {"mine": files[node], "other": files[other]}, "timeout": 120}
         for node, other in (("left", "right"), ("right", "left"))},
    )
    run = jupyter_workflow.run(path, parallel=2)

    assert run.status == "succeeded", run.error
    left, right = run.nodes["left"].outputs, run.nodes["right"].outputs
    assert left["start"] < right["end"] and right["start"] < left["end"]


def test_a_failing_node_keeps_its_traceback_and_notebook_and_skips_downstream(tmp_path, workflow_home):
    notebook = new_notebook(
        cells=[
            new_code_cell("limit = 41", metadata={"tags": ["parameters"]}),
            new_code_cell("print('before the failure')\nraise ValueError(f'bad value {limit + 1}')"),
            new_code_cell("print('never reached')"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, tmp_path / "boom.ipynb")
    make_notebook(tmp_path / "ok.ipynb", "value = 1", RECORD + "record('value', value)")
    path = workflow(
        tmp_path,
        {
            "boom": {"notebook": "boom.ipynb"},
            "after_boom": {"notebook": "ok.ipynb", "after": ["boom"]},
            "uses_boom": {"notebook": "ok.ipynb", "parameters": {"value": {"output": "boom.value"}}},
            "independent": {"notebook": "ok.ipynb"},
            "last": {"notebook": "ok.ipynb", "after": ["uses_boom"]},
        },
    )
    before = file_digests(tmp_path)
    run = jupyter_workflow.run(path, parallel=2)

    assert run.status == "failed"
    assert run.error["node"] == "boom" and run.error["ename"] == "ValueError"
    assert run.error["evalue"] == "bad value 42"
    boom = run.nodes["boom"]
    assert boom.status == "failed" and "ValueError" in boom.error["traceback"]
    assert "\x1b[" not in boom.error["traceback"]
    executed = nbformat.read(boom.notebook, as_version=4)
    outputs = [o for cell in executed.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert any(o.get("ename") == "ValueError" for o in outputs)
    assert any("before the failure" in o.get("text", "") for o in outputs)
    assert not any("never reached" in o.get("text", "") for o in outputs)
    assert {n: run.nodes[n].status for n in ("after_boom", "uses_boom", "last", "independent")} == {
        "after_boom": "skipped",
        "uses_boom": "skipped",
        "last": "skipped",
        "independent": "succeeded",
    }
    assert unchanged(before, tmp_path)
    stored = RunStore(workflow_home.db_url).get_run(run.run_id)
    assert stored.status == "failed" and stored.error["ename"] == "ValueError"
    assert {n.node_id: n.status for n in stored.nodes}["last"] == "skipped"


def test_a_run_after_the_store_file_was_removed_is_kept_in_a_new_one(tmp_path, workflow_home):
    """The Python API keeps its run store open between runs; a removed file is not written to."""
    make_notebook(tmp_path / "one.ipynb", "x = 1", RECORD + "record('y', x + 1)")
    path = workflow(tmp_path, {"one": {"notebook": "one.ipynb"}})
    first = jupyter_workflow.run(path)
    store_file = Path(workflow_home.db_url.removeprefix("sqlite:///"))
    for file in store_file.parent.iterdir():  # the database and its write-ahead log
        file.unlink()
    second = jupyter_workflow.run(path)

    assert first.status == second.status == "succeeded"
    runs, _ = RunStore(workflow_home.db_url).list_runs()
    assert [run.id for run in runs] == [second.run_id]


def test_no_cell_runs_after_a_failing_one_unless_that_cell_allows_errors(tmp_path, workflow_home):
    """Cells go to the kernel all at once; the kernel still stops where papermill would."""
    folder = tmp_path / "touched"
    folder.mkdir()
    touch = "import pathlib\npathlib.Path(folder, {name!r}).touch()\n"
    notebook = new_notebook(
        cells=[
            new_code_cell("folder = ''", metadata={"tags": ["parameters"]}),
            new_code_cell(touch.format(name="tolerated") + "raise RuntimeError('allowed')",
                          metadata={"tags": ["raises-exception"]}),
            new_code_cell(touch.format(name="skipped"), metadata={"tags": ["skip-execution"]}),
            new_code_cell(touch.format(name="failed") + "raise ValueError('stop here')"),
            new_code_cell(touch.format(name="after")),
            new_code_cell(touch.format(name="last")),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(notebook, tmp_path / "stops.ipynb")
    path = workflow(tmp_path, {"stops": {"notebook": "stops.ipynb", "parameters": {"folder": str(folder)}}})
    run = jupyter_workflow.run(path)

    assert run.status == "failed" and run.error["evalue"] == "stop here"
    assert sorted(p.name for p in folder.iterdir()) == ["failed", "tolerated"]
    executed = nbformat.read(run.nodes["stops"].notebook, as_version=4)
    counts = [cell.execution_count for cell in executed.cells if cell.cell_type == "code"]
    assert counts == [1, 2, 3, None, 4, None, None]  # parameters, injected, tolerated, skipped, failed, after, last


def test_retries_run_a_failed_node_again_and_keep_each_attempt(tmp_path, workflow_home):
    make_notebook(
        tmp_path / "flaky.ipynb",
        "counter = ''\nfail_times = 1",
        RECORD + "import pathlib\np = pathlib.Path(counter)\nn = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\nif n < fail_times:\n    raise RuntimeError(f'attempt {n + 1} fails')\n"
        "record('attempts', n + 1)",
    )
    path = workflow(
        tmp_path,
        {
            "flaky": {
                "notebook": "flaky.ipynb",
                "parameters": {"counter": str(tmp_path / "flaky.count")},
                "retries": 2,
                "retry_delay": 0.2,
            },
            "hopeless": {
                "notebook": "flaky.ipynb",
                "parameters": {"counter": str(tmp_path / "hopeless.count"), "fail_times": 99},
                "retries": 1,
            },
        },
    )
    run = jupyter_workflow.run(path, parallel=2)

    flaky, hopeless = run.nodes["flaky"], run.nodes["hopeless"]
    assert flaky.status == "succeeded" and flaky.attempt == 2 and flaky.outputs == {"attempts": 2}
    assert Path(flaky.notebook).with_name("flaky.attempt-1.ipynb").is_file()
    assert hopeless.status == "failed" and hopeless.attempt == 2
    assert hopeless.error["evalue"] == "attempt 2 fails"
    assert (tmp_path / "hopeless.count").read_text() == "2"
    events = RunStore(workflow_home.db_url).events(run.run_id)
    assert [e.data["attempt"] for e in events if e.type == "node.started" and e.node_id == "flaky"] == [1, 2]
    [retry] = [e for e in events if e.node_id == "flaky" and e.type == "node.status.changed" and "retry_in_s" in e.data]
    assert retry.data["to"] == "queued" and retry.data["error"]["evalue"] == "attempt 1 fails"
    assert (retry.data["retry_in_s"], retry.data["next_attempt"], retry.data["attempts"]) == (0.2, 2, 3)
    retry_at = datetime.fromisoformat(retry.data["retry_at"])
    assert retry_at.utcoffset() == timedelta(0)
    assert abs((retry_at - retry.time).total_seconds() - 0.2) < 1  # the event's time plus the delay


def test_a_timeout_kills_the_nodes_kernel(tmp_path, workflow_home):
    run = jupyter_workflow.run(hanging_workflow(tmp_path, timeout=4))

    assert run.status == "failed"
    error = run.nodes["hang"].error
    assert error["ename"] == "TimeoutError" and "timeout of 4 s" in error["evalue"]
    assert process_gone(int((tmp_path / "hang.pid").read_text()))
    assert run.nodes["hang"].duration_s < 600


TRICKY_STRINGS = [
    "plain",
    "it's \"quoted\" both ways",
    'ends with a backslash \\',
    "C:\\new\\table\\x41",
    "line one\nline two\r\nline three\ttabbed",
    '"""; import pathlib; pathlib.Path("PWNED").write_text("x"); """',
    "'''; import pathlib; pathlib.Path('PWNED').write_text('x'); '''",
    "\\'); import pathlib; pathlib.Path('PWNED').write_text('x') #",
    "{braces} {0} %s %(name)s",
    "unicode: café, 東京, emoji 🚀, nul-free",
]


def test_parameter_strings_arrive_unchanged_and_never_run_as_code(tmp_path, workflow_home):
    make_notebook(
        tmp_path / "echo.ipynb",
        "text = ''\nitems = []\nmapping = {}",
        RECORD + "record('text', text)\nrecord('items', items)\nrecord('mapping', mapping)",
    )
    nodes = {
        f"echo_{index}": {
            "notebook": "echo.ipynb",
            "parameters": {"text": value, "items": [value, {"k": value}], "mapping": {value: value}},
        }
        for index, value in enumerate(TRICKY_STRINGS)
    }
    nodes["from_input"] = {"notebook": "echo.ipynb", "parameters": {"text": {"input": "text"}}}
    path = workflow(tmp_path, nodes, inputs={"text": {"type": "string"}})
    run = jupyter_workflow.run(path, inputs={"text": TRICKY_STRINGS[5]}, parallel=4)

    assert run.status == "succeeded", run.error
    for index, value in enumerate(TRICKY_STRINGS):
        assert run.nodes[f"echo_{index}"].outputs == {"text": value, "items": [value, {"k": value}], "mapping": {value: value}}
    assert run.nodes["from_input"].outputs["text"] == TRICKY_STRINGS[5]
    assert not (tmp_path / "PWNED").exists()


def test_map_and_fan_in_bindings(tmp_path, workflow_home):
    make_notebook(
        tmp_path / "emit.ipynb",
        "name = 'a'\nsize = 1",
        RECORD + "record('items', [name] * size)\nrecord('info', {'name': name, 'size': size, name: True})",
    )
    make_notebook(
        tmp_path / "collect.ipynb",
        "joined = []\nmerged = {}\nlisted = []\nupper = ''\nnot_binding = {}",
        RECORD + "record('got', {'joined': joined, 'merged': merged, 'listed': listed, 'upper': upper, 'literal': not_binding})",
    )
    path = workflow(
        tmp_path,
        {
            "a": {"notebook": "emit.ipynb", "parameters": {"name": "a", "size": 2}},
            "b": {"notebook": "emit.ipynb", "parameters": {"name": "b", "size": 1}},
            "collect": {
                "notebook": "collect.ipynb",
                "parameters": {
                    "joined": {"outputs": ["a.items", "b.items"], "reduce": "concat"},
                    "merged": {"outputs": ["a.info", "b.info"], "reduce": "merge"},
                    "listed": {"outputs": ["b.info", "a.info"], "reduce": "list"},
                    "upper": {"output": "a.info", "map": "name"},
                    "not_binding": {"value": {"output": "looks.like_a_binding"}},
                },
            },
        },
        outputs={"sizes": {"outputs": ["a.info", "b.info"], "reduce": "list"}, "first": {"output": "a.items", "map": "[0]"}},
    )
    run = jupyter_workflow.run(path, parallel=2)

    assert run.status == "succeeded", run.error
    assert run.nodes["collect"].outputs["got"] == {
        "joined": ["a", "a", "b"],
        "merged": {"name": "b", "size": 1, "a": True, "b": True},
        "listed": [{"name": "b", "size": 1, "b": True}, {"name": "a", "size": 2, "a": True}],
        "upper": "a",
        "literal": {"output": "looks.like_a_binding"},
    }
    assert run.outputs == {"sizes": [{"name": "a", "size": 2, "a": True}, {"name": "b", "size": 1, "b": True}], "first": "a"}


def test_rich_values_travel_as_artifacts(tmp_path, workflow_home):
    make_notebook(
        tmp_path / "emit.ipynb",
        "",
        RECORD + "import numpy as np, pathlib\n"
        "record('array', np.arange(12).reshape(3, 4))\n"
        "record('blob', bytes(range(256)))\n"
        "pathlib.Path('note.txt').write_text('hello file')\n"
        "record('file', pathlib.Path('note.txt'))\n"
        "record('big', list(range(300_000)))\n"
        "record('scalar', np.float64(2.5))",
    )
    make_notebook(
        tmp_path / "check.ipynb",
        "array = None\nblob = None\nfile = None\nbig = None\nscalar = 0.0",
        RECORD + "record('summary', {'array': [type(array).__name__, array.shape[0], int(array.sum())],"
        " 'blob': [type(blob).__name__, len(blob), blob[255]], 'file': file.read_text(),"
        " 'big': [len(big), big[-1]], 'scalar': scalar})",
    )
    names = ["array", "blob", "file", "big", "scalar"]
    path = workflow(
        tmp_path,
        {
            "emit": {"notebook": "emit.ipynb"},
            "check": {"notebook": "check.ipynb", "parameters": {n: {"output": f"emit.{n}"} for n in names}},
        },
    )
    run = jupyter_workflow.run(path)

    assert run.status == "succeeded", run.error
    assert run.nodes["check"].outputs["summary"] == {
        "array": ["memmap", 3, 66],
        "blob": ["bytes", 256, 255],
        "file": "hello file",
        "big": [300_000, 299_999],
        "scalar": 2.5,
    }
    formats = {n: getattr(run.nodes["emit"].outputs[n], "meta", {}).get("format") for n in names}
    assert formats == {"array": "npy", "blob": "bytes", "file": "file", "big": "json", "scalar": None}


def test_unrecordable_values_and_missing_outputs_fail_with_clear_errors(tmp_path, workflow_home):
    make_notebook(tmp_path / "bad.ipynb", "", RECORD + "record('thing', object())")
    make_notebook(tmp_path / "silent.ipynb", "", "x = 1")
    make_notebook(tmp_path / "take.ipynb", "value = None", "")
    path = workflow(
        tmp_path,
        {
            "bad": {"notebook": "bad.ipynb"},
            "silent": {"notebook": "silent.ipynb"},
            "take": {"notebook": "take.ipynb", "parameters": {"value": {"output": "silent.answer"}}},
        },
    )
    run = jupyter_workflow.run(path, parallel=2)

    assert run.status == "failed"
    bad = run.nodes["bad"].error
    assert bad["ename"] == "UnrecordableValue" and "builtins.object" in bad["evalue"]
    take = run.nodes["take"].error
    assert take["ename"] == "BindingError"
    assert "node 'silent' did not record an output 'answer'" in take["evalue"]


def test_every_transition_is_in_the_event_log(tmp_path, workflow_home):
    make_notebook(tmp_path / "one.ipynb", "x = 1", RECORD + "record('x', x)")
    path = workflow(tmp_path, {"a": {"notebook": "one.ipynb"}, "b": {"notebook": "one.ipynb", "after": ["a"]}})
    run = jupyter_workflow.run(path)

    events = RunStore(workflow_home.db_url).events(run.run_id)
    a_events = [(e.type, e.data.get("to")) for e in events if e.node_id == "a"]
    assert a_events == [
        ("node.triggered", None),
        ("node.status.changed", "queued"),
        ("node.started", None),
        ("node.status.changed", "running"),
        ("node.status.changed", "succeeded"),
        ("node.finished", None),
    ]
    assert events[0].type == "run.started" and events[-1].type == "run.finished"
    assert [e.id for e in events] == sorted(e.id for e in events)
    b_started = next(e for e in events if e.node_id == "b" and e.type == "node.started")
    a_finished = next(e for e in events if e.node_id == "a" and e.type == "node.finished")
    assert a_finished.id < b_started.id


def test_the_python_api_works_inside_a_running_event_loop(tmp_path, workflow_home):
    make_notebook(tmp_path / "one.ipynb", "x = 1", RECORD + "record('double', x * 2)")
    path = workflow(tmp_path, {"a": {"notebook": "one.ipynb", "parameters": {"x": {"input": "x"}}}},
                    inputs={"x": {"type": "integer", "default": 1}}, outputs={"double": {"output": "a.double"}})

    async def inside_a_notebook():
        return jupyter_workflow.run(path, inputs={"x": 21})

    run = asyncio.run(inside_a_notebook())
    assert run.status == "succeeded" and run.outputs == {"double": 42}


def test_invalid_inputs_are_refused_before_anything_runs(tmp_path, workflow_home):
    make_notebook(tmp_path / "one.ipynb", "x = 1", "")
    path = workflow(tmp_path, {"a": {"notebook": "one.ipynb", "parameters": {"x": {"input": "x"}}}},
                    inputs={"x": {"type": "integer", "minimum": 0}})
    with pytest.raises(jupyter_workflow.model.InvalidWorkflow) as caught:
        jupyter_workflow.run(path, inputs={"x": -1, "y": 2})
    assert [p.pointer for p in caught.value.problems] == ["/inputs/y", "/inputs/x"]
    assert not workflow_home.runs_dir.exists()
    assert json.loads(json.dumps(caught.value.to_dict()))["errors"][1]["message"] == "-1 is less than the minimum 0"


def test_a_notebook_edited_between_runs_runs_as_edited(tmp_path, workflow_home):
    """The engine reads each notebook once while it is unchanged; an edit is read again."""
    make_notebook(tmp_path / "step.ipynb", "x = 1", RECORD + "record('y', x + 1)")
    path = workflow(tmp_path, {"a": {"notebook": "step.ipynb"}, "b": {"notebook": "step.ipynb", "parameters": {"x": 5}}})
    first = jupyter_workflow.run(path)
    make_notebook(tmp_path / "step.ipynb", "x = 1", RECORD + "record('y', x * 10)")
    second = jupyter_workflow.run(path)

    assert [first.nodes[n].outputs["y"] for n in "ab"] == [2, 6]
    assert [second.nodes[n].outputs["y"] for n in "ab"] == [10, 50]


class LinkWhenTheRunBegins:
    """A run listener that replaces ``notebook`` by a link to ``target`` as the run begins, after validation."""

    def __init__(self, notebook: Path, target: Path):
        self.notebook, self.target = notebook, target

    def begin(self, run) -> None:
        self.notebook.unlink()
        self.notebook.symlink_to(self.target)

    def record(self, run, event) -> None:
        pass


def test_a_notebook_replaced_by_a_link_out_of_the_root_after_validation_is_not_read(tmp_path, workflow_home):
    root, outside, marker = tmp_path / "root", tmp_path / "outside", tmp_path / "outside-ran"
    make_notebook(root / "step.ipynb", "marker = ''", "print('inside')")
    make_notebook(outside / "step.ipynb", "marker = ''", "import pathlib\npathlib.Path(marker).write_text('ran')")
    parameters = {"marker": str(marker)}
    path = workflow(root, {"plain": {"notebook": "step.ipynb", "parameters": parameters},
                           "cached": {"notebook": "step.ipynb", "parameters": parameters, "cache": True}})
    run = jupyter_workflow.run(path, listeners=[LinkWhenTheRunBegins(root / "step.ipynb", outside / "step.ipynb")])

    assert not marker.exists()
    assert run.status == "failed"
    for node in ("plain", "cached"):
        error = run.nodes[node].error
        assert error["ename"] == "PathOutsideRoot" and str(outside / "step.ipynb") in error["evalue"]


def test_cacheable_nodes_reuse_an_earlier_identical_result(tmp_path, workflow_home):
    counter = tmp_path / "executions.txt"
    make_notebook(
        tmp_path / "expensive.ipynb",
        "size = 3\ncounter = ''",
        RECORD + "import pathlib, pandas as pd\n"
        "with open(counter, 'a') as log:\n    log.write('x')\n"
        "record('frame', pd.DataFrame({'v': range(size)}))",
    )
    make_notebook(tmp_path / "total.ipynb", "frame = None", RECORD + "record('total', int(frame['v'].sum()))")
    path = workflow(
        tmp_path,
        {
            "expensive": {"notebook": "expensive.ipynb", "cache": True,
                          "parameters": {"size": {"input": "size"}, "counter": str(counter)}},
            "total": {"notebook": "total.ipynb", "parameters": {"frame": {"output": "expensive.frame"}}},
        },
        inputs={"size": {"type": "integer", "default": 3}},
        outputs={"total": {"output": "total.total"}},
    )
    first = jupyter_workflow.run(path)
    second = jupyter_workflow.run(path)
    other_input = jupyter_workflow.run(path, inputs={"size": 4})

    assert [r.outputs["total"] for r in (first, second, other_input)] == [3, 3, 6]
    assert counter.read_text() == "xx"  # the second run did not execute the notebook again
    assert second.nodes["expensive"].status == "cached"
    assert second.nodes["expensive"].notebook == first.nodes["expensive"].notebook
    assert second.nodes["total"].status == "succeeded"
    assert other_input.nodes["expensive"].status == "succeeded"
    events = RunStore(workflow_home.db_url).events(second.run_id)
    cached = [e for e in events if e.node_id == "expensive" and e.type == "node.status.changed"]
    assert [(e.data["to"], e.data["from_run"]) for e in cached] == [("cached", first.run_id)]

    first.nodes["expensive"].outputs["frame"].path.unlink()  # a reused result needs its artifacts
    assert jupyter_workflow.run(path).nodes["expensive"].status == "succeeded"
    assert counter.read_text() == "xxx"


def test_a_map_that_fails_at_run_time_fails_only_its_node(tmp_path, workflow_home):
    make_notebook(tmp_path / "text.ipynb", "", RECORD + "record('text', 'not numbers')")
    make_notebook(tmp_path / "take.ipynb", "value = 0", "")
    path = workflow(
        tmp_path,
        {
            "text": {"notebook": "text.ipynb"},
            "total": {"notebook": "take.ipynb", "parameters": {"value": {"output": "text.text", "map": "sum(@)"}}},
            "after": {"notebook": "take.ipynb", "after": ["total"]},
        },
    )
    run = jupyter_workflow.run(path)

    assert run.status == "failed" and run.nodes["after"].status == "skipped"
    error = run.nodes["total"].error
    assert error["ename"] == "BindingError" and "map 'sum(@)' failed on text.text" in error["evalue"]
    assert RunStore(workflow_home.db_url).get_run(run.run_id).status == "failed"


def test_a_node_waiting_to_retry_leaves_its_slot_to_others(tmp_path, workflow_home):
    make_notebook(tmp_path / "fail.ipynb", "", "raise RuntimeError('always')")
    make_notebook(tmp_path / "ok.ipynb", "", "")
    path = workflow(
        tmp_path,
        {"flaky": {"notebook": "fail.ipynb", "retries": 1, "retry_delay": 3}, "other": {"notebook": "ok.ipynb"}},
    )
    run = jupyter_workflow.run(path, parallel=1)

    events = RunStore(workflow_home.db_url).events(run.run_id)
    starts = [(e.node_id, e.data["attempt"]) for e in events if e.type == "node.started"]
    assert starts == [("flaky", 1), ("other", 1), ("flaky", 2)]
    assert run.nodes["other"].status == "succeeded" and run.nodes["flaky"].status == "failed"


INTERRUPTED_NOTEBOOK_SESSION = """
import asyncio, os, pathlib, signal, sys, threading, time
import jupyter_workflow

def interrupt_once_the_node_runs(pid_file):
    while not pathlib.Path(pid_file).exists():
        time.sleep(0.05)
    os.kill(os.getpid(), signal.SIGINT)

async def cell():  # what a notebook cell runs: an event loop is already running
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as ipykernel's interrupt does
    threading.Thread(target=interrupt_once_the_node_runs, args=(sys.argv[2],), daemon=True).start()
    try:
        jupyter_workflow.run(sys.argv[1])
    except KeyboardInterrupt:
        print("interrupted")

asyncio.new_event_loop().run_until_complete(cell())
"""


def test_interrupting_the_python_api_in_a_notebook_cancels_the_run(tmp_path, workflow_home):
    path, pid_file = hanging_workflow(tmp_path), tmp_path / "hang.pid"
    session = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_NOTEBOOK_SESSION, str(path), str(pid_file)], capture_output=True, text=True, timeout=120
    )

    assert "interrupted" in session.stdout, session.stderr
    [stored], _ = RunStore(workflow_home.db_url).list_runs()
    assert stored.status == "cancelled"
    assert process_gone(int(pid_file.read_text()))


def processes_with_env(marker: str) -> list[int]:
    """Pids of the processes whose environment holds ``marker``."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                pids.append(int(entry.name))
        except OSError:  # gone meanwhile, or not ours to read
            pass
    return [pid for pid in pids if not process_gone(pid)]


def test_a_script_that_runs_once_exits_cleanly_with_no_kernel_left(tmp_path, workflow_home):
    import uuid

    make_notebook(tmp_path / "ok.ipynb", "x = 0", "from jupyter_workflow import record\nrecord('y', x + 1)")
    path = workflow(tmp_path, {f"n{i}": {"notebook": "ok.ipynb", "parameters": {"x": i}} for i in range(4)})
    marker = f"JW_TEST_MARK_{uuid.uuid4().hex}"
    script = "import sys, jupyter_workflow\nprint(jupyter_workflow.run(sys.argv[1], parallel=4).status)"
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, marker: "1"})

    assert (done.returncode, done.stdout.strip()) == (0, "succeeded"), done.stderr
    assert "did not start" not in done.stderr and "Parent appears to have exited" not in done.stderr, done.stderr
    assert processes_with_env(marker) == []  # the warm pool refilled after the run; the exit killed it all


def wait_for_files(paths: list[Path], process: "subprocess.Popen") -> None:
    """Wait until every file in ``paths`` exists, while ``process`` runs."""
    deadline = time.monotonic() + 120
    while not all(path.exists() for path in paths):
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1]
        time.sleep(0.05)


def test_sigterm_to_the_command_cancels_the_run_and_leaves_no_task_error_or_kernel(tmp_path, workflow_home):
    import signal
    import uuid

    path = hanging_workflow(tmp_path, ["left", "right"], ["after"])  # "after" gets its kernel ahead
    marker = f"JW_TEST_MARK_{uuid.uuid4().hex}"
    process = subprocess.Popen([sys.executable, "-m", "jupyter_workflow.cli.main", "run", str(path)], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, marker: "1"})
    wait_for_files([tmp_path / "left.pid", tmp_path / "right.pid"], process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 130
    assert "never retrieved" not in stderr and "Traceback" not in stderr, stderr
    store = RunStore(workflow_home.db_url)
    [summary], _ = store.list_runs()
    stored = store.get_run(summary.id)
    assert stored.status == "cancelled"
    assert {node.node_id: node.status for node in stored.nodes} == {"left": "cancelled", "right": "cancelled", "after": "cancelled"}
    assert processes_with_env(marker) == []


def test_the_socket_folder_of_a_killed_process_is_removed_by_the_next_pool(tmp_path, workflow_home):
    import signal
    import tempfile

    from jupyter_workflow.engine import KernelPool

    path = hanging_workflow(tmp_path)
    process = subprocess.Popen([sys.executable, "-m", "jupyter_workflow.cli.main", "run", str(path)], text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_files([tmp_path / "hang.pid"], process)
    left = list(Path(tempfile.gettempdir()).glob(f"jw-{process.pid}-*"))
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert len(left) == 1 and left[0].is_dir()  # the killed process could not remove it

    def own_folders() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob(f"jw-{os.getpid()}-*"))

    async def start_a_pool():
        pool = KernelPool(size=1)
        try:
            await pool.acquire("python3", tmp_path, {})
            return own_folders()
        finally:
            await pool.close()

    try:
        before = own_folders()  # other pools of this process
        made = asyncio.run(start_a_pool()) - before
        assert not left[0].exists()
        assert len(made) == 1 and not made.pop().exists()  # its own, named after it, removed as it closed
    finally:
        kernel = int((tmp_path / "hang.pid").read_text())
        if not process_gone(kernel):  # the killed process's kernel would notice and exit; spare the wait
            os.kill(kernel, signal.SIGKILL)
