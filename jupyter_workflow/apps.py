"""App notebooks: one code cell that shows a workflow's form, ready for Voilà or JupyterLab.

``jupyter workflow app FILE`` and the server's ``POST /workflow/api/apps`` both write
them here, so that an app made either way is the same notebook.
"""

import json
import os
from pathlib import Path

from jupyter_workflow.model.schema import import_jsonschema

import_jsonschema()  # before nbformat imports it, at full cost (see model/schema.py)
import nbformat  # noqa: E402

SUFFIX = ".workflow.json"


class AppExists(FileExistsError):
    """An app notebook is already there and overwriting it was not asked for."""


METADATA_KEY = "jupyter_workflow"  # an app notebook's metadata: {"app_of": the workflow, relative to it}


def find_app(workflow_path: Path) -> Path | None:
    """An app notebook in ``apps/`` beside the workflow file that shows this workflow, whatever its name."""
    target = workflow_path.resolve()
    for candidate in sorted((workflow_path.parent / "apps").glob("*.ipynb")):
        try:
            notebook = nbformat.read(candidate, as_version=4)
        except (OSError, ValueError):  # not a notebook, or not one nbformat reads
            continue
        app_of = notebook.metadata.get(METADATA_KEY, {}).get("app_of")
        if isinstance(app_of, str) and (candidate.parent / app_of).resolve() == target:
            return candidate
    return None


def default_app_path(workflow_path: Path) -> Path:
    """The workflow's app: the one found by :func:`find_app`, else ``apps/<stem>.ipynb`` next to the workflow file.

    ``<stem>`` is the file's name without ``.workflow.json``.
    """
    name = workflow_path.name
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else workflow_path.stem
    return find_app(workflow_path) or workflow_path.parent / "apps" / f"{stem}.ipynb"


def app_notebook(workflow_path: str) -> nbformat.NotebookNode:
    """The app notebook of the workflow at ``workflow_path`` (relative to the notebook); the form shows its title."""
    literal = json.dumps(workflow_path, ensure_ascii=False)  # a JSON string is a Python string literal too
    code = f"from jupyter_workflow.widgets import WorkflowForm\n\nWorkflowForm({literal})"
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(code)],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
            METADATA_KEY: {"app_of": workflow_path},
        },
    )
    notebook.cells[0].id = "form"  # an id that stays put: writing the same app twice gives the same file
    return notebook


def write_app(workflow_path: Path, out: Path | None = None, force: bool = False) -> Path:
    """Write the app notebook of a valid workflow file to ``out`` (default: :func:`default_app_path`).

    Raises :class:`~jupyter_workflow.model.problems.InvalidWorkflow` for a missing or
    invalid workflow and :class:`AppExists` if ``out`` exists and ``force`` is false.
    """
    from jupyter_workflow.model import load_workflow

    load_workflow(workflow_path)
    out = out or default_app_path(workflow_path)
    if out.exists() and not force:
        raise AppExists(f"{out} exists already (--force overwrites it)")
    relative = Path(os.path.relpath(workflow_path.resolve(), out.parent.resolve())).as_posix()
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(app_notebook(relative), out)
    return out
