"""A run as it goes: one row per node (state, elapsed time, progress bar, attempt) and the run's status.

The engine tells its events on its own thread; :class:`KernelLoopListener` hands them to
the kernel's event loop, where the widgets are changed.
"""

import asyncio
import html
from datetime import datetime

import ipywidgets

from jupyter_workflow.engine import NodeState, RunState
from jupyter_workflow.events import STATUS_STYLES, now

BAR_STYLES = {"running": "info", "succeeded": "success", "cached": "success", "failed": "danger",
              "cancelled": "warning"}


class KernelLoopListener:
    """A run listener that calls ``callback(run)`` on ``loop`` (the kernel's) after each event."""

    def __init__(self, loop: asyncio.AbstractEventLoop, callback):
        self.loop, self.callback = loop, callback

    def begin(self, run: RunState) -> None:
        self._show(run)

    def record(self, run: RunState, event) -> None:
        self._show(run)

    def _show(self, run: RunState) -> None:
        try:
            self.loop.call_soon_threadsafe(self.callback, run)
        except RuntimeError:  # the kernel's loop is closed (its page went away): nobody is watching
            pass


def elapsed_text(started: datetime | None, finished: datetime | None) -> str:
    """``4.2 s``, ``2 min 05 s``; empty before the start."""
    if started is None:
        return ""
    seconds = ((finished or now()) - started).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes} min {seconds:02d} s"


def set_state_class(widget: ipywidgets.DOMWidget, status: str) -> None:
    """Give ``widget`` the class ``jw-state-<status>`` in place of its previous state class."""
    kept = [name for name in widget._dom_classes if not name.startswith("jw-state-")]
    widget._dom_classes = (*kept, f"jw-state-{status}")


def badge(status: str) -> str:
    """A status as a coloured label."""
    style = STATUS_STYLES[status]
    return (f'<span class="jw-badge" style="background:{style.fill};padding:1px 8px;border-radius:8px">'
            f"{html.escape(style.label)}</span>")


class NodeRow(ipywidgets.HBox):
    """One node of the run: title, state, elapsed time, progress bar, attempt when retried."""

    def __init__(self, node_id: str, title: str):
        self.state = ipywidgets.HTML(layout=ipywidgets.Layout(width="7.5em"))  # the bars line up
        self.elapsed = ipywidgets.Label(layout=ipywidgets.Layout(width="7em"))
        self.bar = ipywidgets.IntProgress(min=0, max=1, layout=ipywidgets.Layout(width="12em"))
        self.attempt = ipywidgets.Label()
        name = ipywidgets.HTML(f"<b>{html.escape(title)}</b>", layout=ipywidgets.Layout(width="14em"))
        super().__init__([name, self.state, self.elapsed, self.bar, self.attempt],
                         _dom_classes=["jw-node", f"jw-node-{node_id}"])
        self.show(NodeState(node_id))

    def show(self, node: NodeState) -> None:
        status = str(node.status)
        if f"jw-state-{status}" not in self._dom_classes:
            set_state_class(self, status)
            self.state.value = badge(status)
            self.bar.bar_style = BAR_STYLES.get(status, "")
            self.bar.value = 0 if status in ("pending", "queued", "skipped") else 1
        self.elapsed.value = elapsed_text(node.started_at, node.finished_at)
        self.attempt.value = f"attempt {node.attempt}" if node.attempt > 1 else ""


class RunProgress(ipywidgets.VBox):
    """The run's status line and its node rows."""

    def __init__(self, titles: dict[str, str]):
        self.status = ipywidgets.HTML(_dom_classes=["jw-run-status"])
        self.rows = {node_id: NodeRow(node_id, title) for node_id, title in titles.items()}
        super().__init__([self.status, *self.rows.values()], _dom_classes=["jw-progress"])
        self.show_status("pending", "Starting…")

    def show_status(self, status: str, text: str) -> None:
        set_state_class(self.status, status)
        self.status.value = f"{badge(status)} {html.escape(text)}"

    def show(self, run: RunState) -> None:
        """Draw ``run`` as it is now (called on the kernel's loop)."""
        for node_id, row in self.rows.items():
            if node_id in run.nodes:
                row.show(run.nodes[node_id])
        self.show_status(str(run.status), elapsed_text(run.started_at, run.finished_at))
