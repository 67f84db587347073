"""Running a workflow from the Workflow Editor, as a user does: in a real JupyterLab, in Debian's Chromium.

Run asks for the inputs (prefilled with their defaults), the nodes' states come live from the
run's events, a node's executed notebook opens read-only, a failure shows on its node with its
downstream skipped, and Retry after fixing the notebook completes the run.
Each test saves screenshots under test-screenshots/ and fails on any console error.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from notebook_factory import make_notebook, write_workflow
from workflow_page import RUN_TIMEOUT_MS, node, states, open_workflow, toolbar_button, expect_enabled

pytestmark = pytest.mark.kernels


def test_run_asks_for_the_inputs_and_every_node_reaches_succeeded(lab):
    workflow = json.loads((lab.server.root / "reconcile.workflow.json").read_text())
    panel = open_workflow(lab, "reconcile.workflow.json", len(workflow["nodes"]))
    assert set(states(panel).values()) == {"idle"}
    expect_enabled(toolbar_button(panel, "cancel"), False)
    expect_enabled(toolbar_button(panel, "retry"), False)

    toolbar_button(panel, "run").click()
    dialog = lab.page.locator(".jp-Dialog")
    # One field per declared input, prefilled with its default.
    for name, declaration in workflow["inputs"].items():
        field = dialog.locator(f".jp-WorkflowInputs-field[data-input='{name}'] input")
        value = field.input_value()
        if declaration["type"] in ("number", "integer"):
            assert float(value) == declaration["default"]
        else:
            assert value == declaration["default"]
    lab.screenshot("inputs")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)

    status = panel.locator(".jp-WorkflowRunStatus-status")
    expect(status).to_be_visible()
    expect(panel.locator(".jp-WorkflowNode[data-state='succeeded']")).to_have_count(
        len(workflow["nodes"]), timeout=RUN_TIMEOUT_MS
    )
    expect(status).to_have_text("succeeded")
    assert set(states(panel).values()) == {"succeeded"}
    expect_enabled(toolbar_button(panel, "run"))
    expect_enabled(toolbar_button(panel, "retry"), False)
    # The run on the server agrees with the canvas.
    run_id = panel.locator(".jp-WorkflowRunStatus span[title^='run ']").get_attribute("title").split()[1]
    run = lab.server.api(f"workflow/api/runs/{run_id}")
    assert run["status"] == "succeeded"
    assert run["inputs"]["threshold"] == workflow["inputs"]["threshold"]["default"]
    # A green node: the state's colour on the node's border.
    colour = panel.locator(node("match")).evaluate("e => getComputedStyle(e).borderLeftColor")
    red, green, blue = (int(c) for c in re.findall(r"\d+", colour)[:3])
    assert green > red and green > blue, colour
    lab.wait_canvas_still(panel)
    lab.screenshot()
    # The README's picture (docs/images/panel.png): the file browser folded away, the graph refitted.
    lab.page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
    expect(lab.page.locator("#filebrowser")).to_be_hidden()
    lab.wait_canvas_still(panel)
    expect(panel.locator(node("notify"))).to_be_in_viewport()
    lab.screenshot("readme")

    # A node's executed notebook opens read-only in a tab of its own.
    panel.locator(node("match")).locator(".jp-WorkflowNode-notebookLink").click()
    view = lab.page.locator(".jp-WorkflowNotebookView")
    expect(view).to_be_visible()
    expect(view.locator(".jp-WorkflowNotebookView-cell").first).to_be_visible()
    expect(view.locator("[contenteditable='true'], textarea")).to_have_count(0)
    lab.screenshot("notebook")


def test_a_failing_node_shows_failed_its_downstream_skipped_and_retry_completes_after_the_fix(lab, created):
    root = lab.server.root
    make_notebook(root / "flaky.ipynb", "fail = True", "if fail:\n    raise ValueError('the bank file is missing')\nprint('done')")
    make_notebook(root / "after_flaky.ipynb", "x = 1", "print('after', x)")
    write_workflow(
        root / "flaky.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "nodes": {
                "first": {"notebook": "flaky.ipynb"},
                "second": {"notebook": "after_flaky.ipynb", "after": ["first"]},
            },
        },
    )
    created.extend(["flaky.ipynb", "after_flaky.ipynb", "flaky.workflow.json"])

    panel = open_workflow(lab, "flaky.workflow.json", 2)
    toolbar_button(panel, "run").click()
    dialog = lab.page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("This workflow declares no inputs")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()

    expect(panel.locator(node("first"))).to_have_attribute("data-state", "failed", timeout=RUN_TIMEOUT_MS)
    expect(panel.locator(node("second"))).to_have_attribute("data-state", "skipped", timeout=RUN_TIMEOUT_MS)
    expect(panel.locator(".jp-WorkflowRunStatus-status")).to_have_text("failed", timeout=RUN_TIMEOUT_MS)
    expect(panel.locator(node("first")).locator(".jp-WorkflowNode-error")).to_contain_text("the bank file is missing")
    lab.wait_canvas_still(panel)
    lab.screenshot()

    # The failed node's notebook opens on the failing cell.
    panel.locator(node("first")).locator(".jp-WorkflowNode-notebookLink").click()
    failed_cell = lab.page.locator(".jp-WorkflowNotebookView-cell.jp-mod-failed")
    expect(failed_cell).to_contain_text("the bank file is missing")
    expect(failed_cell).to_be_in_viewport()
    lab.tab("flaky.workflow.json").click()

    # Fix the notebook, then retry what did not succeed.
    make_notebook(root / "flaky.ipynb", "fail = False", "print('done')")
    expect_enabled(toolbar_button(panel, "retry"))
    toolbar_button(panel, "retry").click()
    expect(panel.locator(".jp-WorkflowNode[data-state='succeeded']")).to_have_count(2, timeout=RUN_TIMEOUT_MS)
    expect(panel.locator(".jp-WorkflowRunStatus-status")).to_have_text("succeeded")
    lab.screenshot("retried")


def test_an_input_out_of_range_is_reported_on_its_field_and_nothing_runs(lab):
    panel = open_workflow(lab, "reconcile.workflow.json", 5)
    runs_before = lab.server.api("workflow/api/runs")["runs"]
    # Started from the command palette this time, as a keyboard user does.
    lab.page.keyboard.press("Control+Shift+C")
    search = lab.page.locator(".jp-ModalCommandPalette .lm-CommandPalette-input")
    expect(search).to_be_focused()
    search.fill("Run Workflow")
    expect(lab.page.locator(".jp-ModalCommandPalette .lm-CommandPalette-item.lm-mod-active")).to_contain_text("Run Workflow")
    search.press("Enter")
    dialog = lab.page.locator(".jp-Dialog")
    dialog.locator(".jp-WorkflowInputs-field[data-input='threshold'] input").fill("5")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()

    # The dialog comes back with the server's problem next to the field, the value as typed.
    field = lab.page.locator(".jp-Dialog .jp-WorkflowInputs-field[data-input='threshold']")
    expect(field.locator(".jp-WorkflowInputs-problem")).to_be_visible()
    expect(field.locator("input")).to_have_value("5")
    expect(lab.page.locator(".jp-Dialog .jp-WorkflowInputs-field[data-input='smtp_port'] .jp-WorkflowInputs-problem")).to_have_count(0)
    lab.screenshot()
    lab.page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-reject").click()
    expect(lab.page.locator(".jp-Dialog")).to_have_count(0)
    assert lab.server.api("workflow/api/runs")["runs"] == runs_before
    assert set(states(panel).values()) == {"idle"}
