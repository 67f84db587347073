"""Terminal output: tables, and live progress of a run."""

import json
import time
from datetime import datetime

from jupyter_workflow.engine.state import RunState
from jupyter_workflow.events import STATUS_STYLES, Event, EventType, NodeStatus, now
from jupyter_workflow.model.graph import topological_order
from jupyter_workflow.runtime.artifacts import ArtifactRef

def paint(text: str, status: str, colour: bool) -> str:
    return f"\x1b[{STATUS_STYLES[status].terminal}m{text}\x1b[0m" if colour and status in STATUS_STYLES else text


def format_seconds(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f}s"


def format_value(value) -> str:
    if isinstance(value, ArtifactRef):
        return f"{value.meta['type']} at {value.path}"
    return json.dumps(value, ensure_ascii=False, default=str)


def error_line(error: dict | None) -> str:
    """A node error in one line: ``ValueError: bad value`` (its message's first line)."""
    if not error:
        return ""
    text = f"{error.get('ename', 'Error')}: {error.get('evalue', '')}".strip().rstrip(":")
    return text.splitlines()[0] if text else ""


def retry_text(retry: dict) -> str:
    """``retrying in 30 s (attempt 2 of 3)`` for a node waiting for its next attempt."""
    seconds = max(0.0, (datetime.fromisoformat(retry["retry_at"]) - now()).total_seconds())
    return f"retrying in {seconds:.0f} s (attempt {retry['next_attempt']} of {retry['attempts']})"


def table(headers: list[str], rows: list[list[str]], statuses: list[str] | None = None, colour=False) -> str:
    """A plain text table; with ``statuses`` each row's status cell may be coloured."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    for index, row in enumerate(rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
        if statuses:
            cells = [paint(c, statuses[index], colour) if str(row[i]) == statuses[index] else c for i, c in enumerate(cells)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


class Progress:
    """Shows a run as it goes: a live table on a terminal, a line per change otherwise."""

    def __init__(self, stream, live: bool):
        self.stream = stream
        self.live = live
        self.started = time.monotonic()
        self.run: RunState | None = None
        self.order: list[str] = []
        self.drawn_lines = 0
        self.retrying: dict[str, dict] = {}  # node id → the event that put it back in the queue

    def begin(self, run: RunState) -> None:
        self.run = run
        self.order = topological_order(run.workflow.dependencies())
        self.stream.write(f"Running {run.workflow.name} ({len(self.order)} nodes), run {run.run_id}\n")
        self.stream.flush()

    def record(self, run: RunState, event: Event) -> None:
        if event.type == EventType.NODE_STATUS_CHANGED:
            self._note_retry(event)
        if self.live:
            self.draw()
        elif event.type == EventType.NODE_STATUS_CHANGED:
            node = run.nodes[event.node_id]
            elapsed = time.monotonic() - self.started
            retry = self.retrying.get(event.node_id)
            if retry is not None:
                state = f"{retry_text(retry)} after {error_line(retry.get('error'))}"
            elif node.attempt > 1 and event.data["to"] == NodeStatus.RUNNING:
                state = f"running (attempt {node.attempt})"
            else:
                state = event.data["to"]
            self.stream.write(f"[{elapsed:6.1f}s] {event.node_id}: {state}\n")
            self.stream.flush()

    def _note_retry(self, event: Event) -> None:
        """Keep what a node waiting to retry waits for; forget it once the node moves on."""
        if event.data.get("to") == NodeStatus.QUEUED and "retry_at" in event.data:
            self.retrying[event.node_id] = event.data
        else:
            self.retrying.pop(event.node_id, None)

    def draw(self) -> None:
        """Redraw the live table in place."""
        if self.run is None:
            return
        rows, statuses = [], []
        for node_id in self.order:
            node = self.run.nodes[node_id]
            if node.status == NodeStatus.RUNNING and node.started_at:
                elapsed = (now() - node.started_at).total_seconds()
            else:
                elapsed = node.duration_s
            retry = self.retrying.get(node_id)
            state = retry_text(retry) if retry is not None else node.status
            note = error_line(retry.get("error") if retry is not None else node.error)
            rows.append([node_id, state, format_seconds(elapsed), str(node.attempt or ""), note])
            statuses.append(node.status)
        text = table(["node", "state", "elapsed", "attempt", "last error"], rows, statuses, colour=True)
        total = f"elapsed {time.monotonic() - self.started:.1f}s"
        self.clear()
        self.stream.write(text + "\n" + total + "\n")
        self.stream.flush()
        self.drawn_lines = text.count("\n") + 2

    def clear(self) -> None:
        """Erase the live table (before the final table replaces it)."""
        self.stream.write("\x1b[1A\x1b[2K" * self.drawn_lines)
        self.drawn_lines = 0

    async def animate(self, interval: float = 0.5) -> None:
        """Keep elapsed times moving while nodes run (live mode only)."""
        import asyncio  # only a run needs it: other commands start without it

        while self.live:
            self.draw()
            await asyncio.sleep(interval)
