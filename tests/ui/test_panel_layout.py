"""Automatic layout in a real JupyterLab (fixtures in tests/browser.py): nodes without a saved
position are laid out by ELK in a Web Worker and drawn without overlaps; Arrange saves positions."""

import json

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.kernels


def generated(n: int) -> dict:
    """``n`` nodes without layout: a chain n0 → n1 → … plus a few extra wires and orderings."""
    nodes = {}
    for i in range(n):
        node = {"notebook": "components/read_table.ipynb"}
        if i:
            node["parameters"] = {"x": {"output": f"n{i - 1}.out"}}
            if i % 7 == 0:
                node["parameters"]["extra"] = {"output": f"n{i // 2}.out"}
            if i % 11 == 0:
                node["after"] = [f"n{i // 3}"]
        nodes[f"n{i}"] = node
    return {"format": "jupyter-workflow/1", "nodes": nodes}


def drawn_boxes(panel) -> dict[str, dict]:
    """Each drawn node's box on the screen and whether it is shown."""
    return {
        box["id"]: box
        for box in panel.locator(".react-flow__node").evaluate_all(
            """els => els.map(e => {
                const r = e.getBoundingClientRect();
                return {id: e.dataset.id, x: r.x, y: r.y, w: r.width, h: r.height,
                        shown: getComputedStyle(e).visibility !== 'hidden'};
            })"""
        )
    }


def open_generated(lab, name: str, n: int):
    (lab.server.root / name).write_text(json.dumps(generated(n), indent=2) + "\n")
    workers = []
    lab.page.on("worker", lambda worker: workers.append(worker.url))
    lab.command("docmanager:open", {"path": name, "factory": "Workflow Editor"})
    panel = lab.current_panel()
    lab.page.wait_for_function(
        """n => {
            const els = [...document.querySelectorAll('.lm-DockPanel-widget:not(.lm-mod-hidden) .react-flow__node')];
            return els.length === n && els.every(e => getComputedStyle(e).visibility !== 'hidden');
        }""",
        arg=n,
    )
    return panel, workers


def test_a_workflow_without_layout_is_laid_out_in_a_worker_without_overlaps(lab):
    n = 100
    panel, workers = open_generated(lab, "generated.workflow.json", n)
    lab.wait_canvas_still(panel)
    boxes = drawn_boxes(panel)
    assert len(boxes) == n and all(b["shown"] for b in boxes.values())
    items = list(boxes.values())
    for i, a in enumerate(items):
        for b in items[i + 1:]:
            overlaps = a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]
            assert not overlaps, f"{a['id']} overlaps {b['id']}"
    for i in range(1, n):
        assert boxes[f"n{i}"]["x"] > boxes[f"n{i - 1}"]["x"], f"n{i - 1} → n{i} does not go left to right"
    assert any("elk-worker" in url for url in workers), f"ELK ran in no worker: {workers}"
    # Shown, not saved: the file is as it was until the user moves something or arranges.
    assert "layout" not in json.loads((lab.server.root / "generated.workflow.json").read_text())
    lab.screenshot()


def test_arrange_saves_every_position_in_one_undoable_edit(lab):
    n = 20
    name = "arrange.workflow.json"
    panel, _ = open_generated(lab, name, n)
    lab.command("jupyter-workflow:arrange")
    lab.command("docmanager:save")
    layout = json.loads((lab.server.root / name).read_text()).get("layout", {})
    assert sorted(layout) == sorted(f"n{i}" for i in range(n))
    assert all(layout[f"n{i}"]["x"] > layout[f"n{i - 1}"]["x"] for i in range(1, n))
    panel.locator(".react-flow__pane").click()  # the canvas has the focus, where its undo applies
    lab.command("jupyter-workflow:undo")
    lab.command("docmanager:save")
    assert "layout" not in json.loads((lab.server.root / name).read_text())
    expect(panel.locator(".jp-Toolbar-item[data-jp-item-name='arrange']")).to_be_visible()


def test_a_drag_saves_the_laid_out_positions_with_the_moved_node(lab):
    n = 6
    name = "drag.workflow.json"
    panel, _ = open_generated(lab, name, n)
    lab.wait_canvas_still(panel)
    before = drawn_boxes(panel)
    node = panel.locator(".react-flow__node[data-id='n0']")
    box = node.bounding_box()
    lab.page.mouse.move(box["x"] + 10, box["y"] + 10)
    lab.page.mouse.down()
    lab.page.mouse.move(box["x"] + 10, box["y"] + 200, steps=8)
    lab.page.mouse.up()
    lab.command("docmanager:save")
    layout = json.loads((lab.server.root / name).read_text()).get("layout", {})
    assert sorted(layout) == sorted(f"n{i}" for i in range(n))
    lab.wait_canvas_still(panel)
    after = drawn_boxes(panel)
    # Nothing but the dragged node moved on the screen.
    for i in range(1, n):
        assert abs(after[f"n{i}"]["x"] - before[f"n{i}"]["x"]) < 1 and abs(after[f"n{i}"]["y"] - before[f"n{i}"]["y"]) < 1
