"""``jupyter workflow app FILE``: the app notebook that shows a workflow's form."""

import shutil
from pathlib import Path

import nbformat
import pytest
from test_imports import ENGINE, IRI_GRAMMAR, STORE, loaded_by

from jupyter_workflow.cli.main import main

EXAMPLES = Path(__file__).parents[1] / "notebooks"


@pytest.fixture
def examples(tmp_path) -> Path:
    """A copy of the examples: apps are written beside the workflow."""
    shutil.copytree(EXAMPLES, tmp_path / "notebooks", ignore=shutil.ignore_patterns("apps"))
    return tmp_path / "notebooks"


def form_code(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    [cell] = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return cell.source


def test_the_default_app_is_beside_the_workflow_and_names_it_relatively(examples, capsys):
    assert main(["app", str(examples / "reconcile.workflow.json")]) == 0
    app = examples / "apps" / "reconcile.ipynb"
    assert str(app) in capsys.readouterr().out
    assert form_code(app) == 'from jupyter_workflow.widgets import WorkflowForm\n\nWorkflowForm("../reconcile.workflow.json")'


def test_an_output_elsewhere_gets_the_path_from_its_own_folder(examples, tmp_path):
    out = tmp_path / "site" / "pages" / "recon.ipynb"
    assert main(["app", str(examples / "reconcile.workflow.json"), "-o", str(out)]) == 0
    assert form_code(out).endswith('WorkflowForm("../../notebooks/reconcile.workflow.json")')


def test_an_existing_app_is_kept_unless_forced(examples, capsys):
    app = examples / "apps" / "reconcile.ipynb"
    app.parent.mkdir()
    app.write_text("mine")
    assert main(["app", str(examples / "reconcile.workflow.json")]) == 2
    assert "exists already" in capsys.readouterr().err and app.read_text() == "mine"
    assert main(["app", str(examples / "reconcile.workflow.json"), "--force"]) == 0
    assert "WorkflowForm" in form_code(app)


def test_an_existing_app_is_found_whatever_its_name(examples, capsys):
    out = examples / "apps" / "month-end.ipynb"
    assert main(["app", str(examples / "reconcile.workflow.json"), "-o", str(out)]) == 0
    assert main(["app", str(examples / "reconcile.workflow.json")]) == 2
    assert f"{out} exists already" in capsys.readouterr().err
    assert sorted(path.name for path in (examples / "apps").iterdir()) == ["month-end.ipynb"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read the file"), ("{", "not valid JSON"), ('{"format": "jupyter-workflow/1"}', "nodes")],
)
def test_a_missing_or_invalid_workflow_exits_2_and_writes_nothing(tmp_path, capsys, content, message):
    workflow = tmp_path / "bad.workflow.json"
    if content is not None:
        workflow.write_text(content)
    assert main(["app", str(workflow)]) == 2
    error = capsys.readouterr().err
    assert message in error and "Traceback" not in error
    assert not (tmp_path / "apps").exists()


def test_writing_an_app_loads_no_engine_no_store_and_no_iri_grammar(examples):
    engine = [module for module in ENGINE if module != "nbformat"]  # the notebook is written with nbformat
    assert loaded_by(["app", str(examples / "reconcile.workflow.json")], [*engine, *STORE, IRI_GRAMMAR]) == []
