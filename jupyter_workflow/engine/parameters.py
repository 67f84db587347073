"""How parameter values are written into a node's injected ``parameters`` cell.

papermill renders values as literals of the kernel's language. For Python nodes this
translator writes strings with ``repr`` (an exact literal: no value can break out of its
quotes) and turns artifact references into a call that loads the object, so a node
receives the upstream DataFrame itself. Other kernels receive an artifact's URI string.

papermill's Julia and PowerShell translators write double-quoted strings, in which those
languages interpolate ``$(...)``: the translators here write strings that stay data.

The cell is injected where papermill injects it (:func:`inject_parameters`), with these
translators chosen for each notebook: papermill's own registry is left as it is, for
whoever else uses papermill in the same process.
"""

import logging

import nbformat
from papermill.exceptions import PapermillException
from papermill.translators import JuliaTranslator, PowershellTranslator, PythonTranslator, papermill_translators
from papermill.utils import find_first_tagged_cell_index, nb_language

from jupyter_workflow.runtime.artifacts import ArtifactRef, contains_artifact
from jupyter_workflow.runtime.secrets import SecretRef

log = logging.getLogger(__name__)

LOADER_IMPORT = "from jupyter_workflow.runtime import load_artifact"
SECRET_IMPORT = "from jupyter_workflow.runtime import secret"


class WorkflowPythonTranslator(PythonTranslator):
    """papermill's Python translator with exact strings, artifact loading and secret inputs read in the kernel."""

    @classmethod
    def translate_str(cls, val):
        return repr(str(val))

    @classmethod
    def translate(cls, val):
        if isinstance(val, SecretRef):
            return f"secret({val.name!r})"
        if isinstance(val, ArtifactRef):
            return f"load_artifact({cls.translate_dict(val.meta)})"
        return super().translate(val)

    @classmethod
    def codify(cls, parameters, comment="Parameters"):
        content = super().codify(parameters, comment)
        imports = [LOADER_IMPORT] if contains_artifact(parameters) else []
        imports += [SECRET_IMPORT] if any(isinstance(value, SecretRef) for value in parameters.values()) else []
        if imports:
            first, _, rest = content.partition("\n")
            content = "\n".join([first, *imports, rest])
        return content


class LiteralJuliaTranslator(JuliaTranslator):
    """Julia strings with ``$`` escaped, so no value is interpolated as code."""

    @classmethod
    def translate_escaped_str(cls, str_val):
        return super().translate_escaped_str(str_val).replace("$", "\\$")


class LiteralPowershellTranslator(PowershellTranslator):
    """PowerShell verbatim (single-quoted) strings; every kind of single quote is doubled."""

    @classmethod
    def translate_escaped_str(cls, str_val):
        text = str(str_val)
        for quote in "'\u2018\u2019\u201a\u201b":
            text = text.replace(quote, quote * 2)
        return f"'{text}'"


TRANSLATORS = {
    "python": WorkflowPythonTranslator,
    "julia": LiteralJuliaTranslator,
    ".net-powershell": LiteralPowershellTranslator,
}


def find_translator(kernel_name: str, language: str):
    """The translator papermill would choose (by kernel name, then by language), ours in place of its own."""
    for name in (kernel_name, language):
        if name in TRANSLATORS:
            return TRANSLATORS[name]
        try:
            return papermill_translators.find_translator(name, name)
        except PapermillException:  # papermill has none by this name
            continue
    raise PapermillException(f"no parameter translator for kernel {kernel_name!r} or language {language!r}")


def inject_parameters(notebook, parameters: dict, kernel_name: str):
    """``notebook`` with a cell assigning ``parameters``, as papermill's ``parameterize_notebook`` injects it.

    The cell, tagged ``injected-parameters``, replaces an earlier injected cell, or
    follows the cell tagged ``parameters``, or opens the notebook; the notebook's
    ``papermill`` metadata keeps the values.
    """
    source = find_translator(kernel_name, nb_language(notebook)).codify(parameters, "Parameters")
    injected = nbformat.v4.new_code_cell(source=source)
    injected.metadata["tags"] = ["injected-parameters"]
    notebook = nbformat.v4.upgrade(notebook)
    earlier = find_first_tagged_cell_index(notebook, "injected-parameters")
    declared = find_first_tagged_cell_index(notebook, "parameters")
    cells = notebook.cells
    if earlier >= 0:
        before, after = cells[:earlier], cells[earlier + 1:]
    elif declared >= 0:
        before, after = cells[:declared + 1], cells[declared + 1:]
    else:
        log.warning("Input notebook does not contain a cell with tag 'parameters'")
        before, after = [], cells
    notebook.cells = [*before, injected, *after]
    notebook.metadata.papermill["parameters"] = parameters
    return notebook
