"""Components: what a notebook accepts (its ``parameters`` cell) and what it records.

The parameter schema follows papermill's convention: the first cell tagged
``parameters``. Each top-level assignment there is a parameter; its type comes from an
annotation, a ``# type:`` comment, or the literal default; a trailing comment is its help.
Optional notebook metadata under ``jupyter_workflow`` adds a title, a description,
declared outputs and form hints.
"""

import ast
import io
import json
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

METADATA_KEY = "jupyter_workflow"

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
    default: object = None
    default_source: str = ""
    annotation: str | None = None
    nullable: bool = False
    help: str = ""
    hints: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type,
            "default": self.default,
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


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


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
        raise NotANotebook(f"the parameters cell is not valid Python: {error.msg} (line {error.lineno})") from None
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
            type_name, nullable = _literal_type(default), default is None
        parameters[name] = Parameter(
            name=name,
            type=type_name,
            default=default,
            default_source=default_source,
            annotation=annotation,
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
    language = language_info.get("name") or kernelspec.get("language") or "python"
    parameters_known = language == "python"
    try:
        parameters = parse_parameters_cell(_source(parameters_cell)) if parameters_cell and parameters_known else {}
    except NotANotebook as error:
        raise NotANotebook(f"{path}: {error}") from None
    for name, parameter_hints in hints.items():
        if name in parameters and isinstance(parameter_hints, dict):
            parameters[name].hints = dict(parameter_hints)
    return Component(
        path=path,
        title=extra.get("title") or path.stem.replace("_", " "),
        description=extra.get("description", ""),
        language=language,
        kernel_name=kernelspec.get("name"),
        has_parameters_cell=parameters_cell is not None,
        parameters_known=parameters_known,
        parameters=parameters,
        outputs=dict(outputs),
    )
