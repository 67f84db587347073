"""The injected parameters cell: values stay data in every language we harden, papermill's registry untouched."""

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from papermill.parameterize import parameterize_notebook
from papermill.translators import PythonTranslator, papermill_translators

from jupyter_workflow.engine.parameters import find_translator, inject_parameters
from jupyter_workflow.runtime.artifacts import ArtifactRef

ATTACK = "$(run(`touch pwned`)) \"'’ \\ ${x}"


def cell(kernel: str, language: str, parameters: dict) -> str:
    return find_translator(kernel, language).codify(parameters, "Parameters")


def test_python_strings_are_exact_literals_and_artifacts_load():
    ref = ArtifactRef({"uri": "file:///tmp/t.parquet", "format": "parquet", "sha256": "0" * 64})
    source = cell("python3", "python", {"text": ATTACK, "table": ref})
    namespace = {}
    exec(source.replace("from jupyter_workflow.runtime import load_artifact", "load_artifact = dict"), namespace)
    assert namespace["text"] == ATTACK
    assert namespace["table"]["uri"] == "file:///tmp/t.parquet"
    assert "from jupyter_workflow.runtime import load_artifact" in source


def test_julia_strings_cannot_interpolate():
    source = cell("julia-1.10", "julia", {"text": ATTACK})
    assert '"\\$(run(`touch pwned`)) \\"' in source and "\\${x}" in source
    assert "$(" not in source.replace("\\$(", "")


def test_powershell_strings_are_verbatim():
    source = cell("pwsh", ".net-powershell", {"text": ATTACK})
    assert source.strip().endswith("$text = '$(run(`touch pwned`)) \"''’’ \\ ${x}'")


def test_other_kernels_get_papermills_translator_by_kernel_name_first():
    assert find_translator("ir", "R") is papermill_translators.find_translator("ir", "R")
    assert find_translator("pysparkkernel", "python") is PythonTranslator  # papermill's, by its kernel name


def notebook(*cells):
    """A Python notebook of ``cells``, with the metadata papermill sets as it reads one."""
    for cell in cells:
        cell.metadata.setdefault("tags", [])
    metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3"}, "language_info": {"name": "python"}, "papermill": {}}
    return new_notebook(cells=list(cells), metadata=metadata)


def shape(nb) -> list:
    """The notebook's cells (type, source, tags) and its papermill metadata: what injection changes."""
    return [(c.cell_type, c.source, c.metadata.get("tags")) for c in nb.cells], dict(nb.metadata.papermill)


@pytest.mark.parametrize("cells", [
    [new_markdown_cell("# title"), new_code_cell("x = 0", metadata={"tags": ["parameters"]}), new_code_cell("x + 1")],
    [new_code_cell("x + 1")],
    [new_code_cell("x = 0", metadata={"tags": ["parameters"]}), new_code_cell("x = 5", metadata={"tags": ["injected-parameters"]})],
], ids=["after the parameters cell", "no parameters cell", "an earlier injected cell"])
def test_the_cell_goes_where_papermill_puts_it_and_its_registry_is_left_alone(cells):
    parameters = {"x": 2, "flags": [True, None], "ratio": 1.5}  # values both translators write alike
    ours = inject_parameters(notebook(*copy.deepcopy(cells)), parameters, "python3")
    papermills = parameterize_notebook(notebook(*copy.deepcopy(cells)), parameters, kernel_name="python3")

    assert shape(ours) == shape(papermills)
    nbformat.validate(ours)
    assert papermill_translators.find_translator("python3", "python") is PythonTranslator
