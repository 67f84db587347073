"""Components: what a notebook accepts (its ``parameters`` cell) and what it records.

The parameter schema follows papermill's convention: the first cell tagged
``parameters``. Each top-level assignment there is a parameter; a trailing comment is its
help. Its type is declared by the author (an annotation, a ``# type:`` comment, or a
``type`` in the notebook's metadata) and then enforced, or inferred from a literal
default and then only a hint (see :meth:`Parameter.accepted_types`). Optional notebook
metadata under ``jupyter_workflow`` adds a title, a description, declared outputs and
form hints.
"""

import ast
import io
import json
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_workflow.model.json_values import json_value_problem

METADATA_KEY = "jupyter_workflow"
JSON_TYPES = ("string", "integer", "number", "boolean", "array", "object")
# What a type inferred from a default accepts: any number for a number, any container for a container.
_HINTED_TYPES = {
    "integer": frozenset({"integer", "number"}),
    "number": frozenset({"integer", "number"}),
    "array": frozenset({"array", "object"}),
    "object": frozenset({"array", "object"}),
}

# Python annotations and default types, as JSON Schema type names.
_PYTHON_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "tuple": "array",
    "List": "array",
    "Tuple": "array",
    "Sequence": "array",
    "dict": "object",
    "Dict": "object",
    "Mapping": "object",
}


class NotANotebook(ValueError):
    """A file that cannot be read as a Jupyter notebook."""


@dataclass
class Parameter:
    """One parameter of a component notebook."""

    name: str
    type: str | None  # JSON Schema type name, or None when any value is accepted
    default: object = None  # the default as a JSON value; None when it is an expression
    default_source: str = ""  # the default as written, e.g. ``tmp_dir.name`` (papermill's ``default``)
    default_is_expression: bool = False  # the default is code, or a literal JSON cannot hold (``b"x"``)
    annotation: str | None = None
    type_declared: bool = False  # written by the author; False when inferred from the default
    nullable: bool = False
    help: str = ""
    hints: dict = field(default_factory=dict)

    def accepted_types(self) -> frozenset[str] | None:
        """The JSON types of the values this parameter takes; None when it takes any value.

        A declared type is enforced (a ``number`` takes integers too). An inferred type is
        a hint: a number default takes any number, a list, tuple or dict default any list
        or object. Strings, numbers and booleans never stand in for one another.
        """
        if self.type is None:
            return None
        if self.type_declared:
            accepted = {self.type, "integer"} if self.type == "number" else {self.type}
        else:
            accepted = set(_HINTED_TYPES.get(self.type, {self.type}))
        return frozenset(accepted | {"null"} if self.nullable else accepted)

    def accepts(self, json_type: str) -> bool:
        """Whether a value of the JSON type ``json_type`` (``"integer"``, ``"array"``...) is accepted."""
        accepted = self.accepted_types()
        return accepted is None or json_type in accepted

    def declare(self, type_name: str) -> None:
        """Give the parameter a type the author declared (e.g. in the notebook's metadata)."""
        self.type, self.type_declared = type_name, True
        self.nullable = self.nullable or (self.default is None and not self.default_is_expression)

    def to_dict(self) -> dict:
        accepted = self.accepted_types()
        return {
            "name": self.name,
            "type": self.type,
            "type_declared": self.type_declared,
            "accepts": sorted(accepted) if accepted is not None else None,
            "default": self.default,
            "default_source": self.default_source,
            "default_is_expression": self.default_is_expression,
            "annotation": self.annotation,
            "nullable": self.nullable,
            "help": self.help,
            **({"hints": self.hints} if self.hints else {}),
        }


@dataclass
class Component:
    """A notebook seen as a function: parameters in, recorded outputs out."""

    path: Path
    title: str
    description: str
    language: str
    kernel_name: str | None
    has_parameters_cell: bool
    parameters_known: bool  # False for languages whose parameters cell is not parsed
    parameters: dict[str, Parameter]
    outputs: dict[str, dict]

    def to_dict(self) -> dict:
        return {
            "path": str(self.path),
            "title": self.title,
            "description": self.description,
            "language": self.language,
            "kernel_name": self.kernel_name,
            "has_parameters_cell": self.has_parameters_cell,
            "parameters_known": self.parameters_known,
            "parameters": {name: p.to_dict() for name, p in self.parameters.items()},
            "outputs": self.outputs,
        }


def _source(cell, path: Path) -> str:
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    if not isinstance(source, str):
        raise NotANotebook(f"{path} is not a valid notebook: a cell's source must be text")
    return source


def _text(container: dict, key: str) -> str | None:
    """``container[key]`` if it is a string, else None (metadata written by hand can hold anything)."""
    value = container.get(key)
    return value if isinstance(value, str) else None


def _annotation_type(annotation: str) -> tuple[str | None, bool]:
    """JSON type and nullability for an annotation such as ``Optional[int]``."""
    text = annotation.replace("typing.", "").replace(" ", "")
    nullable = False
    if text.startswith("Optional[") and text.endswith("]"):
        text, nullable = text[len("Optional[") : -1], True
    if "|" in text:
        members = [m for m in text.split("|") if m != "None"]
        nullable = nullable or len(members) < len(text.split("|"))
        text = members[0] if len(members) == 1 else ""
    return _PYTHON_TYPES.get(text.split("[", 1)[0]), nullable


def _literal_type(value) -> str | None:
    if value is None:
        return None
    return _PYTHON_TYPES.get(type(value).__name__)


def _comments_by_line(source: str) -> dict[int, str]:
    comments = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                comments[token.start[0]] = token.string.lstrip("#").strip()
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return comments


def parse_parameters_cell(source: str) -> dict[str, Parameter]:
    """Parameters declared by Python source (the body of a ``parameters`` cell)."""
    try:
        # Type comments are read from the tokens below: ast's own type-comment parsing
        # rejects valid code such as a comment line starting with "# type:".
        tree = ast.parse(source)
    except SyntaxError as error:
        line = f" (line {error.lineno})" if error.lineno else ""
        raise NotANotebook(f"the parameters cell is not valid Python: {error.msg}{line}") from None
    except ValueError as error:  # a NUL byte, before Python 3.12
        raise NotANotebook(f"the parameters cell is not valid Python: {error}") from None
    except (RecursionError, MemoryError):  # nesting deeper than Python's parser goes
        raise NotANotebook("the parameters cell is nested too deeply to be read") from None
    comments = _comments_by_line(source)
    parameters = {}
    for statement in tree.body:
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
            name, value, annotation = statement.target.id, statement.value, ast.unparse(statement.annotation)
        elif (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            name, value, annotation = statement.targets[0].id, statement.value, None
        else:
            continue
        default_source = ast.get_source_segment(source, value) or ast.unparse(value)
        try:
            default, literal = ast.literal_eval(value), True
        except (ValueError, TypeError, SyntaxError, RecursionError):  # not a literal: {[]: 1} raises TypeError
            default, literal = None, False
        comment = comments.get(statement.end_lineno, "")
        if comment.startswith("type:"):
            # ``# type: int  help text``: like papermill, the first word is the type, the rest is help.
            type_word, _, comment = comment[len("type:") :].strip().partition(" ")
            comment = comment.strip().lstrip("#").strip()
            if isinstance(statement, ast.Assign) and type_word and type_word != "ignore":
                annotation = type_word
        if annotation:
            type_name, nullable = _annotation_type(annotation)
            nullable = nullable or (literal and default is None)  # `x: int = None` takes None
        else:
            type_name, nullable = _literal_type(default), literal and default is None
        json_literal = literal and json_value_problem(default) is None  # not b"x", 1e999, {1: 2}
        parameters[name] = Parameter(
            name=name,
            type=type_name,
            default=default if json_literal else None,
            default_source=default_source,
            default_is_expression=not json_literal,
            annotation=annotation,
            type_declared=bool(annotation) and type_name is not None,
            nullable=nullable,
            help=comment,
        )
    return parameters


def read_notebook_json(path: Path) -> dict:
    """The notebook document as plain JSON (no nbformat needed for introspection)."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise NotANotebook(f"cannot read {path}: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise NotANotebook(f"{path} is not a notebook: {error}") from None
    except RecursionError:
        raise NotANotebook(f"{path} is not a notebook: its JSON is nested too deeply") from None
    if not isinstance(document, dict) or not isinstance(document.get("cells"), list):
        raise NotANotebook(f"{path} is not a notebook: it has no list of cells")
    return document


def _mapping(container: dict, key: str, where: str, path: Path) -> dict:
    """``container[key]`` (default ``{}``), which must be a JSON object."""
    value = container.get(key, {})
    if not isinstance(value, dict):
        raise NotANotebook(f"{path} is not a valid notebook: {where} must be an object")
    return value


def _is_parameters_cell(cell, path: Path) -> bool:
    if not isinstance(cell, dict):
        raise NotANotebook(f"{path} is not a valid notebook: each cell must be an object")
    tags = _mapping(cell, "metadata", "a cell's metadata", path).get("tags", [])
    return cell.get("cell_type") == "code" and isinstance(tags, list) and "parameters" in tags


def inspect_notebook(path) -> Component:
    """The component view of the notebook at ``path``."""
    path = Path(path)
    document = read_notebook_json(path)
    metadata = _mapping(document, "metadata", "metadata", path)
    extra = _mapping(metadata, METADATA_KEY, f"metadata.{METADATA_KEY}", path)
    kernelspec = _mapping(metadata, "kernelspec", "metadata.kernelspec", path)
    language_info = _mapping(metadata, "language_info", "metadata.language_info", path)
    hints = _mapping(extra, "parameters", f"metadata.{METADATA_KEY}.parameters", path)
    outputs = _mapping(extra, "outputs", f"metadata.{METADATA_KEY}.outputs", path)
    parameters_cell = next((cell for cell in document["cells"] if _is_parameters_cell(cell, path)), None)
    language = _text(language_info, "name") or _text(kernelspec, "language") or "python"
    parameters_known = language == "python"
    if parameters_cell and parameters_known:
        source = _source(parameters_cell, path)
        try:
            parameters = parse_parameters_cell(source)
        except NotANotebook as error:
            raise NotANotebook(f"{path}: {error}") from None
    else:
        parameters = {}
    for name, parameter_hints in hints.items():
        if name in parameters and isinstance(parameter_hints, dict):
            parameters[name].hints = dict(parameter_hints)
            if parameter_hints.get("type") in JSON_TYPES:
                parameters[name].declare(parameter_hints["type"])
    return Component(
        path=path,
        title=_text(extra, "title") or path.stem.replace("_", " "),
        description=_text(extra, "description") or "",
        language=language,
        kernel_name=_text(kernelspec, "name"),
        has_parameters_cell=parameters_cell is not None,
        parameters_known=parameters_known,
        parameters=parameters,
        outputs=dict(outputs),
    )
