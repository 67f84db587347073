"""How parameter values are written into a node's injected ``parameters`` cell.

papermill renders values as literals of the kernel's language. For Python nodes this
translator writes strings with ``repr`` (an exact literal: no value can break out of its
quotes) and turns artifact references into a call that loads the object, so a node
receives the upstream DataFrame itself. Other kernels receive an artifact's URI string.

papermill's Julia and PowerShell translators write double-quoted strings, in which those
languages interpolate ``$(...)``: the translators here write strings that stay data.
"""

from papermill.translators import JuliaTranslator, PowershellTranslator, PythonTranslator, papermill_translators

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


def register_translator() -> None:
    """Make papermill use the translators above for Python, Julia and PowerShell kernels."""
    papermill_translators.register("python", WorkflowPythonTranslator)
    papermill_translators.register("julia", LiteralJuliaTranslator)
    papermill_translators.register(".net-powershell", LiteralPowershellTranslator)
