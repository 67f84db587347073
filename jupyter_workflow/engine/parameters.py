"""How parameter values are written into a node's injected ``parameters`` cell.

papermill renders values as literals of the kernel's language. For Python nodes this
translator writes strings with ``repr`` (an exact literal: no value can break out of its
quotes) and turns artifact references into a call that loads the object, so a node
receives the upstream DataFrame itself. Other kernels receive an artifact's URI string.
"""

from papermill.translators import PythonTranslator, papermill_translators

from jupyter_workflow.runtime.artifacts import ArtifactRef, contains_artifact

LOADER_IMPORT = "from jupyter_workflow.runtime import load_artifact"


class WorkflowPythonTranslator(PythonTranslator):
    """papermill's Python translator with exact strings and artifact loading."""

    @classmethod
    def translate_str(cls, val):
        return repr(str(val))

    @classmethod
    def translate(cls, val):
        if isinstance(val, ArtifactRef):
            return f"load_artifact({cls.translate_dict(val.meta)})"
        return super().translate(val)

    @classmethod
    def codify(cls, parameters, comment="Parameters"):
        content = super().codify(parameters, comment)
        if contains_artifact(parameters):
            first, _, rest = content.partition("\n")
            content = f"{first}\n{LOADER_IMPORT}\n{rest}"
        return content


def register_translator() -> None:
    """Make papermill use :class:`WorkflowPythonTranslator` for Python kernels."""
    papermill_translators.register("python", WorkflowPythonTranslator)
