"""Secret inputs: the node gets the value; the store, the events, the executed notebooks and the messages never do."""

import json
import sqlite3

import pytest
from notebook_factory import make_notebook, write_workflow

import jupyter_workflow
from jupyter_workflow.engine.parameters import WorkflowPythonTranslator
from jupyter_workflow.model import InvalidWorkflow, load_workflow
from jupyter_workflow.model.validation import check_inputs, validate_document
from jupyter_workflow.runner import CannotRetry
from jupyter_workflow.runtime.secrets import SecretRef

PASSWORD = "hunter2-Secret-Value"


def login_workflow(folder, **declaration):
    """``login``: a node whose ``password`` parameter takes the secret input; it records what it got, hashed."""
    make_notebook(
        folder / "login.ipynb",
        'user = "ada"\npassword = ""  # the password',
        "import hashlib\nfrom jupyter_workflow import record\nfrom jupyter_workflow.runtime import secret\nrecord('digest', hashlib.sha256(password.encode()).hexdigest())\n"
        "record('same_again', password == secret('password'))",
    )
    return write_workflow(folder / "login.workflow.json", {
        "format": "jupyter-workflow/1",
        "name": "login",
        "inputs": {"password": {"type": "string", "secret": True, **declaration}, "user": {"type": "string", "default": "ada"}},
        "nodes": {"login": {"notebook": "login.ipynb", "parameters": {"password": {"input": "password"}, "user": {"input": "user"}},
                            "cache": True}},
    })


def test_the_injected_cell_reads_a_secret_in_the_kernel_and_writes_no_value():
    source = WorkflowPythonTranslator.codify({"password": SecretRef("password"), "n": 1})
    assert "from jupyter_workflow.runtime import secret" in source
    assert "password = secret('password')" in source
    assert json.dumps({"password": SecretRef("password")}) == '{"password": "<secret password>"}'


@pytest.mark.kernels
def test_a_secret_reaches_the_node_and_nothing_that_is_kept(tmp_path, workflow_home):
    import hashlib

    path = login_workflow(tmp_path)
    run = jupyter_workflow.run(path, {"password": PASSWORD})

    assert run.status == "succeeded", run.error
    assert run.nodes["login"].outputs["digest"] == hashlib.sha256(PASSWORD.encode()).hexdigest()
    assert run.nodes["login"].outputs["same_again"] is True
    assert "password" not in run.inputs and run.inputs == {"user": "ada"}
    # the store (every table), the executed notebooks and every file of the run
    database = workflow_home.db_url.removeprefix("sqlite:///")
    dump = "\n".join(sqlite3.connect(database).iterdump())
    assert PASSWORD not in dump and "hunter2" not in dump
    kept = [p for p in workflow_home.runs_dir.rglob("*") if p.is_file()]
    assert any(p.suffix == ".ipynb" for p in kept)
    assert not [p for p in kept if PASSWORD.encode() in p.read_bytes()]
    notebook = json.loads(next(p for p in kept if p.name == "login.ipynb").read_text())
    assert "password = secret('password')" in "".join("".join(c["source"]) for c in notebook["cells"])


@pytest.mark.kernels
def test_a_node_taking_a_secret_is_not_cached_and_its_run_cannot_be_retried(tmp_path, workflow_home):
    path = login_workflow(tmp_path)
    first = jupyter_workflow.run(path, {"password": PASSWORD})
    second = jupyter_workflow.run(path, {"password": "another one"})
    assert (first.nodes["login"].status, second.nodes["login"].status) == ("succeeded", "succeeded")
    assert first.nodes["login"].outputs["digest"] != second.nodes["login"].outputs["digest"]
    with pytest.raises(CannotRetry, match=r"secret inputs \(password\), which are not stored"):
        jupyter_workflow.retry(first.run_id)


def test_messages_about_a_secret_value_do_not_show_it():
    _, problems = check_inputs({"password": {"type": "string", "secret": True, "format": "email", "enum": ["x@y.z"]}},
                               {"password": PASSWORD})
    assert problems and all(PASSWORD not in problem.message for problem in problems)
    assert {p.message for p in problems} == {"the value is not a valid email", 'must be one of "x@y.z", got a secret value'}


def test_a_secret_may_not_be_an_output_reach_another_language_or_have_a_default(tmp_path):
    make_notebook(tmp_path / "r.ipynb", 'password <- ""', kernel="ir")
    make_notebook(tmp_path / "py.ipynb", 'password = ""')
    document = {
        "format": "jupyter-workflow/1",
        "inputs": {"password": {"type": "string", "secret": True, "default": "letmein"},
                   "notes": {"type": "number", "multiline": True}, "tags": {"type": "string", "items": {"type": "string"}}},
        "nodes": {"r": {"notebook": "r.ipynb", "parameters": {"password": {"input": "password"}}},
                  "py": {"notebook": "py.ipynb", "parameters": {"password": {"input": "password"}}}},
        "outputs": {"leak": {"input": "password"}},
    }
    problems = {(p.pointer, p.message) for p in validate_document(document, tmp_path) if "kernel" not in p.message}
    assert ("/outputs/leak/input", "a secret input cannot be a workflow output: outputs are stored with the run") in problems
    assert ("/nodes/r/parameters/password/input", "a secret input reaches Python notebooks only; 'r.ipynb' is R") in problems
    assert ("/inputs/password/default",
            "a secret input's default would be stored with the workflow: leave it out (or make it \"\")") in problems
    assert ("/inputs/notes/multiline", "'multiline' needs \"type\": \"string\" on the input") in problems
    assert ("/inputs/tags/items", "'items' needs \"type\": \"array\" on the input") in problems
    assert not [p for p in problems if p[0].startswith("/nodes/py")]


def test_a_missing_secret_is_refused_before_anything_runs(tmp_path, workflow_home):
    with pytest.raises(InvalidWorkflow, match="input 'password' is required"):
        load_workflow(login_workflow(tmp_path), inputs={})
