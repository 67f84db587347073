"""Build component notebooks and workflow files for tests.

Three functions, each returning the path it wrote (parent folders are created):

``make_notebook(path, parameters_source, body_source="", *, metadata=None, kernel="python3", language=None)``
    A valid nbformat v4 notebook (cells have ids; written with ``nbformat.write``).
    The first cell is a code cell tagged ``parameters`` holding ``parameters_source``
    (pass ``None`` for a notebook without a parameters cell); ``body_source``, when not
    empty, becomes a second code cell. ``metadata`` is merged into the notebook's
    top-level metadata, e.g. ``{"jupyter_workflow": {"outputs": {"table": {"type": "dataframe"}}}}``.
    ``kernel`` is the kernelspec name; the language follows from it for ``python3``
    (python) and ``ir`` (R), otherwise give ``language``.

``write_workflow(path, document)``
    ``document`` written as indented JSON (a ``*.workflow.json`` file).

``hanging_workflow(folder, running=("hang",), waiting=(), timeout=None)``
    ``folder/hang.workflow.json``, whose ``running`` nodes hang: each writes its kernel's
    pid to ``folder/<node>.pid``, then sleeps ten minutes (``timeout``: theirs, in
    seconds). The ``waiting`` nodes come after all of them. The notebook is ``folder/hang.ipynb``.

Example::

    make_notebook(tmp_path / "double.ipynb", "x: int = 1  # the number", "record('y', x * 2)",
                  metadata={"jupyter_workflow": {"outputs": {"y": {"type": "integer"}}}})
    write_workflow(tmp_path / "w.workflow.json",
                   {"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "double.ipynb"}}})
"""

import json
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

__all__ = ["hanging_workflow", "make_notebook", "write_workflow"]

HANG = "import os, pathlib, time\npathlib.Path(pid_file).write_text(str(os.getpid()))\ntime.sleep(600)"

_KERNELS = {
    "python3": ("Python 3 (ipykernel)", "python"),
    "ir": ("R", "R"),
}


def make_notebook(
    path,
    parameters_source: str | None,
    body_source: str = "",
    *,
    metadata: dict | None = None,
    kernel: str = "python3",
    language: str | None = None,
) -> Path:
    """Write a notebook whose first cell is tagged ``parameters``; see the module doc."""
    path = Path(path)
    display_name, default_language = _KERNELS.get(kernel, (kernel, "python"))
    language = language or default_language
    cells = []
    if parameters_source is not None:
        cells.append(new_code_cell(parameters_source, metadata={"tags": ["parameters"]}))
    if body_source:
        cells.append(new_code_cell(body_source))
    notebook = new_notebook(
        cells=cells,
        metadata={
            "kernelspec": {"name": kernel, "display_name": display_name, "language": language},
            "language_info": {"name": language},
            **(metadata or {}),
        },
    )
    nbformat.validate(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, str(path))
    return path


def write_workflow(path, document: dict) -> Path:
    """Write ``document`` as a JSON workflow file at ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return path


def hanging_workflow(folder, running=("hang",), waiting=(), timeout: float | None = None) -> Path:
    """A workflow of nodes that write their kernel's pid to ``<node>.pid`` and sleep; see the module doc."""
    folder = Path(folder)
    make_notebook(folder / "hang.ipynb", "pid_file = ''", HANG)
    settings = {} if timeout is None else {"timeout": timeout}
    nodes = {node: {"notebook": "hang.ipynb", "parameters": {"pid_file": str(folder / f"{node}.pid")}, **settings}
             for node in running}
    nodes.update({node: {"notebook": "hang.ipynb", "after": list(running)} for node in waiting})
    return write_workflow(folder / "hang.workflow.json", {"format": "jupyter-workflow/1", "nodes": nodes})
