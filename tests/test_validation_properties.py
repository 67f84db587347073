"""Validation never raises: generated documents get problems, or none, and never an exception.

Three kinds of documents are thrown at ``validate_document``: any JSON (with the values
JSON cannot hold mixed in: NaN, infinities, lone surrogates); documents built from the
schema's shape, with wrong types sprinkled in; and valid documents mutated at random JSON
pointers. Every answer must be a list of problems that a REST answer can carry, and a
document without errors must be one the store can write.
"""

import copy
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from notebook_factory import make_notebook

from jupyter_workflow.model.problems import Problem
from jupyter_workflow.model.spec import FORMAT, parse_workflow
from jupyter_workflow.model.validation import validate_document

NOTEBOOKS = ["produce.ipynb", "consume.ipynb", "plain.ipynb", "stats.R.ipynb", "broken.ipynb", "notes.ipynb",
             "deep.ipynb", "odd.ipynb", "folder.ipynb"]
BAD_PATHS = ["missing.ipynb", "../outside.ipynb", "/etc/passwd.ipynb", "~/x.ipynb", "a\x00b.ipynb", "line\nbreak.ipynb",
             "x" * 300 + ".ipynb", "produce.ipynb/inner.ipynb", "produce.py", ""]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """Component notebooks of every kind validation meets, good and hostile."""
    root = tmp_path_factory.mktemp("flow")
    outputs = {"jupyter_workflow": {"outputs": {"table": {"type": "dataframe"}, "count": {"type": "integer"}},
                                    "parameters": {"label": {"type": "string"}}}}
    make_notebook(root / "produce.ipynb", 'size = 3\nlabel = "x"\nflag = True', "table = [label] * size", metadata=outputs)
    make_notebook(root / "consume.ipynb", "table = None\ncount: int = 1\nratio = 0.5\nitems = []\nstart = date.today()")
    make_notebook(root / "plain.ipynb", None, "print('no parameters')")
    make_notebook(root / "stats.R.ipynb", "alpha <- 0.05", "print(alpha)", kernel="ir")
    make_notebook(root / "broken.ipynb", "x = (1,\n")
    (root / "notes.ipynb").write_text("not JSON", encoding="utf-8")
    (root / "deep.ipynb").write_text('{"cells": ' + "[" * 50000 + "]" * 50000 + "}", encoding="utf-8")
    (root / "odd.ipynb").write_text(json.dumps({"cells": [{"cell_type": "code", "source": 5,
                                                          "metadata": {"tags": ["parameters"]}}]}), encoding="utf-8")
    (root / "folder.ipynb").mkdir()
    return root


# --- any JSON -----------------------------------------------------------------------------

HOSTILE_STRINGS = st.sampled_from(["\ud800", "a\udfffb", "\x00", "~1/", "a" * 2000])
HOSTILE_NUMBERS = st.sampled_from([float("nan"), float("inf"), -float("inf"), 1e308, -0.0, 2**80])


def json_values(scalars, keys):
    """Nested lists and objects of ``scalars``, with object keys from ``keys``."""
    return st.recursive(
        scalars, lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4), max_leaves=20
    )


CLEAN_JSON = json_values(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    st.text(max_size=8),
)
ANY_JSON = json_values(  # with what JSON cannot hold: NaN, infinities, lone surrogates
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | HOSTILE_STRINGS | HOSTILE_NUMBERS,
    st.text(max_size=8) | HOSTILE_STRINGS,
)
ANY_TOP_LEVEL = ANY_JSON | st.dictionaries(
    st.sampled_from(["format", "name", "title", "description", "inputs", "nodes", "outputs", "layout", "extra"]),
    ANY_JSON,
)


# --- documents of the schema's shape, some parts of the wrong type -------------------------


def sometimes_wrong(strategy):
    """``strategy`` most of the time; now and then any JSON value, rarely one JSON cannot hold."""
    return st.integers(0, 15).flatmap(lambda pick: strategy if pick > 1 else CLEAN_JSON if pick else ANY_JSON)


NAMES = st.sampled_from(["a", "b", "c", "x", "size", "label", "flag", "table", "count", "ratio", "items"]) | st.from_regex(
    r"\A[A-Za-z_][A-Za-z0-9_]{0,5}\Z"
)
KEYS = sometimes_wrong(NAMES).filter(lambda key: isinstance(key, str))  # now and then not an identifier
MAPS = st.sampled_from(["length(@)", "[0]", "rows[?", "a.b", "`1e999`", "!" * 600 + "a", "(" * 300 + "a" + ")" * 300,
                        "[?x > `1`] | sort(@)", "'lit'", "@"]) | st.text(max_size=10)
OUTPUT_REFS = st.builds(lambda node, name: f"{node}.{name}", NAMES, NAMES) | st.text(max_size=6)
BINDINGS = st.one_of(
    CLEAN_JSON,
    st.fixed_dictionaries({"input": sometimes_wrong(NAMES)}),
    st.fixed_dictionaries({"output": sometimes_wrong(OUTPUT_REFS)}, optional={"map": sometimes_wrong(MAPS)}),
    st.fixed_dictionaries({"outputs": sometimes_wrong(st.lists(OUTPUT_REFS, max_size=3)),
                           "reduce": sometimes_wrong(st.sampled_from(["list", "concat", "merge"]))}),
    st.fixed_dictionaries({"value": sometimes_wrong(CLEAN_JSON)}),
    st.dictionaries(st.sampled_from(["input", "output", "outputs", "value", "map", "reduce"]), CLEAN_JSON, min_size=2),
)
NODES = st.fixed_dictionaries(
    {"notebook": sometimes_wrong(st.sampled_from(NOTEBOOKS + BAD_PATHS))},
    optional={
        "parameters": sometimes_wrong(st.dictionaries(KEYS, BINDINGS, max_size=4)),
        "after": sometimes_wrong(st.lists(KEYS, max_size=3)),
        "retries": sometimes_wrong(st.integers(-2, 200)),
        "retry_delay": sometimes_wrong(st.floats(-1, 1e6) | st.sampled_from([1e300, 86400, 86401])),
        "timeout": sometimes_wrong(st.floats(-1, 1e7) | st.sampled_from([0, 1e300, 604800])),
        "kernel": sometimes_wrong(st.sampled_from(["python3", "jupyter-workflow", "ir", "pyhton3", "python3; touch x", ""])),
        "cache": sometimes_wrong(st.booleans()),
        "strict": sometimes_wrong(st.booleans()),
        "title": sometimes_wrong(st.text(max_size=5)),
    },
)
NODES_WITH_UNKNOWN_KEYS = st.builds(lambda node, key, value: {**node, key: value}, NODES, st.text(max_size=5), CLEAN_JSON)
INPUT_DECLARATIONS = st.fixed_dictionaries(
    {},
    optional={
        "type": sometimes_wrong(st.sampled_from(["string", "number", "integer", "boolean", "array", "object", "date"])),
        "default": sometimes_wrong(CLEAN_JSON),
        "enum": sometimes_wrong(st.lists(CLEAN_JSON, max_size=3)),
        "minimum": sometimes_wrong(st.integers(-5, 5)),
        "maximum": sometimes_wrong(st.floats(-5, 5)),
        "format": sometimes_wrong(st.sampled_from(["date", "email", "regex", "uri", "nonsense"])),
        "title": st.text(max_size=5),
    },
)
LAYOUTS = st.one_of(
    st.dictionaries(KEYS, sometimes_wrong(st.fixed_dictionaries({"x": st.floats(-1e3, 1e3), "y": st.integers()}))),
    st.none(), st.booleans(), st.integers(), st.text(max_size=3), st.lists(CLEAN_JSON, max_size=2),
)
DOCUMENTS = st.fixed_dictionaries(
    {
        "format": sometimes_wrong(st.just(FORMAT)),
        "nodes": sometimes_wrong(st.dictionaries(KEYS, NODES | NODES_WITH_UNKNOWN_KEYS, min_size=1, max_size=4)),
    },
    optional={
        "name": sometimes_wrong(NAMES),
        "title": sometimes_wrong(st.text(max_size=5)),
        "inputs": sometimes_wrong(st.dictionaries(KEYS, sometimes_wrong(INPUT_DECLARATIONS), max_size=3)),
        "outputs": sometimes_wrong(st.dictionaries(KEYS, BINDINGS, max_size=3)),
        "layout": LAYOUTS,
    },
)
INPUT_VALUES = st.none() | st.dictionaries(KEYS, ANY_JSON, max_size=3) | ANY_JSON


# --- valid documents, mutated at random places -------------------------------------------

VALID = [
    {
        "format": FORMAT,
        "name": "example",
        "inputs": {"threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
                   "month": {"type": "string", "format": "date", "default": "2026-01-01"}},
        "nodes": {
            "a": {"notebook": "produce.ipynb", "parameters": {"size": 2.5, "label": {"input": "month"}}},
            "b": {"notebook": "consume.ipynb", "after": ["a"], "retries": 1, "retry_delay": 2, "timeout": 60,
                  "kernel": "python3", "cache": True, "strict": False,
                  "parameters": {"table": {"output": "a.table", "map": "[0]"},
                                 "items": {"outputs": ["a.count", "a.table"], "reduce": "list"},
                                 "ratio": {"input": "threshold"}, "extra": {"value": {"input": "not a binding"}}}},
        },
        "outputs": {"n": {"output": "a.count"}, "all": {"outputs": ["a.table"], "reduce": "concat"}},
        "layout": {"a": {"x": 0, "y": 0}, "b": {"x": 10.5, "y": -3}},
    },
    {"format": FORMAT, "nodes": {"only": {"notebook": "plain.ipynb"}}},
]


def pointers(value, path=()):
    """Every path (a tuple of keys and indexes) into ``value``, the root included."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += pointers(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += pointers(child, (*path, index))
    return found


def mutate(document, path: tuple, operation: str, new_value, new_key: str):
    """``document`` with the value at ``path`` replaced, deleted, or given a new member."""
    if not path:
        return new_value if operation == "replace" else document
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if operation == "replace":
        parent[last] = new_value
    elif operation == "delete":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last][new_key] = new_value
    elif isinstance(parent[last], list):
        parent[last].insert(len(parent[last]) // 2, new_value)
    else:
        parent[last] = [parent[last], new_value]
    return document


@st.composite
def mutated_documents(draw):
    document = copy.deepcopy(draw(st.sampled_from(VALID)))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(pointers(document)))
        operation = draw(st.sampled_from(["replace", "delete", "insert"]))
        new_value = draw(st.one_of(ANY_JSON, BINDINGS, NODES, st.sampled_from(NOTEBOOKS + BAD_PATHS)))
        document = mutate(document, path, operation, new_value, draw(NAMES))
    return document


# --- the property -------------------------------------------------------------------------


def assert_answers_with_problems(document, root, inputs=None):
    problems = validate_document(document, root, inputs=inputs)
    assert isinstance(problems, list)
    assert all(isinstance(problem, Problem) and problem.severity in ("error", "warning") for problem in problems)
    body = json.dumps([problem.to_dict() for problem in problems], ensure_ascii=False, allow_nan=False)
    body.encode("utf-8")  # a REST answer can carry every problem
    if not any(problem.is_error for problem in problems):
        json.dumps(document, ensure_ascii=False, allow_nan=False).encode("utf-8")  # the store can write it
        workflow = parse_workflow(document, root)
        assert set(workflow.nodes) == set(document["nodes"])


@given(document=ANY_TOP_LEVEL, inputs=INPUT_VALUES)
def test_any_json_gets_problems_not_an_exception(root, document, inputs):
    assert_answers_with_problems(document, root, inputs)


@given(document=DOCUMENTS, inputs=INPUT_VALUES)
def test_documents_of_the_schemas_shape_get_problems_not_an_exception(root, document, inputs):
    assert_answers_with_problems(document, root, inputs)


@given(document=mutated_documents())
def test_mutated_valid_documents_get_problems_not_an_exception(root, document):
    assert_answers_with_problems(document, root)


def test_the_documents_mutated_above_are_valid(root):
    first, second = VALID
    assert [(p.pointer, p.severity) for p in validate_document(first, root)] == [("/nodes/b/parameters/extra", "warning")]
    assert validate_document(second, root) == []
