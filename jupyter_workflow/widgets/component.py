"""The form of one component notebook: its parameters as fields, run as a one-node workflow.

A parameter's declaration comes from its ``parameters`` cell (type, default, help comment)
and the notebook's form hints (``choices``, ``minimum``, ``maximum``, ``multiline``,
``secret``, ``format``, ``accept``, ``title``). A default written as an expression is
not a value the form can show: its field starts empty and, left empty, lets the notebook
evaluate it. A run passes only the values given.
"""

import re
from pathlib import Path

from jupyter_workflow import api
from jupyter_workflow.model import FORMAT
from jupyter_workflow.model.components import Parameter, inspect_notebook
from jupyter_workflow.model.validation import checked_workflow
from jupyter_workflow.widgets.form import Form

HINT_KEYS = ("title", "minimum", "maximum", "multiline", "secret", "format", "accept")
NODE = "component"


def parameter_declaration(parameter: Parameter) -> dict:
    """An input declaration for a notebook parameter."""
    declaration = {key: parameter.hints[key] for key in HINT_KEYS if key in parameter.hints}
    if "choices" in parameter.hints:
        declaration["enum"] = parameter.hints["choices"]
    if parameter.type:
        declaration["type"] = parameter.type
    help_text = [parameter.help] if parameter.help else []
    if parameter.default_is_expression:
        help_text.append(f"default: {parameter.default_source} (an expression, evaluated by the notebook)")
    else:
        declaration["default"] = parameter.default
    if help_text:
        declaration["description"] = " — ".join(help_text)
    return declaration


def identifier(text: str) -> str:
    """``text`` made a workflow name: letters, digits and ``_``, not starting with a digit."""
    return re.sub(r"\W|^(?=\d)", "_", text)


class ComponentForm(Form):
    """The form of the component notebook at ``notebook``; its results are every output it records."""

    def __init__(self, notebook):
        self.notebook = Path(notebook).resolve()
        self.component = inspect_notebook(self.notebook)
        parameters = self.component.parameters
        super().__init__(
            self.component.title,
            self.component.description,
            {name: parameter_declaration(parameter) for name, parameter in parameters.items()},
            node_titles={NODE: self.component.title},
            history_name=identifier(self.notebook.stem),
            optional={name for name, parameter in parameters.items() if parameter.default_is_expression},
        )

    def declarations_for(self, values):
        return {name: declaration for name, declaration in self.declarations.items()
                if name in values or name not in self.optional}

    def workflow_document(self, supplied) -> dict:
        """A one-node workflow around the notebook, with an input for each supplied parameter."""
        return {
            "format": FORMAT,
            "name": self.history_name,
            "title": self.component.title,
            "inputs": {name: {key: value for key, value in self.declarations[name].items() if key != "default"}
                       for name in supplied},
            "nodes": {NODE: {"notebook": self.notebook.name,
                             "parameters": {name: {"input": name} for name in supplied}}},
            "outputs": {name: {"output": f"{NODE}.{name}"} for name in self.component.outputs},
        }

    def start(self, values, files, listeners):
        workflow = checked_workflow(self.workflow_document([*values, *files]), self.notebook.parent)
        return api.start(workflow, values, files=files, trigger="form", user=api.current_user(),
                         listeners=listeners)

    def outputs_of(self, run):
        node = run.nodes.get(NODE)
        return (node.outputs if node else {}), self.component.outputs
