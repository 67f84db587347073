"""The component palette in a real JupyterLab, in Debian's Chromium (fixtures in tests/browser.py).

The "Workflow components" sidebar lists the components endpoint's notebooks, searches them as
the user types, loads further pages as its list scrolls, is restored on reload, and drags an entry
with the file browser's mime types. Each test saves a screenshot under test-screenshots/ and fails
on any console error.
"""

import json
import re
import shutil

import pytest
from playwright.sync_api import expect

from browser import wait_until
from workflow_page import open_sidebar

pytestmark = pytest.mark.kernels

PALETTE_ID = "jp-workflow-components"  # labextension/src/palette/panel.tsx
PAGE_SIZE = 50  # labextension/src/palette/api.ts
EXAMPLE_COMPONENTS = {
    "components/fuzzy_match.ipynb": "Fuzzy match",
    "components/notify_email.ipynb": "Send by email",
    "components/read_table.ipynb": "Read a table",
    "components/write_report.ipynb": "Write the report",
}


@pytest.fixture
def scratch(lab_server):
    """A folder under the server root for a test's extra notebooks, removed afterwards (the server is shared)."""
    folder = lab_server.root / "palette-scratch"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder)


def notebook(source: str) -> str:
    """A minimal nbformat 4 notebook whose only cell is a parameters cell holding ``source``."""
    return json.dumps({
        "cells": [{"cell_type": "code", "execution_count": None, "id": "p", "metadata": {"tags": ["parameters"]},
                   "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                     "language_info": {"name": "python"}},
        "nbformat": 4, "nbformat_minor": 5,
    })


def open_palette(lab):
    return open_sidebar(lab, PALETTE_ID, "Workflow components")


def shown_entries(palette) -> list[dict]:
    """The entries the palette shows, in order, as plain data."""
    return palette.locator(".jp-WorkflowPalette-item").evaluate_all(
        """els => els.map(e => ({
            path: e.dataset.path,
            title: e.querySelector('.jp-WorkflowPalette-itemTitle').textContent,
            summary: (e.querySelector('.jp-WorkflowPalette-itemParameters')
                      ?? e.querySelector('.jp-WorkflowPalette-itemError')).textContent,
            unreadable: e.classList.contains('jp-mod-unreadable'),
        }))"""
    )


def test_the_palette_lists_the_example_components_and_filters_them_as_the_user_types(lab, scratch):
    (scratch / "broken.ipynb").write_text("{ this is not a notebook")
    listed = lab.server.api("workflow/api/components")
    assert listed["next_cursor"] is None
    by_path = {entry["path"]: entry for entry in listed["components"]}
    assert {path: by_path[path]["title"] for path in EXAMPLE_COMPONENTS} == EXAMPLE_COMPONENTS
    assert "error" in by_path["palette-scratch/broken.ipynb"]

    palette = open_palette(lab)
    items = palette.locator(".jp-WorkflowPalette-item")
    expect(items).to_have_count(len(listed["components"]))
    entries = shown_entries(palette)
    assert [entry["path"] for entry in entries] == [entry["path"] for entry in listed["components"]]
    shown = {entry["path"]: entry for entry in entries}
    for path, title in EXAMPLE_COMPONENTS.items():
        assert shown[path]["title"] == title
        assert not shown[path]["unreadable"]
    assert shown["components/read_table.ipynb"]["summary"] == (
        'path: string = "../data/bank.csv", name_column: string = "counterparty", amount_column: string = "amount"'
    )
    assert shown["components/fuzzy_match.ipynb"]["summary"].startswith('left: string = "../data/bank.csv", ')
    assert shown["components/write_report.ipynb"]["summary"].startswith("matched: any = None, ")
    broken = shown["palette-scratch/broken.ipynb"]
    assert broken == {
        "path": "palette-scratch/broken.ipynb", "title": "broken.ipynb",
        "summary": by_path["palette-scratch/broken.ipynb"]["error"], "unreadable": True,
    }
    expect(palette.locator(".jp-WorkflowPalette-status")).to_have_text(f"{len(entries)} notebooks")
    lab.screenshot("all")

    search = palette.get_by_role("searchbox", name="Search components")
    # A parameter name: only the component that has it.
    search.fill("threshold")
    expect(items).to_have_count(1)
    expect(items.first).to_have_attribute("data-path", "components/fuzzy_match.ipynb")
    # A word of the title and a part of a path, in either case: every word must match.
    search.fill("")
    search.press_sequentially("READ comp")
    expect(items).to_have_count(1)
    expect(items.first).to_have_attribute("data-path", "components/read_table.ipynb")
    # A folder: the four example components.
    search.fill("components/")
    expect(items).to_have_count(len(EXAMPLE_COMPONENTS))
    assert [entry["path"] for entry in shown_entries(palette)] == sorted(EXAMPLE_COMPONENTS)
    expect(palette.locator(".jp-WorkflowPalette-status")).to_have_text(
        f"{len(EXAMPLE_COMPONENTS)} of {len(entries)} match"
    )
    lab.screenshot()


def test_the_palette_loads_the_next_page_as_its_list_scrolls_and_refreshes(lab, scratch):
    palette = open_palette(lab)
    items = palette.locator(".jp-WorkflowPalette-item")
    expect(items).to_have_count(len(lab.server.api("workflow/api/components")["components"]))
    before = items.count()

    # More notebooks than a page: the refresh button shows the first page, scrolling the rest.
    for index in range(PAGE_SIZE + 10):
        (scratch / f"step_{index:03}.ipynb").write_text(notebook(f"rows = {index}  # rows to take\n"))
    total = before + PAGE_SIZE + 10
    palette.get_by_role("button", name="Refresh").click()
    status = palette.locator(".jp-WorkflowPalette-status")
    expect(status).to_have_text(f"{PAGE_SIZE}+ notebooks")
    expect(items).to_have_count(PAGE_SIZE)
    expect(palette.locator(".jp-WorkflowPalette-more")).to_be_visible()

    palette.locator(".jp-WorkflowPalette-list").evaluate("list => { list.scrollTop = list.scrollHeight; }")
    expect(items).to_have_count(total)
    expect(status).to_have_text(f"{total} notebooks")
    expect(palette.locator(".jp-WorkflowPalette-more")).to_have_count(0)
    expect(palette.locator(".jp-WorkflowPalette-item[data-path='palette-scratch/step_059.ipynb']")).to_contain_text(
        "rows: integer = 59"
    )
    lab.screenshot()


def test_the_palette_is_restored_open_after_a_reload(lab):
    palette = open_palette(lab)
    expect(palette.locator(".jp-WorkflowPalette-item[data-path='components/read_table.ipynb']")).to_be_visible()

    # The layout is saved to the workspace on a debounce: wait until the server has the palette open.
    wait_until(
        lambda: lab.server.api(f"lab/api/workspaces/{lab.workspace}")["data"]
        .get("layout-restorer:data", {}).get("left", {}).get("current") == PALETTE_ID,
        timeout=30,
        what=f"the workspace {lab.workspace} to record the palette open in the left sidebar",
    )

    # A reload of the page (lab.load() would wait for the file browser, which the palette now hides).
    lab.page.reload()
    lab.page.wait_for_function("window.jupyterapp !== undefined")
    lab.page.evaluate("window.jupyterapp.restored.then(() => true)")

    palette = lab.page.locator(f"#{PALETTE_ID}")
    expect(palette).to_be_visible()
    expect(lab.page.locator(f".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='{PALETTE_ID}']")).to_have_class(
        re.compile(r"\blm-mod-current\b")
    )
    expect(palette.locator(".jp-WorkflowPalette-item[data-path='components/read_table.ipynb']")).to_be_visible()
    lab.screenshot()


# A Lumino drop target over the main area that accepts a copy and records what the drop carried.
DROP_PROBE = """() => {
    const probe = document.createElement('div');
    probe.id = 'palette-drop-probe';
    Object.assign(probe.style, {position: 'fixed', left: '700px', top: '200px', width: '300px', height: '300px',
                                zIndex: 10000, background: 'rgba(0, 128, 0, 0.1)'});
    const accept = event => { event.preventDefault(); event.stopPropagation(); event.dropAction = event.proposedAction; };
    probe.addEventListener('lm-dragenter', accept);
    probe.addEventListener('lm-dragover', accept);
    probe.addEventListener('lm-drop', event => {
        accept(event);
        const rich = event.mimeData.getData('application/x-jupyter-icontentsrich');
        window.paletteDrop = {
            types: event.mimeData.types(),
            contents: event.mimeData.getData('application/x-jupyter-icontents'),
            model: rich.model,
            component: event.mimeData.getData('application/x-jupyter-workflow-component'),
            proposedAction: event.proposedAction,
        };
    });
    document.body.appendChild(probe);
}"""


def test_dragging_an_entry_carries_the_file_browsers_mime_types_and_the_component(lab):
    palette = open_palette(lab)
    entry = palette.locator(".jp-WorkflowPalette-item[data-path='components/read_table.ipynb']")
    expect(entry).to_be_visible()
    lab.page.evaluate(DROP_PROBE)

    box = entry.bounding_box()
    lab.page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    lab.page.mouse.down()
    # Past the drag threshold within the entry, then over the probe.
    lab.page.mouse.move(box["x"] + 40, box["y"] + box["height"] / 2 + 10, steps=2)
    lab.page.mouse.move(850, 350, steps=8)
    expect(lab.page.locator(".jp-WorkflowPalette-dragImage")).to_have_text("Read a table")
    lab.screenshot("dragging")
    lab.page.mouse.up()

    dropped = lab.page.wait_for_function("window.paletteDrop").json_value()
    component = lab.server.api("workflow/api/components/components/read_table.ipynb")
    assert dropped == {
        "types": [
            "application/x-jupyter-icontents",
            "application/x-jupyter-icontentsrich",
            "application/x-jupyter-workflow-component",
        ],
        "contents": ["components/read_table.ipynb"],
        "model": {"path": "components/read_table.ipynb", "name": "read_table.ipynb", "type": "notebook"},
        "component": component,
        "proposedAction": "copy",
    }
    expect(lab.page.locator(".jp-WorkflowPalette-dragImage")).to_have_count(0)
    lab.screenshot()
