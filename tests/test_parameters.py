"""The injected parameters cell: values stay data in every language we harden."""

from papermill.translators import translate_parameters

from jupyter_workflow.engine.parameters import register_translator
from jupyter_workflow.runtime.artifacts import ArtifactRef

ATTACK = "$(run(`touch pwned`)) \"'’ \\ ${x}"


def cell(kernel: str, language: str, parameters: dict) -> str:
    register_translator()
    return translate_parameters(kernel, language, parameters, "Parameters")


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
