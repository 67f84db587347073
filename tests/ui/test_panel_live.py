"""A run the Workflow Editor follows live, stopped or cut off: in a real JupyterLab, in Debian's Chromium.

While the panel follows a run, its events WebSocket is dropped (Playwright routes the run's
events socket and closes it); the run goes on while every reconnection is refused, then the
panel connects again with ``?after=<the last event it applied>``, ends with every node
``succeeded``, and has applied exactly the server's events for the run, each once, in order.
Cancel stops a run at its running node, and the canvas ends as the server's record says.
The tests decide when a run moves on: a node waits for a file the test creates.
"""

import asyncio
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect
from tornado.websocket import websocket_connect

from browser import wait_until
from notebook_factory import make_notebook, write_workflow
from workflow_page import RUN_TIMEOUT_MS, expect_enabled, node, open_workflow, states, toolbar_button

pytestmark = pytest.mark.kernels

NAME = "resume.workflow.json"
# The run's events socket (labextension/src/run/events.ts), not the all-runs one nor the kernels'.
RUN_EVENTS = re.compile(r"/workflow/api/runs/[0-9a-f]+/events(\?|$)")


@pytest.fixture
def gated(lab):
    """``first`` → ``wait`` (until the gate file exists) → ``second`` and ``third``; files removed afterwards."""
    root = lab.server.root
    gate = lab.server.home / "resume-gate"
    gate.unlink(missing_ok=True)
    make_notebook(root / "resume_step.ipynb", "label = 'step'", "print('done:', label)")
    make_notebook(
        root / "resume_gate.ipynb",
        "gate = ''",
        "import pathlib, time\nwhile not pathlib.Path(gate).exists():\n    time.sleep(0.05)\nprint('the gate is open')",
    )
    write_workflow(
        root / NAME,
        {
            "format": "jupyter-workflow/1",
            "nodes": {
                "first": {"notebook": "resume_step.ipynb", "parameters": {"label": "first"}},
                "wait": {"notebook": "resume_gate.ipynb", "parameters": {"gate": str(gate)}, "after": ["first"],
                         "timeout": 300},
                "second": {"notebook": "resume_step.ipynb", "parameters": {"label": "second"}, "after": ["wait"]},
                "third": {"notebook": "resume_step.ipynb", "parameters": {"label": "third"}, "after": ["wait"]},
            },
            "layout": {"first": {"x": 0, "y": 80}, "wait": {"x": 260, "y": 80},
                       "second": {"x": 520, "y": 0}, "third": {"x": 520, "y": 200}},
        },
    )
    yield gate
    gate.touch()  # a run left waiting by a failure ends (the file goes with the server's folder)
    for name in (NAME, "resume_step.ipynb", "resume_gate.ipynb"):
        (root / name).unlink(missing_ok=True)


class EventsRoute:
    """Every connection of the page's run events socket, passed to the server unless refusing."""

    def __init__(self):
        self.urls: list[str] = []
        self.connected: list = []
        self.refusing = False
        self.lock = threading.Lock()

    def __call__(self, ws) -> None:
        with self.lock:
            self.urls.append(ws.url)
        if self.refusing:
            ws.close(code=1011, reason="refused by the test")
            return
        ws.connect_to_server()
        with self.lock:
            self.connected.append(ws)


def pump_until(page, condition, timeout: float, what: str):
    """``wait_until``, polling through Playwright: its sync API calls the route's handler only inside its own calls."""
    return wait_until(lambda: page.wait_for_timeout(50) or condition(), timeout, what, interval=0)


def after_of(url: str) -> int:
    return int(parse_qs(urlparse(url).query)["after"][0])


def server_events(lab, run_id: str) -> list[dict]:
    """The run's whole event log, read from the server's socket (replayed from the start) until run.finished."""
    url = lab.server.url.replace("http://", "ws://") + f"/workflow/api/runs/{run_id}/events?after=0&token={lab.server.token}"

    async def read() -> list[dict]:
        socket = await websocket_connect(url)
        events = []
        while not events or events[-1]["type"] != "run.finished":
            message = await asyncio.wait_for(socket.read_message(), 60)
            assert message is not None, "the server closed the events socket before run.finished"
            events.append(json.loads(message))
        socket.close()
        return events

    # Playwright's loop runs in this thread: the socket is read in a loop of its own.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result(timeout=90)


def test_a_dropped_events_connection_resumes_after_the_last_event_applied(lab, gated):
    page = lab.page
    route = EventsRoute()
    page.route_web_socket(RUN_EVENTS, route)
    # JupyterLab keeps the WebSocket constructor it found at load: load it again, routed.
    lab.load()
    lab.file_item(NAME).dblclick()
    expect(lab.tab(NAME)).to_have_class(re.compile(r"\blm-mod-current\b"))
    panel = page.locator(".jp-WorkflowEditorWidget")
    expect(panel.locator(".jp-WorkflowNode")).to_have_count(4)
    # Every event the panel applies to its canvas, in order (WorkflowPanel.runEvent).
    page.evaluate(
        """() => {
            const panel = window.jupyterapp.shell.currentWidget.content;
            window.appliedEvents = [];
            panel.runEvent.connect((_, event) => window.appliedEvents.push({ id: event.id, type: event.type, node: event.node_id }));
            return null;
        }"""
    )

    panel.locator(".jp-Toolbar [data-command='jupyter-workflow:run']").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("This workflow declares no inputs")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    connection = panel.locator(".jp-WorkflowRunStatus-connection")

    # The run stops at `wait`: nothing more happens until the gate opens.
    expect(panel.locator(node("first"))).to_have_attribute("data-state", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(panel.locator(node("wait"))).to_have_attribute("data-state", "running", timeout=RUN_TIMEOUT_MS)
    expect(connection).to_have_attribute("data-connection", "open")
    run_id = panel.locator(".jp-WorkflowRunStatus span[title^='run ']").get_attribute("title").split()[1]
    assert len(route.urls) == 1 and after_of(route.urls[0]) == 0 and run_id in route.urls[0]

    # Drop the connection and refuse every new one: the panel says it is reconnecting.
    route.refusing = True
    route.connected[0].close(code=1006, reason="dropped by the test")
    expect(connection).to_have_attribute("data-connection", "reconnecting")
    applied_before = page.evaluate("window.appliedEvents.map(e => e.id)")
    last_applied = applied_before[-1]
    lab.screenshot("reconnecting")

    # The run goes on while the panel is cut off, to its end.
    gated.touch()
    wait_until(lambda: lab.server.api(f"workflow/api/runs/{run_id}")["status"] == "succeeded", 120, "the run to end")
    pump_until(page, lambda: len(route.urls) >= 2, 30, "the panel to try to reconnect")
    # The panel saw none of it.
    assert page.evaluate("window.appliedEvents.map(e => e.id)") == applied_before
    assert page.locator(node("second")).get_attribute("data-state") not in ("running", "succeeded")

    # Let it reconnect: it resumes after the last event it applied, and catches up.
    route.refusing = False
    expect(panel.locator(".jp-WorkflowNode[data-state='succeeded']")).to_have_count(4, timeout=RUN_TIMEOUT_MS)
    expect(panel.locator(".jp-WorkflowRunStatus-status")).to_have_text("succeeded")
    assert len(route.connected) == 2, route.urls
    assert all(after_of(url) == last_applied for url in route.urls[1:]), (last_applied, route.urls)
    assert route.connected[1].url == route.urls[-1]

    # Exactly the server's events, each once, in order.
    applied = page.evaluate("window.appliedEvents")
    ids = [event["id"] for event in applied]
    expected = server_events(lab, run_id)
    assert ids == [event["id"] for event in expected]
    assert [(e["type"], e["node"]) for e in applied] == [(e["type"], e["node_id"]) for e in expected]
    assert all(a < b for a, b in zip(ids, ids[1:]))
    assert any(event["id"] > last_applied for event in applied)
    assert applied[-1]["type"] == "run.finished"
    expect(connection).to_have_count(0)  # closed for good once the run finished
    lab.wait_canvas_still(panel)
    lab.screenshot()


def test_cancel_stops_the_run_at_its_running_node_and_retry_is_offered(lab, gated):
    panel = open_workflow(lab, NAME, 4)
    toolbar_button(panel, "run").click()
    dialog = lab.page.locator(".jp-Dialog")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    expect(panel.locator(node("wait"))).to_have_attribute("data-state", "running", timeout=RUN_TIMEOUT_MS)
    expect_enabled(toolbar_button(panel, "retry"), False)

    toolbar_button(panel, "cancel").click()
    expect(panel.locator(".jp-WorkflowRunStatus-status")).to_have_text("cancelled", timeout=RUN_TIMEOUT_MS)
    expect(panel.locator(node("wait"))).to_have_attribute("data-state", "cancelled")
    expect_enabled(toolbar_button(panel, "cancel"), False)
    expect_enabled(toolbar_button(panel, "retry"))
    # The canvas ends as the server recorded the run: nothing after `wait` ran.
    run_id = panel.locator(".jp-WorkflowRunStatus span[title^='run ']").get_attribute("title").split()[1]
    run = lab.server.api(f"workflow/api/runs/{run_id}")
    assert run["status"] == "cancelled"
    recorded = {item["node_id"]: item["status"] for item in run["nodes"]}
    wait_until(lambda: states(panel) == {**{n: "pending" for n in ("second", "third")}, **recorded},
               RUN_TIMEOUT_MS / 1000, "the canvas to show the run as recorded")
    assert recorded["first"] == "succeeded" and recorded["wait"] == "cancelled"
    assert recorded.get("second") in (None, "cancelled", "skipped")
    lab.screenshot()
