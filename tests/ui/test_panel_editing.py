"""Drawing a workflow in the Workflow Editor, as a user does: in a real JupyterLab, in Debian's Chromium.

A new workflow gets two notebooks dragged from the file browser and a wire from an output
to a parameter; it is saved, reopened, and edited from the JSON editor of the same file.
Each test saves screenshots under test-screenshots/ and fails on any console error.
"""

import re

import pytest
from playwright.sync_api import expect

from browser import wait_until
from workflow_page import node, on_disk

pytestmark = pytest.mark.kernels


def drag(page, source, target_x: float, target_y: float, steps: int = 20) -> None:
    """Press on ``source`` (a locator), move to the point in steps as a hand does, and let go."""
    box = source.bounding_box()
    x, y = box["x"] + min(30, box["width"] / 2), box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, steps + 1):
        page.mouse.move(x + (target_x - x) * step / steps, y + (target_y - y) * step / steps)
    page.mouse.up()


def centre(locator) -> tuple[float, float]:
    box = locator.bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_a_new_workflow_drawn_on_the_canvas_is_saved_reopened_and_edited_as_text(lab, created):
    page = lab.page
    lab.command("jupyter-workflow:new")
    expect(lab.current_panel().locator(".jp-WorkflowEditor")).to_be_visible()
    name = page.evaluate("window.jupyterapp.shell.currentWidget.context.path")
    created.append(name)
    assert re.fullmatch(r"untitled\d*\.workflow\.json", name)
    panel = lab.current_panel()
    canvas = panel.locator(".react-flow__pane")
    expect(panel.locator(".jp-WorkflowEditor-empty")).to_be_visible()

    # Two notebooks dragged from the file browser become nodes where they are dropped.
    lab.file_item("components").dblclick()
    left, top = canvas.bounding_box()["x"], canvas.bounding_box()["y"]
    width, height = canvas.bounding_box()["width"], canvas.bounding_box()["height"]
    drag(page, lab.file_item("read_table.ipynb"), left + width * 0.25, top + height * 0.4)
    expect(panel.locator(node("read_table"))).to_be_visible()
    drag(page, lab.file_item("write_report.ipynb"), left + width * 0.7, top + height * 0.4)
    expect(panel.locator(node("write_report"))).to_be_visible()

    # A wire from read_table's output "table" to write_report's parameter "matched".
    output = panel.locator(f"{node('read_table')} [data-port='table'] .react-flow__handle")
    parameter = panel.locator(f"{node('write_report')} [data-port='matched'] .react-flow__handle")
    drag(page, output, *centre(parameter), steps=15)
    expect(panel.locator(".react-flow__edge")).to_have_count(1)
    expect(panel.locator(".react-flow__edge-text")).to_have_text("table → matched")
    expect(lab.tab(name)).to_have_class(re.compile(r"\bjp-mod-dirty\b"))
    lab.wait_canvas_still(panel)
    lab.screenshot("drawn")

    lab.command("docmanager:save")
    wait_until(lambda: "write_report" in on_disk(lab, name)["nodes"], 20, "the save")
    document = on_disk(lab, name)
    assert document["nodes"] == {
        "read_table": {"notebook": "components/read_table.ipynb"},
        "write_report": {"notebook": "components/write_report.ipynb",
                         "parameters": {"matched": {"output": "read_table.table"}}},
    }
    assert list(document) == ["format", "nodes", "layout"] and set(document["layout"]) == {"read_table", "write_report"}

    # Closed and opened again, the file shows the same graph where it was drawn.
    lab.command("application:close")
    expect(lab.tab(name)).to_have_count(0)
    lab.command("docmanager:open", {"path": name})
    panel = lab.current_panel()
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(2)
    expect(panel.locator(".react-flow__edge-text")).to_have_text("table → matched")

    # The JSON editor of the same file shows the binding; an edit there shows on the canvas.
    lab.command("docmanager:open", {"path": name, "factory": "Editor"})
    editor = lab.current_panel().locator(".jp-FileEditor")
    expect(editor).to_contain_text('"output": "read_table.table"')
    page.evaluate(
        """() => {
            const model = window.jupyterapp.shell.currentWidget.context.model;
            const document = JSON.parse(model.sharedModel.getSource());
            document.nodes.read_table.title = 'Bank statement';
            model.sharedModel.setSource(JSON.stringify(document, null, 2) + '\\n');
            return null;
        }"""
    )
    lab.tab(name).first.click()
    workflow_panel = lab.current_panel()
    expect(workflow_panel.locator(f"{node('read_table')} .jp-WorkflowNode-label")).to_have_text("Bank statement")
    lab.wait_canvas_still(workflow_panel)
    lab.screenshot("edited-as-text")
