"""Validation of ``jupyter-workflow/1`` files: every mistake named by JSON pointer and in words."""

import copy
import json
from importlib.resources import files
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from notebook_factory import make_notebook, write_workflow

from jupyter_workflow.model import FanIn, InputRef, InvalidWorkflow, Literal, OutputRef, load_workflow
from jupyter_workflow.model.validation import check_inputs, validate_document, workflow_schema

REPO = Path(__file__).resolve().parent.parent
DELETE = object()

PRODUCE_OUTPUTS = {
    "jupyter_workflow": {
        "outputs": {"table": {"type": "dataframe"}, "count": {"type": "integer", "description": "rows read"}}
    }
}


@pytest.fixture
def root(tmp_path):
    """A workflow folder with a few component notebooks, and one notebook outside it."""
    root = tmp_path / "flow"
    make_notebook(
        root / "produce.ipynb",
        'size = 3  # rows to make\nlabel = "x"  # a name\nflag = True',
        "table = [label] * size",
        metadata=PRODUCE_OUTPUTS,
    )
    make_notebook(
        root / "consume.ipynb",
        'from typing import Optional\n\ntable = None\ncount: int = 1\nratio = 0.5\nenabled = False\nname = "n"\n'
        "limit: Optional[int] = None\noptions = {}\nitems = []\nweights: dict = {}",
    )
    make_notebook(root / "plain.ipynb", None, "print('no parameters here')")
    make_notebook(root / "broken.ipynb", "x = (1,\n", "")
    make_notebook(root / "stats.R.ipynb", "alpha <- 0.05\nlabel <- 'x'", "print(alpha)", kernel="ir")
    (root / "notes.ipynb").write_text("these are my notes, not JSON", encoding="utf-8")
    (root / "folder.ipynb").mkdir()
    make_notebook(tmp_path / "outside.ipynb", "x = 1")
    return root


@pytest.fixture
def r_kernel(tmp_path, monkeypatch):
    """An R kernelspec installed where Jupyter looks for kernels (it is never started here)."""
    spec = tmp_path / "jupyter-data" / "kernels" / "ir" / "kernel.json"
    spec.parent.mkdir(parents=True)
    argv = ["R", "--slave", "-e", "IRkernel::main()", "--args", "{connection_file}"]
    spec.write_text(json.dumps({"argv": argv, "display_name": "R", "language": "R"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter-data"))
    return "ir"


def base() -> dict:
    """A valid workflow: a produces a table, b consumes it."""
    return {
        "format": "jupyter-workflow/1",
        "name": "example",
        "inputs": {
            "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "month": {"type": "string", "format": "date"},
            "kind": {"type": "string", "enum": ["daily", "monthly"], "default": "daily"},
        },
        "nodes": {
            "a": {"notebook": "produce.ipynb"},
            "b": {"notebook": "consume.ipynb", "parameters": {"table": {"output": "a.table"}}},
        },
    }


def patched(*changes) -> dict:
    """``base()`` with ``(path, value)`` changes applied (``DELETE`` removes the key)."""
    document = copy.deepcopy(base())
    for path, value in changes:
        target = document
        for key in path[:-1]:
            target = target.setdefault(key, {})
        if value is DELETE:
            del target[path[-1]]
        else:
            target[path[-1]] = value
    return document


def param(node, name, value):
    return (("nodes", node, "parameters", name), value)


VALID_INPUTS = {"month": "2026-10-01"}


def nested_list(depth: int) -> list:
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def text_with_size(value: str) -> str:
    """A workflow file's text whose node a passes ``value`` (JSON text, written as is) as ``size``."""
    return ('{"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "produce.ipynb", '
            f'"parameters": {{"size": {value}}}}}}}}}')


# id, document (or raw JSON text), input values, expected pointer, expected message fragments
CASES = [
    ("cycle of two", patched((("nodes", "a", "after"), ["b"])), None,
     "/nodes/a", ["cycle", "a -> b -> a"]),
    ("cycle of three", patched((("nodes", "a", "after"), ["c"]),
                               (("nodes", "c"), {"notebook": "consume.ipynb",
                                                 "parameters": {"count": {"output": "b.count"}}})), None,
     "/nodes/a", ["cycle", "a -> b -> c -> a"]),
    ("output binding names an unknown node", patched(param("b", "table", {"output": "z.table"})), None,
     "/nodes/b/parameters/table/output", ["no node 'z' in this workflow"]),
    ("output binding names an undeclared output", patched(param("b", "table", {"output": "a.tabel"})), None,
     "/nodes/b/parameters/table/output", ["node 'a' does not record an output 'tabel'", "declares: count, table"]),
    ("fan-in names an undeclared output",
     patched(param("b", "items", {"outputs": ["a.table", "a.rows"], "reduce": "list"})), None,
     "/nodes/b/parameters/items/outputs/1", ["does not record an output 'rows'"]),
    ("workflow output names an unknown node", patched((("outputs",), {"result": {"output": "q.table"}})), None,
     "/outputs/result/output", ["no node 'q'"]),
    ("after names an unknown node", patched((("nodes", "b", "after"), ["aa"])), None,
     "/nodes/b/after/0", ["no node 'aa'", "did you mean 'a'?"]),
    ("node waits for itself", patched((("nodes", "b", "after"), ["b"])), None,
     "/nodes/b/after/0", ["cannot wait for itself"]),
    ("node takes its own output", patched(param("b", "count", {"output": "b.count"})), None,
     "/nodes/b/parameters/count/output", ["node 'b' cannot take its own output 'b.count'"]),
    ("notebook escapes the folder", patched((("nodes", "a", "notebook"), "../outside.ipynb")), None,
     "/nodes/a/notebook", ["'../outside.ipynb'", "outside the workflow's folder"]),
    ("notebook escapes through a subfolder", patched((("nodes", "a", "notebook"), "sub/../../outside.ipynb")), None,
     "/nodes/a/notebook", ["outside the workflow's folder"]),
    ("absolute notebook path", patched((("nodes", "a", "notebook"), "/tmp/produce.ipynb")), None,
     "/nodes/a/notebook", ["absolute path", "relative to the workflow file"]),
    ("notebook does not exist", patched((("nodes", "a", "notebook"), "missing.ipynb")), None,
     "/nodes/a/notebook", ["notebook 'missing.ipynb' does not exist"]),
    ("file is not a notebook", patched((("nodes", "a", "notebook"), "notes.ipynb")), None,
     "/nodes/a/notebook", ["notes.ipynb is not a notebook"]),
    ("notebook path is a folder", patched((("nodes", "a", "notebook"), "folder.ipynb")), None,
     "/nodes/a/notebook", ["'folder.ipynb' is a folder, not a notebook file"]),
    ("parameters cell is not Python", patched((("nodes", "a", "notebook"), "broken.ipynb")), None,
     "/nodes/a/notebook", ["broken.ipynb", "parameters cell is not valid Python", "line 1"]),
    ("notebook path without .ipynb", patched((("nodes", "a", "notebook"), "produce.py")), None,
     "/nodes/a/notebook", ["'produce.py' is not a notebook path", ".ipynb"]),
    ("node without notebook", patched((("nodes", "a", "notebook"), DELETE)), None,
     "/nodes/a", ["missing required key 'notebook'"]),
    ("undeclared parameter, close to a declared one", patched(param("a", "sise", 3)), None,
     "/nodes/a/parameters/sise", ["'produce.ipynb' has no parameter 'sise'", "did you mean 'size'?"]),
    ("undeclared parameter, nothing close", patched(param("a", "colour", "red")), None,
     "/nodes/a/parameters/colour", ["no parameter 'colour'", "it declares: flag, label, size"]),
    ("parameter for a notebook without parameters cell",
     patched((("nodes", "c"), {"notebook": "plain.ipynb", "parameters": {"x": 1}})), None,
     "/nodes/c/parameters/x", ["'plain.ipynb' has no cell tagged 'parameters'", "no parameter 'x'"]),
    ("string for an int default", patched(param("a", "size", "3")), None,
     "/nodes/a/parameters/size", ["parameter 'size' expects a number (its default is 3)", 'got the string "3"']),
    ("boolean for an int default", patched(param("a", "size", True)), None,
     "/nodes/a/parameters/size", ["parameter 'size' expects a number", "got true"]),
    ("string for a float default", patched(param("b", "ratio", "ten")), None,
     "/nodes/b/parameters/ratio", ["parameter 'ratio' expects a number (its default is 0.5)", 'got the string "ten"']),
    ("number for a bool parameter", patched(param("a", "flag", 1)), None,
     "/nodes/a/parameters/flag", ["parameter 'flag' expects true or false", "got the number 1"]),
    ("number for a list default", patched(param("b", "items", 3)), None,
     "/nodes/b/parameters/items", ["parameter 'items' expects a list or an object", "got the number 3"]),
    ("float for an annotated int", patched(param("b", "count", 2.5)), None,
     "/nodes/b/parameters/count", ["expects an integer (its type is declared)", "got the number 2.5"]),
    ("string for an annotated int", patched(param("b", "count", "a")), None,
     "/nodes/b/parameters/count", ["parameter 'count' expects an integer", 'got the string "a"']),
    ("null for a parameter that is not Optional", patched(param("b", "count", None)), None,
     "/nodes/b/parameters/count", ["expects an integer", "got null"]),
    ("value object of the wrong type", patched(param("b", "weights", {"value": [1, 2]})), None,
     "/nodes/b/parameters/weights", ["parameter 'weights' expects an object", "got the list [1, 2]"]),
    ("required input missing", base(), {},
     "/inputs/month", ["input 'month' is required and has no default"]),
    ("input value out of range", base(), {**VALID_INPUTS, "threshold": 1.5},
     "/inputs/threshold", ["1.5 is greater than the maximum 1"]),
    ("input value of the wrong type", base(), {"month": 202610},
     "/inputs/month", ["expected a string, got the number 202610"]),
    ("input value not in enum", base(), {**VALID_INPUTS, "kind": "yearly"},
     "/inputs/kind", ['must be one of "daily", "monthly"', 'got the string "yearly"']),
    ("input value with an invalid format", base(), {"month": "2026-13-45"},
     "/inputs/month", ['"2026-13-45" is not a valid date']),
    ("unknown input passed", base(), {**VALID_INPUTS, "treshold": 0.3},
     "/inputs/treshold", ["the workflow has no input 'treshold'", "inputs: kind, month, threshold"]),
    ("binding names an undeclared input", patched(param("b", "ratio", {"input": "thresh"})), None,
     "/nodes/b/parameters/ratio/input", ["declares no input 'thresh'", "inputs: kind, month, threshold"]),
    ("input type incompatible with the parameter", patched(param("b", "enabled", {"input": "threshold"})), None,
     "/nodes/b/parameters/enabled", ["input 'threshold' is a number", "parameter 'enabled' expects true or false"]),
    ("number input for an int parameter", patched(param("b", "count", {"input": "threshold"})), None,
     "/nodes/b/parameters/count", ["input 'threshold' is a number", "parameter 'count' expects an integer"]),
    ("string input for a number default", patched(param("b", "ratio", {"input": "month"})), None,
     "/nodes/b/parameters/ratio", ["input 'month' is a string", "parameter 'ratio' expects a number"]),
    ("bad JMESPath in map", patched(param("b", "table", {"output": "a.table", "map": "rows[?"})), None,
     "/nodes/b/parameters/table/map", ["invalid JMESPath expression 'rows[?'", "ends too early"]),
    ("JMESPath with a stray word", patched(param("b", "table", {"output": "a.table", "map": "rows total"})), None,
     "/nodes/b/parameters/table/map", ["invalid JMESPath expression 'rows total'", "Unexpected token: total"]),
    ("unknown key on a node", patched((("nodes", "b", "retry"), 2)), None,
     "/nodes/b/retry", ["unknown key 'retry'", "retries"]),
    ("unknown key in a binding", patched(param("b", "table", {"output": "a.table", "mapping": "x"})), None,
     "/nodes/b/parameters/table/mapping", ["unknown key 'mapping'", "allowed: map, output"]),
    ("binding with two kinds", patched(param("b", "table", {"output": "a.table", "input": "month"})), None,
     "/nodes/b/parameters/table", ["exactly one of the keys", "this one has input, output"]),
    ("unknown top-level key", patched((("version",), 2)), None,
     "/version", ["unknown key 'version'", "allowed: description, format, inputs"]),
    ("unknown key in an input declaration", patched((("inputs", "month", "widget"), "calendar")), None,
     "/inputs/month/widget", ["unknown key 'widget'"]),
    ("duplicate node id",
     '{"format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "produce.ipynb"},\n'
     ' "a": {"notebook": "consume.ipynb"}}}', None,
     "/nodes/a", ["duplicate key 'a'"]),
    ("not JSON at all", '{"format": "jupyter-workflow/1", "nodes": {', None,
     "", ["not valid JSON", "line 1"]),
    ("invalid node id", patched((("nodes", "bad-id"), {"notebook": "produce.ipynb"})), None,
     "/nodes/bad-id", ["'bad-id' is not a valid node id", "letters, digits and _"]),
    ("invalid parameter name", patched(param("b", "2nd", 1)), None,
     "/nodes/b/parameters/2nd", ["'2nd' is not a valid parameter name"]),
    ("invalid workflow name", patched((("name",), "my flow")), None,
     "/name", ["'my flow' is not a valid name"]),
    ("wrong format", patched((("format",), "jupyter-workflow/2")), None,
     "/format", ["format must be 'jupyter-workflow/1'", 'got the string "jupyter-workflow/2"']),
    ("missing format", patched((("format",), DELETE)), None,
     "", ["missing required key 'format'"]),
    ("bad reduce", patched(param("b", "items", {"outputs": ["a.table"], "reduce": "sum"})), None,
     "/nodes/b/parameters/items/reduce", ['must be one of "list", "concat", "merge"', 'got the string "sum"']),
    ("fan-in without reduce", patched(param("b", "items", {"outputs": ["a.table"]})), None,
     "/nodes/b/parameters/items", ["missing required key 'reduce'"]),
    ("fan-in of nothing", patched(param("b", "items", {"outputs": [], "reduce": "list"})), None,
     "/nodes/b/parameters/items/outputs", ["must not be empty"]),
    ("malformed output reference", patched(param("b", "table", {"output": "nodot"})), None,
     "/nodes/b/parameters/table/output", ["'nodot' is not an output reference of the form NODE.NAME"]),
    ("malformed reference in a fan-in", patched(param("b", "items", {"outputs": ["a.table", "a"], "reduce": "concat"})),
     None, "/nodes/b/parameters/items/outputs/1", ["'a' is not an output reference"]),
    ("negative retries", patched((("nodes", "b", "retries"), -1)), None,
     "/nodes/b/retries", ["must be at least 0", "got the number -1"]),
    ("zero timeout", patched((("nodes", "b", "timeout"), 0)), None,
     "/nodes/b/timeout", ["must be greater than 0", "got the number 0"]),
    ("retries given as text", patched((("nodes", "b", "retries"), "3")), None,
     "/nodes/b/retries", ['expected an integer, got the string "3"']),
    ("after lists a node twice", patched((("nodes", "b", "after"), ["a", "a"])), None,
     "/nodes/b/after", ['lists "a" more than once']),
    ("input default outside min/max", patched((("inputs", "threshold", "default"), 5)), None,
     "/inputs/threshold/default", ["5 is greater than the maximum 1"]),
    ("input default not in its enum", patched((("inputs", "kind", "default"), "hourly")), None,
     "/inputs/kind/default", ['must be one of "daily", "monthly"']),
    ("input declaration with an unknown type", patched((("inputs", "month", "type"), "date")), None,
     "/inputs/month/type", ['must be one of "string", "number"', 'got the string "date"']),
    ("layout names a missing node", patched((("layout",), {"a": {"x": 0, "y": 0}, "zz": {"x": 1, "y": 2}})), None,
     "/layout/zz", ["the layout names 'zz', which is not a node"]),
    ("empty nodes", patched((("nodes",), {})), None,
     "/nodes", ["a workflow needs at least one node"]),
    ("nodes given as a list", patched((("nodes",), [{"notebook": "produce.ipynb"}])), None,
     "/nodes", ["expected an object, got the list"]),
    ("layout is null", patched((("layout",), None)), None, "/layout", ["expected an object, got null"]),
    ("layout is a number", patched((("layout",), 3)), None, "/layout", ["expected an object, got the number 3"]),
    ("layout is false", patched((("layout",), False)), None, "/layout", ["expected an object, got false"]),
    ("layout is a list", patched((("layout",), [{"a": 1}])), None, "/layout", ["expected an object, got the list"]),
    ("layout is a string", patched((("layout",), "ab")), None, "/layout", ['expected an object, got the string "ab"']),
    ("kernel that is not installed", patched((("nodes", "a", "kernel"), "pyhton3")), None,
     "/nodes/a/kernel", ["no kernel 'pyhton3' is installed here", "did you mean 'python3'?", "installed: ", "python3"]),
    ("kernel name with a shell command", patched((("nodes", "a", "kernel"), "python3; touch x")), None,
     "/nodes/a/kernel", ["'python3; touch x' is not a kernelspec name"]),
    ("kernel name with a trailing newline", patched((("nodes", "a", "kernel"), "python3\n")), None,
     "/nodes/a/kernel", ["is not a kernelspec name"]),
    ("notebook whose kernel is not installed", patched((("nodes", "c"), {"notebook": "stats.R.ipynb"})), None,
     "/nodes/c/notebook", ["'stats.R.ipynb' runs in the kernel 'ir', which is not installed here", "python3"]),
    ("timeout beyond a week", patched((("nodes", "b", "timeout"), 1e300)), None,
     "/nodes/b/timeout", ["must be at most 604800", "got the number 1e+300"]),
    ("retry delay beyond a day", patched((("nodes", "b", "retry_delay"), 86401)), None,
     "/nodes/b/retry_delay", ["must be at most 86400", "got the number 86401"]),
    ("map nested past the parser's recursion", patched(param("b", "table", {"output": "a.table", "map": "!" * 999 + "a"})),
     None, "/nodes/b/parameters/table/map", ["JMESPath expression is nested too deeply"]),
    ("map nested deeper than the evaluator may go",
     patched(param("b", "table", {"output": "a.table", "map": "!" * 80 + "a"})), None,
     "/nodes/b/parameters/table/map", ["not accepted", "nested more than 64 levels"]),
    ("map with an infinite literal", patched(param("b", "table", {"output": "a.table", "map": "`1e999`"})), None,
     "/nodes/b/parameters/table/map", ["not accepted", "a literal in it", "not a JSON number"]),
    ("map longer than a thousand characters",
     patched(param("b", "table", {"output": "a.table", "map": "(" * 5000 + "a" + ")" * 5000})), None,
     "/nodes/b/parameters/table/map", ["is too long: at most 1000 characters, got 10001"]),
    ("file nested thousands deep", text_with_size("[" * 5000 + "]" * 5000), None,
     "", ["the workflow is nested too deeply (at most 64 levels)"]),
    ("file nested a hundred deep", text_with_size("[" * 100 + "]" * 100), None,
     "", ["the workflow is not accepted", "nested deeper than 64 levels"]),
    ("file with NaN", text_with_size("NaN"), None, "", ["NaN is not a JSON number"]),
    ("file with a number too large", text_with_size("1e999"), None, "", ["1e999 is too large for a JSON number"]),
    ("file with a lone surrogate", text_with_size('"\\ud800"'), None, "", ["lone surrogate"]),
    ("input value NaN", base(), {**VALID_INPUTS, "threshold": float("nan")},
     "/inputs/threshold", ["not an accepted JSON value", "nan", "not a JSON number"]),
    ("input value infinite", base(), {**VALID_INPUTS, "threshold": float("inf")},
     "/inputs/threshold", ["not an accepted JSON value", "inf", "not a JSON number"]),
    ("input value with a lone surrogate", base(), {"month": "2026-10-01\ud800"},
     "/inputs/month", ["not an accepted JSON value", "lone surrogate"]),
    ("input value nested too deeply", base(), {**VALID_INPUTS, "kind": nested_list(70)},
     "/inputs/kind", ["not an accepted JSON value", "nested deeper than 64 levels"]),
]


@pytest.mark.parametrize(
    ("document", "inputs", "where", "fragments"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_each_mistake_is_named_by_pointer_and_in_words(root, document, inputs, where, fragments):
    path = root / "w.workflow.json"
    if isinstance(document, str):
        path.write_text(document, encoding="utf-8")
    else:
        write_workflow(path, document)
    with pytest.raises(InvalidWorkflow) as caught:
        load_workflow(path, inputs=inputs)
    problems = caught.value.problems
    assert [problem.pointer for problem in problems] == [where], problems
    for fragment in fragments:
        assert fragment in problems[0].message
    assert "\n" not in problems[0].message  # one readable line each
    assert str(path) in str(caught.value) and "1 problem found" in str(caught.value)
    if not isinstance(document, str):
        assert validate_document(document, root, inputs=inputs) == problems


def test_every_problem_of_a_document_is_reported_at_once(root):
    document = patched(
        (("version",), 2),  # schema: unknown top-level key
        (("inputs", "threshold", "default"), -1),  # input default below its minimum
        param("a", "sise", 4),  # undeclared parameter
        param("b", "table", {"output": "a.tabel"}),  # undeclared output
        (("nodes", "c"), {"notebook": "gone.ipynb"}),  # missing notebook
        (("nodes", "d"), {"notebook": "consume.ipynb", "retries": -2}),  # schema, inside a node
        (("nodes", "e"), {"notebook": "consume.ipynb", "after": ["f"]}),
        (("nodes", "f"), {"notebook": "consume.ipynb", "after": ["e"]}),  # cycle
        (("layout",), {"ghost": {"x": 0, "y": 0}}),
        (("nodes", "g"), {"notebook": "consume.ipynb", "colour": "red", "size": 2}),  # two unknown keys
    )
    path = write_workflow(root / "many.workflow.json", document)
    with pytest.raises(InvalidWorkflow) as caught:
        load_workflow(path, inputs={"month": "not a date", "extra": 1})
    pointers = {problem.pointer for problem in caught.value.problems}
    assert pointers == {
        "/version",
        "/inputs/threshold/default",
        "/nodes/a/parameters/sise",
        "/nodes/b/parameters/table/output",
        "/nodes/c/notebook",
        "/nodes/d/retries",
        "/nodes/e",
        "/layout/ghost",
        "/inputs/month",
        "/inputs/extra",
        "/nodes/g/colour",
        "/nodes/g/size",
    }
    assert len(caught.value.problems) == len(pointers)
    assert str(caught.value).startswith(f"{path}: 12 problems found")
    body = caught.value.to_dict()
    assert body["message"] == f"{path}: 12 problems found"
    assert {error["pointer"] for error in body["errors"]} == pointers
    assert json.loads(json.dumps(body)) == body


def test_a_document_changed_in_place_is_checked_anew(root):
    document = base()
    assert validate_document(document, root) == []
    document["nodes"]["a"]["retries"] = -2
    assert [problem.pointer for problem in validate_document(document, root)] == ["/nodes/a/retries"]
    del document["nodes"]["a"]["retries"]
    assert validate_document(document, root) == []


def _own_reconcile(folder: Path) -> Path:
    """A realistic valid workflow, for when the shipped example is not there."""
    outputs = {"jupyter_workflow": {"outputs": {"table": {"type": "dataframe"}, "row_count": {"type": "integer"}}}}
    make_notebook(folder / "components/read_table.ipynb", 'path = "data/a.csv"  # CSV file', "", metadata=outputs)
    make_notebook(
        folder / "components/fuzzy_match.ipynb",
        "left = None\nright = None\nthreshold = 0.9  # minimum similarity",
        "",
        metadata={"jupyter_workflow": {"outputs": {"matched_count": {"type": "integer"}}}},
    )
    return write_workflow(
        folder / "reconcile.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "name": "reconcile",
            "inputs": {"threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.9}},
            "nodes": {
                "source_a": {"notebook": "components/read_table.ipynb", "parameters": {"path": "data/a.csv"}},
                "source_b": {"notebook": "components/read_table.ipynb", "parameters": {"path": "data/b.csv"}},
                "match": {
                    "notebook": "components/fuzzy_match.ipynb",
                    "parameters": {
                        "left": {"output": "source_a.table"},
                        "right": {"output": "source_b.table"},
                        "threshold": {"input": "threshold"},
                    },
                    "retries": 1,
                    "timeout": 600,
                },
            },
            "outputs": {"matched": {"output": "match.matched_count"}},
            "layout": {"source_a": {"x": 0, "y": 0}},
        },
    )


def test_the_shipped_example_workflow_is_valid(tmp_path):
    path = REPO / "notebooks" / "reconcile.workflow.json"
    if not path.exists():  # still being written by someone else: check a workflow of the same shape
        path = _own_reconcile(tmp_path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(workflow_schema()).iter_errors(document)) == []
    assert validate_document(document, path.parent) == []
    assert validate_document(document, path.parent, inputs={}) == []  # every input has a default
    workflow = load_workflow(path)
    assert workflow.name == "reconcile"
    assert set(workflow.nodes) == set(document["nodes"])
    dependencies = workflow.dependencies()
    assert any(dependencies.values()), "the example has edges"
    for node_id, upstream in dependencies.items():
        assert upstream <= set(workflow.nodes) and node_id not in upstream
        assert workflow.notebook_path(node_id).is_file()


def test_value_objects_fan_in_and_other_kernels_validate(root, r_kernel):
    document = patched(
        (("nodes", "a2"), {"notebook": "produce.ipynb", "parameters": {"size": 5, "label": "y", "flag": False}}),
        param("b", "items", {"outputs": ["a.table", "a2.table"], "reduce": "concat"}),
        param("b", "options", {"value": {"output": "looks.like_a_binding", "input": "x"}}),
        param("b", "ratio", 1),  # an integer is a number
        param("b", "count", {"value": 7}),
        param("b", "limit", None),  # Optional[int] accepts null
        param("b", "name", {"input": "month"}),
        (("nodes", "b", "after"), ["a2"]),
        (("nodes", "b", "retries"), 2),
        (("nodes", "b", "timeout"), 30.5),
        (("nodes", "r"), {"notebook": "stats.R.ipynb", "parameters": {"alpha": 0.01, "anything": [1]}}),
        (("nodes", "c"), {"notebook": "consume.ipynb",
                          "parameters": {"table": {"output": "a.count", "map": "[?@ > `1`] | length(@)"},
                                         "items": {"outputs": ["a.count", "a2.count"], "reduce": "list"},
                                         "options": {"outputs": ["b.x", "r.y"], "reduce": "merge"}}}),
        (("outputs",), {"tables": {"outputs": ["a.table", "a2.table"], "reduce": "list"}, "n": {"output": "a.count"}}),
        (("layout",), {"a": {"x": 0, "y": 0}, "b": {"x": 200.5, "y": -10}}),
    )
    assert validate_document(document, root, inputs={"month": "2026-01-31", "threshold": 1}) == []
    workflow = load_workflow(write_workflow(root / "ok.workflow.json", document), inputs={"month": "2026-01-31"})
    b = workflow.nodes["b"]
    assert b.parameters["options"] == Literal({"output": "looks.like_a_binding", "input": "x"})
    assert b.parameters["count"] == Literal(7)
    assert b.parameters["name"] == InputRef("month")
    assert b.parameters["items"] == FanIn((OutputRef("a", "table"), OutputRef("a2", "table")), "concat")
    assert workflow.nodes["c"].parameters["table"] == OutputRef("a", "count", "[?@ > `1`] | length(@)")
    assert workflow.dependencies() == {"a": set(), "a2": set(), "b": {"a", "a2"}, "r": set(), "c": {"a", "a2", "b", "r"}}
    assert workflow.outputs["tables"] == FanIn((OutputRef("a", "table"), OutputRef("a2", "table")), "list")


def test_check_inputs_completes_values_with_defaults():
    declarations = base()["inputs"]
    resolved, problems = check_inputs(declarations, {"month": "2026-02-28", "threshold": 1})
    assert problems == []
    assert resolved == {"month": "2026-02-28", "threshold": 1, "kind": "daily"}
    resolved, problems = check_inputs(declarations, {"month": "2026-02-28", "threshold": True})
    assert [(p.pointer, p.message) for p in problems] == [("/inputs/threshold", "expected a number, got true")]


def test_the_shipped_schema_is_a_valid_draft_2020_12_schema():
    text = files("jupyter_workflow.model").joinpath("workflow.schema.json").read_text("utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema == workflow_schema()
    validator = Draft202012Validator(schema)
    assert validator.is_valid(base())
    assert not validator.is_valid(patched((("nodes", "a", "surprise"), True)))


def test_identifiers_with_a_trailing_newline_are_rejected(tmp_path):
    make_notebook(tmp_path / "n.ipynb", "x = 1")
    document = {
        "format": "jupyter-workflow/1",
        "nodes": {"a\n": {"notebook": "n.ipynb"}, "b": {"notebook": "n.ipynb", "parameters": {"x": {"output": "a.y\n"}}}},
    }
    pointers = [p.pointer for p in validate_document(document, tmp_path)]
    assert "/nodes/a\n" in pointers and "/nodes/b/parameters/x/output" in pointers


# --- types inferred from defaults are hints; "strict": false turns parameter problems into warnings ---------------


@pytest.fixture
def ploomber_like(root):
    """Notebooks shaped like public papermill and Ploomber ones: literal placeholders, a typed one."""
    make_notebook(
        root / "clean.ipynb",
        "upstream = ['get']  # Ploomber: a list placeholder, a dict is passed in\nproduct = None\n"
        "foo = 1\nn = 5\nalpha = 0.6\nratio: float = 0.1\nlabel = 'x'\nverbose = False",
        "print(upstream, product, foo, n)",
    )
    make_notebook(
        root / "meta_typed.ipynb",
        "count = 1\nname = None\nanything = None",
        metadata={"jupyter_workflow": {"parameters": {"count": {"type": "integer", "minimum": 0},
                                                      "name": {"type": "string"}, "anything": {"type": "dataframe"}}}},
    )
    return root


def one_node(notebook: str, parameters: dict, **settings) -> dict:
    return {
        "format": "jupyter-workflow/1",
        "inputs": {"amount": {"type": "number", "default": 2.5}, "mapping": {"type": "object", "default": {}},
                   "word": {"type": "string", "default": "w"}},
        "nodes": {"n": {"notebook": notebook, "parameters": parameters, **settings}},
    }


def messages(problems) -> list[tuple[str, str, str]]:
    return [(p.pointer, p.severity, p.message) for p in problems]


def test_a_type_inferred_from_a_default_is_a_hint(ploomber_like):
    accepted = one_node("clean.ipynb", {
        "upstream": {"value": {"get": "data/get.csv"}},  # a dict for a list default
        "product": {"value": {"nb": "out.ipynb"}},  # None accepts anything
        "foo": 2.5,  # any number for an integer default
        "n": {"input": "amount"},  # an input declared number for an integer default
        "alpha": 1,
        "ratio": 3,  # an integer for a declared float
        "verbose": True,
    })
    assert validate_document(accepted, ploomber_like) == []
    refused = one_node("clean.ipynb", {
        "n": "ten", "foo": True, "upstream": "get", "label": 3, "alpha": {"input": "word"}, "ratio": {"input": "mapping"},
    })
    assert sorted(messages(validate_document(refused, ploomber_like))) == [
        ("/nodes/n/parameters/alpha", "error",
         "input 'word' is a string but parameter 'alpha' expects a number (its default is 0.6)"),
        ("/nodes/n/parameters/foo", "error", "parameter 'foo' expects a number (its default is 1), got true"),
        ("/nodes/n/parameters/label", "error", "parameter 'label' expects a string (its default is 'x'), got the number 3"),
        ("/nodes/n/parameters/n", "error", 'parameter \'n\' expects a number (its default is 5), got the string "ten"'),
        ("/nodes/n/parameters/ratio", "error",
         "input 'mapping' is an object but parameter 'ratio' expects a number (its type is declared)"),
        ("/nodes/n/parameters/upstream", "error",
         "parameter 'upstream' expects a list or an object (its default is ['get']), got the string \"get\""),
    ]


def test_a_type_in_the_notebook_metadata_is_enforced(ploomber_like):
    refused = one_node("meta_typed.ipynb", {"count": 2.5, "name": 3, "anything": [1]})
    assert messages(validate_document(refused, ploomber_like)) == [
        ("/nodes/n/parameters/count", "error", "parameter 'count' expects an integer (its type is declared), got the number 2.5"),
        ("/nodes/n/parameters/name", "error",
         "parameter 'name' expects a string or null (its type is declared), got the number 3"),
    ]
    assert validate_document(one_node("meta_typed.ipynb", {"count": 7, "name": None, "anything": {}}), ploomber_like) == []


def test_a_node_that_is_not_strict_gets_warnings_instead_of_errors(ploomber_like):
    document = one_node("clean.ipynb", {"colour": "red", "n": "ten", "upstream": {"output": "n.x"}}, strict=False)
    document["nodes"]["plain"] = {"notebook": "plain.ipynb", "parameters": {"x": 1}, "strict": False}
    problems = validate_document(document, ploomber_like)
    assert messages(problems) == [
        ("/nodes/n/parameters/upstream/output", "error", "node 'n' cannot take its own output 'n.x'"),  # errors first
        ("/nodes/n/parameters/colour", "warning",
         "notebook 'clean.ipynb' does not declare 'colour' (it declares: alpha, foo, label, n, product, ratio, "
         "upstream, verbose); it is set after its parameters cell"),
        ("/nodes/n/parameters/n", "warning", 'parameter \'n\' expects a number (its default is 5), got the string "ten"'),
        ("/nodes/plain/parameters/x", "warning", "notebook 'plain.ipynb' has no cell tagged 'parameters': 'x' is set at its top"),
    ]
    path = write_workflow(ploomber_like / "loose.workflow.json", document)
    with pytest.raises(InvalidWorkflow) as caught:
        load_workflow(path)
    assert [p.pointer for p in caught.value.problems] == ["/nodes/n/parameters/upstream/output"]
    assert [p.pointer for p in caught.value.warnings] == [p.pointer for p in problems[1:]]
    assert str(caught.value).splitlines()[0] == f"{path}: 1 problem found, 3 warnings"
    assert "  warning: /nodes/plain/parameters/x: notebook 'plain.ipynb' has no cell" in str(caught.value)
    body = caught.value.to_dict()
    assert [e["severity"] for e in body["errors"]] == ["error"]
    assert [w["severity"] for w in body["warnings"]] == ["warning"] * 3

    del document["nodes"]["n"]["parameters"]["upstream"]
    workflow = load_workflow(write_workflow(path, document))  # warnings only: it is valid
    assert [(p.pointer, p.severity) for p in workflow.warnings] == [
        ("/nodes/n/parameters/colour", "warning"), ("/nodes/n/parameters/n", "warning"),
        ("/nodes/plain/parameters/x", "warning"),
    ]
    assert workflow.nodes["n"].strict is False and workflow.nodes["plain"].strict is False

    strict = copy.deepcopy(document)
    for node in strict["nodes"].values():
        del node["strict"]  # the default is strict
    assert [(p.pointer, p.severity) for p in validate_document(strict, ploomber_like)] == [
        ("/nodes/n/parameters/colour", "error"), ("/nodes/n/parameters/n", "error"), ("/nodes/plain/parameters/x", "error"),
    ]
    assert load_workflow(write_workflow(ploomber_like / "ok.workflow.json", one_node("clean.ipynb", {}))).warnings == []


def test_strict_must_be_true_or_false(ploomber_like):
    problems = validate_document(one_node("clean.ipynb", {}, strict="no"), ploomber_like)
    assert messages(problems) == [("/nodes/n/strict", "error", 'expected true or false, got the string "no"')]


def test_a_workflow_file_that_is_not_utf8_is_a_problem_not_a_crash(root):
    path = root / "latin1.workflow.json"
    path.write_bytes(json.dumps(base()).replace("example", "caf\u00e9").encode("latin-1"))
    with pytest.raises(InvalidWorkflow) as caught:
        load_workflow(path)
    assert [(p.pointer, p.message) for p in caught.value.problems] == [("", "the workflow is not UTF-8 text")]
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), "\ud800", {"k": b"bytes"}, nested_list(80)], ids=["nan", "inf", "surrogate", "bytes", "deep"]
)
def test_an_inline_document_that_is_not_json_is_a_problem(root, value):
    document = patched(param("a", "size", value))
    problems = validate_document(document, root)
    assert [p.pointer for p in problems] == [""]
    assert problems[0].message.startswith("the workflow is not an accepted JSON document: ")
    assert "['nodes']['a']['parameters']" in problems[0].message


def test_input_values_must_be_an_object(root):
    resolved, problems = check_inputs(base()["inputs"], ["month", "2026-01-01"])
    assert resolved == {} and messages(problems) == [
        ("/inputs", "error", 'input values must be an object of names and values, got the list ["month", "2026-01-01"]')
    ]
