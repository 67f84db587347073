"""Notebooks written for papermill and Ploomber, and hostile input, through real kernels, the CLI and the server.

A type inferred from a literal default is a hint; a node with ``"strict": false`` gets
what papermill would inject; expression defaults keep their source; values and files
JSON cannot hold are refused at the door with a clear message, never a traceback.
"""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from notebook_factory import make_notebook, write_workflow

import jupyter_workflow
from jupyter_workflow.api import WorkflowWarning
from jupyter_workflow.model import InvalidWorkflow

pytestmark = pytest.mark.kernels

JUPYTER = Path(sys.executable).parent / "jupyter"
RECORD = "from jupyter_workflow import record\n"


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER), "workflow", *args], capture_output=True, text=True, timeout=300)


def workflow(folder: Path, nodes: dict, **extra) -> Path:
    return write_workflow(folder / "flow.workflow.json", {"format": "jupyter-workflow/1", "nodes": nodes, **extra})


@pytest.fixture
def ploomber_task(tmp_path):
    """A Ploomber-style task: a list placeholder for ``upstream``, ``product = None``, an integer default."""
    return make_notebook(
        tmp_path / "clean.ipynb",
        "# declare a list tasks whose products you want to use as inputs\nupstream = ['get']\nproduct = None\nfoo = 1",
        RECORD + "record('upstream', {'type': type(upstream).__name__, 'value': upstream})\n"
        "record('product', product)\nrecord('foo', foo)",
    )


@pytest.fixture
def loose_notebooks(tmp_path):
    """One notebook with a parameters cell that does not declare ``extra``, one without a parameters cell."""
    make_notebook(tmp_path / "declares_x.ipynb", "x = 1", RECORD + "record('seen', {'x': x, 'extra': extra})")
    make_notebook(tmp_path / "no_cell.ipynb", None, RECORD + "record('seen', extra)")
    return workflow(
        tmp_path,
        {
            "a": {"notebook": "declares_x.ipynb", "strict": False, "parameters": {"x": "two", "extra": "hello"}},
            "b": {"notebook": "no_cell.ipynb", "strict": False, "parameters": {"extra": [1, 2]}},
        },
        outputs={"a": {"output": "a.seen"}, "b": {"output": "b.seen"}},
    )


WARNED = ["/nodes/a/parameters/x", "/nodes/a/parameters/extra", "/nodes/b/parameters/extra"]


def test_a_type_inferred_from_a_default_takes_what_papermill_users_pass(ploomber_task, workflow_home):
    path = workflow(ploomber_task.parent, {"clean": {
        "notebook": "clean.ipynb", "parameters": {"upstream": {"value": {"get": "raw.csv"}}, "product": "out.csv", "foo": 2.5},
    }})
    run = jupyter_workflow.run(path)
    assert run.status == "succeeded", run.error
    assert run.nodes["clean"].outputs == {
        "upstream": {"type": "dict", "value": {"get": "raw.csv"}}, "product": "out.csv", "foo": 2.5,
    }
    with pytest.raises(InvalidWorkflow) as caught:  # string vs number is still an error
        jupyter_workflow.run(workflow(ploomber_task.parent, {"clean": {"notebook": "clean.ipynb", "parameters": {"foo": "ten"}}}))
    assert [p.pointer for p in caught.value.problems] == ["/nodes/clean/parameters/foo"]


def test_a_node_that_is_not_strict_gets_what_the_notebook_does_not_declare(loose_notebooks, workflow_home):
    with pytest.warns(WorkflowWarning) as warned:
        run = jupyter_workflow.run(loose_notebooks)
    assert [str(w.message).split(": ")[1] for w in warned] == WARNED
    assert run.status == "succeeded", run.error
    assert run.outputs == {"a": {"x": "two", "extra": "hello"}, "b": [1, 2]}
    # papermill's places: after the parameters cell, or at the top when there is none
    first = nbformat.read(run.nodes["a"].notebook, as_version=4).cells
    assert [cell.metadata.get("tags", []) for cell in first[:2]] == [["parameters"], ["injected-parameters"]]
    assert "extra = 'hello'" in first[1].source
    second = nbformat.read(run.nodes["b"].notebook, as_version=4).cells
    assert second[0].metadata.get("tags") == ["injected-parameters"] and "extra = [1, 2]" in second[0].source


def test_the_cli_lists_warnings_and_runs_a_workflow_that_has_only_warnings(loose_notebooks, workflow_home):
    checked = cli("validate", str(loose_notebooks))
    assert checked.returncode == 0, checked.stderr
    lines = checked.stdout.splitlines()
    assert lines[0] == f"{loose_notebooks}: valid (2 nodes, 3 warnings)"
    assert [line.split(": ")[1] for line in lines[1:]] == WARNED
    assert all(line.startswith("  warning: /nodes/") for line in lines[1:])
    as_json = json.loads(cli("validate", str(loose_notebooks), "--json").stdout)
    assert (as_json["valid"], as_json["errors"]) == (True, [])
    assert [(w["pointer"], w["severity"]) for w in as_json["warnings"]] == [(p, "warning") for p in WARNED]

    done = cli("run", str(loose_notebooks), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["outputs"] == {"a": {"x": "two", "extra": "hello"}, "b": [1, 2]}
    assert [line.split(": warning: ")[1].split(":")[0] for line in done.stderr.splitlines() if ": warning: " in line] == WARNED


def test_the_cli_shows_expression_defaults_as_papermill_does(tmp_path):
    notebook = make_notebook(tmp_path / "task.ipynb", "import tempfile\ntmp_dir = tempfile.TemporaryDirectory()\n"
                                                      "TMP_DIR = tmp_dir.name  # scratch\nalpha = 0.6")
    shown = json.loads(cli("inspect", str(notebook), "--json").stdout)["parameters"]
    assert {key: shown["TMP_DIR"][key] for key in ("default", "default_source", "default_is_expression", "type")} == {
        "default": None, "default_source": "tmp_dir.name", "default_is_expression": True, "type": None,
    }
    assert (shown["alpha"]["default"], shown["alpha"]["type_declared"], shown["alpha"]["accepts"]) == (0.6, False, ["integer", "number"])


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('{"format": "jupyter-workflow/1", "name": "caf\xe9", "nodes": {}}'.encode("latin-1"), "the workflow is not UTF-8 text"),
        (b'{"format": "jupyter-workflow/1", "nodes": ' + b"[" * 100000 + b"]" * 100000 + b"}", "nested too deeply"),
        (b'{"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "n.ipynb", "timeout": NaN}}}', "NaN is not a JSON number"),
    ],
    ids=["not utf-8", "nested thousands deep", "NaN"],
)
@pytest.mark.parametrize("command", ["validate", "run", "graph"])
def test_a_file_that_is_not_accepted_json_exits_2_with_a_message(tmp_path, workflow_home, content, fragment, command):
    path = tmp_path / "hostile.workflow.json"
    path.write_bytes(content)
    done = cli(command, str(path))
    assert done.returncode == 2 and fragment in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and f"{path}: 1 problem found" in done.stderr


@pytest.mark.parametrize(
    ("assignment", "fragment"),
    [("x=NaN", "nan, which is not a JSON number"), ("x=1e999", "inf, which is not a JSON number"),
     ("x=-Infinity", "-inf, which is not a JSON number"), ("x=" + "[" * 5000 + "]" * 5000, "nested too deeply"),
     ("x=" + "[" * 100 + "]" * 100, "nested deeper than 64 levels")],
    ids=["NaN", "1e999", "-Infinity", "nested thousands deep", "nested a hundred deep"],
)
def test_an_input_json_cannot_hold_exits_2(tmp_path, workflow_home, assignment, fragment):
    make_notebook(tmp_path / "n.ipynb", "x = 1.0")
    path = workflow(tmp_path, {"n": {"notebook": "n.ipynb", "parameters": {"x": {"input": "x"}}}},
                    inputs={"x": {"type": "number", "default": 1}})
    for command in ("validate", "run"):
        done = cli(command, str(path), "-p", assignment)
        assert done.returncode == 2 and fragment in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


def test_values_json_cannot_hold_are_refused_before_anything_runs(tmp_path, workflow_home):
    make_notebook(tmp_path / "echo.ipynb", "text = ''\nx = 1.0", RECORD + "record('text', text)")
    path = workflow(tmp_path, {"echo": {"notebook": "echo.ipynb", "parameters": {"text": {"input": "text"}, "x": {"input": "x"}}}},
                    inputs={"text": {"type": "string", "default": ""}, "x": {"type": "number", "default": 1}})
    for inputs, fragment in [({"text": "caf\ud800"}, "lone surrogate"), ({"x": float("nan")}, "not a JSON number"),
                             ({"x": float("inf")}, "not a JSON number")]:
        with pytest.raises(InvalidWorkflow) as caught:
            jupyter_workflow.run(path, inputs=inputs)
        assert [p.pointer for p in caught.value.problems] == [f"/inputs/{next(iter(inputs))}"]
        assert fragment in caught.value.problems[0].message
    assert not (workflow_home.runs_dir).exists() or not any(workflow_home.runs_dir.iterdir())


# --- the server ---------------------------------------------------------------------------


async def fetch(jp_fetch, *path, method="GET", body=None):
    """A request to /workflow/api/...: (status, JSON body). ``body`` is sent as is when it is text."""
    text = body if isinstance(body, str) else json.dumps(body) if body is not None else None
    response = await jp_fetch("workflow", "api", *path, method=method, body=text, raise_error=False)
    return response.code, json.loads(response.body or b"null")


async def test_the_server_validates_with_warnings_and_never_fails_on_a_malformed_document(
    jp_fetch, jp_root_dir, loose_notebooks
):
    for name in ("declares_x.ipynb", "no_cell.ipynb", "flow.workflow.json"):
        (jp_root_dir / name).write_bytes((loose_notebooks.parent / name).read_bytes())
    status, answer = await fetch(jp_fetch, "validate", method="POST", body={"path": "flow.workflow.json"})
    assert status == 200 and (answer["valid"], answer["errors"]) == (True, [])
    assert [(w["pointer"], w["severity"]) for w in answer["warnings"]] == [(p, "warning") for p in WARNED]
    assert len(answer["content_hash"]) == 64

    spec = json.loads((jp_root_dir / "flow.workflow.json").read_text())
    for layout in (None, 3, False, [1], "ab"):
        status, answer = await fetch(jp_fetch, "validate", method="POST", body={"spec": {**spec, "layout": layout}})
        assert status == 200 and answer["valid"] is False, answer
        assert [e["pointer"] for e in answer["errors"]] == ["/layout"] and len(answer["warnings"]) == 3
    kernel = {**spec, "nodes": {"a": {**spec["nodes"]["a"], "kernel": "python3; touch x"}}}
    status, answer = await fetch(jp_fetch, "runs", method="POST", body={"spec": kernel})
    assert status == 422 and answer["errors"][0]["pointer"] == "/nodes/a/kernel"
    assert not (jp_root_dir / "x").exists()


async def test_the_server_refuses_input_values_json_cannot_hold(jp_fetch, jp_root_dir):
    make_notebook(jp_root_dir / "echo.ipynb", "text = ''\nx = 1.0", RECORD + "record('text', text)")
    write_workflow(jp_root_dir / "echo.workflow.json", {
        "format": "jupyter-workflow/1",
        "inputs": {"text": {"type": "string", "default": ""}, "x": {"type": "number", "default": 1}},
        "nodes": {"echo": {"notebook": "echo.ipynb", "parameters": {"text": {"input": "text"}, "x": {"input": "x"}}}},
    })
    spec = '{"format": "jupyter-workflow/1", "nodes": {"echo": {"notebook": "echo.ipynb", "parameters": {"x": 1e999}}}}'
    for body in ('{"path": "echo.workflow.json", "inputs": {"x": 1e999}}',
                 '{"path": "echo.workflow.json", "inputs": {"text": "caf\\ud800"}}', f'{{"spec": {spec}}}'):
        status, answer = await fetch(jp_fetch, "runs", method="POST", body=body)
        assert status in (400, 422) and answer["message"], (body, status, answer)  # refused at the door
    status, listing = await fetch(jp_fetch, "runs")
    assert status == 200 and listing["runs"] == []


async def test_the_components_routes_show_expression_defaults(jp_fetch, jp_root_dir):
    make_notebook(jp_root_dir / "task.ipynb", "import os\na = 'data'\npath = os.path.join(a, 'raw.csv')  # input\nn: int = 3")
    for status, component in [await fetch(jp_fetch, "components", "task.ipynb"),
                              (200, (await fetch(jp_fetch, "components"))[1]["components"][0])]:
        assert status == 200
        parameters = component["parameters"]
        assert (parameters["path"]["default"], parameters["path"]["default_source"]) == (None, "os.path.join(a, 'raw.csv')")
        assert parameters["path"]["default_is_expression"] and not parameters["a"]["default_is_expression"]
        assert (parameters["n"]["type_declared"], parameters["n"]["accepts"]) == (True, ["integer"])
