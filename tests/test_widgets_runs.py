"""Runs started from the forms, with real kernels: progress, results, failures, cancel, past runs."""

import asyncio
import base64
import re
import sqlite3
from datetime import datetime, timezone

import pytest
from notebook_factory import hanging_workflow, make_notebook, write_workflow
from widget_helpers import every_kind_workflow, until, uploaded

from jupyter_workflow import api
from jupyter_workflow.widgets import ComponentForm, WorkflowForm

pytestmark = pytest.mark.kernels

RUN_TIMEOUT = 120


def table_workflow(folder):
    """``make`` reads the uploaded file and records a table of ``rows`` rows; ``total`` sums it."""
    make_notebook(folder / "make.ipynb", "rows = 3\ndata = ''", (
        "import pandas\nfrom jupyter_workflow import record\n"
        "record('table', pandas.DataFrame({'n': range(rows)}))\n"
        "record('lines', len(open(data).read().splitlines()))"))
    make_notebook(folder / "total.ipynb", "table = None", (
        "from jupyter_workflow import record\nrecord('total', int(table['n'].sum()))"))
    return write_workflow(folder / "table.workflow.json", {
        "format": "jupyter-workflow/1",
        "name": "table",
        "inputs": {"rows": {"type": "integer", "minimum": 1, "default": 3},
                   "data": {"type": "string", "format": "file", "accept": ".csv"}},
        "nodes": {
            "make": {"notebook": "make.ipynb", "title": "Make the table",
                     "parameters": {"rows": {"input": "rows"}, "data": {"input": "data"}}},
            "total": {"notebook": "total.ipynb", "parameters": {"table": {"output": "make.table"}}},
        },
        "outputs": {"table": {"output": "make.table"}, "lines": {"output": "make.lines"},
                    "total": {"output": "total.total"}},
    })


def classes(widget) -> set[str]:
    return set(widget._dom_classes)


def output(form, name) -> str:
    return next(child.value for child in form.results.children if f"jw-output-{name}" in child._dom_classes)


def finished(form) -> bool:
    return not form.running and bool(form.results.children)


def test_a_run_from_the_form_shows_progress_results_and_past_runs(tmp_path, workflow_home):
    path = table_workflow(tmp_path)

    async def scenario():
        form = WorkflowForm(path)
        form.fields["rows"].control.value = 25
        form.fields["data"].control.value = uploaded("in.csv", b"a\nb\n")
        form.run_button.click()
        assert form.run_button.disabled
        progress = form.progress.children[0]
        make = progress.rows["make"]
        await until(lambda: "jw-state-running" in classes(make), RUN_TIMEOUT, "make running")
        assert make.bar.bar_style == "info" and "jw-state-running" in classes(progress.status)
        assert not form.cancel_button.disabled
        await until(lambda: finished(form), RUN_TIMEOUT, "the end of the run")
        for node_id, row in progress.rows.items():
            assert "jw-state-succeeded" in classes(row), node_id
            assert row.bar.bar_style == "success" and row.elapsed.value.endswith("s")
        assert "jw-state-succeeded" in classes(progress.status)
        assert "Make the table" in make.children[0].value
        table = output(form, "table")
        assert "25 rows, the first 20 shown" in table
        csv = re.search(r'download="table.csv" href="data:text/csv;base64,([^"]+)"', table).group(1)
        assert base64.b64decode(csv).decode().split() == ["n", *map(str, range(25))]
        assert output(form, "lines").endswith(">2</span>") and output(form, "total").endswith(">300</span>")
        assert form.cancel_button.disabled and not form.run_button.disabled

        [record] = api.list_runs("table")
        assert (record.trigger, record.status, record.inputs["rows"]) == ("form", "succeeded", 25)
        assert record.inputs["data"].endswith("/uploads/data/in.csv")
        await until(lambda: len(form.history.children) == 2, 10, "the run in the past runs")
        form.fields["rows"].control.value = 7
        form.history.children[1].children[0].click()  # "Use these values"
        assert form.fields["rows"].read() == 25 and form.fields["data"].read() == record.inputs["data"]
        assert not form.run_button.disabled  # the earlier upload stands for the file

    asyncio.run(scenario())


def test_a_failing_node_is_one_sentence_with_its_traceback_and_notebook(tmp_path, workflow_home):
    make_notebook(tmp_path / "match.ipynb", "left = 1", "raise ValueError('no rows to match')")
    path = write_workflow(tmp_path / "fail.workflow.json", {
        "format": "jupyter-workflow/1",
        "nodes": {"match": {"notebook": "match.ipynb", "title": "Match"}},
    })

    async def scenario():
        form = WorkflowForm(path)
        form.run_button.click()
        await until(lambda: finished(form), RUN_TIMEOUT, "the end of the run")
        progress = form.progress.children[0]
        assert "jw-state-failed" in classes(progress.rows["match"]) and "jw-state-failed" in classes(progress.status)
        assert progress.rows["match"].bar.bar_style == "danger"
        [failure] = form.results.children
        assert "jw-failure" in failure._dom_classes
        assert "The node “Match” failed: ValueError: no rows to match</p>" in failure.value
        assert "<summary>Details</summary>" in failure.value and "Traceback" in failure.value
        assert re.search(r'Executed notebook: <code>[^<]+match\.ipynb</code> <a class="jw-download" '
                         r'download="match.ipynb"', failure.value)

    asyncio.run(scenario())


def test_cancel_stops_the_run_and_the_loop_stays_free_meanwhile(tmp_path, workflow_home):
    path = hanging_workflow(tmp_path)

    async def scenario():
        form = WorkflowForm(path)
        assert form.cancel_button.disabled
        form.run_button.click()
        hang = form.progress.children[0].rows["hang"]
        turns = 0

        async def other_work():  # what else the kernel's loop does: it goes on while the node runs
            nonlocal turns
            while True:
                await asyncio.sleep(0.01)
                turns += 1

        other = asyncio.ensure_future(other_work())
        await until(lambda: "jw-state-running" in classes(hang), RUN_TIMEOUT, "the node running")
        await until(lambda: not form.cancel_button.disabled, 10, "Cancel enabled")
        before = turns
        await until(lambda: turns >= before + 20, RUN_TIMEOUT, "the loop's other work to go on")
        assert "jw-state-running" in classes(hang)  # the node hangs until cancelled: the run never held the loop
        other.cancel()
        form.cancel_button.click()
        await until(lambda: finished(form), RUN_TIMEOUT, "the end of the run")
        assert "jw-state-cancelled" in classes(hang)
        assert "jw-state-cancelled" in classes(form.progress.children[0].status)
        assert "jw-cancelled" in form.results.children[0]._dom_classes
        assert form.cancel_button.disabled and not form.run_button.disabled
        assert api.list_runs("hang")[0].status == "cancelled"

    asyncio.run(scenario())


def test_a_component_form_runs_its_notebook_and_shows_every_recorded_output(tmp_path, workflow_home):
    notebook = make_notebook(
        tmp_path / "double.ipynb", "n: int = 2  # the number\nbase = len('ab')",
        "from jupyter_workflow import record\nrecord('double', n * 2)\nrecord('base', base)",
        metadata={"jupyter_workflow": {"outputs": {"double": {"type": "integer"}},
                                       "parameters": {"n": {"minimum": 0}}}},
    )

    async def scenario():
        form = ComponentForm(notebook)
        form.fields["n"].control.value = 21
        form.run_button.click()
        await until(lambda: finished(form), RUN_TIMEOUT, "the end of the run")
        assert "jw-state-succeeded" in classes(form.progress.children[0].rows["component"])
        assert output(form, "double").endswith(">42</span>")
        assert output(form, "base").endswith(">2</span>")  # the expression default, evaluated by the notebook
        [record] = api.list_runs("double")
        assert (record.trigger, record.inputs) == ("form", {"n": 21})

    asyncio.run(scenario())


def test_a_secret_typed_in_the_form_reaches_the_node_but_not_the_store_nor_a_rerun(tmp_path, workflow_home):
    password = "hunter2-Form-Secret"
    path = every_kind_workflow(tmp_path)

    async def scenario():
        form = WorkflowForm(path)
        form.fields["name"].control.value = "Ann"
        form.fields["at"].control.value = datetime(2026, 10, 1, 9, 30, tzinfo=timezone.utc)
        form.fields["password"].control.value = password
        form.fields["data"].control.value = uploaded("a.csv", b"1")
        form.run_button.click()
        assert form.fields["password"].control.value == ""  # read, then gone from the page
        await until(lambda: finished(form), RUN_TIMEOUT, "the end of the run")
        assert output(form, "greeting").endswith(f">hello Ann ({len(password)} letters)</span>")

        [record] = api.list_runs("kinds")
        assert "password" not in record.inputs and record.inputs["at"] == "2026-10-01T09:30:00+00:00"
        dump = "\n".join(sqlite3.connect(workflow_home.db_url.removeprefix("sqlite:///")).iterdump())
        assert password not in dump
        assert not [p for p in workflow_home.runs_dir.rglob("*") if p.is_file() and password.encode() in p.read_bytes()]

        await until(lambda: len(form.history.children) == 2, 10, "the run in the past runs")
        form.history.children[1].children[0].click()  # "Use these values": the secret must be typed again
        assert form.fields["name"].read() == "Ann" and form.fields["password"].control.value == ""
        assert form.run_button.disabled and "required" in form.fields["password"].message.value

    asyncio.run(scenario())
