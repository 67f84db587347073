"""The ``jupyter-workflow/1`` document as Python objects.

``load_workflow`` reads a ``*.workflow.json`` file, validates it (schema and semantics)
and returns a :class:`Workflow`; ``parse_workflow`` builds one from a document that is
already known to be valid. A workflow file is JSON under the rules of
:mod:`jupyter_workflow.model.json_values` (UTF-8, finite numbers, bounded depth), with
each key at most once per object.
"""

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from jupyter_workflow.model.json_values import UnsafeJson, load_json
from jupyter_workflow.model.problems import InvalidWorkflow, Problem, pointer

FORMAT = "jupyter-workflow/1"
BINDING_KEYS = ("input", "output", "outputs", "value")


@dataclass(frozen=True)
class Literal:
    """A parameter given as a plain JSON value."""

    value: Any


@dataclass(frozen=True)
class InputRef:
    """``{"input": NAME}``: the value of one of the workflow's inputs."""

    name: str


@dataclass(frozen=True)
class OutputRef:
    """``{"output": "NODE.NAME", "map": EXPR}``: an upstream node's recorded output."""

    node: str
    output: str
    map: str | None = None

    @classmethod
    def parse(cls, text: str, map: str | None = None) -> "OutputRef":
        node, output = text.split(".", 1)
        return cls(node, output, map)

    def __str__(self) -> str:
        return f"{self.node}.{self.output}"


@dataclass(frozen=True)
class FanIn:
    """``{"outputs": [...], "reduce": "list" | "concat" | "merge"}``: several outputs combined."""

    refs: tuple[OutputRef, ...]
    reduce: str


Binding = Union[Literal, InputRef, OutputRef, FanIn]


def is_binding_object(raw) -> bool:
    return isinstance(raw, dict) and any(key in raw for key in BINDING_KEYS)


def parse_binding(raw) -> Binding:
    """The binding a (schema-valid) parameter value stands for."""
    if not is_binding_object(raw):
        return Literal(raw)
    if "value" in raw:
        return Literal(raw["value"])
    if "input" in raw:
        return InputRef(raw["input"])
    if "output" in raw:
        return OutputRef.parse(raw["output"], raw.get("map"))
    return FanIn(tuple(OutputRef.parse(text) for text in raw["outputs"]), raw["reduce"])


def output_refs(binding: Binding) -> tuple[OutputRef, ...]:
    if isinstance(binding, OutputRef):
        return (binding,)
    if isinstance(binding, FanIn):
        return binding.refs
    return ()


@dataclass
class Node:
    """One notebook of the workflow with its parameter bindings and run settings."""

    id: str
    notebook: str
    parameters: dict[str, Binding] = field(default_factory=dict)
    after: tuple[str, ...] = ()
    retries: int = 0
    retry_delay: float = 0.0
    timeout: float | None = None
    kernel: str | None = None
    cache: bool = False
    strict: bool = True  # False: undeclared parameters are injected, type problems are warnings
    title: str | None = None
    description: str | None = None

    def upstream(self) -> set[str]:
        """Ids of the nodes that must finish before this one starts."""
        nodes = set(self.after)
        for binding in self.parameters.values():
            nodes.update(ref.node for ref in output_refs(binding))
        return nodes


@dataclass
class Workflow:
    """A parsed workflow: its nodes, inputs and outputs, and where its files live."""

    document: dict
    root: Path
    path: Path | None
    name: str
    title: str | None
    inputs: dict[str, dict]
    nodes: dict[str, Node]
    outputs: dict[str, Binding]
    warnings: list[Problem] = field(default_factory=list, compare=False)  # found when it was validated
    _notebook_paths: dict[str, Path] = field(default_factory=dict, init=False, repr=False, compare=False)

    def notebook_path(self, node_id: str) -> Path:
        """The node's notebook, resolved once (a run asks for it several times per node)."""
        if node_id not in self._notebook_paths:
            self._notebook_paths[node_id] = (self.root / self.nodes[node_id].notebook).resolve()
        return self._notebook_paths[node_id]

    def secret_inputs(self) -> list[str]:
        """The names of the inputs declared ``"secret": true``: their values are never stored."""
        return [name for name, declaration in self.inputs.items() if declaration.get("secret") is True]

    def dependencies(self) -> dict[str, set[str]]:
        """Each node id mapped to the ids of its upstream nodes."""
        return {node_id: node.upstream() for node_id, node in self.nodes.items()}

    @property
    def content_hash(self) -> str:
        return content_hash(self.document)


def canonical_json(document) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(document) -> str:
    """SHA-256 of the canonical JSON of a workflow document: a version's identity."""
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def parse_node(node_id: str, raw: dict) -> Node:
    return Node(
        id=node_id,
        notebook=raw["notebook"],
        parameters={name: parse_binding(value) for name, value in raw.get("parameters", {}).items()},
        after=tuple(raw.get("after", ())),
        retries=raw.get("retries", 0),
        retry_delay=raw.get("retry_delay", 0.0),
        timeout=raw.get("timeout"),
        kernel=raw.get("kernel"),
        cache=raw.get("cache", False),
        strict=raw.get("strict", True),
        title=raw.get("title"),
        description=raw.get("description"),
    )


def parse_workflow(document: dict, root: Path, path: Path | None = None, skip=frozenset()) -> Workflow:
    """Build a :class:`Workflow` from a schema-valid document.

    ``skip`` holds ``(section, key)`` pairs of entries to leave out (used by validation
    for entries that failed the schema).
    """
    if path is not None:
        default_name = path.name.removesuffix(".json").removesuffix(".workflow")
    else:
        default_name = "workflow"
    return Workflow(
        document=document,
        root=Path(root).resolve(),
        path=path,
        name=document.get("name") or default_name,
        title=document.get("title"),
        inputs={k: v for k, v in document.get("inputs", {}).items() if ("inputs", k) not in skip},
        nodes={k: parse_node(k, v) for k, v in document["nodes"].items() if ("nodes", k) not in skip},
        outputs={
            k: parse_binding(v) for k, v in document.get("outputs", {}).items() if ("outputs", k) not in skip
        },
    )


class _Object(dict):
    """A JSON object that remembers keys it saw more than once."""

    duplicates: tuple = ()


def _object_pairs(pairs) -> _Object:
    result = _Object()
    seen = []
    for key, value in pairs:
        if key in result:
            seen.append(key)
        result[key] = value
    result.duplicates = tuple(seen)
    return result


def _duplicate_key_problems(value, path=()) -> list[Problem]:
    problems = []
    if isinstance(value, dict):
        for key in getattr(value, "duplicates", ()):
            problems.append(Problem(pointer(*path, key), f"duplicate key {key!r}: each key may appear only once"))
        for key, child in value.items():
            problems += _duplicate_key_problems(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            problems += _duplicate_key_problems(child, (*path, index))
    return problems


def read_document(text: str | bytes, source: str | None = None) -> dict:
    """Parse workflow JSON text (or UTF-8 bytes) under the module doc's rules.

    Text that breaks them (not JSON, not UTF-8, ``NaN``, nested too deeply...) and
    duplicate keys raise ``InvalidWorkflow``.
    """
    try:
        document = load_json(text, "the workflow", object_pairs_hook=_object_pairs)
    except UnsafeJson as error:
        raise InvalidWorkflow([Problem("", str(error))], source) from None
    problems = _duplicate_key_problems(document)
    if problems:
        raise InvalidWorkflow(problems, source)
    return document


def load_workflow(path, inputs: dict | None = None) -> Workflow:
    """Read and validate a ``*.workflow.json`` file.

    When ``inputs`` is given, the values are checked against the input declarations
    too. Raises :class:`InvalidWorkflow` listing every problem found.
    """
    from jupyter_workflow.model.validation import checked_workflow

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InvalidWorkflow([Problem("", f"cannot read the file: {error.strerror}")], str(path)) from None
    document = read_document(data, str(path))
    return checked_workflow(document, path.parent, path.resolve(), inputs=inputs, source=str(path))
