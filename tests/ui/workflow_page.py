"""What the browser tests read and do on JupyterLab's page: the Workflow Editor's selectors and steps."""

import json
import re

from playwright.sync_api import expect

# A real run of the example takes 5–10 s on a warm machine; the machine is shared.
RUN_TIMEOUT_MS = 180_000
HISTORY_ID = "jp-workflow-runs"  # labextension/src/history/panel.tsx
SCHEDULES_ID = "jp-workflow-schedules"  # labextension/src/schedules/panel.tsx
DISABLED = re.compile(r"\bdisabled\b")


def node(node_id: str) -> str:
    """The selector of a node's element on a canvas."""
    return f".jp-WorkflowNode[data-id='{node_id}']"


def states(scope) -> dict[str, str]:
    """Each node's `data-state` in a panel (or any part of the page), by node id."""
    return dict(scope.locator(".jp-WorkflowNode").evaluate_all("els => els.map(e => [e.dataset.id, e.dataset.state])"))


def on_disk(lab, name: str) -> dict:
    """A workflow file of the server's folder, as saved."""
    return json.loads((lab.server.root / name).read_text())


def open_workflow(lab, name: str, count: int):
    """Open a file of the file browser in the Workflow Editor; the panel, once its `count` nodes are drawn."""
    lab.file_item(name).dblclick()
    expect(lab.tab(name)).to_have_class(re.compile(r"\blm-mod-current\b"))
    panel = lab.current_panel()
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(count)
    return panel


def toolbar_button(panel, command: str):
    """A panel's toolbar button of `jupyter-workflow:<command>`."""
    return panel.locator(f".jp-Toolbar [data-command='jupyter-workflow:{command}']")


def expect_enabled(button, enabled: bool = True) -> None:
    """JupyterLab's toolbar buttons are custom elements: their state is a class and aria-disabled."""
    if enabled:
        expect(button).not_to_have_class(DISABLED)
    else:
        expect(button).to_have_class(DISABLED)


def open_sidebar(lab, panel_id: str, title: str):
    """A left sidebar panel of the extension, opened from its tab (whose tooltip is ``title``)."""
    tab = lab.page.locator(f".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='{panel_id}']")
    expect(tab).to_have_attribute("title", title)
    tab.click()
    panel = lab.page.locator(f"#{panel_id}")
    expect(panel).to_be_visible()
    return panel


def open_history(lab):
    """The Workflow runs sidebar, opened from its tab."""
    return open_sidebar(lab, HISTORY_ID, "Workflow runs")


def open_schedules(lab):
    """The Workflow schedules sidebar, opened from its tab."""
    return open_sidebar(lab, SCHEDULES_ID, "Workflow schedules")
