"""What the command line tells a person: failures in a few lines, retries, a workflow's inputs, filters."""

import io
import json
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook
from notebook_factory import make_notebook, write_workflow

from jupyter_workflow.cli.display import Progress
from jupyter_workflow.engine.state import NodeState, RunState
from jupyter_workflow.events import Event, NodeStatus, RunStatus, now
from jupyter_workflow.model import parse_workflow

pytestmark = pytest.mark.kernels

JUPYTER = Path(sys.executable).parent / "jupyter"
RECORD = "from jupyter_workflow import record\n"


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([str(JUPYTER), "workflow", *args], capture_output=True, text=True, timeout=300)


def test_a_failed_run_says_what_failed_where_and_what_the_other_nodes_made(tmp_path, workflow_home):
    make_notebook(tmp_path / "report.ipynb", "", RECORD + "record('report', 'report.csv')")
    body = "print('checking')\ntotal = 1\ncount = 2\nratio = total / count\nlimit = 0.1\n" \
           "raise ValueError(f'ratio {ratio} above {limit}')\nprint('never')"
    nbformat.write(
        new_notebook(
            cells=[new_code_cell("limit = 0.1", metadata={"tags": ["parameters"]}), new_code_cell(body)],
            metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        ),
        tmp_path / "check.ipynb",
    )
    path = write_workflow(
        tmp_path / "w.workflow.json",
        {"format": "jupyter-workflow/1", "nodes": {"report": {"notebook": "report.ipynb"},
                                                    "check": {"notebook": "check.ipynb", "after": ["report"]}}},
    )
    done = cli("run", str(path))

    assert done.returncode == 1
    out = done.stdout
    assert "check failed: ValueError: ratio 0.5 above 0.1" in out
    assert "  in cell [2]:\n    print('checking')" in out  # the failing cell's first lines
    assert "--> raise ValueError(f'ratio {ratio} above {limit}')" in out  # and the line that failed
    notebook = re.search(r"executed notebook: (\S+check\.ipynb)", out).group(1)
    assert Path(notebook).is_file()
    assert 'report.report = "report.csv"' in out  # what the succeeded node recorded
    assert "Traceback (most recent call last)" not in out and "--verbose" in out
    run_id = re.search(r"run ([0-9a-f]{32}) failed", out).group(1)

    verbose = cli("run", str(path), "--verbose")
    assert verbose.returncode == 1 and "Traceback (most recent call last)" in verbose.stdout
    shown = cli("runs", "show", run_id[:10])
    assert shown.returncode == 0 and "Traceback (most recent call last)" in shown.stdout
    assert 'report.report = "report.csv"' in shown.stdout


def test_a_node_waiting_to_retry_says_when_and_why(tmp_path, workflow_home):
    make_notebook(tmp_path / "flaky.ipynb", "", "raise RuntimeError('database busy\\ntry later')")
    path = write_workflow(
        tmp_path / "w.workflow.json",
        {"format": "jupyter-workflow/1",
         "nodes": {"flaky": {"notebook": "flaky.ipynb", "retries": 1, "retry_delay": 2}}},
    )
    done = cli("run", str(path))

    assert done.returncode == 1
    assert re.search(r"flaky: retrying in [12] s \(attempt 2 of 2\) after RuntimeError: database busy\n", done.stdout)


def test_run_file_help_lists_the_workflows_inputs(tmp_path):
    make_notebook(tmp_path / "one.ipynb", "x = 1", "")
    path = write_workflow(
        tmp_path / "w.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "inputs": {
                "month": {"type": "string", "format": "date", "title": "Month", "description": "first day"},
                "threshold": {"type": "number", "default": 0.9, "minimum": 0, "maximum": 1},
                "mode": {"type": "string", "enum": ["fast", "full"], "default": "fast"},
                "token": {"type": "string", "secret": True},
                "tags": {"type": "array", "items": {"type": "string"}, "default": []},
            },
            "nodes": {"a": {"notebook": "one.ipynb"}},
        },
    )
    done = cli("run", str(path), "--help")

    assert done.returncode == 0 and "usage: jupyter workflow run" in done.stdout
    rows = {line.split()[0]: line for line in done.stdout.split("(-p NAME=VALUE):\n", 1)[1].splitlines()[1:]}
    assert re.match(r"month +string +\(required\) +Month: first day \(format date\)$", rows["month"])
    assert re.match(r"threshold +number +0\.9 +\(at least 0, at most 1\)$", rows["threshold"])
    assert re.match(r'mode +string +"fast" +\(one of "fast", "full"\)$', rows["mode"])
    assert re.match(r"token +string +\(required\) +\(secret\)$", rows["token"])
    assert re.match(r"tags +array +\[\] +\(a list of strings\)$", rows["tags"])
    unreadable = cli("run", str(tmp_path / "missing.workflow.json"), "--help")
    assert unreadable.returncode == 0 and "cannot list its inputs (No such file or directory)" in unreadable.stdout


def test_runs_list_says_when_no_run_matches_and_refuses_unknown_statuses(tmp_path, workflow_home):
    make_notebook(tmp_path / "one.ipynb", "x = 1", "")
    path = write_workflow(tmp_path / "w.workflow.json", {"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "one.ipynb"}}})
    assert cli("runs", "list").stdout.strip() == "no runs yet"
    assert cli("run", str(path)).returncode == 0

    failed = cli("runs", "list", "--status", "failed")
    assert failed.returncode == 0 and failed.stdout.strip() == "no runs match status failed"
    bogus = cli("runs", "list", "--status", "bogus")
    assert bogus.returncode == 2 and "Traceback" not in bogus.stderr
    listed = ", ".join(repr(status.value) for status in RunStatus)
    assert f"invalid choice: 'bogus' (choose from {listed})" in bogus.stderr
    succeeded = json.loads(cli("runs", "list", "--status", "succeeded", "--json").stdout)
    assert [run["status"] for run in succeeded] == ["succeeded"]


def test_the_live_table_counts_down_a_retry_and_shows_the_last_error(tmp_path):
    workflow = parse_workflow({"format": "jupyter-workflow/1", "nodes": {"flaky": {"notebook": "x.ipynb"}}}, tmp_path)
    run = RunState("r1", workflow, {}, tmp_path, nodes={"flaky": NodeState("flaky", NodeStatus.QUEUED, attempt=1)})
    stream = io.StringIO()
    progress = Progress(stream, live=True)
    progress.begin(run)
    retry = {"from": "running", "to": "queued", "retry_in_s": 30, "retry_at": (now() + timedelta(seconds=30)).isoformat(),
             "next_attempt": 2, "attempts": 3, "error": {"ename": "RuntimeError", "evalue": "busy\nsecond line"}}
    progress.record(run, Event("node.status.changed", "r1", "flaky", retry))

    drawn = stream.getvalue().rsplit("last error\n", 1)[1]
    assert re.match(r"flaky +retrying in (29|30) s \(attempt 2 of 3\) +1 +RuntimeError: busy\n", drawn)
    run.nodes["flaky"].status = NodeStatus.RUNNING
    progress.record(run, Event("node.status.changed", "r1", "flaky", {"from": "queued", "to": "running"}))
    redrawn = re.sub(r"\x1b\[[0-9;]*m", "", stream.getvalue().rsplit("last error\n", 1)[1])
    assert re.match(r"flaky +running +1 *\n", redrawn)
