"""``jupyter workflow`` as a user types it: exit codes, JSON output, run history, graphs."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import process_gone
from notebook_factory import hanging_workflow, make_notebook, write_workflow

pytestmark = pytest.mark.kernels

JUPYTER = Path(sys.executable).parent / "jupyter"


def cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER), "workflow", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def small_workflow(tmp_path):
    make_notebook(
        tmp_path / "square.ipynb",
        "x: int = 2  # the number to square\nfail = False  # raise instead",
        "from jupyter_workflow import record\nif fail:\n    raise RuntimeError('asked to fail')\nrecord('square', x * x)",
        metadata={"jupyter_workflow": {"title": "Square", "outputs": {"square": {"type": "integer"}}}},
    )
    return write_workflow(
        tmp_path / "square.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "name": "squares",
            "inputs": {"x": {"type": "integer", "default": 3}, "fail": {"type": "boolean", "default": False}},
            "nodes": {
                "first": {"notebook": "square.ipynb", "parameters": {"x": {"input": "x"}, "fail": {"input": "fail"}}},
                "second": {"notebook": "square.ipynb", "parameters": {"x": {"output": "first.square"}}},
            },
            "outputs": {"result": {"output": "second.square"}},
        },
    )


def test_run_json_success_then_history(small_workflow, workflow_home):
    done = cli("run", str(small_workflow), "-p", "x=3", "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "succeeded" and result["outputs"] == {"result": 81}
    assert set(result["nodes"]) == {"first", "second"}
    for node in result["nodes"].values():
        assert node["status"] == "succeeded" and node["error"] is None
        assert node["duration_s"] > 0 and Path(node["notebook"]).is_file()

    listing = cli("runs", "list")
    assert listing.returncode == 0 and result["run_id"][:12] in listing.stdout and "squares" in listing.stdout
    shown = cli("runs", "show", result["run_id"][:8])
    assert shown.returncode == 0, shown.stderr
    assert "first" in shown.stdout and "second" in shown.stdout and "succeeded" in shown.stdout
    assert "result = 81" in shown.stdout
    as_json = json.loads(cli("runs", "show", result["run_id"], "--json").stdout)
    assert [n["node_id"] for n in as_json["nodes"]] == ["first", "second"]
    assert all(n["duration_s"] > 0 for n in as_json["nodes"])


def test_run_plain_output_shows_progress_and_a_final_table(small_workflow, workflow_home):
    done = cli("run", str(small_workflow))
    assert done.returncode == 0, done.stderr
    assert "first: running" in done.stdout and "second: succeeded" in done.stdout
    assert "result = 81" in done.stdout and "succeeded in" in done.stdout


def test_a_failed_run_exits_1_with_the_error(small_workflow, workflow_home):
    done = cli("run", str(small_workflow), "-p", "fail=true", "--json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "failed"
    assert result["nodes"]["first"]["error"]["evalue"] == "asked to fail"
    assert result["nodes"]["second"]["status"] == "skipped"
    plain = cli("run", str(small_workflow), "-p", "fail=true")
    assert plain.returncode == 1 and "RuntimeError: asked to fail" in plain.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "x=not-a-number"], '/inputs/x: expected an integer, got the string "not-a-number"'),
        (["-p", "nope=1"], "/inputs/nope: the workflow has no input 'nope'"),
        (["-p", "x"], "-p expects NAME=VALUE"),
    ],
)
def test_invalid_input_exits_2_without_a_traceback(small_workflow, workflow_home, args, message):
    done = cli("run", str(small_workflow), *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not workflow_home.runs_dir.exists()


def test_validate_lists_every_problem(tmp_path, small_workflow, workflow_home):
    assert cli("validate", str(small_workflow)).returncode == 0
    broken = json.loads(small_workflow.read_text())
    broken["nodes"]["second"]["parameters"]["y"] = 1
    broken["nodes"]["first"]["after"] = ["ghost"]
    broken["nodes"]["third"] = {"notebook": "../elsewhere.ipynb"}
    bad = write_workflow(tmp_path / "bad.workflow.json", broken)
    done = cli("validate", str(bad))
    assert done.returncode == 2 and "3 problems found" in done.stderr
    for pointer in ("/nodes/second/parameters/y", "/nodes/first/after/0", "/nodes/third/notebook"):
        assert pointer in done.stderr
    as_json = json.loads(cli("validate", str(bad), "--json").stdout)
    assert as_json["valid"] is False and len(as_json["errors"]) == 3
    missing = cli("validate", str(tmp_path / "missing.workflow.json"))
    assert missing.returncode == 2 and "cannot read the file" in missing.stderr


def test_inspect_shows_the_parameter_schema(small_workflow):
    notebook = small_workflow.parent / "square.ipynb"
    done = cli("inspect", str(notebook))
    assert done.returncode == 0
    assert "the number to square" in done.stdout and "integer" in done.stdout and "square" in done.stdout
    schema = json.loads(cli("inspect", str(notebook), "--json").stdout)
    assert schema["parameters"]["x"] == {
        "name": "x", "type": "integer", "type_declared": True, "accepts": ["integer"], "default": 2, "default_source": "2",
        "default_is_expression": False, "annotation": "int", "nullable": False, "help": "the number to square",
    }
    assert schema["outputs"] == {"square": {"type": "integer"}}
    not_a_notebook = cli("inspect", str(small_workflow))
    assert not_a_notebook.returncode == 2 and "not a notebook" in not_a_notebook.stderr


def test_graph_in_dot_and_mermaid_coloured_by_a_run(small_workflow, workflow_home):
    dot = cli("graph", str(small_workflow), "--format", "dot")
    assert dot.returncode == 0 and "first -> second;" in dot.stdout
    run_id = json.loads(cli("run", str(small_workflow), "-p", "fail=true", "--json").stdout)["run_id"]
    coloured = cli("graph", str(small_workflow), "--run", run_id, "--format", "mermaid")
    assert coloured.returncode == 0
    assert "first --> second" in coloured.stdout
    assert ":::failed" in coloured.stdout and ":::skipped" in coloured.stdout and "classDef failed" in coloured.stdout
    unknown = cli("graph", str(small_workflow), "--run", "feedface")
    assert unknown.returncode == 2 and "feedface" in unknown.stderr


def test_the_db_flag_beats_the_environment(small_workflow, workflow_home, tmp_path):
    other = f"sqlite:///{tmp_path / 'other.db'}"
    assert cli("--db", other, "run", str(small_workflow), "--json").returncode == 0
    assert "squares" in cli("--db", other, "runs", "list").stdout
    assert cli("runs", "list").stdout.strip() == "no runs yet"


def test_sigterm_cancels_the_run_and_kills_its_kernels(tmp_path, workflow_home):
    import signal
    import time

    path, pid_file = hanging_workflow(tmp_path), tmp_path / "hang.pid"
    process = subprocess.Popen([str(JUPYTER), "workflow", "run", str(path), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert pid_file.exists(), process.stderr.read() if process.poll() is not None else "the node never started"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130 and "cancelled" in stderr
    runs = json.loads(cli("runs", "list", "--json").stdout)
    assert [r["status"] for r in runs] == ["cancelled"]
    shown = json.loads(cli("runs", "show", runs[0]["id"], "--json").stdout)
    assert shown["nodes"][0]["status"] == "cancelled"
    assert process_gone(int(pid_file.read_text()))
