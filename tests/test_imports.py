"""What a fresh process imports: each command loads only what it uses (speed lives in ``make bench``)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

import jupyter_workflow.engine
from jupyter_workflow.engine.state import NodeState, RunState
from jupyter_workflow.events import NodeStatus, RunStatus
from jupyter_workflow.model.kernels import installed_kernels
from jupyter_workflow.model.spec import load_json, parse_workflow
from jupyter_workflow.store import RunStore

EXAMPLE = Path(__file__).resolve().parent.parent / "notebooks" / "reconcile.workflow.json"
ENGINE = ["jupyter_workflow.engine.engine", "jupyter_workflow.engine.kernel_executor", "jupyter_workflow.engine.pool",
          "nbclient", "nbformat", "papermill", "jupyter_client", "zmq", "IPython"]
STORE = ["sqlalchemy", "alembic"]
IRI_GRAMMAR = "rfc3987_syntax"  # jsonschema's checker of the "iri" formats: a 1.5 s import

# Runs ``main(argv)`` as the console script does, then prints which of ``modules`` it loaded.
COMMAND_THEN_MODULES = """
import contextlib, io, json, sys
from jupyter_workflow.cli.main import main
with contextlib.redirect_stdout(io.StringIO()):
    try:
        code = main({argv!r})
    except SystemExit as exit:
        code = exit.code
print(json.dumps({{"code": code, "loaded": [m for m in {modules!r} if m in sys.modules]}}))
"""


def loaded_by(argv: list[str], modules: list[str]) -> list[str]:
    """Which of ``modules`` a fresh process has loaded once ``jupyter workflow ARGV`` is done; it must succeed."""
    code = COMMAND_THEN_MODULES.format(argv=argv, modules=modules)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["code"] == 0, done.stderr
    return result["loaded"]


@pytest.fixture
def stored_run(workflow_home, tmp_path) -> str:
    """The id of a finished run of the example workflow, in the test's store (created and migrated here)."""
    workflow = parse_workflow(load_json(EXAMPLE.read_text(encoding="utf-8")), EXAMPLE.parent, EXAMPLE)
    run = RunState("0123456789abcdef0123456789abcdef", workflow, {}, tmp_path / "runs" / "r", trigger="cli",
                   status=RunStatus.SUCCEEDED, nodes={node_id: NodeState(node_id, NodeStatus.SUCCEEDED)
                                                      for node_id in workflow.nodes})
    store = RunStore(workflow_home.db_url)
    try:
        store.begin(run)
    finally:
        store.close()
    return run.run_id


def test_help_loads_neither_the_engine_nor_the_store_nor_the_settings():
    assert loaded_by(["--help"], [*ENGINE, *STORE, "jsonschema", "traitlets", "asyncio"]) == []


@pytest.mark.parametrize("command", [["runs", "list"], ["runs", "show", "0123456789ab"]])
def test_reading_runs_loads_no_engine_no_schema_and_no_migrations(stored_run, command):
    assert loaded_by(command, [*ENGINE, "jsonschema", "alembic"]) == []


@pytest.mark.parametrize("extra", [[], ["--run", "0123456789ab"]])
def test_graph_loads_no_engine_and_no_iri_grammar(stored_run, extra):
    assert loaded_by(["graph", str(EXAMPLE), *extra], [*ENGINE, IRI_GRAMMAR]) == []


def test_validate_loads_no_engine_no_store_and_no_iri_grammar():
    assert loaded_by(["validate", str(EXAMPLE)], [*ENGINE, *STORE, IRI_GRAMMAR]) == []


def test_the_engine_loads_jsonschema_without_the_iri_grammar():
    code = f"from jupyter_workflow.engine import Engine; import sys; print({IRI_GRAMMAR!r} in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.split() == ["False"]


def test_iri_formats_are_still_checked_when_a_value_needs_it():
    code = (
        "import sys\nfrom jupyter_workflow.model.validation import value_problems\n"
        "declaration = {'type': 'string', 'format': 'iri'}\n"
        f"print({IRI_GRAMMAR!r} in sys.modules)\n"
        "print(value_problems(declaration, 'https://example.org/caf\\u00e9', '/inputs/page') == [])\n"
        "print([problem.message for problem in value_problems(declaration, 'not an iri', '/inputs/page')])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.splitlines() == ["False", "True", "['\"not an iri\" is not a valid iri']"]


def test_every_name_the_engine_package_exports_resolves():
    for name in jupyter_workflow.engine.__all__:
        value = getattr(jupyter_workflow.engine, name)
        assert value.__name__ == name
    with pytest.raises(AttributeError, match="no attribute 'Engin'"):
        getattr(jupyter_workflow.engine, "Engin")


def test_kernelspec_names_are_those_jupyter_client_finds(tmp_path, monkeypatch):
    for folder, name in (("jupyter-path", "Julia-1.10"), ("ipython", "ir"), ("jupyter-path", "not-a-kernel")):
        spec = tmp_path / folder / "kernels" / name / ("kernel.json" if name != "not-a-kernel" else "README")
        spec.parent.mkdir(parents=True)
        spec.write_text(json.dumps({"argv": ["x"], "display_name": name, "language": "x"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter-path"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    expected = sorted(KernelSpecManager().find_kernel_specs())
    assert {"julia-1.10", "ir"} <= set(expected) and "not-a-kernel" not in expected
    assert installed_kernels() == expected


def test_the_statuses_and_events_cost_no_more_than_the_runtime():
    modules = [*ENGINE, *STORE, "jsonschema", "traitlets", "jupyter_workflow.model"]
    code = f"import sys, jupyter_workflow.events\nprint([m for m in {modules!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
