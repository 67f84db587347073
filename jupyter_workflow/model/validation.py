"""Validation of a ``jupyter-workflow/1`` document: the JSON Schema, then the meaning.

Every problem names its place as a JSON pointer and says what is wrong in a sentence;
all problems are reported together. Validation never raises on a document, however
malformed: it answers with problems. Problems are errors, or warnings for what a node
with ``"strict": false`` lets through (see :mod:`jupyter_workflow.model.problems`).
"""

import difflib
import json
import os
import stat
from functools import cache, lru_cache
from importlib.resources import files
from pathlib import Path

import jmespath
import jmespath.exceptions

from jupyter_workflow.model.components import NotANotebook, Parameter, inspect_notebook
from jupyter_workflow.model.graph import find_cycle
from jupyter_workflow.model.json_values import MAX_DEPTH, json_value_problem
from jupyter_workflow.model.kernels import installed_kernels
from jupyter_workflow.model.paths import PathOutsideRoot, name_problem, resolve_inside
from jupyter_workflow.model.problems import ERROR, WARNING, InvalidWorkflow, Problem, errors_and_warnings, pointer
from jupyter_workflow.model.schema import schema_validator, value_validator
from jupyter_workflow.model.spec import BINDING_KEYS, FORMAT, FanIn, InputRef, Literal, OutputRef, Workflow, parse_workflow

# Keys of an input declaration that only a string input may have.
STRING_ONLY_KEYS = ("multiline", "secret", "accept")
TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


@cache
def workflow_schema() -> dict:
    """The published JSON Schema of the workflow file."""
    return json.loads(files("jupyter_workflow.model").joinpath("workflow.schema.json").read_text("utf-8"))


def json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    return "object"


def expected_words(types) -> str:
    """JSON types as a person would list them: ``a number``, ``a list or an object``."""
    shown = [t for t in TYPE_WORDS if t in types and not (t == "integer" and "number" in types)]
    return " or ".join(TYPE_WORDS[t] for t in shown)


def describe(value) -> str:
    """A value as a person would name it: ``the string "0.9"``, ``the number 3``."""
    kind = json_type(value)
    try:
        text = json.dumps(value)
    except ValueError:  # an integer with more digits than Python writes out
        text = "with more digits than can be shown"
    if len(text) > 40:
        text = text[:37] + "..."
    noun = {"string": "the string ", "integer": "the number ", "number": "the number ", "array": "the list ",
            "object": "the object "}.get(kind, "")
    return noun + text


NAME_WORDS = {"nodes": "node id", "inputs": "input name", "outputs": "output name", "parameters": "parameter name"}
BOUND_WORDS = {
    "minimum": "at least",
    "maximum": "at most",
    "exclusiveMinimum": "greater than",
    "exclusiveMaximum": "less than",
}


def _humanize(error) -> list[tuple[str, str]]:
    """Pointers and sentences for one jsonschema error."""
    path = list(error.absolute_path)
    validator, instance = error.validator, error.instance
    if validator == "additionalProperties" and isinstance(instance, dict):
        properties = error.schema.get("properties", {})
        given = [key for key in BINDING_KEYS if key in instance]
        if len(given) > 1 and set(properties) & set(BINDING_KEYS):
            return [(pointer(*path), f"a binding takes exactly one of the keys {', '.join(BINDING_KEYS)}; "
                                     f"this one has {', '.join(given)}")]
        allowed = sorted(properties)
        hint = f" (allowed: {', '.join(allowed)})" if allowed else ""
        return [(pointer(*path, key), f"unknown key {key!r}{hint}") for key in instance if key not in properties]
    if validator == "required":
        missing = error.message.split("'")[1]
        return [(pointer(*path), f"missing required key {missing!r}")]
    if "propertyNames" in error.absolute_schema_path:
        word = NAME_WORDS.get(path[-1] if path else "", "name")
        return [(pointer(*path, instance),
                 f"{instance!r} is not a valid {word}: use letters, digits and _, not starting with a digit")]
    if validator == "const" and path == ["format"]:
        return [("/format", f"format must be {FORMAT!r}, got {describe(instance)}")]
    if validator == "type":
        expected = error.validator_value
        words = " or ".join(TYPE_WORDS.get(t, t) for t in ([expected] if isinstance(expected, str) else expected))
        return [(pointer(*path), f"expected {words}, got {describe(instance)}")]
    if validator == "pattern":
        if path and path[-1] == "kernel":
            return [(pointer(*path), f"{instance!r} is not a kernelspec name (letters, digits, '.', '_' and '-')")]
        if error.validator_value.endswith("\\.ipynb$"):
            return [(pointer(*path), f"{instance!r} is not a notebook path (it must end in .ipynb)")]
        if "\\." in error.validator_value:
            return [(pointer(*path), f"{instance!r} is not an output reference of the form NODE.NAME")]
        return [(pointer(*path), f"{instance!r} is not a valid name: use letters, digits and _, not starting with a digit")]
    if validator == "enum":
        choices = ", ".join(json.dumps(choice) for choice in error.validator_value)
        return [(pointer(*path), f"must be one of {choices}, got {describe(instance)}")]
    if validator in BOUND_WORDS:
        return [(pointer(*path), f"must be {BOUND_WORDS[validator]} {error.validator_value}, got {describe(instance)}")]
    if validator == "uniqueItems":
        repeated = [item for index, item in enumerate(instance) if item in instance[:index]]
        if repeated:
            return [(pointer(*path), f"lists {json.dumps(repeated[0])} more than once")]
    if validator in ("minLength", "minItems") and error.validator_value == 1:
        return [(pointer(*path), "must not be empty")]
    if validator == "maxLength":
        return [(pointer(*path), f"is too long: at most {error.validator_value} characters, got {len(instance)}")]
    if validator == "minProperties" and path == ["nodes"]:
        return [("/nodes", "a workflow needs at least one node")]
    return [(pointer(*path), error.message)]


def schema_problems(document) -> list[Problem]:
    """Problems found by the JSON Schema, in document order.

    A document is checked once: running the same workflow again, or listing it again,
    reuses the answer (the schema check costs milliseconds; the key, microseconds).
    """
    try:
        text = json.dumps(document, ensure_ascii=False)
    except (TypeError, ValueError):  # not JSON: nothing to remember it by
        return list(_schema_problems_of(document))
    return list(_schema_problems_of_text(text))


@lru_cache(maxsize=64)
def _schema_problems_of_text(text: str) -> tuple[Problem, ...]:
    return _schema_problems_of(json.loads(text))


def _schema_problems_of(document) -> tuple[Problem, ...]:
    validator = schema_validator(workflow_schema())
    problems = []
    for error in sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]):
        for where, message in _humanize(error):
            problems.append(Problem(where, message))
    return tuple(dict.fromkeys(problems))


VALUE_KEYWORDS = ("type", "enum", "minimum", "maximum", "format", "items")


def value_problems(declaration: dict, value, where: str) -> list[Problem]:
    """Problems of one value against an input declaration (type, enum, bounds, format, items).

    The messages of a ``secret`` input never show its value.
    """
    schema = {key: declaration[key] for key in VALUE_KEYWORDS if key in declaration}
    validator = value_validator(schema)
    secret = declaration.get("secret") is True
    problems = []
    for error in validator.iter_errors(value):
        problems.append(Problem(where, _value_message(error, secret)))
    return problems


def _value_message(error, secret: bool) -> str:
    """One jsonschema error of an input value, in words; ``item 2:`` first when it is about an item of a list."""
    value = error.instance
    shown = "the value" if secret else json.dumps(value)
    got = "a secret value" if secret else describe(value)
    if error.validator == "type":
        message = f"expected {TYPE_WORDS[error.validator_value]}, got {got}"
    elif error.validator == "enum":
        message = f"must be one of {', '.join(json.dumps(c) for c in error.validator_value)}, got {got}"
    elif error.validator in ("minimum", "maximum"):
        word = "less" if error.validator == "minimum" else "greater"
        message = f"{shown} is {word} than the {error.validator} {error.validator_value}"
    elif error.validator == "format":
        message = f"{shown} is not a valid {error.validator_value}"
    else:
        message = error.message
    position = list(error.relative_path)
    return f"item {position[0] + 1}: {message}" if position else message


def check_inputs(
    declarations: dict[str, dict], values: dict, *, check_defaults: bool = True
) -> tuple[dict, list[Problem]]:
    """Input values completed with defaults, and the problems found in them.

    Every front end's input values pass here, so a value that is not JSON as the project
    accepts it (``NaN``, ``Infinity``, a lone surrogate, nested too deeply) is refused here.
    ``check_defaults=False`` leaves defaults unchecked (when they are reported already).
    """
    if not isinstance(values, dict):
        return {}, [Problem("/inputs", f"input values must be an object of names and values, got {describe(values)}")]
    problems, resolved = [], {}
    for name in values:
        if json_value_problem(name):  # a lone surrogate, which no pointer may hold
            problems.append(Problem("/inputs", f"the input name {name!r} is not valid Unicode text"))
        elif name not in declarations:
            known = ", ".join(sorted(declarations)) or "none"
            problems.append(Problem(pointer("inputs", name), f"the workflow has no input {name!r} (inputs: {known})"))
    for name, declaration in declarations.items():
        if name in values:
            resolved[name] = values[name]
            unsafe = json_value_problem(values[name])
            if unsafe:
                problems.append(Problem(pointer("inputs", name), f"not an accepted JSON value: {unsafe}"))
                continue
        elif "default" in declaration:
            resolved[name] = declaration["default"]
            if not check_defaults:
                continue
        else:
            problems.append(Problem(pointer("inputs", name), f"input {name!r} is required and has no default"))
            continue
        problems += value_problems(declaration, resolved[name], pointer("inputs", name))
    return resolved, problems


def _expression_tree_problem(tree: dict) -> str | None:
    """What makes a parsed JMESPath expression unsafe to evaluate: too deep, or a literal that is not JSON."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"it is nested more than {MAX_DEPTH} levels deep"
        if node.get("type") == "literal":
            unsafe = json_value_problem(node.get("value"))
            if unsafe:
                return f"a literal in it is not an accepted JSON value: {unsafe}"
        stack.extend((child, depth + 1) for child in node.get("children", ()) if isinstance(child, dict))
    return None


def map_problem(expression: str) -> str | None:
    """What makes ``expression`` unusable as a binding's ``map`` (a JMESPath query), or None."""
    try:
        tree = jmespath.compile(expression).parsed
    except jmespath.exceptions.JMESPathError as error:
        return f"invalid JMESPath expression {expression!r}: {_jmespath_reason(error)}"
    except RecursionError:
        return f"the JMESPath expression is nested too deeply (at most {MAX_DEPTH} levels)"
    problem = _expression_tree_problem(tree)
    return f"the JMESPath expression is not accepted: {problem}" if problem else None


def _jmespath_reason(error) -> str:
    """One line saying what is wrong in a JMESPath expression (jmespath's own text spans lines)."""
    if isinstance(error, jmespath.exceptions.IncompleteExpressionError):
        return "the expression ends too early"
    if isinstance(error, jmespath.exceptions.LexerError):
        reason = getattr(error, "message", "") or "unexpected character"
    else:
        reason = getattr(error, "msg", "") or str(error).splitlines()[0]
    position = getattr(error, "lex_position", None)
    return reason + (f" (at character {position + 1})" if isinstance(position, int) else "")


def _notebook_problem(root: Path, relative: str) -> str | None:
    if Path(relative).is_absolute() or relative.startswith(("~", "\\")):
        return f"{relative!r} is an absolute path; give the notebook's path relative to the workflow file"
    problem = name_problem(relative)
    if problem:
        return problem
    try:
        resolved = resolve_inside(root, relative)
    except PathOutsideRoot:
        return f"{relative!r} resolves outside the workflow's folder ({root.resolve()})"
    try:
        mode = os.stat(resolved).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return f"notebook {relative!r} does not exist (looked for {resolved})"
    except OSError as error:  # a name too long for the file system...
        return f"cannot use the notebook path {relative!r}: {error.strerror}"
    if stat.S_ISDIR(mode):
        return f"{relative!r} is a folder, not a notebook file"
    if not stat.S_ISREG(mode):
        return f"{relative!r} is not a regular file"
    return None


class _SemanticCheck:
    """The checks that need the whole document: references, cycles, notebooks, kernels."""

    def __init__(self, workflow: Workflow, all_node_ids: set[str], all_input_ids: set[str]):
        self.workflow = workflow
        self.node_ids = all_node_ids
        self.input_ids = all_input_ids
        self.components = {}
        self._by_notebook: dict[str, tuple] = {}  # nodes sharing a notebook share its inspection
        self._notebook_problems: dict[str, str | None] = {}  # and the check of its path
        self._kernels: list[str] | None = None
        self.problems: list[Problem] = []

    def add(self, where: str, message: str, severity: str = ERROR) -> None:
        self.problems.append(Problem(where, message, severity))

    @property
    def kernels(self) -> list[str]:
        """The installed kernelspecs, looked up once per check."""
        if self._kernels is None:
            self._kernels = installed_kernels()
        return self._kernels

    def run(self) -> list[Problem]:
        for name, declaration in self.workflow.inputs.items():
            self.check_declaration(name, declaration)
        for node in self.workflow.nodes.values():
            self.check_node(node)
        for name, binding in self.workflow.outputs.items():
            self.check_binding(binding, ("outputs", name), consumer=None, parameter=None)
        layout = self.workflow.document.get("layout")
        for node_id in layout if isinstance(layout, dict) else ():  # not an object: the schema said so
            if node_id not in self.node_ids:
                self.add(pointer("layout", node_id), f"the layout names {node_id!r}, which is not a node")
        self.check_cycle()
        return self.problems

    def check_declaration(self, name: str, declaration: dict) -> None:
        """An input's default satisfies it, and its form keys fit its type."""
        if "default" in declaration:
            self.problems += value_problems(declaration, declaration["default"], pointer("inputs", name, "default"))
        wanted = [(key, "string") for key in STRING_ONLY_KEYS if declaration.get(key)]
        wanted += [("format", "string")] if declaration.get("format") == "file" else []
        wanted += [("items", "array")] if "items" in declaration else []
        for key, type_name in wanted:
            if declaration.get("type") != type_name:
                self.add(pointer("inputs", name, key), f"{key!r} needs \"type\": \"{type_name}\" on the input")
        if declaration.get("secret") is True and declaration.get("default", "") != "":
            self.add(pointer("inputs", name, "default"),
                     "a secret input's default would be stored with the workflow: leave it out (or make it \"\")")

    def notebook_problem(self, relative: str) -> str | None:
        """What is wrong with a node's notebook path, checked once per path."""
        if relative not in self._notebook_problems:
            self._notebook_problems[relative] = _notebook_problem(self.workflow.root, relative)
        return self._notebook_problems[relative]

    def component(self, node_id: str):
        """The node's component, or None if its notebook is missing or unreadable."""
        if node_id not in self.components:
            node = self.workflow.nodes.get(node_id)
            component = None
            if node is not None:
                if node.notebook not in self._by_notebook:
                    self._by_notebook[node.notebook] = self._inspect(node_id)
                component, error = self._by_notebook[node.notebook]
                if error:
                    self.add(pointer("nodes", node_id, "notebook"), error)
            self.components[node_id] = component
        return self.components[node_id]

    def _inspect(self, node_id: str) -> tuple:
        """(component, None), (None, why it is not a notebook), or (None, None) if it is missing."""
        if self.notebook_problem(self.workflow.nodes[node_id].notebook) is not None:
            return None, None
        try:
            return inspect_notebook(self.workflow.notebook_path(node_id)), None
        except NotANotebook as error:
            return None, str(error)

    def check_node(self, node) -> None:
        problem = self.notebook_problem(node.notebook)
        if problem:
            self.add(pointer("nodes", node.id, "notebook"), problem)
        for index, upstream in enumerate(node.after):
            if upstream == node.id:
                self.add(pointer("nodes", node.id, "after", index), "a node cannot wait for itself")
            elif upstream not in self.node_ids:
                self.add(pointer("nodes", node.id, "after", index), self.unknown_node(upstream))
        component = self.component(node.id)
        self.check_kernel(node, component)
        severity = ERROR if node.strict else WARNING
        for name, binding in node.parameters.items():
            where = ("nodes", node.id, "parameters", name)
            declared = None
            if component is not None and component.parameters_known:
                declared = component.parameters.get(name)
                if declared is None:
                    self.add(pointer(*where), self.unknown_parameter(node, component, name), severity)
            self.check_binding(binding, where, consumer=node.id, parameter=declared, severity=severity)

    def check_kernel(self, node, component) -> None:
        """The node's kernel (its own ``kernel``, else its notebook's) must be installed here."""
        if node.kernel is not None:
            name, where = node.kernel, pointer("nodes", node.id, "kernel")
        elif component is not None:
            name, where = component.kernel_name or "python3", pointer("nodes", node.id, "notebook")
        else:
            return
        if name.lower() in self.kernels:
            return
        installed = ", ".join(self.kernels) or "none"
        if node.kernel is not None:
            close = difflib.get_close_matches(name.lower(), self.kernels, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self.add(where, f"no kernel {name!r} is installed here{hint} (installed: {installed})")
        else:
            self.add(where, f"notebook {node.notebook!r} runs in the kernel {name!r}, which is not installed here "
                            f"(installed: {installed}); install it, or set the node's \"kernel\"")

    def unknown_node(self, node_id: str) -> str:
        close = difflib.get_close_matches(node_id, sorted(self.node_ids), n=1)
        return f"no node {node_id!r} in this workflow" + (f"; did you mean {close[0]!r}?" if close else "")

    def unknown_parameter(self, node, component, name: str) -> str:
        if not component.has_parameters_cell:
            if node.strict:
                return f"notebook {node.notebook!r} has no cell tagged 'parameters', so it takes no parameter {name!r}"
            return f"notebook {node.notebook!r} has no cell tagged 'parameters': {name!r} is set at its top"
        declared = sorted(component.parameters)
        close = difflib.get_close_matches(name, declared, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (it declares: {', '.join(declared) or 'nothing'})"
        if node.strict:
            return f"notebook {node.notebook!r} has no parameter {name!r}{hint}"
        return f"notebook {node.notebook!r} does not declare {name!r}{hint}; it is set after its parameters cell"

    def check_binding(
        self, binding, where: tuple, consumer: str | None, parameter: Parameter | None, severity: str = ERROR
    ) -> None:
        """Problems of one binding; a type the parameter does not accept is a problem of ``severity``."""
        if isinstance(binding, Literal) and parameter is not None:
            if not parameter.accepts(json_type(binding.value)):
                self.add(pointer(*where), f"{self.expects(parameter)}, got {describe(binding.value)}", severity)
        elif isinstance(binding, InputRef):
            declaration = self.workflow.inputs.get(binding.name)
            if binding.name not in self.input_ids:
                known = ", ".join(sorted(self.input_ids)) or "none"
                self.add(pointer(*where, "input"), f"the workflow declares no input {binding.name!r} (inputs: {known})")
            elif declaration and declaration.get("secret") is True and self.secret_problem(consumer):
                self.add(pointer(*where, "input"), self.secret_problem(consumer))
            elif parameter is not None and declaration and declaration.get("type"):
                if not parameter.accepts(declaration["type"]):
                    self.add(
                        pointer(*where),
                        f"input {binding.name!r} is {TYPE_WORDS[declaration['type']]} but {self.expects(parameter)}",
                        severity,
                    )
        elif isinstance(binding, OutputRef):
            self.check_output_ref(binding, (*where, "output"), consumer)
            problem = map_problem(binding.map) if binding.map is not None else None
            if problem:
                self.add(pointer(*where, "map"), problem)
        elif isinstance(binding, FanIn):
            for index, ref in enumerate(binding.refs):
                self.check_output_ref(ref, (*where, "outputs", index), consumer)

    def secret_problem(self, consumer: str | None) -> str | None:
        """Why a secret input cannot go to ``consumer`` (a node id; None: a workflow output), if it cannot."""
        if consumer is None:
            return "a secret input cannot be a workflow output: outputs are stored with the run"
        component = self.component(consumer)
        if component is not None and component.language != "python":
            return f"a secret input reaches Python notebooks only; {component.path.name!r} is {component.language}"
        return None

    @staticmethod
    def expects(parameter: Parameter) -> str:
        """What a parameter takes and why: ``parameter 'n' expects a number (its default is 5)``."""
        why = "its type is declared" if parameter.type_declared else f"its default is {parameter.default_source}"
        return f"parameter {parameter.name!r} expects {expected_words(parameter.accepted_types())} ({why})"

    def check_output_ref(self, ref: OutputRef, where: tuple, consumer: str | None) -> None:
        if ref.node == consumer:
            self.add(pointer(*where), f"node {consumer!r} cannot take its own output {str(ref)!r}")
            return
        if ref.node not in self.node_ids:
            self.add(pointer(*where), self.unknown_node(ref.node))
            return
        component = self.component(ref.node) if ref.node in self.workflow.nodes else None
        if component is not None and component.outputs and ref.output not in component.outputs:
            declared = ", ".join(sorted(component.outputs))
            self.add(
                pointer(*where),
                f"node {ref.node!r} does not record an output {ref.output!r} (its notebook declares: {declared})",
            )

    def check_cycle(self) -> None:
        dependencies = {
            node_id: {up for up in deps if up in self.workflow.nodes and up != node_id}
            for node_id, deps in self.workflow.dependencies().items()
        }
        cycle = find_cycle(dependencies)
        if cycle:
            self.add(pointer("nodes", cycle[0]), f"the workflow has a cycle: {' -> '.join(cycle)}")


def validate_document(document, root, inputs: dict | None = None) -> list[Problem]:
    """Every problem of a workflow document whose notebooks live under ``root``: errors, then warnings.

    With ``inputs``, the input values are checked too (required inputs, types, bounds).
    Never raises on a document: a value that is not JSON as the project accepts it
    (``NaN``, a lone surrogate, nested deeper than ``MAX_DEPTH``) is a problem too.
    """
    unsafe = json_value_problem(document)
    if unsafe:
        return [Problem("", f"the workflow is not an accepted JSON document: {unsafe}")]
    problems = schema_problems(document)
    if not isinstance(document, dict) or not isinstance(document.get("nodes"), dict):
        return problems
    sections = {"inputs": document.get("inputs", {}), "outputs": document.get("outputs", {})}
    if not all(isinstance(section, dict) for section in sections.values()):
        return problems
    broken = set()
    for problem in problems:
        parts = problem.pointer.split("/")[1:3]
        if len(parts) == 2 and parts[0] in ("nodes", "inputs", "outputs"):
            broken.add((parts[0], parts[1].replace("~1", "/").replace("~0", "~")))
    workflow = parse_workflow(document, Path(root), skip=broken)
    checker = _SemanticCheck(workflow, set(document["nodes"]), set(sections["inputs"]))
    problems += checker.run()
    if inputs is not None:
        # A bad default is reported once, at /inputs/NAME/default, not again as a value.
        # Inputs whose declaration failed the schema still exist: check their values loosely.
        declarations = {name: {} for name in sections["inputs"]} | workflow.inputs
        problems += check_inputs(declarations, inputs, check_defaults=False)[1]
    errors, warnings = errors_and_warnings(problems)
    return errors + warnings


def checked_workflow(document, root, path: Path | None = None, *, inputs: dict | None = None,
                     source: str | None = None) -> Workflow:
    """The :class:`Workflow` of ``document``, carrying its warnings; :class:`InvalidWorkflow` if it has errors.

    ``path`` is the workflow file, if there is one; ``source`` names the document in the
    error (by default, ``path``).
    """
    problems = validate_document(document, root, inputs=inputs)
    errors, warnings = errors_and_warnings(problems)
    if errors:
        raise InvalidWorkflow(problems, source or (str(path) if path else None))
    workflow = parse_workflow(document, root, path)
    workflow.warnings = warnings
    return workflow
