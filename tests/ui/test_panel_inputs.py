"""The workflow's own inputs and outputs, the problems list and problems on ports, in a real
JupyterLab driven in Debian's Chromium.

With no node selected, the side of the Workflow Editor shows the workflow's inputs and
outputs: an input added there, with its type, default and bounds, is in the file's text (the
JSON editor shows it) and can feed a node's parameter. A default out of its bounds is an
error next to its field and in the problems list under the canvas; a click on a problem
shows its field; a problem of a parameter marks the node's port. Screenshots go to
test-screenshots/.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from browser import wait_until
from workflow_page import node

pytestmark = pytest.mark.kernels

SOURCE = "window.jupyterapp.shell.currentWidget.context.model.sharedModel.getSource()"


@pytest.fixture
def workflow(example_copy):
    return example_copy


def text_of(page) -> dict:
    return json.loads(page.evaluate(SOURCE))


def commit(field, value: str) -> None:
    field.fill(value)
    field.press("Enter")


def test_an_input_added_in_the_panel_is_in_the_text_and_feeds_a_parameter(lab, workflow):
    page = lab.page
    lab.file_item(workflow).dblclick()
    expect(lab.tab(workflow)).to_have_class(re.compile(r"\blm-mod-current\b"))
    panel = lab.current_panel()
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(5)

    # No node selected: the workflow's inputs and outputs are beside the canvas.
    io = panel.locator(".jp-WorkflowIO")
    expect(io).to_be_visible()
    expect(io.locator(".jp-WorkflowIO-entry[data-input]")).to_have_count(4)
    expect(io.locator(".jp-WorkflowIO-entry[data-output]")).to_have_count(5)
    expect(io.locator("[data-input='threshold']")).to_contain_text("used by match.threshold")
    expect(panel.locator(".jp-WorkflowProblems-count")).to_have_text("No problems")

    # Add an input, name it, make it a number with a default and bounds: each one edit.
    io.get_by_role("button", name="+ Add input").click()
    added = io.locator(".jp-WorkflowIO-entry[data-input='input']")
    expect(added).to_be_visible()
    commit(added.get_by_label("Name of input input"), "tolerance")
    entry = io.locator(".jp-WorkflowIO-entry[data-input='tolerance']")
    expect(entry).to_be_visible()
    entry.get_by_label("Type of tolerance").select_option("number")
    entry.get_by_label("tolerance is required").uncheck()
    commit(entry.get_by_label("Default of tolerance"), "0.05")
    commit(entry.get_by_label("Minimum of tolerance"), "0")
    commit(entry.get_by_label("Maximum of tolerance"), "1")
    commit(entry.get_by_label("Title of tolerance"), "Amount tolerance")
    wait_until(lambda: text_of(page)["inputs"].get("tolerance", {}).get("maximum") == 1, 10, "the maximum in the text")
    assert text_of(page)["inputs"]["tolerance"] == {
        "type": "number", "default": 0.05, "title": "Amount tolerance", "minimum": 0, "maximum": 1
    }
    assert list(text_of(page)["inputs"]) == ["threshold", "smtp_host", "smtp_port", "mail_to", "tolerance"]
    # A name the format refuses is refused next to its field; the text is unchanged.
    before = page.evaluate(SOURCE)
    name = entry.get_by_label("Name of input tolerance")
    commit(name, "2 much")
    expect(entry.locator(".jp-WorkflowProperties-problem")).to_contain_text('"2 much" is not a valid input name')
    assert page.evaluate(SOURCE) == before
    name.press("Escape")
    expect(lab.tab(workflow)).to_have_class(re.compile(r"\bjp-mod-dirty\b"))

    # A node's parameter takes the new input (the properties panel offers it).
    panel.locator(f"{node('match')} .jp-WorkflowNode-notebook").click()
    row = panel.locator(".jp-WorkflowProperties[data-node='match'] [data-parameter='amount_tolerance']")
    expect(row).to_be_visible()
    row.get_by_label("Source of amount_tolerance").select_option("input")
    row.get_by_label("Input of amount_tolerance").select_option("tolerance")
    wait_until(
        lambda: text_of(page)["nodes"]["match"]["parameters"].get("amount_tolerance") == {"input": "tolerance"},
        10, "the binding in the text",
    )
    expect(panel.locator(f"{node('match')} [data-port='amount_tolerance']")).to_have_attribute("data-binding", "input")

    # Back on the workflow (a click on the empty canvas): the input says who uses it; a rename rewrites the binding.
    panel.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    expect(entry).to_contain_text("used by match.amount_tolerance")
    commit(entry.get_by_label("Name of input tolerance"), "amount_tolerance")
    wait_until(lambda: "amount_tolerance" in text_of(page)["inputs"], 10, "the rename")
    document = text_of(page)
    assert "tolerance" not in document["inputs"]
    assert document["nodes"]["match"]["parameters"]["amount_tolerance"] == {"input": "amount_tolerance"}
    expect(panel.locator(".jp-WorkflowProblems-count")).to_have_text("No problems")
    lab.wait_canvas_still(panel)
    entry = io.locator(".jp-WorkflowIO-entry[data-input='amount_tolerance']")
    entry.evaluate("element => element.scrollIntoView({block: 'center'})")
    lab.screenshot("panel")

    # One undo takes back the rename only, with its binding; redo makes it again.
    page.evaluate("window.jupyterapp.shell.currentWidget.content.undo()")
    wait_until(lambda: "tolerance" in text_of(page)["inputs"], 10, "the undo")
    assert text_of(page)["nodes"]["match"]["parameters"]["amount_tolerance"] == {"input": "tolerance"}
    page.evaluate("window.jupyterapp.shell.currentWidget.content.redo()")
    wait_until(lambda: "amount_tolerance" in text_of(page)["inputs"], 10, "the redo")

    # Saved, the JSON editor of the file shows the declaration as written.
    lab.command("docmanager:save")
    wait_until(lambda: "amount_tolerance" in json.loads((lab.server.root / workflow).read_text())["inputs"], 20, "the save")
    lab.command("docmanager:open", {"path": workflow, "factory": "Editor"})
    editor = lab.current_panel().locator(".jp-FileEditor")
    expect(editor).to_contain_text('"amount_tolerance": {')
    expect(editor).to_contain_text('"title": "Amount tolerance"')
    lab.screenshot("json-editor")


def test_problems_show_on_their_fields_ports_and_in_the_list_and_a_click_shows_where(lab, workflow):
    page = lab.page
    lab.file_item(workflow).dblclick()
    panel = lab.current_panel()
    expect(panel.locator(node("match"))).to_be_visible()
    io = panel.locator(".jp-WorkflowIO")
    threshold = io.locator(".jp-WorkflowIO-entry[data-input='threshold']")
    expect(threshold.get_by_label("Default of threshold")).to_have_value("0.85")

    # A default above its maximum: written, and the server's validation puts it on the field and in the list.
    commit(threshold.get_by_label("Default of threshold"), "2")
    wait_until(lambda: text_of(page)["inputs"]["threshold"]["default"] == 2, 10, "the default in the text")
    expect(threshold.locator(".jp-WorkflowProperties-problem")).to_be_visible()
    expect(threshold).to_have_attribute("data-problem", "true")
    # The problems list is folded at first (the canvas does not shrink under the user): its header counts.
    problems = panel.locator(".jp-WorkflowProblems")
    expect(problems).to_have_attribute("data-open", "false")
    expect(problems.locator(".jp-WorkflowProblems-count")).to_have_text("1 error")
    problems.locator(".jp-WorkflowProblems-header").click()
    expect(problems).to_have_attribute("data-open", "true")
    item = problems.locator(".jp-WorkflowProblems-item[data-pointer='/inputs/threshold/default']")
    expect(item).to_be_visible()
    expect(item).to_have_attribute("data-severity", "error")
    expect(item).to_contain_text("input threshold, default")
    expect(problems.locator(".jp-WorkflowProblems-count")).to_have_text("1 error")
    message = item.locator(".jp-WorkflowProblems-message").inner_text()
    expect(threshold.locator(".jp-WorkflowProperties-problem")).to_contain_text(message)

    # A parameter fed an input of a type it does not take: the node's port is marked, with the message.
    panel.locator(f"{node('match')} .jp-WorkflowNode-notebook").click()
    row = panel.locator(".jp-WorkflowProperties[data-node='match'] [data-parameter='threshold']")
    row.get_by_label("Input of threshold").select_option("mail_to")
    port = panel.locator(f"{node('match')} .jp-WorkflowNode-port[data-port='threshold']")
    expect(port).to_have_attribute("data-problem", "error")
    expect(port).to_have_attribute("title", re.compile(r"\S"))
    expect(panel.locator(f"{node('match')} .jp-WorkflowNode-port[data-port='left']")).not_to_have_attribute("data-problem", re.compile(".*"))
    expect(problems.locator(".jp-WorkflowProblems-count")).to_have_text("2 errors")
    port_item = problems.locator(".jp-WorkflowProblems-item[data-pointer^='/nodes/match/parameters/threshold']")
    expect(port_item).to_have_count(1)
    assert port.get_attribute("title") == port_item.locator(".jp-WorkflowProblems-message").inner_text()
    lab.wait_canvas_still(panel)
    lab.screenshot("problems")

    # With another node selected, a click on the input's problem shows the workflow's inputs and focuses the field.
    panel.locator(f"{node('bank')} .jp-WorkflowNode-notebook").click()
    expect(panel.locator(".jp-WorkflowProperties[data-node='bank']")).to_be_visible()
    item.click()
    expect(io).to_be_visible()
    expect(panel.locator("[data-field='inputs/threshold/default']")).to_be_focused()
    expect(panel.locator(".react-flow__node.selected")).to_have_count(0)

    # A click on the port's problem selects its node and focuses the parameter's editor.
    port_item.click()
    expect(panel.locator(".jp-WorkflowProperties[data-node='match']")).to_be_visible()
    expect(panel.locator(".react-flow__node[data-id='match']")).to_have_class(re.compile(r"\bselected\b"))
    expect(panel.locator(".react-flow__node.selected")).to_have_count(1)
    expect(panel.locator("[data-parameter='threshold'] select[aria-label='Source of threshold']")).to_be_focused()
    lab.screenshot("revealed")

    # Fixed, both go; the list can be folded.
    row.get_by_label("Input of threshold").select_option("threshold")
    panel.locator(".react-flow__pane").click(position={"x": 20, "y": 20})
    commit(io.locator(".jp-WorkflowIO-entry[data-input='threshold']").get_by_label("Default of threshold"), "0.9")
    expect(problems.locator(".jp-WorkflowProblems-count")).to_have_text("No problems")
    expect(port).not_to_have_attribute("data-problem", re.compile(".*"))
    problems.locator(".jp-WorkflowProblems-header").click()
    expect(problems).to_have_attribute("data-open", "false")


def test_workflow_outputs_are_added_pointed_renamed_and_removed(lab, workflow):
    page = lab.page
    lab.file_item(workflow).dblclick()
    panel = lab.current_panel()
    io = panel.locator(".jp-WorkflowIO")
    expect(io.locator(".jp-WorkflowIO-entry[data-output]")).to_have_count(5)

    io.get_by_role("button", name="+ Add output").click()
    expect(io.locator(".jp-WorkflowIO-entry[data-output]")).to_have_count(6)
    added = io.locator(".jp-WorkflowIO-entry[data-output]").last
    name = added.get_attribute("data-output")
    added.get_by_label(f"Value of output {name}").select_option("match.unmatched_left")
    commit(added.get_by_label(f"Name of output {name}"), "unmatched")
    entry = io.locator(".jp-WorkflowIO-entry[data-output='unmatched']")
    commit(entry.get_by_label("Map of output unmatched"), "length(@)")
    wait_until(lambda: "unmatched" in text_of(page).get("outputs", {}), 10, "the output in the text")
    wait_until(lambda: text_of(page)["outputs"]["unmatched"].get("map") == "length(@)", 10, "the map in the text")
    assert text_of(page)["outputs"]["unmatched"] == {"output": "match.unmatched_left", "map": "length(@)"}
    assert list(text_of(page)["outputs"])[-1] == "unmatched"

    io.get_by_label("Remove output sent").click()
    wait_until(lambda: "sent" not in text_of(page)["outputs"], 10, "the removal")
    assert list(text_of(page)["outputs"]) == ["matched", "matched_count", "report_html", "report_csv", "unmatched"]
    expect(panel.locator(".jp-WorkflowProblems-count")).to_have_text("No problems")
    lab.wait_canvas_still(panel)
    lab.screenshot("outputs")
