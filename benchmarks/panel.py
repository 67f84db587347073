"""The JupyterLab panel's speed: a real ``jupyter lab`` driven in Debian's Chromium, headless.

The server, the browser and the page helpers are the browser tests' (``tests/labsession.py``):
``jupyter lab`` from this environment with ``port_retries=0`` on a free port, its own
workspaces, settings (news off), run store and runs folder, everything in a temporary folder
holding the workflows below; Chromium is ``/usr/bin/chromium`` through Playwright.

Workflows are generated (:func:`write_workflow`) with no saved positions, so that the panel
lays every node out (ELK in its worker): groups of three-node chains (``load → clean →
clean``) over four component notebooks, four chains fanned into a ``merge`` (a fan-in
binding) followed by a ``report``, and the merges fanned in again by eights.

Rows:

* open: from ``docmanager:open`` (run in the page, after JupyterLab has loaded and restored,
  so the extension's main code is loaded) until every node is drawn where the layout put it:
  all ``.react-flow__node`` present, none hidden (React Flow hides a node until measured, the
  panel until laid out), and the view's transform at its final value (the fit that follows
  the layout). First open: in a freshly loaded page, so it includes the lazily loaded chunks
  (ELK and its worker); later open: the same file again in a new tab after closing the first.
  Baseline: the same file in JupyterLab's JSON editor (``Open With → Editor``), until its
  text is drawn, first and later open likewise, in a page of its own.
* frames: rAF frame intervals at 1,000 nodes while the mouse pans the view and while it drags
  a node (mouse moves paced at 60 per second for ``DRAG_S``); baseline the same page idle.
* live state: a run of a workflow of quick nodes started from the panel's Run button, the
  panel following it. In the page, every message of the run's events WebSocket is stamped on
  arrival (``Date.now()``, before the panel's handler) and a MutationObserver stamps each
  node's ``data-state`` change at the next animation frame (the frame that paints it). Each
  state change of a node on the server (the ``time`` its event carries, stamped by the
  engine; same machine clock) is matched with the first frame showing that state or a later
  one. Baseline: the same events' arrival on the WebSocket (the transport alone).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from stats import p95, print_table
from workloads import make_notebook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from labsession import Lab, lab_server, launch_chromium  # noqa: E402

SIZES = (100, 300, 1000)
FRAMES_SIZE = 1000
OPEN_TARGET_S = 1.0  # 300 nodes, every node drawn
OPEN_TARGET_SIZE = 300
FPS_TARGET = 30.0
LATENCY_TARGET_S = 0.150  # p95, state change on the server → colour on the canvas
DRAG_S = 2.0
MOVE_HZ = 60
EDITOR = "Workflow Editor"  # labextension/src/widget.tsx FACTORY
JSON_EDITOR = "Editor"
VIEWPORT = {"width": 1400, "height": 800}
TIMEOUT_MS = 120_000

# Component notebooks: quick, so that the live-state run is many quick nodes.
COMPONENTS = {
    "load.ipynb": ('source = "a"\nrows = 3', ['from jupyter_workflow import record\n\nrecord("table", [source] * rows)'],
                   {"table": {"type": "list"}}),
    "clean.ipynb": ("table = []\nkeep = 2", ['from jupyter_workflow import record\n\nrecord("table", table[:keep])'],
                    {"table": {"type": "list"}}),
    "merge.ipynb": ("tables = []", ['from jupyter_workflow import record\n\nrecord("table", [r for t in tables for r in t])'],
                    {"table": {"type": "list"}}),
    "report.ipynb": ('table = []\ntitle = "report"',
                     ['from jupyter_workflow import record\n\nrecord("summary", f"{title}: {len(table)} rows")'],
                     {"summary": {"type": "string"}}),
}


def generate_nodes(count: int) -> dict:
    """``count`` nodes: chains of three, fanned into merges by fours (each with a report), merges by eights."""
    nodes: dict = {}

    def add(node_id: str, node: dict) -> bool:
        if len(nodes) >= count:
            return False
        nodes[node_id] = node
        return True

    group = 0
    merges: list[str] = []
    while len(nodes) < count:
        group += 1
        ends = []
        for chain in range(1, 5):
            prefix = f"g{group}c{chain}"
            if not add(f"{prefix}_load", {"notebook": "load.ipynb", "parameters": {"source": prefix, "rows": 3}}):
                break
            previous = f"{prefix}_load"
            for step in (1, 2):
                if not add(f"{prefix}_clean{step}", {"notebook": "clean.ipynb",
                                                     "parameters": {"table": {"output": f"{previous}.table"}, "keep": 2}}):
                    break
                previous = f"{prefix}_clean{step}"
            ends.append(previous)
        if ends and add(f"g{group}_merge", {"notebook": "merge.ipynb", "parameters": {
                "tables": {"outputs": [f"{end}.table" for end in ends], "reduce": "list"}}}):
            merges.append(f"g{group}_merge")
            add(f"g{group}_report", {"notebook": "report.ipynb", "parameters": {
                "table": {"output": f"g{group}_merge.table"}, "title": f"group {group}"}})
        if len(merges) == 8:
            add(f"g{group}_all", {"notebook": "merge.ipynb", "parameters": {
                "tables": {"outputs": [f"{m}.table" for m in merges], "reduce": "list"}}})
            merges = []
    return nodes


def write_workflow(root: Path, count: int) -> str:
    """``panel{count}.workflow.json`` in ``root`` (no ``layout``: every node is laid out); returns its name."""
    document = {"format": "jupyter-workflow/1", "name": f"panel{count}", "nodes": generate_nodes(count)}
    name = f"panel{count}.workflow.json"
    (root / name).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return name


# --- in the page ---------------------------------------------------------------------------------

# Opens `path` with `factory` and resolves to the milliseconds until it is drawn (see the module's doc).
OPEN_JS = """
async ([path, factory, count]) => {
  const app = window.jupyterapp;
  const began = performance.now();
  const widget = await app.commands.execute('docmanager:open', { path, factory });
  const isPanel = factory !== 'Editor';
  return await new Promise((resolve, reject) => {
    let readyAt = null, transform = null, changedAt = null, still = 0;
    const timeout = setTimeout(() => reject(new Error(`not drawn after 120 s: ${path} (${factory})`)), 120000);
    const tick = now => {
      const node = widget.node;
      let ready = false;
      if (isPanel) {
        const nodes = node.querySelectorAll('.react-flow__node');
        ready = nodes.length === count;
        for (let i = 0; ready && i < nodes.length; i++) {
          if (nodes[i].style.visibility === 'hidden') ready = false;
        }
        const viewport = node.querySelector('.react-flow__viewport');
        const current = viewport ? viewport.style.transform : null;
        if (current !== transform) { transform = current; changedAt = now; still = 0; } else { still += 1; }
      } else {
        const content = node.querySelector('.cm-content');
        ready = !!content && content.querySelectorAll('.cm-line').length > 1 && content.textContent.includes('"nodes"');
        changedAt = now;
        still = 1000;
      }
      if (ready && readyAt === null) readyAt = now;
      if (!ready) readyAt = null;
      // Drawn: ready, and the view's transform unchanged for 10 frames since (dated back to its last change).
      if (readyAt !== null && still >= 10) {
        clearTimeout(timeout);
        resolve(Math.max(readyAt, changedAt) - began);
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
}
"""

CLOSE_JS = """
async () => {
  const app = window.jupyterapp;
  await app.commands.execute('application:close-all');
  return null;
}
"""

# Frame timestamps, from rAF, between start and stop.
FRAMES_START_JS = """
() => {
  const frames = [];
  window.__benchFrames = frames;  // a new array: an earlier loop, if its last frame is still due, stops
  const tick = t => { if (window.__benchFrames === frames && window.__benchFramesOn) { frames.push(t); requestAnimationFrame(tick); } };
  window.__benchFramesOn = true;
  requestAnimationFrame(tick);
  return null;
}
"""
FRAMES_STOP_JS = "() => { window.__benchFramesOn = false; return window.__benchFrames; }"

# Before JupyterLab loads: stamp every message of a run's events WebSocket on arrival (a
# listener added in the constructor runs before the `onmessage` the panel sets later).
RECORD_EVENTS_JS = """
(() => {
  const Native = window.WebSocket;
  window.__benchEvents = [];
  window.__benchSockets = [];
  class Recording extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      if (/\\/workflow\\/api\\/runs\\/[^/]+\\/events/.test(String(url))) {
        this.addEventListener('open', () => window.__benchSockets.push({ url: String(url), opened: Date.now() }));
        this.addEventListener('message', message => {
          const arrived = Date.now();
          try {
            const e = JSON.parse(message.data);
            window.__benchEvents.push({ arrived, id: e.id, type: e.type, node: e.node_id, time: e.time, data: e.data });
          } catch (error) { /* not an event */ }
        });
      }
    }
  }
  window.WebSocket = Recording;
})();
"""

# Every change of a workflow node's data-state in `root`, stamped at the next animation frame.
WATCH_STATES_JS = """
root => {
  const changes = [];
  window.__benchStates = changes;
  const observer = new MutationObserver(records => {
    const seen = Date.now();
    const batch = [];
    for (const r of records) {
      const el = r.target;
      if (!el.classList || !el.classList.contains('jp-WorkflowNode')) continue;
      batch.push({ node: el.dataset.id, state: el.dataset.state, seen });
    }
    if (batch.length) requestAnimationFrame(() => { const frame = Date.now(); for (const c of batch) { c.frame = frame; changes.push(c); } });
  });
  observer.observe(root, { subtree: true, attributes: true, attributeFilter: ['data-state'] });
  window.__benchObserver = observer;
  return null;
}
"""


# --- measurements ---------------------------------------------------------------------------------


class Session:
    """One browser context on a fresh workspace: JupyterLab loaded and restored."""

    count = 0

    def __init__(self, browser, server, init_script: str | None = None):
        Session.count += 1
        self.context = browser.new_context(viewport=VIEWPORT)
        self.context.set_default_timeout(TIMEOUT_MS)
        if init_script:
            self.context.add_init_script(init_script)
        page = self.context.new_page()
        self.lab = Lab(server, page, workspace=f"bench-{Session.count}", test_name=f"bench-{Session.count}")
        self.lab.load()
        self.page = page

    def open(self, path: str, factory: str, count: int) -> float:
        return self.page.evaluate(OPEN_JS, [path, factory, count]) / 1000

    def close_all(self) -> None:
        self.page.evaluate(CLOSE_JS)

    def close(self) -> list[str]:
        self.context.close()
        return self.lab.errors


def open_times(browser, server, files: dict[int, str], repeat: int) -> dict[tuple, list[float]]:
    """Seconds to draw each file: (size, factory, 'first'|'later') → samples."""
    samples: dict[tuple, list[float]] = {}
    errors: list[str] = []
    for _ in range(repeat):
        for size, path in files.items():
            for factory in (EDITOR, JSON_EDITOR):
                session = Session(browser, server)
                try:
                    samples.setdefault((size, factory, "first"), []).append(session.open(path, factory, size))
                    session.close_all()
                    samples.setdefault((size, factory, "later"), []).append(session.open(path, factory, size))
                finally:
                    errors += session.close()
    if errors:
        print("the page logged errors:\n  " + "\n  ".join(errors[:10]), file=sys.stderr)
    return samples


def empty_point(page) -> dict:
    """A point of the canvas's pane with no node or edge under it, near the middle of the view."""
    return page.evaluate("""
    () => {
      const pane = document.querySelector('.lm-DockPanel-widget:not(.lm-mod-hidden) .react-flow__pane');
      const box = pane.getBoundingClientRect();
      const cx = box.left + box.width / 2, cy = box.top + box.height / 2;
      let best = null, distance = Infinity;
      for (let x = box.left + 20; x < box.right - 20; x += 6) {
        for (let y = box.top + 20; y < box.bottom - 20; y += 6) {
          const d = Math.hypot(x - cx, y - cy);
          if (d < distance && document.elementFromPoint(x, y) === pane) { best = { x, y }; distance = d; }
        }
      }
      if (!best) throw new Error('no empty spot on the pane');
      return best;
    }""")


def a_node_in_view(page) -> dict:
    """The middle of a node drawn near a third of the view's width, halfway down.

    Left of the middle: pressing a node selects it and opens its properties on the right,
    which narrows the canvas; a drag then must not come near its edge, where React Flow
    pans the view by itself.
    """
    return page.evaluate("""
    () => {
      const panel = document.querySelector('.lm-DockPanel-widget:not(.lm-mod-hidden)');
      const box = panel.querySelector('.react-flow__pane').getBoundingClientRect();
      const cx = box.left + box.width * 0.3, cy = box.top + box.height / 2;
      let best = null, distance = Infinity;
      for (const el of panel.querySelectorAll('.react-flow__node')) {
        const r = el.getBoundingClientRect();
        const x = r.left + r.width / 2, y = r.top + r.height / 2;
        const d = Math.hypot(x - cx, y - cy);
        if (d < distance && document.elementFromPoint(x, y)?.closest('.react-flow__node') === el) {
          best = { x, y, id: el.dataset.id }; distance = d;
        }
      }
      if (!best) throw new Error('no node in view');
      return best;
    }""")


def gesture(page, start: dict, dx: float, dy: float) -> list[float]:
    """Press at ``start``, move by (dx, dy) and back over DRAG_S at MOVE_HZ, release; rAF frame intervals (s)."""
    page.mouse.move(start["x"], start["y"])
    page.mouse.down()
    page.evaluate(FRAMES_START_JS)
    moves = int(DRAG_S * MOVE_HZ)
    began = time.perf_counter()
    for i in range(1, moves + 1):
        # There and back: a triangle wave, so that the view ends where it started.
        phase = i / moves
        f = 2 * phase if phase <= 0.5 else 2 * (1 - phase)
        page.mouse.move(start["x"] + dx * f, start["y"] + dy * f)
        delay = began + i / MOVE_HZ - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    frames = page.evaluate(FRAMES_STOP_JS)
    page.mouse.up()
    return [(b - a) / 1000 for a, b in zip(frames, frames[1:])]


def idle_frames(page) -> list[float]:
    page.evaluate(FRAMES_START_JS)
    time.sleep(DRAG_S)
    frames = page.evaluate(FRAMES_STOP_JS)
    return [(b - a) / 1000 for a, b in zip(frames, frames[1:])]


def frame_intervals(browser, server, path: str, size: int, repeat: int) -> dict[str, list[list[float]]]:
    """Per gesture, one list of frame intervals per repetition."""
    result: dict[str, list[list[float]]] = {"idle": [], "pan": [], "drag": []}
    session = Session(browser, server)
    try:
        session.open(path, EDITOR, size)
        page = session.page
        for _ in range(repeat):
            result["idle"].append(idle_frames(page))
            result["pan"].append(gesture(page, empty_point(page), 300, 200))
            result["drag"].append(gesture(page, a_node_in_view(page), 150, 100))
    finally:
        errors = session.close()
    if errors:
        print("the page logged errors:\n  " + "\n  ".join(errors[:10]), file=sys.stderr)
    return result


def fps(intervals: list[float]) -> float:
    return len(intervals) / sum(intervals) if intervals else 0.0


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def server_transitions(events: list[dict]) -> list[dict]:
    """Each node's state changes as the panel derives them (run/state.ts), with the event that made each."""
    state: dict[str, str] = {}
    transitions = []
    for event in sorted(events, key=lambda e: e["id"]):
        node, kind, data = event["node"], event["type"], event.get("data") or {}
        if node is None:
            continue
        current = state.get(node, "pending")
        if kind == "node.triggered":
            new = "queued" if current == "pending" else current
        elif kind == "node.started":
            new = "running"
        elif kind == "node.status.changed":
            new = data.get("to", current)
        elif kind == "node.finished":
            new = data.get("status", current)
        else:
            continue
        if new != current:
            state[node] = new
            transitions.append({"node": node, "state": new, "time": epoch(event["time"]), "arrived": event["arrived"] / 1000})
    return transitions


def match_canvas(transitions: list[dict], changes: list[dict]) -> tuple[list[float], list[float], int]:
    """Per server state change: seconds to its arrival in the page and to the first frame showing it (or a later state).

    Returns (arrival delays, canvas delays, how many changes were drawn only as a later state).
    """
    by_node: dict[str, list[dict]] = {}
    for t in transitions:
        by_node.setdefault(t["node"], []).append(t)
    drawn: dict[str, list[dict]] = {}
    for c in sorted(changes, key=lambda c: c["seen"]):
        drawn.setdefault(c["node"], []).append(c)
    arrivals, delays, superseded = [], [], 0
    for node, steps in by_node.items():
        shown = drawn.get(node, [])
        cursor = 0
        for k, step in enumerate(steps):
            later_states = [s["state"] for s in steps[k:]]
            while cursor < len(shown) and shown[cursor]["state"] not in later_states:
                cursor += 1
            if cursor == len(shown):
                break  # never drawn (the run view was replaced): not counted
            if shown[cursor]["state"] != step["state"]:
                superseded += 1
            arrivals.append(step["arrived"] - step["time"])
            delays.append(shown[cursor]["frame"] / 1000 - step["time"])
            if shown[cursor]["state"] == step["state"]:
                cursor += 1
    return arrivals, delays, superseded


def start_run(page, panel, attempts: int = 3) -> None:
    """Press the panel's Run and accept the inputs dialog (the workflow declares none)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button = panel.locator(".jp-Toolbar [data-command='jupyter-workflow:run']")
    accept = page.locator(".jp-Dialog .jp-Dialog-button.jp-mod-accept")
    for attempt in range(1, attempts + 1):
        button.click()
        try:
            accept.wait_for(timeout=20_000)
            break
        except PlaywrightTimeout:
            state = button.evaluate("b => `class=${b.className} aria-disabled=${b.getAttribute('aria-disabled')}`")
            print(f"  (Run pressed, no inputs dialog after 20 s: attempt {attempt}; the button: {state})", file=sys.stderr)
            if attempt == attempts:
                raise
    accept.click()
    accept.wait_for(state="detached")


def live_states(browser, server, path: str, count: int, runs: int) -> dict:
    """Runs of ``path`` from the panel's Run button; delays per node state change (see the module's doc)."""
    arrivals, delays, superseded, excluded, statuses = [], [], 0, 0, []
    session = Session(browser, server, init_script=RECORD_EVENTS_JS)
    page = session.page
    try:
        session.open(path, EDITOR, count)
        panel = session.lab.current_panel()
        for index in range(runs + 1):  # the first run is a warm-up (the server's first run pays one-off imports)
            page.evaluate("() => { window.__benchEvents.length = 0; window.__benchSockets.length = 0; return null; }")
            panel.evaluate(WATCH_STATES_JS)
            shown = ".jp-WorkflowRunStatus span[title^='run ']"  # its title: `run <id>` (widget.tsx RunStatusLine)
            previous = panel.locator(shown).get_attribute("title") if panel.locator(shown).count() else None
            start_run(page, panel)
            # This run (not the one shown before it) has ended.
            page.wait_for_function(
                """([el, shown, previous]) => {
                  const run = el.querySelector(shown);
                  const status = run && run.querySelector('.jp-WorkflowRunStatus-status');
                  return !!status && run.title !== previous
                    && ['succeeded', 'failed', 'cancelled', 'interrupted'].includes(status.textContent);
                }""",
                arg=[panel.element_handle(), shown, previous], timeout=600_000)
            status = panel.locator(shown).locator(".jp-WorkflowRunStatus-status")
            # The last changes' frames.
            page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(null))))")
            events = page.evaluate("() => window.__benchEvents")
            sockets = page.evaluate("() => window.__benchSockets")
            changes = page.evaluate("() => { window.__benchObserver.disconnect(); return window.__benchStates; }")
            if index == 0:
                continue
            statuses.append(status.text_content())
            opened = min(s["opened"] for s in sockets) / 1000 if sockets else 0
            transitions = server_transitions(events)
            live = [t for t in transitions if t["time"] >= opened]
            excluded += len(transitions) - len(live)
            a, d, s = match_canvas(live, changes)
            arrivals += a
            delays += d
            superseded += s
    finally:
        errors = session.close()
    if errors:
        print("the page logged errors:\n  " + "\n  ".join(errors[:10]), file=sys.stderr)
    return {"arrivals": arrivals, "delays": delays, "superseded": superseded, "excluded": excluded, "statuses": statuses}


# --- the section ----------------------------------------------------------------------------------


# The peers this environment holds for the workflows section bring server and lab extensions of
# their own (Ploomber's and Jupytext's contents managers break opening a JSON file): the panel is
# measured in a JupyterLab with only ours, through the server's own config folder.
PEER_SERVER_EXTENSIONS = ("ploomber", "ploomber_extension", "jupyterlab_jupytext")
PEER_LAB_EXTENSIONS = ("ploomber-extension", "jupyterlab-jupytext")


def plain_jupyterlab(config: Path) -> None:
    """Config in ``config`` (the server's JUPYTER_CONFIG_DIR) turning the peers' extensions off."""
    (config / "labconfig").mkdir(parents=True, exist_ok=True)
    (config / "jupyter_server_config.json").write_text(json.dumps(
        {"ServerApp": {"jpserver_extensions": {name: False for name in PEER_SERVER_EXTENSIONS}}}))
    (config / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {name: True for name in PEER_LAB_EXTENSIONS}}))


def section(repeat: int, runs: int, live_nodes: int) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="jupyter-workflow-panel-") as folder:
        home = Path(folder)
        root = home / "files"
        root.mkdir()
        for name, (parameters, body, outputs) in COMPONENTS.items():
            make_notebook(root / name, parameters, body, outputs)
        files = {size: write_workflow(root, size) for size in SIZES}
        live_path = write_workflow(root, live_nodes)
        plain_jupyterlab(home / "jupyter-config")  # lab_server's JUPYTER_CONFIG_DIR
        began = time.perf_counter()
        with lab_server(home, root, token=os.urandom(12).hex()) as server, sync_playwright() as playwright:
            start_s = time.perf_counter() - began
            browser = launch_chromium(playwright)
            try:
                opens = open_times(browser, server, files, repeat)
                frames = frame_intervals(browser, server, files[FRAMES_SIZE], FRAMES_SIZE, repeat)
                live = live_states(browser, server, live_path, live_nodes, runs)
                version = browser.version
            finally:
                browser.close()

    print(f"panel: a real jupyter lab (ready in {start_s:.1f} s) in headless Chromium {version} "
          f"(Debian's, --disable-gpu), viewport {VIEWPORT['width']}×{VIEWPORT['height']}, {os.cpu_count()} CPUs\n")
    print(f"open a generated workflow without saved positions (chains and fan-ins over {len(COMPONENTS)} notebooks), "
          f"{repeat} fresh pages per row\n")
    rows = []
    for size in SIZES:
        for when in ("first", "later"):
            baseline = opens[(size, JSON_EDITOR, when)]
            rows.append((f"baseline: JSON editor, {size:,} nodes, {when} open", baseline, baseline))
            rows.append((f"Workflow Editor, {size:,} nodes, {when} open", opens[(size, EDITOR, when)], baseline))
    print_table(rows)
    print(
        "\nopen = docmanager:open in the page → every node drawn at its laid-out position and the view's fit done\n"
        "(the JSON editor: its text drawn). First open: in a freshly loaded JupyterLab, the lazily loaded chunks\n"
        "(ELK and its worker; CodeMirror's JSON mode) included; later open: again in a new tab after closing it.\n"
        "Ratios compare medians with the JSON editor's open of the same file, first or later alike."
    )

    print(f"\nframes at {FRAMES_SIZE:,} nodes: {repeat} gestures of {DRAG_S:g} s each, "
          f"mouse moves at {MOVE_HZ} per second\n")
    idle = [i for rep in frames["idle"] for i in rep]
    frame_rows = [("baseline: frame interval, idle canvas", idle, idle)]
    for gesture_name, label in (("pan", "frame interval while panning the view"),
                                ("drag", "frame interval while dragging a node")):
        frame_rows.append((label, [i for rep in frames[gesture_name] for i in rep], idle))
    print_table(frame_rows)
    print("\nframe intervals between requestAnimationFrame callbacks during the gesture; ratios compare medians with\n"
          "the same page idle (the browser's own frame rate here). fps = frames ÷ seconds of each gesture.")

    print(f"\nlive state: {runs} runs of a {live_nodes}-node workflow of quick nodes started from the panel "
          f"(after one untimed run), ended {', '.join(live['statuses']) or 'never'}\n")
    latency_rows = []
    if live["arrivals"]:
        latency_rows.append(("baseline: state change → WS message in the page", live["arrivals"], live["arrivals"]))
        latency_rows.append(("state change → data-state drawn on the canvas", live["delays"], live["arrivals"]))
        latency_rows.append(("WS message → data-state drawn (the panel's own)",
                             [d - a for d, a in zip(live["delays"], live["arrivals"])], None))
        print_table(latency_rows)
    print(
        "\nstate change = the `time` of the event that changed the node's state (stamped by the engine); WS message =\n"
        "Date.now() when the page's WebSocket receives it, before the panel's handler; drawn = Date.now() in the\n"
        "first animation frame after the node's data-state changed (a MutationObserver), to that state or a later\n"
        f"one ({live['superseded']} changes were drawn only as a later state; {live['excluded']} happened before the "
        "socket opened and are left out). Same machine clock. Ratio: against the WS message alone."
    )

    print("\ntargets")
    first = statistics.median(opens[(OPEN_TARGET_SIZE, EDITOR, "first")])
    later = statistics.median(opens[(OPEN_TARGET_SIZE, EDITOR, "later")])
    met = "met" if max(first, later) < OPEN_TARGET_S else "NOT MET"
    print(f"  {OPEN_TARGET_SIZE} nodes drawn in under {OPEN_TARGET_S:g} s: {met} "
          f"(median first {first * 1000:.0f} ms, later {later * 1000:.0f} ms)")
    for gesture_name in ("pan", "drag"):
        rates = [fps(rep) for rep in frames[gesture_name]]
        value = statistics.median(rates) if rates else 0.0
        met = "met" if value >= FPS_TARGET else "NOT MET"
        print(f"  {gesture_name} at {FRAMES_SIZE:,} nodes, {FPS_TARGET:g}+ fps: {met} "
              f"(median {value:.1f} fps, worst {min(rates, default=0):.1f})")
    if live["delays"]:
        value = p95(live["delays"])
        met = "met" if value < LATENCY_TARGET_S else "NOT MET"
        print(f"  state change → canvas, p95 < {LATENCY_TARGET_S * 1000:.0f} ms: {met} (p95 {value * 1000:.1f} ms, "
              f"{len(live['delays'])} changes)")
    else:
        print("  state change → canvas: no samples")
