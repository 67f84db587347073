"""The Workflow Editor in a real JupyterLab, in Debian's Chromium (fixtures in tests/browser.py).

Each test saves a screenshot under test-screenshots/ and fails on any console error.
"""

import json
import re

import pytest
from playwright.sync_api import expect

from browser import wait_until

pytestmark = pytest.mark.kernels


# What "New Workflow" writes (labextension/src/index.ts, EMPTY_WORKFLOW).
EMPTY_WORKFLOW = {"format": "jupyter-workflow/1", "nodes": {}}


def node_to_node_edges(workflow: dict) -> set[tuple[str, str, str]]:
    """(source, target, label) for every output binding between two nodes: "output → parameter", or the
    name once when both are the same."""
    edges = set()
    for target, node in workflow["nodes"].items():
        for name, value in node.get("parameters", {}).items():
            if isinstance(value, dict) and isinstance(value.get("output"), str):
                source, port = value["output"].split(".", 1)
                edges.add((source, target, port if port == name else f"{port} → {name}"))
    return edges


def canvas_nodes(panel) -> dict[str, dict]:
    """The nodes drawn in a panel, by id: title and state, as plain data."""
    return {
        item["id"]: item
        for item in panel.locator(".jp-WorkflowNode").evaluate_all(
            """els => els.map(e => ({
                id: e.dataset.id,
                state: e.dataset.state,
                title: e.querySelector('.jp-WorkflowNode-label')?.textContent ?? null,
            }))"""
        )
    }


def canvas_edges(panel) -> set[tuple[str, str, str]]:
    """The edges drawn in a panel: (source, target, label), from React Flow's edge elements."""
    drawn = panel.locator(".react-flow__edge").evaluate_all(
        """els => els.map(e => ({
            label: e.getAttribute('aria-label'),
            text: e.querySelector('.react-flow__edge-text')?.textContent ?? null,
        }))"""
    )
    edges = set()
    for edge in drawn:
        match = re.fullmatch(r"Edge from (\S+) to (\S+)", edge["label"] or "")
        assert match, f"an edge element without its source and target: {edge}"
        edges.add((match[1], match[2], edge["text"]))
    return edges


def test_opening_a_workflow_from_the_file_browser_draws_its_nodes_and_edges(lab):
    workflow = json.loads((lab.server.root / "reconcile.workflow.json").read_text())
    assert len(workflow["nodes"]) == 5

    lab.file_item("reconcile.workflow.json").dblclick()

    expect(lab.tab("reconcile.workflow.json")).to_have_class(re.compile(r"\blm-mod-current\b"))
    panel = lab.current_panel()
    expect(panel.locator(".jp-WorkflowEditor")).to_be_visible()
    nodes = panel.locator(".jp-WorkflowNode")
    expect(nodes).to_have_count(len(workflow["nodes"]))
    expected_edges = node_to_node_edges(workflow)
    expect(panel.locator(".react-flow__edge")).to_have_count(len(expected_edges))

    assert canvas_nodes(panel) == {
        node_id: {"id": node_id, "state": "idle", "title": node["title"]}
        for node_id, node in workflow["nodes"].items()
    }
    assert canvas_edges(panel) == expected_edges
    lab.wait_canvas_still(panel)
    for node_id in workflow["nodes"]:
        expect(panel.locator(f".jp-WorkflowNode[data-id='{node_id}']")).to_be_in_viewport()
    lab.screenshot()


def test_new_workflow_from_the_command_palette_creates_an_empty_workflow(lab):
    created = lab.server.root / "untitled.workflow.json"
    assert not created.exists()

    lab.page.keyboard.press("Control+Shift+C")
    palette = lab.page.locator(".lm-CommandPalette")
    palette.locator(".lm-CommandPalette-input").fill("New Workflow")
    palette.locator(".lm-CommandPalette-itemLabel").filter(has_text=re.compile(r"^New Workflow$")).click()

    expect(lab.tab("untitled.workflow.json")).to_have_class(re.compile(r"\blm-mod-current\b"))
    panel = lab.current_panel()
    expect(panel.locator(".jp-WorkflowEditor-empty")).to_contain_text("This workflow has no nodes yet")
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(0)
    assert json.loads(created.read_text()) == EMPTY_WORKFLOW
    expect(lab.file_item("untitled.workflow.json")).to_be_visible()
    lab.screenshot()
    created.unlink()  # the server is shared by the session's tests


def test_a_file_that_is_not_json_says_where_it_cannot_be_read(lab):
    # A comma is missing at the end of line 3: the text breaks at line 4, column 3.
    (lab.server.root / "broken.workflow.json").write_text(
        '{\n  "format": "jupyter-workflow/1",\n  "name": "broken"\n  "nodes": {}\n}\n'
    )
    with pytest.raises(json.JSONDecodeError) as python_says:
        json.loads((lab.server.root / "broken.workflow.json").read_text())
    assert (python_says.value.lineno, python_says.value.colno) == (4, 3)

    lab.command("docmanager:open", {"path": "broken.workflow.json"})

    expect(lab.tab("broken.workflow.json")).to_have_class(re.compile(r"\blm-mod-current\b"))
    error = lab.current_panel().locator(".jp-WorkflowEditor-error")
    expect(error).to_contain_text("This workflow cannot be drawn")
    expect(error).to_contain_text("line 4, column 3")
    expect(lab.current_panel().locator(".jp-WorkflowNode")).to_have_count(0)
    lab.screenshot()


def test_open_with_still_offers_the_json_and_text_editors(lab):
    factories = lab.page.evaluate(
        """path => ({
            fileTypes: window.jupyterapp.docRegistry.getFileTypesForPath(path).map(t => t.name),
            preferred: window.jupyterapp.docRegistry.preferredWidgetFactories(path).map(f => f.name),
            default: window.jupyterapp.docRegistry.defaultWidgetFactory(path).name,
        })""",
        "reconcile.workflow.json",
    )
    assert factories["fileTypes"][0] == "workflow"
    assert factories["default"] == "Workflow Editor"
    assert factories["preferred"][0] == "Workflow Editor"
    assert {"Editor", "JSON"} <= set(factories["preferred"])

    # The file browser's context menu lists them under Open With, as a user sees it.
    lab.file_item("reconcile.workflow.json").click(button="right")
    lab.page.locator(".lm-Menu-item").filter(has_text=re.compile(r"^Open With")).hover()
    submenu = lab.page.locator(".lm-Menu").last
    for label in ("Workflow Editor", "Editor", "JSON"):
        expect(submenu.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(rf"^{label}$"))).to_be_visible()
    lab.screenshot("open-with")
    submenu.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(r"^Editor$")).click()

    # The text editor shows the file's text.
    panel = lab.current_panel()
    expect(panel.locator(".jp-FileEditor .cm-content")).to_contain_text('"format": "jupyter-workflow/1"')
    expect(panel.locator(".jp-WorkflowEditor")).to_have_count(0)
    lab.screenshot()


def test_an_open_workflow_editor_is_restored_after_a_reload(lab):
    lab.command("docmanager:open", {"path": "reconcile.workflow.json"})
    panel = lab.current_panel()
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(5)

    # The layout is saved to the workspace on a debounce: wait until the server has it.
    key = "jupyter-workflow:reconcile.workflow.json"
    wait_until(
        lambda: key in lab.server.api(f"lab/api/workspaces/{lab.workspace}")["data"],
        timeout=30,
        what=f"the workspace {lab.workspace} to record {key}",
    )

    lab.load()  # a reload of the page

    expect(lab.tab("reconcile.workflow.json")).to_have_class(re.compile(r"\blm-mod-current\b"))
    panel = lab.current_panel()
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(5)
    expect(panel.locator(".jp-WorkflowNode[data-state='idle']")).to_have_count(5)
    lab.wait_canvas_still(panel)
    lab.screenshot()
