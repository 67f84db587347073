"""Terminal output: tables, and live progress of a run."""

import asyncio
import json
import time

from jupyter_workflow.engine.state import Event, NodeStatus, RunState, now
from jupyter_workflow.model.graph import topological_order
from jupyter_workflow.runtime.artifacts import ArtifactRef

COLOURS = {
    "succeeded": "32",
    "cached": "32",
    "failed": "31",
    "running": "36",
    "queued": "33",
    "skipped": "90",
    "cancelled": "90",
    "pending": "90",
}


def paint(text: str, status: str, colour: bool) -> str:
    return f"\x1b[{COLOURS.get(status, '0')}m{text}\x1b[0m" if colour and status in COLOURS else text


def format_seconds(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds:.1f}s"


def format_value(value) -> str:
    if isinstance(value, ArtifactRef):
        return f"{value.meta['type']} at {value.path}"
    return json.dumps(value, ensure_ascii=False, default=str)


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

    def begin(self, run: RunState) -> None:
        self.run = run
        self.order = topological_order(run.workflow.dependencies())
        self.stream.write(f"Running {run.workflow.name} ({len(self.order)} nodes), run {run.run_id}\n")
        self.stream.flush()

    def record(self, run: RunState, event: Event) -> None:
        if self.live:
            self.draw()
        elif event.type == "node.status.changed":
            node = run.nodes[event.node_id]
            elapsed = time.monotonic() - self.started
            detail = f" (attempt {node.attempt})" if node.attempt > 1 and event.data["to"] == NodeStatus.RUNNING else ""
            self.stream.write(f"[{elapsed:6.1f}s] {event.node_id}: {event.data['to']}{detail}\n")
            self.stream.flush()

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
            rows.append([node_id, node.status, format_seconds(elapsed), str(node.attempt or "")])
            statuses.append(node.status)
        text = table(["node", "state", "elapsed", "attempt"], rows, statuses, colour=True)
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
        while self.live:
            self.draw()
            await asyncio.sleep(interval)
