"""Components (notebooks seen as functions) and drawings of the workflow graph."""

import ast
import json
import logging
from pathlib import Path

import papermill
import pytest
from notebook_factory import make_notebook, write_workflow

from jupyter_workflow.model import load_workflow
from jupyter_workflow.model.components import NotANotebook, inspect_notebook, parse_parameters_cell
from jupyter_workflow.events import STATUS_STYLES, NodeStatus, RunStatus
from jupyter_workflow.model.graph import find_cycle, to_dot, to_mermaid, topological_order

REPO = Path(__file__).resolve().parent.parent
REPO_COMPONENTS = sorted((REPO / "notebooks" / "components").glob("*.ipynb"))

RICH_PARAMETERS = '''from datetime import date
from typing import Optional

rows: int = 10  # how many rows to read
ratio = 1  # type: float
scale = 2  # type: float  multiplier for amounts
name = "bank"  # the table's name
verbose = False
tags: list = ["a", "b"]  # labels
columns = [  # not the help
    "name",
    "amount",
]  # columns to keep
limits = {"low": 1, "high": 5}  # bounds
shape = (3, 4)
offset = -1.5  # shift
start = date.today()  # first day
limit: Optional[int] = None  # optional cap
password = ""  # secret
note = None
'''

RICH_METADATA = {
    "jupyter_workflow": {
        "title": "Read rows",
        "description": "Reads rows from a table.",
        "outputs": {
            "table": {"type": "dataframe", "description": "the rows"},
            "count": {"type": "integer"},
        },
        "parameters": {
            "name": {"choices": ["bank", "ledger"]},
            "rows": {"minimum": 1, "maximum": 100},
            "note": {"multiline": True},
            "password": {"secret": True},
            "ghost": {"choices": [1, 2]},  # hints for a parameter the notebook does not have
        },
    }
}

# Ordinary papermill-style parameters cells: papermill and we must agree on them.
SYNTHETIC = {
    "rich": RICH_PARAMETERS,
    "simple": 'path = "data/a.csv"  # file to read\nlimit = 100\n',
    "empty": "",
    "comments_only": "# nothing to set here\n",
    "not_literal": "import math\n\nbig = 10**6  # a million\nangle = math.pi / 4\nlabel = 'x' * 3\n",
    "typed": (
        "from typing import Dict, List, Optional\n\n"
        "names: List[str] = []  # who\nweights: Dict[str, float] = {}\ncap: Optional[float] = 2.5\n"
        "when = None  # type: Optional[str]\nflag: bool = True  # on or off\n"
    ),
}


@pytest.fixture
def rich(tmp_path):
    return make_notebook(tmp_path / "read_rows.ipynb", RICH_PARAMETERS, "print(rows)", metadata=RICH_METADATA)


def test_introspection_of_a_rich_parameters_cell(rich):
    component = inspect_notebook(rich)
    p = component.parameters
    assert list(p) == [
        "rows", "ratio", "scale", "name", "verbose", "tags", "columns", "limits", "shape", "offset",
        "start", "limit", "password", "note",
    ]
    # annotation
    assert (p["rows"].type, p["rows"].default, p["rows"].annotation) == ("integer", 10, "int")
    assert p["rows"].help == "how many rows to read" and not p["rows"].nullable
    assert (p["tags"].type, p["tags"].default, p["tags"].help) == ("array", ["a", "b"], "labels")
    # `# type:` comments: the type wins over the literal's; words after it are help
    assert (p["ratio"].type, p["ratio"].default, p["ratio"].annotation, p["ratio"].help) == ("number", 1, "float", "")
    assert (p["scale"].type, p["scale"].annotation, p["scale"].help) == ("number", "float", "multiplier for amounts")
    # inferred from literal defaults
    assert (p["name"].type, p["name"].default, p["name"].default_source) == ("string", "bank", '"bank"')
    assert p["name"].help == "the table's name"
    assert (p["verbose"].type, p["verbose"].default, p["verbose"].help) == ("boolean", False, "")
    assert (p["limits"].type, p["limits"].default) == ("object", {"low": 1, "high": 5})
    assert (p["shape"].type, p["shape"].default) == ("array", (3, 4))
    assert (p["offset"].type, p["offset"].default, p["offset"].help) == ("number", -1.5, "shift")
    assert (p["password"].type, p["password"].default) == ("string", "")
    # multi-line default: the help is the comment on its last line, inner comments are not help
    assert (p["columns"].type, p["columns"].default, p["columns"].help) == ("array", ["name", "amount"], "columns to keep")
    assert p["columns"].default_source.startswith("[") and p["columns"].default_source.endswith("]")
    # a default that is not a literal: no value, any type, its source kept
    assert (p["start"].type, p["start"].default, p["start"].default_source) == (None, None, "date.today()")
    assert p["start"].help == "first day"
    # Optional[...]
    assert (p["limit"].type, p["limit"].nullable, p["limit"].default) == ("integer", True, None)
    assert (p["limit"].annotation, p["limit"].help) == ("Optional[int]", "optional cap")
    # a None default without annotation accepts anything
    assert (p["note"].type, p["note"].nullable) == (None, True)


def test_metadata_gives_title_description_outputs_and_form_hints(rich):
    component = inspect_notebook(rich)
    assert component.title == "Read rows"
    assert component.description == "Reads rows from a table."
    assert component.outputs == {"table": {"type": "dataframe", "description": "the rows"}, "count": {"type": "integer"}}
    assert component.parameters["name"].hints == {"choices": ["bank", "ledger"]}
    assert component.parameters["rows"].hints == {"minimum": 1, "maximum": 100}
    assert component.parameters["note"].hints == {"multiline": True}
    assert component.parameters["password"].hints == {"secret": True}
    assert component.parameters["verbose"].hints == {}
    assert "ghost" not in component.parameters
    assert (component.language, component.kernel_name) == ("python", "python3")
    assert component.has_parameters_cell and component.parameters_known
    as_dict = json.loads(json.dumps(component.to_dict()))
    assert as_dict["parameters"]["password"]["hints"] == {"secret": True}
    assert "hints" not in as_dict["parameters"]["verbose"]
    assert as_dict["outputs"]["count"] == {"type": "integer"}


def test_without_metadata_the_title_comes_from_the_file_name(tmp_path):
    component = inspect_notebook(make_notebook(tmp_path / "clean_up_rows.ipynb", "x = 1"))
    assert (component.title, component.description, component.outputs) == ("clean up rows", "", {})
    assert component.parameters["x"].type == "integer"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x: list[int] = []", ("array", False)),
        ("x: dict[str, int] = {}", ("object", False)),
        ("x: float | None = None", ("number", True)),
        ("x: typing.Optional[str] = None", ("string", True)),
        ("x = None  # type: Optional[int]", ("integer", True)),
        ("x: int = None", ("integer", True)),  # its own default must be acceptable
        ("x: MyType = 3", (None, False)),  # an annotation we cannot map: any value
        ("x = 3  # type: ignore", ("integer", False)),
        ("x = 2.0", ("number", False)),
        ("x = b'raw'", (None, False)),  # bytes are no JSON type
    ],
)
def test_types_of_annotations_and_literals(source, expected):
    parameter = parse_parameters_cell(source)["x"]
    assert (parameter.type, parameter.nullable) == expected


def test_only_simple_assignments_are_parameters():
    source = (
        "import os\n"
        "# type: documentation that looks like a type comment\n"
        "a, b = 1, 2\n"
        "counter: int\n"
        "os.environ['X'] = '1'\n"
        "total = 0\n"
        "total += 1\n"
        "if total:\n    hidden = 1\n"
        "x = y = 3\n"
        "kept = 'yes'  # the only other one\n"
    )
    parameters = parse_parameters_cell(source)
    assert list(parameters) == ["total", "kept"]
    assert parameters["kept"].help == "the only other one"


def test_a_parameters_cell_that_is_not_python_is_reported(tmp_path):
    with pytest.raises(NotANotebook, match=r"parameters cell is not valid Python: .* \(line 2\)"):
        parse_parameters_cell("x = 1\ny = (\n")
    path = make_notebook(tmp_path / "bad.ipynb", "x = = 1")
    with pytest.raises(NotANotebook, match="bad.ipynb: the parameters cell is not valid Python"):
        inspect_notebook(path)


def _papermill_parameters(path: Path) -> dict:
    logging.getLogger("papermill").setLevel(logging.ERROR)
    return papermill.inspect_notebook(str(path))


def assert_agrees_with_papermill(path: Path) -> int:
    """Same names in the same order; equal defaults wherever papermill's text is a literal."""
    ours = inspect_notebook(path).parameters
    theirs = _papermill_parameters(path)
    assert list(ours) == list(theirs), path
    for name, their in theirs.items():
        mine = ours[name]
        try:
            expected = ast.literal_eval(their["default"])
        except (ValueError, SyntaxError):
            assert mine.default_source == their["default"], (path, name)
        else:
            assert mine.default == expected and type(mine.default) is type(expected), (path, name)
        assert mine.help == their["help"], (path, name)
        assert (mine.annotation or "None") == their["inferred_type_name"], (path, name)
    return len(theirs)


def test_the_shipped_components_agree_with_papermill():
    assert REPO_COMPONENTS, "notebooks/components has component notebooks"
    counts = {path.name: assert_agrees_with_papermill(path) for path in REPO_COMPONENTS}
    assert all(count > 0 for count in counts.values()), counts


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_synthetic_components_agree_with_papermill(tmp_path, name):
    path = make_notebook(tmp_path / f"{name}.ipynb", SYNTHETIC[name], "print('body')")
    count = assert_agrees_with_papermill(path)
    assert count == len(parse_parameters_cell(SYNTHETIC[name]))
    assert count > 0 or name in ("empty", "comments_only")


def test_known_divergences_from_papermill(tmp_path):
    """papermill reads the cell with a line regex; we read it with ``ast``. Where they differ, we are right.

    - a PEP 604 annotation (``int | None``) does not match papermill's pattern: it drops the parameter;
    - a line with two ``=`` (``"a=b"`` in a string) is skipped by papermill;
    - a ``#`` inside a string ends papermill's default: it reads ``"#0f0"`` as ``"``;
    - a statement after a ``None`` default, on a line without ``=``, is glued onto it (``Noneimport os``).
    """
    source = 'a: int | None = None  # pep 604\nquery = "a=b"  # two equals\ncolour = "#0f0"  # green\nlast = None\nimport os\n'
    path = make_notebook(tmp_path / "quirks.ipynb", source)
    ours = inspect_notebook(path).parameters
    theirs = _papermill_parameters(path)
    assert list(ours) == ["a", "query", "colour", "last"]
    assert list(theirs) == ["colour", "last"]
    assert (ours["a"].type, ours["a"].nullable, ours["a"].help) == ("integer", True, "pep 604")
    assert ours["query"].default == "a=b"
    assert (ours["colour"].default, theirs["colour"]["default"]) == ("#0f0", '"')
    assert (ours["last"].default, theirs["last"]["default"]) == (None, "Noneimport os")


def test_a_notebook_without_parameters_cell(tmp_path):
    path = make_notebook(tmp_path / "plain.ipynb", None, "x = 1  # looks like a parameter, is not one")
    component = inspect_notebook(path)
    assert not component.has_parameters_cell
    assert component.parameters_known and component.parameters == {}
    assert _papermill_parameters(path) == {}


def test_only_the_first_parameters_cell_counts(tmp_path):
    path = make_notebook(tmp_path / "two.ipynb", "first = 1", "")
    document = json.loads(path.read_text())
    second = dict(document["cells"][0], id="second-cell", source="second = 2")
    document["cells"].append(second)
    path.write_text(json.dumps(document))
    assert list(inspect_notebook(path).parameters) == ["first"] == list(_papermill_parameters(path))


def test_an_r_notebook_has_parameters_that_are_not_known(tmp_path):
    path = make_notebook(tmp_path / "stats.ipynb", "alpha <- 0.05  # significance\nn <- 10", "print(alpha)", kernel="ir")
    component = inspect_notebook(path)
    assert (component.language, component.kernel_name) == ("R", "ir")
    assert component.has_parameters_cell
    assert component.parameters_known is False
    assert component.parameters == {}
    # papermill cannot inspect R either, and says so without failing
    assert _papermill_parameters(path) == {}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"this is not JSON", "is not a notebook"),
        (b'{"metadata": {}}', "it has no list of cells"),
        (b"[1, 2, 3]", "it has no list of cells"),
        (b"\xff\xfe\x00garbage", "is not a notebook"),
    ],
    ids=["text", "no cells", "a list", "not utf-8"],
)
def test_a_file_that_is_not_a_notebook(tmp_path, content, fragment):
    path = tmp_path / "fake.ipynb"
    path.write_bytes(content)
    with pytest.raises(NotANotebook) as caught:
        inspect_notebook(path)
    assert fragment in str(caught.value) and "fake.ipynb" in str(caught.value)


def test_a_missing_notebook(tmp_path):
    with pytest.raises(NotANotebook, match="cannot read .*missing.ipynb"):
        inspect_notebook(tmp_path / "missing.ipynb")


# --- the graph ----------------------------------------------------------------------------


@pytest.fixture
def diamond(tmp_path):
    """top → left, top → right (an ``after`` edge), left + right → bottom (a fan-in)."""
    make_notebook(tmp_path / "emit.ipynb", "n = 1", "", metadata={"jupyter_workflow": {"outputs": {"x": {"type": "integer"}}}})
    make_notebook(tmp_path / "take.ipynb", "x = None\nparts = []", "")
    path = write_workflow(
        tmp_path / "diamond.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "nodes": {
                "bottom": {"notebook": "take.ipynb",
                           "parameters": {"parts": {"outputs": ["left.x", "right.x"], "reduce": "list"}}},
                "left": {"notebook": "take.ipynb", "title": 'Left "L"', "parameters": {"x": {"output": "top.x"}}},
                "right": {"notebook": "take.ipynb", "after": ["top"]},
                "top": {"notebook": "emit.ipynb"},
            },
        },
    )
    return load_workflow(path)


EDGES = {("top", "left"), ("top", "right"), ("left", "bottom"), ("right", "bottom")}


def test_graph_order_and_cycles(diamond):
    assert topological_order(diamond.dependencies()) == ["top", "left", "right", "bottom"]
    assert find_cycle(diamond.dependencies()) is None
    cycle = find_cycle({"a": {"c"}, "b": {"a"}, "c": {"b"}, "d": set()})
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"} and len(cycle) == 4


def test_dot_without_states(diamond):
    dot = to_dot(diamond)
    lines = dot.splitlines()
    assert lines[0] == "digraph diamond {" and lines[-1] == "}"
    node_lines = [line.strip() for line in lines if "[label=" in line]
    assert node_lines == [
        'top [label="top"];',
        'left [label="Left \\"L\\""];',
        'right [label="right"];',
        'bottom [label="bottom"];',
    ]
    edges = {tuple(line.strip().rstrip(";").split(" -> ")) for line in lines if " -> " in line}
    assert edges == EDGES and dot.count(" -> ") == 4
    # no node is coloured by a state (only the default white fill of the node style)
    assert not any(style.fill in dot for style in STATUS_STYLES.values())


def test_every_run_and_node_status_has_a_label_and_colours():
    statuses = {status.value for status in NodeStatus} | {status.value for status in RunStatus}
    assert set(STATUS_STYLES) == statuses
    assert all(style.label and style.terminal and style.fill.startswith("#") for style in STATUS_STYLES.values())


def test_dot_with_states(diamond):
    dot = to_dot(diamond, {"top": "succeeded", "left": "failed", "right": "running"})
    assert '  top [label="top\\nsucceeded", fillcolor="#b2f2bb"];' in dot
    assert '  left [label="Left \\"L\\"\\nfailed", fillcolor="#ffa8a8"];' in dot
    assert '  right [label="right\\nrunning", fillcolor="#a5d8ff"];' in dot
    assert '  bottom [label="bottom"];' in dot  # no state yet: no colour
    assert {tuple(line.strip().rstrip(";").split(" -> ")) for line in dot.splitlines() if " -> " in line} == EDGES


def test_mermaid_without_states(diamond):
    mermaid = to_mermaid(diamond)
    lines = [line.strip() for line in mermaid.splitlines()]
    assert lines[0] == "flowchart LR"
    assert lines[1:5] == ['top["top"]', 'left["Left #quot;L#quot;"]', 'right["right"]', 'bottom["bottom"]']
    assert {tuple(line.split(" --> ")) for line in lines if " --> " in line} == EDGES
    assert "classDef" not in mermaid and ":::" not in mermaid


def test_mermaid_with_states(diamond):
    mermaid = to_mermaid(diamond, {"top": "succeeded", "left": "failed", "right": "running"})
    lines = [line.strip() for line in mermaid.splitlines()]
    assert 'top["top<br/>succeeded"]:::succeeded' in lines
    assert 'left["Left #quot;L#quot;<br/>failed"]:::failed' in lines
    assert 'right["right<br/>running"]:::running' in lines
    assert 'bottom["bottom"]' in lines
    assert {tuple(line.split(" --> ")) for line in lines if " --> " in line} == EDGES
    assert [line for line in lines if line.startswith("classDef")] == [
        "classDef failed fill:#ffa8a8",
        "classDef running fill:#a5d8ff",
        "classDef succeeded fill:#b2f2bb",
    ]


# --- defaults that are expressions, declared and inferred types, notebooks written by hand -------------------------

# Parameters cells shaped like public papermill and Ploomber notebooks.
PAPERMILL_STYLE = '''import os
import tempfile

tmp_dir = tempfile.TemporaryDirectory()
TMP_DIR = tmp_dir.name  # scratch space
a = "data"
b = "raw.csv"
path = os.path.join(a, b)  # the input file
alpha = 0.6
l1_ratio = 0.1
n_estimators: int = 100  # trees
'''
PLOOMBER_STYLE = "# declare a list tasks whose products you want to use as inputs\nupstream = ['get']\nproduct = None\nsample = False\n"


@pytest.mark.parametrize("source", [PAPERMILL_STYLE, PLOOMBER_STYLE], ids=["papermill", "ploomber"])
def test_public_notebook_shapes_agree_with_papermill(tmp_path, source):
    path = make_notebook(tmp_path / "task.ipynb", source, "print('body')")
    assert assert_agrees_with_papermill(path) > 0
    theirs = _papermill_parameters(path)
    for name, parameter in inspect_notebook(path).parameters.items():
        assert parameter.to_dict()["default_source"] == theirs[name]["default"]  # papermill's text, always


def test_an_expression_default_keeps_its_source_and_says_it_is_one(tmp_path):
    path = make_notebook(tmp_path / "task.ipynb", PAPERMILL_STYLE)
    parameters = {name: p.to_dict() for name, p in inspect_notebook(path).parameters.items()}
    assert json.loads(json.dumps(parameters, allow_nan=False)) == parameters
    assert parameters["TMP_DIR"] == {
        "name": "TMP_DIR", "type": None, "type_declared": False, "accepts": None,
        "default": None, "default_source": "tmp_dir.name", "default_is_expression": True,
        "annotation": None, "nullable": False, "help": "scratch space",
    }
    assert parameters["path"]["default_source"] == "os.path.join(a, b)"
    assert parameters["path"]["default_is_expression"] and parameters["path"]["default"] is None
    assert parameters["alpha"] == {
        "name": "alpha", "type": "number", "type_declared": False, "accepts": ["integer", "number"],
        "default": 0.6, "default_source": "0.6", "default_is_expression": False,
        "annotation": None, "nullable": False, "help": "",
    }
    assert (parameters["a"]["default"], parameters["a"]["default_source"]) == ("data", '"data"')
    assert parameters["n_estimators"]["type_declared"] and parameters["n_estimators"]["accepts"] == ["integer"]


@pytest.mark.parametrize(
    ("source", "kind"),
    [("x = b'raw'", None), ("x = 1e999", "number"), ("x = {1: 'a'}", "object"), ("x = {1, 2}", None)],
    ids=["bytes", "infinite", "integer keys", "set"],
)
def test_a_literal_json_cannot_hold_is_reported_like_an_expression(tmp_path, source, kind):
    parameter = inspect_notebook(make_notebook(tmp_path / "t.ipynb", source)).parameters["x"]
    as_dict = parameter.to_dict()
    assert (as_dict["type"], as_dict["default"], as_dict["default_is_expression"]) == (kind, None, True)
    assert as_dict["default_source"] == source.removeprefix("x = ")
    json.dumps(as_dict, allow_nan=False)  # what the REST routes write


def test_what_each_parameter_accepts(rich):
    p = inspect_notebook(rich).parameters
    assert p["rows"].accepted_types() == {"integer"}  # declared int: enforced
    assert p["ratio"].accepted_types() == {"integer", "number"}  # declared float
    assert p["offset"].accepted_types() == {"integer", "number"}  # inferred from -1.5
    assert p["name"].accepted_types() == {"string"}
    assert p["verbose"].accepted_types() == {"boolean"}
    assert p["tags"].accepted_types() == {"array"}  # declared list
    assert p["columns"].accepted_types() == p["limits"].accepted_types() == {"array", "object"}  # inferred
    assert p["limit"].accepted_types() == {"integer", "null"}
    assert p["note"].accepted_types() is None and p["start"].accepted_types() is None
    assert [name for name, parameter in p.items() if parameter.type_declared] == ["rows", "ratio", "scale", "tags", "limit"]
    assert p["offset"].accepts("integer") and not p["offset"].accepts("boolean") and p["note"].accepts("object")


def test_a_type_in_the_metadata_is_declared(tmp_path):
    hints = {"count": {"type": "number", "minimum": 0}, "label": {"type": "string"}, "table": {"type": "dataframe"},
             "flag": {"type": ["boolean"]}}
    path = make_notebook(tmp_path / "t.ipynb", "count = 1\nlabel = None\ntable = None\nflag = 0",
                         metadata={"jupyter_workflow": {"parameters": hints}})
    p = inspect_notebook(path).parameters
    assert (p["count"].type, p["count"].type_declared, p["count"].accepted_types()) == ("number", True, {"integer", "number"})
    assert (p["label"].type, p["label"].nullable, p["label"].accepted_types()) == ("string", True, {"string", "null"})
    assert (p["table"].type, p["table"].type_declared) == (None, False)  # not a JSON type: a hint for forms only
    assert (p["flag"].type, p["flag"].type_declared) == ("integer", False)
    assert p["count"].hints == {"type": "number", "minimum": 0}


@pytest.mark.parametrize(
    ("notebook", "fragment"),
    [
        ({"cells": [{"cell_type": "code", "source": 5, "metadata": {"tags": ["parameters"]}}]}, "source must be text"),
        ({"cells": [{"cell_type": "code", "source": ["x = 1", 2], "metadata": {"tags": ["parameters"]}}]},
         "source must be text"),
        ({"cells": [{"cell_type": "code", "source": "x = 1\0", "metadata": {"tags": ["parameters"]}}]}, "null bytes"),
        ({"cells": [{"cell_type": "code", "source": "x = " + "-" * 100000 + "1", "metadata": {"tags": ["parameters"]}}]},
         "nested too deeply"),
        ({"cells": [{"cell_type": "code", "source": "x = " + "1+" * 100000 + "1", "metadata": {"tags": ["parameters"]}}]},
         "nested too deeply"),
    ],
    ids=["number source", "list with a number", "NUL byte", "deep unary", "deep sum"],
)
def test_a_hand_written_notebook_that_breaks_the_format_is_not_a_notebook(tmp_path, notebook, fragment):
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    with pytest.raises(NotANotebook, match=fragment):
        inspect_notebook(path)


def test_a_notebook_nested_thousands_deep_is_not_a_notebook(tmp_path):
    path = tmp_path / "deep.ipynb"
    path.write_text('{"cells": [], "metadata": {"x": ' + "[" * 100000 + "]" * 100000 + "}}", encoding="utf-8")
    with pytest.raises(NotANotebook, match="nested too deeply"):
        inspect_notebook(path)


def test_metadata_of_the_wrong_types_is_ignored(tmp_path):
    path = tmp_path / "odd_meta.ipynb"
    path.write_text(json.dumps({
        "cells": [{"cell_type": "code", "source": "x = 1", "metadata": {"tags": ["parameters"]}}],
        "metadata": {"kernelspec": {"name": ["python3"], "language": 3}, "language_info": {"name": {"python": True}},
                     "jupyter_workflow": {"title": 7, "description": ["d"]}},
    }), encoding="utf-8")
    component = inspect_notebook(path)
    assert (component.kernel_name, component.language, component.title, component.description) == (
        None, "python", "odd meta", "")
    assert list(component.parameters) == ["x"]
