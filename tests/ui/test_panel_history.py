"""The "Workflow runs" sidebar, as a user sees it: in a real JupyterLab, in Debian's Chromium.

A run started from the Workflow Editor appears in the sidebar (from the all-runs events) and
ends there as succeeded; with the canvas cleared, selecting the run shows its nodes' states
again, as they were, with the run's inputs listed. Screenshots go to test-screenshots/;
any console error fails the test.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from workflow_page import RUN_TIMEOUT_MS, open_history, open_workflow, states

pytestmark = pytest.mark.kernels


def test_a_run_from_the_panel_appears_and_shows_again_on_the_canvas(lab):
    workflow = json.loads((lab.server.root / "reconcile.workflow.json").read_text())
    count = len(workflow["nodes"])
    panel = open_workflow(lab, "reconcile.workflow.json", count)

    # The sidebar lists this workflow's runs (its name in the scope) before the run starts.
    history = open_history(lab)
    expect(history.locator(".jp-WorkflowHistory-scope")).to_have_value("current")
    expect(history.locator(".jp-WorkflowHistory-scope option[value='current']")).to_contain_text("reconcile")
    expect(history.locator(".jp-WorkflowHistory-statusLine")).not_to_have_text(re.compile("Loading"))
    before = set(history.locator(".jp-WorkflowHistory-item").evaluate_all("els => els.map(e => e.dataset.runId)"))

    panel.locator(".jp-Toolbar [data-command='jupyter-workflow:run']").click()
    dialog = lab.page.locator(".jp-Dialog")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    expect(panel.locator(".jp-WorkflowNode[data-state='succeeded']")).to_have_count(count, timeout=RUN_TIMEOUT_MS)
    run_id = panel.locator(".jp-WorkflowRunStatus span[title^='run ']").get_attribute("title").split()[1]
    assert run_id not in before

    # The run came in from the events, newest first, and ended as succeeded, in its colour.
    item = history.locator(f".jp-WorkflowHistory-item[data-run-id='{run_id}']")
    expect(item).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(history.locator(".jp-WorkflowHistory-item").first).to_have_attribute("data-run-id", run_id)
    expect(item.locator(".jp-WorkflowHistory-name")).to_have_text("reconcile")
    expect(item.locator(".jp-WorkflowHistory-runStatus")).to_have_text("succeeded")
    expect(item.locator(".jp-WorkflowHistory-trigger")).to_have_text("server")
    expect(item.locator(".jp-WorkflowHistory-duration")).to_have_text(re.compile(r"\d+(\.\d)? (ms|s)|\d+ min"))
    colour = item.locator(".jp-WorkflowHistory-runStatus").evaluate("e => getComputedStyle(e).color")
    red, green, blue = (int(c) for c in re.findall(r"\d+", colour)[:3])
    assert green > red and green > blue, colour

    # The status filter keeps it under "succeeded" and drops it under "failed".
    history.locator(".jp-WorkflowHistory-status").select_option("failed")
    expect(item).to_have_count(0)
    history.locator(".jp-WorkflowHistory-status").select_option("succeeded")
    expect(item).to_have_count(1)
    history.locator(".jp-WorkflowHistory-status").select_option("")

    # Clear the canvas: no run shown, every node idle.
    history.locator(".jp-WorkflowHistory-clear").click()
    expect(panel.locator(".jp-WorkflowNode[data-state='idle']")).to_have_count(count)
    expect(panel.locator(".jp-WorkflowRunStatus span[title^='run ']")).to_have_count(0)

    # Select the run: its nodes' states as they were, and its inputs in the sidebar.
    item.click()
    expect(item).to_have_class(re.compile(r"\bjp-mod-selected\b"))
    expect(panel.locator(".jp-WorkflowNode[data-state='succeeded']")).to_have_count(count)
    assert set(states(panel).values()) == {"succeeded"}
    details = history.locator(f".jp-WorkflowHistory-details[data-run-id='{run_id}']")
    expect(details).to_contain_text("is on the canvas")
    threshold = details.locator(".jp-WorkflowHistory-inputs tr[data-name='threshold'] td")
    expect(threshold).to_have_text(json.dumps(workflow["inputs"]["threshold"]["default"]))
    expect(details.locator(".jp-WorkflowHistory-outputs tr[data-name='matched_count']")).to_have_count(1)
    lab.wait_canvas_still(panel)
    lab.screenshot()
