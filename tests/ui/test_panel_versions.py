"""A run made from an older version of its workflow file, as a user sees it: in a real JupyterLab, in Debian's Chromium.

A run of the file is made from the file as saved (the run's ``content_hash`` is the file's
version); once the file is edited the canvas says the run shown has changes it did not have,
and once saved, that the run was made from an older version, marking the nodes it did not
have. The Workflow runs sidebar tags the run, and "Show that version" opens the run's own
graph read-only with its node states, the nodes the file has dropped or changed since marked.
Screenshots go to test-screenshots/; any console error fails the test.
"""

import re

import pytest
from playwright.sync_api import expect

from browser import wait_until
from notebook_factory import make_notebook, write_workflow
from workflow_page import RUN_TIMEOUT_MS, node, states, on_disk, open_history

pytestmark = pytest.mark.kernels

NAME = "versions.workflow.json"


@pytest.fixture
def workflow(lab):
    """Three steps in a row, each a small notebook; the files are removed afterwards (the server is shared)."""
    root = lab.server.root
    make_notebook(root / "version_step.ipynb", "label = 'step'", "print('done:', label)")
    write_workflow(
        root / NAME,
        {
            "format": "jupyter-workflow/1",
            "nodes": {
                "load": {"notebook": "version_step.ipynb", "parameters": {"label": "load"}},
                "clean": {"notebook": "version_step.ipynb", "parameters": {"label": "clean"}, "after": ["load"]},
                "report": {"notebook": "version_step.ipynb", "parameters": {"label": "report"}, "after": ["clean"]},
            },
            "layout": {"load": {"x": 0, "y": 0}, "clean": {"x": 260, "y": 0}, "report": {"x": 520, "y": 0}},
        },
    )
    yield NAME
    for name in (NAME, "version_step.ipynb"):
        (root / name).unlink(missing_ok=True)


def drag_by(page, locator, dx: float, dy: float, steps: int = 15) -> None:
    """Press on ``locator``, move by (dx, dy) in steps as a hand does, and let go."""
    box = locator.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, steps + 1):
        page.mouse.move(x + dx * step / steps, y + dy * step / steps)
    page.mouse.up()


def deselect(panel) -> None:
    """Click an empty spot of the canvas: nothing selected, no properties beside it."""
    panel.locator(".react-flow__pane").click(position={"x": 12, "y": 12})
    expect(panel.locator(".jp-WorkflowProperties")).to_have_count(0)


def marks(scope) -> dict[str, str]:
    return dict(
        scope.locator(".jp-WorkflowNode[data-mark]").evaluate_all("els => els.map(e => [e.dataset.id, e.dataset.mark])")
    )


def run_from_toolbar(lab, panel, after: str | None = None) -> str:
    """Press Run (the workflow declares no inputs), wait until the new run (not ``after``) succeeded; its id."""
    panel.locator(".jp-Toolbar [data-command='jupyter-workflow:run']").click()
    dialog = lab.page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("This workflow declares no inputs")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    shown = panel.locator(".jp-WorkflowRunStatus span[title^='run ']")
    if after is not None:
        expect(shown).not_to_have_attribute("title", f"run {after}")
    expect(panel.locator(".jp-WorkflowRunStatus-status")).to_have_text("succeeded", timeout=RUN_TIMEOUT_MS)
    return shown.get_attribute("title").split()[1]


def test_a_run_of_an_older_version_says_so_and_shows_that_version(lab, workflow):
    page = lab.page
    lab.file_item(workflow).dblclick()
    expect(lab.tab(workflow)).to_have_class(re.compile(r"\blm-mod-current\b"))
    # The file's only editor (the version view opens beside it later).
    panel = page.locator(".jp-WorkflowEditorWidget")
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(3)

    # A run of the file as saved: made from the file's version, nothing to say about it.
    run_id = run_from_toolbar(lab, panel)
    assert states(panel) == {"load": "succeeded", "clean": "succeeded", "report": "succeeded"}
    run = lab.server.api(f"workflow/api/runs/{run_id}")
    assert run["content_hash"] == lab.server.api(f"workflow/api/workflows?path={NAME}")["version"]
    expect(panel.locator(".jp-WorkflowEditor-runVersion")).to_have_count(0)

    # Edits not saved yet: clean deleted, load copied, report retitled.
    panel.locator(f"{node('clean')} .jp-WorkflowNode-notebook").click()
    page.keyboard.press("Delete")
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(2)
    panel.locator(f"{node('load')} .jp-WorkflowNode-notebook").click()
    page.keyboard.press("Control+c")
    page.keyboard.press("Control+v")
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(3)
    pasted = (set(states(panel)) - {"load", "report"}).pop()
    # Pasted over its original: moved below it, as a user would.
    drag_by(page, panel.locator(f"{node(pasted)} .jp-WorkflowNode-notebook"), 0, 170)
    panel.locator(f"{node('report')} .jp-WorkflowNode-notebook").click()
    title = panel.locator(".jp-WorkflowProperties[data-node='report']").get_by_label("Title", exact=True)
    title.fill("Monthly report")
    title.press("Enter")
    expect(panel.locator(f"{node('report')} .jp-WorkflowNode-label")).to_have_text("Monthly report")
    expect(lab.tab(workflow)).to_have_class(re.compile(r"\bjp-mod-dirty\b"))

    # The run is still the saved file's, and the canvas says the editor has changes it did not have.
    note = panel.locator(".jp-WorkflowEditor-runVersion")
    expect(note).to_have_attribute("data-relation", "current")
    expect(note).to_have_attribute("data-dirty", "true")
    expect(note).to_contain_text("unsaved changes")
    expect(note.locator(".jp-WorkflowEditor-showVersion")).to_have_count(0)
    expect(panel.locator(node(pasted))).to_have_attribute("data-mark", "added")
    assert states(panel) == {"load": "succeeded", pasted: "idle", "report": "succeeded"}
    assert marks(panel) == {pasted: "added", "report": "changed"}
    expect(panel.locator(f"{node(pasted)} .jp-WorkflowNode-mark")).to_have_text("not in this run")
    deselect(panel)
    lab.wait_canvas_still(panel)
    lab.screenshot("unsaved")

    # Saved: the run was made from an older version of the file, and the note says what changed since.
    lab.command("docmanager:save")
    wait_until(lambda: pasted in on_disk(lab, NAME)["nodes"], 20, "the save")
    saved_version = lab.server.api(f"workflow/api/workflows?path={NAME}")["version"]
    assert saved_version != run["content_hash"]
    expect(note).to_have_attribute("data-relation", "older")
    expect(note).not_to_have_attribute("data-dirty", "true")
    expect(note).to_contain_text(f"Made from an older version of this file (version {run['content_hash'][:8]}, stored")
    expect(note).to_contain_text(f"node {pasted} added; node clean removed; node report changed")
    expect(note.locator(".jp-WorkflowEditor-showVersion")).to_be_visible()
    assert marks(panel) == {pasted: "added", "report": "changed"}
    lab.wait_canvas_still(panel)
    lab.screenshot("older-on-canvas")

    # The sidebar tags the run and, selected, says the same and offers its version.
    history = open_history(lab)
    item = history.locator(f".jp-WorkflowHistory-item[data-run-id='{run_id}']")
    expect(item).to_have_attribute("data-version", "older")
    expect(item.locator(".jp-WorkflowHistory-versionTag")).to_have_text("older version")
    item.click()
    details = history.locator(f".jp-WorkflowHistory-details[data-run-id='{run_id}']")
    expect(details).to_contain_text("is on the canvas")
    expect(details.locator(".jp-WorkflowHistory-versionNote")).to_contain_text("Made from an older version of this file")
    expect(details.locator(".jp-WorkflowHistory-showVersion")).to_be_visible()
    lab.screenshot("sidebar")

    # "Show that version": the run's own graph, read-only, with its states; what the file dropped or changed marked.
    note.locator(".jp-WorkflowEditor-showVersion").click()
    label = f"{workflow} @ {run['content_hash'][:8]}"
    expect(lab.tab(label)).to_have_count(1)
    view = page.locator(f".jp-WorkflowVersionView-body[data-run-id='{run_id}']")
    expect(view).to_be_visible()
    expect(view).to_have_attribute("data-version", run["content_hash"])
    expect(view.locator(".jp-WorkflowNode")).to_have_count(3)
    assert states(view) == {"load": "succeeded", "clean": "succeeded", "report": "succeeded"}
    assert marks(view) == {"clean": "removed", "report": "changed"}
    expect(view.locator(f"{node('clean')} .jp-WorkflowNode-mark")).to_have_text("not in the file now")
    header = view.locator(".jp-WorkflowVersionView-header")
    expect(header).to_contain_text("Read-only")
    expect(header).to_contain_text(f"as run {run_id[:12]} ran it")
    expect(header).to_contain_text(f"Since this run: node {pasted} added; node clean removed; node report changed.")
    lab.wait_canvas_still(view)
    lab.screenshot("version")
    # Nothing there moves, wires or renames.
    expect(view.locator(".react-flow__node.draggable")).to_have_count(0)
    expect(view.locator(".react-flow__handle.connectable")).to_have_count(0)
    view.locator(f"{node('clean')} .jp-WorkflowNode-title").dblclick()
    expect(view.locator(".jp-WorkflowNode-rename")).to_have_count(0)

    # The sidebar's button opens the same tab again once it is closed; the file was not touched.
    lab.tab(label).locator(".lm-TabBar-tabCloseIcon").click()
    expect(lab.tab(label)).to_have_count(0)
    details.locator(".jp-WorkflowHistory-showVersion").click()
    expect(lab.tab(label)).to_have_count(1)
    expect(page.locator(f".jp-WorkflowVersionView-body[data-run-id='{run_id}'] .jp-WorkflowNode")).to_have_count(3)
    assert lab.server.api(f"workflow/api/workflows?path={NAME}")["version"] == saved_version

    # A run of the saved file is made from its version: no tag, no note; the older run keeps its tag.
    lab.tab(workflow).click()
    second = run_from_toolbar(lab, panel, after=run_id)
    assert lab.server.api(f"workflow/api/runs/{second}")["content_hash"] == saved_version
    assert states(panel) == {"load": "succeeded", pasted: "succeeded", "report": "succeeded"}
    new_item = history.locator(f".jp-WorkflowHistory-item[data-run-id='{second}']")
    expect(new_item).to_have_attribute("data-version", "current", timeout=RUN_TIMEOUT_MS)
    expect(new_item.locator(".jp-WorkflowHistory-versionTag")).to_have_count(0)
    expect(item).to_have_attribute("data-version", "older")
    expect(panel.locator(".jp-WorkflowEditor-runVersion")).to_have_count(0)
    expect(panel.locator(".jp-WorkflowNode[data-mark]")).to_have_count(0)
    lab.wait_canvas_still(panel)
    lab.screenshot("new-run")

    # A node moved and saved: the same workflow at other positions, said as such and not tagged.
    drag_by(page, panel.locator(f"{node('load')} .jp-WorkflowNode-notebook"), 0, -60)
    lab.command("docmanager:save")
    wait_until(lambda: lab.server.api(f"workflow/api/workflows?path={NAME}")["version"] != saved_version, 20, "the save")
    expect(note).to_have_attribute("data-relation", "layout")
    expect(note).to_contain_text("Made from this workflow as saved, with the nodes at other positions")
    expect(note.locator(".jp-WorkflowEditor-showVersion")).to_have_count(0)
    expect(new_item).to_have_attribute("data-version", "layout")
    expect(new_item.locator(".jp-WorkflowHistory-versionTag")).to_have_count(0)
    expect(panel.locator(".jp-WorkflowNode[data-mark]")).to_have_count(0)
    assert set(states(panel).values()) == {"succeeded"}
