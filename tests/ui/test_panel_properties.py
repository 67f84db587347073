"""The properties panel of the Workflow Editor, as a user does: in a real JupyterLab, in Debian's Chromium.

Selecting a node shows its properties beside the canvas; a literal set there is saved in
the file; a value its field refuses changes nothing; a problem the server's validation
finds shows on its field and as a red mark on its node. Screenshots go to test-screenshots/.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from browser import wait_until
from workflow_page import node, on_disk

pytestmark = pytest.mark.kernels


@pytest.fixture
def workflow(example_copy):
    return example_copy


def test_a_literal_set_in_the_properties_panel_is_saved_and_a_bad_value_changes_nothing(lab, workflow):
    page = lab.page
    before = on_disk(lab, workflow)
    lab.file_item(workflow).dblclick()
    expect(lab.tab(workflow)).to_have_class(re.compile(r"\blm-mod-current\b"))
    panel = lab.current_panel()
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(len(before["nodes"]))
    expect(panel.locator(".jp-WorkflowProperties")).to_have_count(0)

    # Selecting a node shows its properties, the notebook's declared parameters among them.
    panel.locator(f"{node('bank')} .jp-WorkflowNode-notebook").click()
    properties = panel.locator(".jp-WorkflowProperties[data-node='bank']")
    expect(properties).to_be_visible()
    expect(properties.get_by_label("Title", exact=True)).to_have_value("Bank statement")
    row = properties.locator("[data-parameter='name_column']")
    expect(row).to_be_visible()
    expect(row.get_by_label("Source of name_column")).to_have_value("default")

    # name_column becomes a literal, then gets a value: two edits, saved as written.
    row.get_by_label("Source of name_column").select_option("literal")
    value = row.get_by_label("Value of name_column")
    expect(value).to_have_value("counterparty")
    value.fill("payee")
    value.press("Enter")
    expect(lab.tab(workflow)).to_have_class(re.compile(r"\bjp-mod-dirty\b"))

    # A number field refuses text: the message stays by the field, the document is unchanged.
    source = "window.jupyterapp.shell.currentWidget.context.model.sharedModel.getSource()"
    text = page.evaluate(source)
    retries = properties.get_by_label("Retries", exact=True)
    retries.fill("three")
    retries.press("Enter")
    expect(properties.locator(".jp-WorkflowProperties-problem")).to_contain_text('"three" is not a number')
    assert page.evaluate(source) == text
    retries.fill("2")
    retries.press("Enter")
    wait_until(lambda: json.loads(page.evaluate(source))["nodes"]["bank"].get("retries") == 2, 10, "retries set")
    lab.wait_canvas_still(panel)
    lab.screenshot("edited")

    lab.command("docmanager:save")
    wait_until(lambda: on_disk(lab, workflow)["nodes"]["bank"].get("retries") == 2, 20, "the save")
    saved = on_disk(lab, workflow)
    assert saved["nodes"]["bank"] == {
        "notebook": "components/read_table.ipynb",
        "title": "Bank statement",
        "parameters": {"path": "../data/bank.csv", "name_column": "payee"},
        "retries": 2,
    }
    assert {k: v for k, v in saved["nodes"].items() if k != "bank"} == {
        k: v for k, v in before["nodes"].items() if k != "bank"
    }

    # Undo takes back the last edit only.
    page.evaluate("window.jupyterapp.shell.currentWidget.content.undo()")
    wait_until(lambda: "retries" not in json.loads(page.evaluate(source))["nodes"]["bank"], 10, "the undo")
    assert json.loads(page.evaluate(source))["nodes"]["bank"]["parameters"]["name_column"] == "payee"
    assert lab.errors == []


def test_a_validation_problem_shows_on_its_field_and_node(lab, workflow):
    page = lab.page
    lab.file_item(workflow).dblclick()
    panel = lab.current_panel()
    expect(panel.locator(node("match"))).to_be_visible()
    # A literal of the wrong type, written in the text (as the JSON editor would).
    page.evaluate(
        """() => {
            const model = window.jupyterapp.shell.currentWidget.context.model;
            const document = JSON.parse(model.sharedModel.getSource());
            document.nodes.match.parameters.threshold = 'high';
            model.sharedModel.setSource(JSON.stringify(document, null, 2) + '\\n');
            return null;
        }"""
    )
    expect(panel.locator(f"{node('match')}[data-problem='true']")).to_be_visible()
    expect(panel.locator(f"{node('bank')}[data-problem='true']")).to_have_count(0)
    panel.locator(f"{node('match')} .jp-WorkflowNode-notebook").click()
    row = panel.locator(".jp-WorkflowProperties[data-node='match'] [data-parameter='threshold']")
    expect(row.locator(".jp-WorkflowProperties-problem")).to_be_visible()
    lab.wait_canvas_still(panel)
    lab.screenshot("problem")

    # Fixed from the panel, the problem goes.
    row.get_by_label("Source of threshold").select_option("input")
    expect(panel.locator(f"{node('match')}[data-problem='true']")).to_have_count(0)
    expect(row.locator(".jp-WorkflowProperties-problem")).to_have_count(0)
