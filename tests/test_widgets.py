"""The forms without kernels: fields chosen from declarations, defaults, required marks, live checks, results."""

import base64
import re
from datetime import datetime, timezone
from pathlib import Path

import ipywidgets
import pandas
import pytest
from notebook_factory import make_notebook, write_workflow
from widget_helpers import every_kind_workflow, uploaded

from jupyter_workflow.engine import NodeState, NodeStatus
from jupyter_workflow.events import now
from jupyter_workflow.model.validation import checked_workflow
from jupyter_workflow.runtime.artifacts import write_artifact
from jupyter_workflow.widgets import ComponentForm, WorkflowForm
from jupyter_workflow.widgets.fields import EMPTY
from jupyter_workflow.widgets.progress import NodeRow
from jupyter_workflow.widgets.results import DOWNLOAD_LIMIT, render_failure, render_output


@pytest.fixture
def form(tmp_path, workflow_home):
    return WorkflowForm(every_kind_workflow(tmp_path))


def message(form, name) -> str:
    return form.fields[name].message.value


def test_each_input_kind_gets_its_widget(form):
    controls = {name: type(field.control) for name, field in form.fields.items()}
    assert controls == {
        "count": ipywidgets.IntText,
        "ratio": ipywidgets.FloatSlider,
        "flag": ipywidgets.Checkbox,
        "mode": ipywidgets.Dropdown,
        "day": ipywidgets.DatePicker,
        "at": ipywidgets.DatetimePicker,
        "name": ipywidgets.Text,
        "notes": ipywidgets.Textarea,
        "password": ipywidgets.Password,
        "data": ipywidgets.FileUpload,
        "tags": ipywidgets.TagsInput,
        "options": ipywidgets.Textarea,
    }
    assert form.fields["data"].control.accept == ".csv"
    assert "jw-form" in form._dom_classes
    assert form.fields["count"].box._dom_classes == ("jw-field", "jw-field-count")
    assert "Every kind" in form.children[0].value and "One input of each kind." in form.children[0].value


def test_an_integer_range_too_wide_to_slide_is_typed(tmp_path, workflow_home):
    make_notebook(tmp_path / "n.ipynb", "port = 25")
    path = write_workflow(tmp_path / "p.workflow.json", {
        "format": "jupyter-workflow/1",
        "inputs": {"port": {"type": "integer", "minimum": 1, "maximum": 65535, "default": 25},
                   "level": {"type": "integer", "minimum": 1, "maximum": 5, "default": 2}},
        "nodes": {"n": {"notebook": "n.ipynb", "parameters": {"port": {"input": "port"}}}},
    })
    fields = WorkflowForm(path).fields
    assert type(fields["port"].control) is ipywidgets.IntText
    assert type(fields["level"].control) is ipywidgets.IntSlider


def test_a_number_or_boolean_without_default_starts_empty_and_takes_zero_or_no(tmp_path, workflow_home):
    make_notebook(tmp_path / "n.ipynb", "size = 1\nscale = 1.0\nstrict = True")
    path = write_workflow(tmp_path / "z.workflow.json", {
        "format": "jupyter-workflow/1",
        "inputs": {"size": {"type": "integer"}, "scale": {"type": "number"}, "strict": {"type": "boolean"}},
        "nodes": {"n": {"notebook": "n.ipynb", "parameters": {name: {"input": name} for name in ("size", "scale", "strict")}}},
    })
    form = WorkflowForm(path)
    size, scale, strict = (form.fields[name] for name in ("size", "scale", "strict"))
    assert (type(size.control), type(scale.control), type(strict.control)) == (
        ipywidgets.Text, ipywidgets.Text, ipywidgets.ToggleButtons)
    assert (size.read(), scale.read(), strict.read()) == (EMPTY, EMPTY, EMPTY)
    assert form.run_button.disabled and "required" in message(form, "size")

    size.control.value, scale.control.value, strict.control.value = "0", "0", False
    assert form.read()[0] == {"size": 0, "scale": 0, "strict": False}
    assert not form.run_button.disabled

    size.control.value, scale.control.value = "2.5", "inf"
    assert (message(form, "size"), message(form, "scale")) == ("not a whole number", "not a finite number")
    scale.control.value = "ten"
    assert message(form, "scale") == "not a number" and form.run_button.disabled


def test_defaults_are_prefilled_and_required_fields_marked(form):
    values = {name: field.read() for name, field in form.fields.items()}
    assert values == {"count": 3, "ratio": 0.5, "flag": False, "mode": "fast", "day": "2026-10-01", "at": EMPTY,
                      "name": EMPTY, "notes": EMPTY, "password": EMPTY, "data": EMPTY, "tags": ["a"],
                      "options": {"k": 1}}
    required = {name for name, field in form.fields.items() if field.required}
    assert required == {"at", "name", "password", "data"}
    for name, field in form.fields.items():
        label = field.box.children[0].value
        assert ('class="jw-required"' in label) == (name in required)
    assert "Your name" in form.fields["name"].box.children[0].value
    assert form.fields["count"].box.children[2].value == "How many."


def test_missing_required_inputs_disable_run_until_given(form):
    assert form.run_button.disabled
    assert message(form, "name") == "input &#x27;name&#x27; is required and has no default"
    form.fields["name"].control.value = "Ann"  # as the user types
    assert message(form, "name") == ""
    form.fields["password"].control.value = "s3cret"
    form.fields["at"].control.value = datetime(2026, 10, 1, 9, 30, tzinfo=timezone.utc)
    assert form.run_button.disabled  # the file is still missing
    form.fields["data"].control.value = uploaded("a.csv", b"x,y\n1,2\n")
    assert [message(form, name) for name in form.fields] == [""] * len(form.fields)
    assert not form.run_button.disabled
    assert form.read()[0]["at"] == "2026-10-01T09:30:00+00:00"
    assert form.fields["data"].upload() == ("a.csv", b"x,y\n1,2\n")


def fill_valid(form, **values):
    """Fill the form with valid values but ``values``; type the secret and upload the file, as a user must."""
    form.fill({"name": "Ann", "at": "2026-10-01T09:30:00+00:00", **values})
    form.fields["password"].control.value = "s3cret"
    form.fields["data"].control.value = uploaded("a.csv", b"1")


@pytest.fixture
def valid_form(form):
    fill_valid(form)
    assert not form.run_button.disabled
    return form


def test_a_workflow_that_cannot_run_says_why_on_the_page_and_offers_no_run(tmp_path, workflow_home):
    broken = write_workflow(tmp_path / "broken.workflow.json", {"format": "jupyter-workflow/1", "nodes": {
        "a": {"notebook": "missing.ipynb"}}})
    form = WorkflowForm(broken)
    assert form.fields == {} and form.run_button.disabled
    assert "/nodes/a/notebook: " in form.problem.value and "missing.ipynb" in form.problem.value
    assert form.history.children == ()
    assert WorkflowForm(tmp_path / "gone.workflow.json").run_button.disabled


@pytest.mark.parametrize("name, value, expected", [
    ("count", 0, "0 is less than the minimum 1"),
    ("count", "three", 'expected an integer, got the string "three"'),
    ("day", "2026-02-30", '"2026-02-30" is not a valid date'),
    ("at", "2026-10-01T09:30:00", '"2026-10-01T09:30:00" is not a valid date-time'),
    ("mode", "medium", 'must be one of "fast", "slow", 3, got the string "medium"'),
    ("options", [1, 2], "expected an object, got the list [1, 2]"),
    ("flag", "yes", 'expected true or false, got the string "yes"'),
])
def test_a_wrong_value_shows_the_engines_message_under_its_field(valid_form, name, value, expected):
    fill_valid(valid_form, **{name: value})
    assert message(valid_form, name) == expected.replace('"', "&quot;")
    assert valid_form.run_button.disabled
    assert [n for n in valid_form.fields if message(valid_form, n)] == [name]


def test_typing_a_value_out_of_range_or_not_json_is_caught_live(valid_form):
    valid_form.fields["count"].control.value = -2
    assert message(valid_form, "count") == "-2 is less than the minimum 1"
    assert valid_form.run_button.disabled
    valid_form.fields["count"].control.value = 4
    assert not valid_form.run_button.disabled
    valid_form.fields["options"].control.value = "{bad"
    assert message(valid_form, "options").startswith("not valid JSON")
    assert valid_form.run_button.disabled
    valid_form.fields["options"].control.value = ""  # empty: the default
    assert not valid_form.run_button.disabled and valid_form.read()[0].get("options") is None


def test_a_dropdown_keeps_the_json_type_of_its_choices(valid_form):
    valid_form.fields["mode"].control.value = 2
    assert valid_form.read()[0]["mode"] == 3
    fill_valid(valid_form, mode=3)
    assert valid_form.fields["mode"].control.label == "3"


def test_filling_the_form_leaves_secrets_empty_and_resets_the_rest(valid_form):
    valid_form.fields["count"].control.value = 9
    valid_form.fill({"name": "Bob", "password": "from somewhere", "tags": ["x", "y"]})
    values, _ = valid_form.read()
    assert values["name"] == "Bob" and values["tags"] == ["x", "y"] and values["count"] == 3
    assert "password" not in values
    assert valid_form.fields["password"].control.value == ""


def test_a_component_form_reads_types_help_hints_and_expression_defaults(tmp_path, workflow_home):
    notebook = make_notebook(
        tmp_path / "3 clean rows.ipynb",
        "import tempfile\n"
        "tmp_dir = tempfile.TemporaryDirectory()\n"
        "out_dir: str = tmp_dir.name  # where the cleaned table goes\n"
        "level: int = 2  # how hard to clean\n"
        "method = 'mean'  # how to fill gaps\n"
        "comment = ''\n"
        "token = ''\n",
        metadata={"jupyter_workflow": {
            "title": "Clean rows",
            "parameters": {"level": {"minimum": 1, "maximum": 5, "title": "Cleaning level"},
                           "method": {"choices": ["mean", "median"]},
                           "comment": {"multiline": True}, "token": {"secret": True}}}},
    )
    form = ComponentForm(notebook)
    kinds = {name: type(field.control).__name__ for name, field in form.fields.items()}
    assert kinds == {"tmp_dir": "Textarea", "out_dir": "Text", "level": "IntSlider", "method": "Dropdown",
                     "comment": "Textarea", "token": "Password"}
    out_dir = form.fields["out_dir"]
    assert out_dir.read() is EMPTY and not out_dir.required
    assert out_dir.box.children[2].value == (
        "where the cleaned table goes — default: tmp_dir.name (an expression, evaluated by the notebook)")
    assert form.fields["level"].read() == 2 and "Cleaning level" in form.fields["level"].box.children[0].value
    assert not form.run_button.disabled
    assert form.history_name == "_3_clean_rows"
    document = form.workflow_document(["level"])
    assert document["inputs"] == {"level": {"title": "Cleaning level", "minimum": 1, "maximum": 5,
                                            "type": "integer", "description": "how hard to clean"}}
    assert document["nodes"]["component"] == {"notebook": "3 clean rows.ipynb",
                                              "parameters": {"level": {"input": "level"}}}
    assert checked_workflow(document, tmp_path).name == "_3_clean_rows"


def test_a_dataframe_output_is_a_table_with_its_row_count_and_a_csv_download(tmp_path):
    frame = pandas.DataFrame({"name": [f"row {i}" for i in range(25)], "amount": range(25)})
    shown = render_output("matched", write_artifact(tmp_path, "matched", frame))
    assert shown.count("<tr") == 21  # a header and the first 20 rows
    assert "25 rows, the first 20 shown" in shown
    link = re.search(r'download="matched.csv" href="data:text/csv;base64,([^"]+)"', shown)
    assert base64.b64decode(link.group(1)).decode().splitlines()[-1] == "row 24,24"


def test_plain_values_images_and_files_are_shown_for_people(tmp_path):
    assert render_output("count", 42).endswith('<span class="jw-value">42</span>')
    assert "&lt;b&gt;" in render_output("text", "<b>")
    assert "<th>a</th><td>1</td>" in render_output("summary", {"a": 1})
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 10
    assert 'src="data:image/png;base64,' in render_output("plot", write_artifact(tmp_path, "plot", png))
    report = tmp_path / "report.txt"
    report.write_text("hello")
    (tmp_path / "artifacts").mkdir()
    assert 'download="report.txt"' in render_output("report", write_artifact(tmp_path / "artifacts", "report", report))
    assert 'download="report.txt"' in render_output("path", str(report), {"format": "file"})
    assert "no longer exists" in render_output("gone", str(tmp_path / "gone.txt"), {"format": "file"})


def test_a_file_too_large_to_offer_says_so_and_where_it_is(tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as stream:
        stream.truncate(DOWNLOAD_LIMIT + 1)
    shown = render_output("big", Path(big))
    assert "more than the 10.0 MB this page can offer for download" in shown and str(big) in shown
    assert "data:" not in shown


def test_an_output_that_cannot_be_drawn_says_so_in_its_place():
    class Unprintable:
        """Neither JSON nor any kind a renderer knows."""

    shown = render_output("odd", Unprintable())
    assert "<h4>odd</h4>" in shown
    assert "could not be shown: TypeError: Object of type Unprintable is not JSON serializable" in shown


def test_a_failure_is_one_sentence_with_details_and_the_notebook(tmp_path):
    notebook = tmp_path / "match.ipynb"
    notebook.write_text("{}")
    shown = render_failure({"ename": "ValueError", "evalue": "no rows", "traceback": "\x1b[31mTraceback\x1b[0m..."},
                           "Match", str(notebook))
    assert '<p class="jw-failure-sentence">The node “Match” failed: ValueError: no rows</p>' in shown
    assert "<details class=\"jw-details\"><summary>Details</summary><pre>Traceback...</pre></details>" in shown
    assert 'download="match.ipynb"' in shown and str(notebook) in shown


def test_a_node_row_replaces_its_state_class_and_shows_a_retry():
    row = NodeRow("match", "Match")
    assert row._dom_classes == ("jw-node", "jw-node-match", "jw-state-pending") and row.bar.value == 0
    row.show(NodeState("match", status=NodeStatus.RUNNING, attempt=2, started_at=now()))
    assert row._dom_classes == ("jw-node", "jw-node-match", "jw-state-running")
    assert (row.bar.bar_style, row.bar.value, row.attempt.value) == ("info", row.bar.max, "attempt 2")
    assert "Running" in row.state.value and row.elapsed.value.endswith(" s")
