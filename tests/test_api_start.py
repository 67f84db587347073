"""``api.start``: a run in the background, with uploaded files, listeners, cancelling, and the runs of a workflow."""

import json
import threading
from pathlib import Path

import pytest
from notebook_factory import hanging_workflow, make_notebook, write_workflow

from jupyter_workflow import api
from jupyter_workflow.model import InvalidWorkflow
from jupyter_workflow.model.validation import checked_workflow
from labsession import wait_until

pytestmark = pytest.mark.kernels


def count_lines_workflow(folder: Path) -> Path:
    make_notebook(folder / "count.ipynb", 'path = ""  # a text file', "from jupyter_workflow import record\n"
                  "from pathlib import Path\nrecord('lines', len(Path(path).read_text().splitlines()))")
    return write_workflow(folder / "count.workflow.json", {
        "format": "jupyter-workflow/1", "name": "count",
        "inputs": {"data": {"type": "string", "format": "file", "accept": ".txt"}},
        "nodes": {"count": {"notebook": "count.ipynb", "parameters": {"path": {"input": "data"}}}},
        "outputs": {"lines": {"output": "count.lines"}},
    })


def json_document(path: Path) -> dict:
    return json.loads(path.read_text())


class Heard:
    """A listener noting which thread hears the events, and their types."""

    def __init__(self):
        self.threads, self.types = set(), []

    def begin(self, run):
        self.threads.add(threading.get_ident())

    def record(self, run, event):
        self.threads.add(threading.get_ident())
        self.types.append(event.type)


def test_an_uploaded_file_is_kept_in_the_run_folder_and_passed_as_a_path(tmp_path, workflow_home):
    heard = Heard()
    handle = api.start(count_lines_workflow(tmp_path), files={"data": ("../notes.txt", b"one\ntwo\nthree\n")},
                       trigger="form", user="ada", listeners=[heard])
    run = handle.result(timeout=120)

    assert run.status == "succeeded" and run.outputs == {"lines": 3}
    kept = Path(run.inputs["data"])
    assert kept == workflow_home.runs_dir.resolve() / run.run_id / "uploads" / "data" / "notes.txt"
    assert kept.read_bytes() == b"one\ntwo\nthree\n"
    assert heard.types[0] == "run.started" and heard.types[-1] == "run.finished"
    assert threading.get_ident() not in heard.threads  # the session's thread, not the caller's
    [listed] = api.list_runs("count")
    assert (listed.id, listed.trigger, listed.user, listed.status) == (run.run_id, "form", "ada", "succeeded")


def test_start_refuses_bad_inputs_before_anything_runs(tmp_path, workflow_home):
    with pytest.raises(InvalidWorkflow, match="input 'data' is required"):
        api.start(count_lines_workflow(tmp_path))
    assert api.list_runs("count") == []


def test_an_upload_for_an_input_the_workflow_lacks_is_refused_and_nothing_is_written(tmp_path, workflow_home):
    workflow = checked_workflow(json_document(count_lines_workflow(tmp_path)), tmp_path)
    with pytest.raises(InvalidWorkflow, match="no input '../escape' to upload a file to"):
        api.start(workflow, files={"data": ("a.txt", b"1"), "../escape": ("a.txt", b"1")})
    assert not workflow_home.runs_dir.exists() or not any(workflow_home.runs_dir.rglob("a.txt"))


def test_a_refused_run_keeps_none_of_its_uploads(tmp_path, workflow_home, monkeypatch):
    def refuse(*args, **kwargs):
        raise InvalidWorkflow([], None)

    monkeypatch.setattr("jupyter_workflow.runner.Runner.new_run", refuse)
    with pytest.raises(InvalidWorkflow):
        api.start(count_lines_workflow(tmp_path), files={"data": ("notes.txt", b"1")})
    assert not workflow_home.runs_dir.exists() or not any(workflow_home.runs_dir.rglob("notes.txt"))


def test_a_run_cancelled_as_soon_as_started_is_stored_cancelled(tmp_path, workflow_home):
    handle = api.start(hanging_workflow(tmp_path, running=("hang",), waiting=("after",)))
    handle.cancel()
    run = handle.result(timeout=60)
    assert run.status == "cancelled" and handle.error() is None
    assert {node.status for node in run.nodes.values()} == {"cancelled"}
    [stored] = api.list_runs("hang", 1)
    assert (stored.id, stored.status) == (run.run_id, "cancelled")


def test_a_started_run_is_cancelled_from_another_thread(tmp_path, workflow_home):
    handle = api.start(hanging_workflow(tmp_path, running=("hang",), waiting=("after",)))
    wait_until(lambda: (tmp_path / "hang.pid").exists(), 120, "the hanging node to start")
    assert not handle.done()
    threading.Thread(target=handle.cancel).start()
    run = handle.result(timeout=60)
    assert run.status == "cancelled"
    assert {node.status for node in run.nodes.values()} == {"cancelled"}
    assert api.list_runs("hang", 1)[0].status == "cancelled"  # stored before the end is told


def test_an_in_memory_workflow_runs_from_its_root(tmp_path, workflow_home):
    make_notebook(tmp_path / "double.ipynb", "x = 1", "from jupyter_workflow import record\nrecord('y', x * 2)")
    workflow = checked_workflow({"format": "jupyter-workflow/1", "name": "double",
                                 "nodes": {"double": {"notebook": "double.ipynb", "parameters": {"x": 21}}}}, tmp_path)
    run = api.start(workflow, user=None).result(timeout=120)
    assert run.nodes["double"].outputs == {"y": 42}
    assert run.user == api.current_user()


def test_the_current_user_is_jupyterhubs_when_there_is_one(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "grace")
    assert api.current_user() == "grace"
