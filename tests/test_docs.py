"""docs/format.md, the reference of the ``jupyter-workflow/1`` format, holds to the shipped schema and the loader.

format.md is read in a simple way, described in its last section ("About this
document"): HTML comments mark what the next table or ``json`` block documents.

- ``<!-- schema: POINTER -->``: a table documenting the schema object at ``POINTER``
  (``#`` is the whole document). Columns: key (in backquotes), type, required, default,
  constraints, meaning.
- ``<!-- enum: POINTER -->``: a table whose first column lists the schema enum at ``POINTER``.
- ``<!-- accepts -->`` and ``<!-- python types -->``: the tables of what a notebook
  parameter accepts, and of the type each Python name gives it.
- ``<!-- example: valid -->`` or ``<!-- example: SEVERITY POINTER; ... -->``, optionally
  followed by ``, file PATH``: a complete workflow document and its expected problems,
  validated with ``notebooks/`` as its root.

No test here starts a kernel: validation only lists the installed kernelspecs.
"""

import json
import re
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path

import pytest

from jupyter_workflow.model.components import JSON_TYPES, Parameter, parse_parameters_cell
from jupyter_workflow.model.json_values import MAX_DEPTH, MAX_INTEGER_DIGITS, load_json
from jupyter_workflow.model.spec import FORMAT, parse_node, parse_workflow
from jupyter_workflow.model.validation import validate_document, workflow_schema

REPO = Path(__file__).resolve().parent.parent
FORMAT_MD = REPO / "docs" / "format.md"
EXAMPLES_ROOT = REPO / "notebooks"

MARKER = re.compile(r"<!-- (schema|enum|accepts|python types|example)(?::\s*(.*?))? -->")
SCHEMA_COLUMNS = ["key", "type", "required", "default", "constraints", "meaning"]
NO_DEFAULT = "—"
# How a row names the definition a key refers to.
REF_NAMES = {
    "#/$defs/identifier": "identifier",
    "#/$defs/outputRef": "output reference",
    "#/$defs/binding": "binding",
    "#/$defs/inputDeclaration": "input declaration",
    "#/$defs/node": "node",
}
CONSTRAINT_KEYWORDS = (
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
    "minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems", "pattern",
)
CONSTRAINT = re.compile(r"`(" + "|".join(CONSTRAINT_KEYWORDS) + r")`(?: (`[^`]+`|-?[0-9.]+))?")
MINIMAL_DOCUMENT = {"format": FORMAT, "nodes": {"a": {"notebook": "a.ipynb"}}}
# The loader's view of a key left out, for the objects whose defaults format.md gives.
LOADED = {
    "#": lambda: parse_workflow(MINIMAL_DOCUMENT, REPO),
    "#/$defs/node": lambda: parse_node("a", MINIMAL_DOCUMENT["nodes"]["a"]),
}


@dataclass
class Marked:
    """A table or code block of format.md with the marker above it."""

    kind: str  # schema, enum, accepts, python types, example
    argument: str
    lines: list[str]  # the table's lines, or the code block's content


def marked_blocks(text: str) -> list[Marked]:
    """Every marker of format.md with the table or ``json`` block right after it."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = MARKER.fullmatch(line.strip())
        if not match:
            continue
        following = lines[index + 1 :]
        if following and following[0].startswith("|"):
            block = list(takewhile(lambda row: row.startswith("|"), following))
        elif following and following[0] == "```json":
            block = list(takewhile(lambda row: row != "```", following[1:]))
        else:
            raise AssertionError(f"format.md line {index + 1}: {line!r} is not followed by a table or a json block")
        found.append(Marked(match.group(1), match.group(2) or "", block))
    return found


def cells(row: str) -> list[str]:
    """The cells of a Markdown table row (``\\|`` is a pipe inside a cell)."""
    return [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row.strip()[1:-1])]


def table(lines: list[str]) -> tuple[list[str], list[list[str]]]:
    """A Markdown table's header and rows."""
    header, _separator, *rows = lines
    return cells(header), [cells(row) for row in rows]


def in_backquotes(cell: str) -> str:
    """The text of a cell that is one code span, e.g. ``retries`` for ```retries```."""
    match = re.fullmatch(r"`([^`]+)`", cell)
    assert match, f"expected one value in backquotes, got {cell!r}"
    return match.group(1)


def code_spans(cell: str) -> list[str]:
    return re.findall(r"`([^`]+)`", cell)


def json_spans(cell: str) -> list:
    """The JSON values written in backquotes in ``cell`` (spans that are not JSON are left out)."""
    values = []
    for span in code_spans(cell):
        try:
            values.append(json.loads(span))
        except json.JSONDecodeError:
            continue
    return values


def schema_at(pointer: str):
    """The part of the shipped schema at ``pointer`` (``#`` or ``#/$defs/node``...)."""
    value = workflow_schema()
    for part in pointer.removeprefix("#").split("/")[1:]:
        value = value[part.replace("~1", "/").replace("~0", "~")]
    return value


def subschemas(schema, pointer: str = "#"):
    """``(pointer, schema)`` for ``schema`` and every schema inside it."""
    if not isinstance(schema, dict):
        return
    yield pointer, schema
    for keyword in ("properties", "$defs"):
        for name, child in schema.get(keyword, {}).items():
            yield from subschemas(child, f"{pointer}/{keyword}/{name}")
    for keyword in ("additionalProperties", "items", "propertyNames", "if", "then", "else", "not"):
        if keyword in schema:
            yield from subschemas(schema[keyword], f"{pointer}/{keyword}")
    for keyword in ("allOf", "anyOf", "oneOf", "prefixItems"):
        for index, child in enumerate(schema.get(keyword, ())):
            yield from subschemas(child, f"{pointer}/{keyword}/{index}")


def refs(schema) -> set[str]:
    """The definitions a key's schema refers to, directly or for its items, values and names."""
    if not isinstance(schema, dict):
        return set()
    found = {schema["$ref"]} if "$ref" in schema else set()
    for keyword in ("items", "additionalProperties", "propertyNames"):
        found |= refs(schema.get(keyword))
    return found


@pytest.fixture(scope="module")
def text() -> str:
    return FORMAT_MD.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def blocks(text) -> list[Marked]:
    return marked_blocks(text)


def of_kind(blocks, kind: str) -> dict[str, Marked]:
    marked = [block for block in blocks if block.kind == kind]
    by_argument = {block.argument: block for block in marked}
    assert len(by_argument) == len(marked), f"two {kind} markers with the same argument"
    return by_argument


@pytest.fixture(scope="module")
def schema_tables(blocks) -> dict[str, tuple[dict, dict[str, dict[str, str]]]]:
    """Pointer → (its schema, documented key → {column: cell})."""
    tables = {}
    for pointer, block in of_kind(blocks, "schema").items():
        header, rows = table(block.lines)
        assert header == SCHEMA_COLUMNS, f"{pointer}: the columns must be {SCHEMA_COLUMNS}"
        keyed = {in_backquotes(row[0]): dict(zip(header, row)) for row in rows}
        assert len(keyed) == len(rows), f"{pointer}: a key is documented twice"
        tables[pointer] = (schema_at(pointer), keyed)
    return tables


def test_every_object_of_the_schema_has_its_table(schema_tables):
    objects = {pointer for pointer, schema in subschemas(workflow_schema()) if "properties" in schema}
    assert objects == set(schema_tables)


def test_each_table_documents_exactly_the_keys_the_schema_allows(schema_tables):
    for pointer, (schema, rows) in schema_tables.items():
        assert set(rows) == set(schema["properties"]), pointer


def test_required_keys_are_the_schemas(schema_tables):
    for pointer, (schema, rows) in schema_tables.items():
        assert {row["required"] for row in rows.values()} <= {"yes", "no"}, pointer
        documented = {key for key, row in rows.items() if row["required"] == "yes"}
        assert documented == set(schema.get("required", ())), pointer


def test_types_enums_and_references_are_the_schemas(schema_tables):
    for pointer, (schema, rows) in schema_tables.items():
        for key, row in rows.items():
            where, property_schema, written = f"{pointer} {key}", schema["properties"][key], row["type"]
            if property_schema in (True, {}):
                assert "any" in written, where
                continue
            if "const" in property_schema:
                assert json_spans(written) == [property_schema["const"]], where
            if "enum" in property_schema:
                assert json_spans(written) == property_schema["enum"], where
            if "type" in property_schema:
                assert written.split()[0] == property_schema["type"], where
            row_text = " ".join(row.values()).lower()
            for ref in refs(property_schema):
                assert ref in REF_NAMES, f"{where}: give {ref} a name in REF_NAMES and in format.md"
                assert REF_NAMES[ref] in row_text, f"{where} must name the {REF_NAMES[ref]} it refers to"


def documented_constraints(cell: str) -> dict:
    constraints = {}
    for keyword, value in CONSTRAINT.findall(cell):
        if not value:
            constraints[keyword] = True
        elif value.startswith("`"):
            constraints[keyword] = value[1:-1]
        else:
            constraints[keyword] = json.loads(value)
    return constraints


def test_constraints_are_the_schemas(schema_tables):
    for pointer, (schema, rows) in schema_tables.items():
        for key, row in rows.items():
            property_schema = schema["properties"][key]
            given = property_schema if isinstance(property_schema, dict) else {}
            expected = {keyword: given[keyword] for keyword in CONSTRAINT_KEYWORDS if keyword in given}
            assert documented_constraints(row["constraints"]) == expected, f"{pointer} {key}"


def documented_default(cell: str):
    """``(True, value)`` for a default in backquotes or ``—`` (None); ``(False, None)`` for one in words."""
    if cell.startswith(NO_DEFAULT):
        return True, None
    if re.fullmatch(r"`[^`]+`", cell):
        return True, json.loads(in_backquotes(cell))
    return False, None


def test_documented_defaults_are_the_loaders(schema_tables):
    checked = set()
    for pointer, (schema, rows) in schema_tables.items():
        loaded = LOADED[pointer]() if pointer in LOADED else None
        for key, row in rows.items():
            if row["required"] == "yes":
                assert row["default"] == NO_DEFAULT, f"{pointer} {key}: a required key has no default"
                continue
            exact, value = documented_default(row["default"])
            if loaded is None:
                assert row["default"] == NO_DEFAULT, f"{pointer} {key}: the loader gives this object no defaults"
                continue
            if not exact:
                continue  # a default in words, such as the name taken from the file
            if hasattr(loaded, key):
                actual = getattr(loaded, key)
                assert (list(actual) if isinstance(actual, tuple) else actual) == value, f"{pointer} {key}"
                checked.add((pointer, key))
            else:
                assert value is None, f"{pointer} {key}: the loader keeps no {key!r} to check the default against"
    checked_node_keys = {key for where, key in checked if where == "#/$defs/node"}
    assert {"retries", "retry_delay", "timeout", "cache", "strict", "after"} <= checked_node_keys


def test_defaults_the_schema_states_are_the_documented_ones(schema_tables):
    stated = 0
    for pointer, (schema, rows) in schema_tables.items():
        for key, row in rows.items():
            property_schema = schema["properties"][key]
            if not isinstance(property_schema, dict):
                continue
            in_words = re.search(r"\bDefault (\S+?)[.;,]", property_schema.get("description", ""))
            for value in ([json.loads(in_words.group(1))] if in_words else []) + (
                [property_schema["default"]] if "default" in property_schema else []
            ):
                assert documented_default(row["default"]) == (True, value), f"{pointer} {key}"
                stated += 1
    assert stated >= 1  # the schema says that strict defaults to true


def test_each_enum_of_the_schema_is_listed(blocks):
    enums = {pointer: schema["enum"] for pointer, schema in subschemas(workflow_schema()) if "enum" in schema}
    tables = of_kind(blocks, "enum")
    assert set(tables) == set(enums)
    for pointer, block in tables.items():
        _header, rows = table(block.lines)
        assert [json.loads(in_backquotes(row[0])) for row in rows] == enums[pointer], pointer


def test_the_identifier_patterns_are_the_schemas(text):
    for name in ("identifier", "outputRef"):
        assert f"`{workflow_schema()['$defs'][name]['pattern']}`" in text, name


def test_the_json_limits_are_the_codes(text):
    section = text.split("## JSON value limits", 1)[1].split("\n## ", 1)[0]
    assert f"at most {MAX_DEPTH} levels" in section
    assert f"at most {MAX_INTEGER_DIGITS:,} digits" in section
    assert f"at most {schema_at('#/$defs/outputBinding/properties/map')['maxLength']} characters" in section


def test_what_a_parameter_accepts_is_what_the_code_accepts(blocks):
    header, rows = table(of_kind(blocks, "accepts")[""].lines)
    assert header[1].startswith("written") and header[2].startswith("inferred")
    documented_types = set()
    for row in rows:
        type_name = None if row[0] == "no type" else in_backquotes(row[0])
        documented_types.add(type_name)
        for column, declared in ((1, True), (2, False)):
            accepted = Parameter("p", type_name, type_declared=declared).accepted_types()
            expected = None if row[column] == "any" else frozenset(code_spans(row[column]))
            assert accepted == expected, (row[0], header[column])
    assert documented_types == {*JSON_TYPES, None}


def test_python_names_give_the_documented_types(blocks):
    _header, rows = table(of_kind(blocks, "python types")[""].lines)
    for python_name, json_type in rows:
        parameter = parse_parameters_cell(f"x: {in_backquotes(python_name)} = None")["x"]
        assert (parameter.type, parameter.type_declared) == (in_backquotes(json_type), True), python_name


def test_every_json_block_is_json_the_project_accepts(text):
    blocks = re.findall(r"^```json\n(.*?)^```$", text, re.S | re.M)
    assert len(blocks) >= 5
    for block in blocks:
        load_json(block, "a json block of format.md")


def expected_problems(expectation: str) -> list[tuple[str, str]]:
    """``(severity, pointer)`` pairs from ``valid`` or ``error /a; warning /b``."""
    if expectation == "valid":
        return []
    return sorted(tuple(problem.split()) for problem in expectation.split(";"))


def test_the_examples_validate_as_documented(blocks):
    examples = [block for block in blocks if block.kind == "example"]
    assert len(examples) >= 3 and any(block.argument.startswith("valid") for block in examples)
    for example in examples:
        expectation, *extra = (part.strip() for part in example.argument.split(","))
        document = load_json("\n".join(example.lines), "an example of format.md")
        problems = validate_document(document, EXAMPLES_ROOT)
        assert sorted((p.severity, p.pointer) for p in problems) == expected_problems(expectation), (
            example.argument, [str(p) for p in problems])
        for option in extra:
            keyword, _, path = option.partition(" ")
            assert keyword == "file", option
            assert json.loads((REPO / path).read_text(encoding="utf-8")) == document, path
