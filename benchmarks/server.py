"""The server extension under load: a real ``jupyter server`` on a store of many runs.

Everything lives in a temporary folder made and removed here: a SQLite run store filled
with ``--store-runs`` runs (``fill_store.py``), the runs folder, the server's root with a
trivial notebook and a fan-out workflow of 20 of them, the server's config, runtime and
temporary folders. The extension is enabled by the installed config (``make`` puts it in
the venv), and ``/workflow/api/openapi.json`` must answer 200 before anything is measured
(:class:`ServerDidNotStart` otherwise).

Rows:

* ``GET /workflow/api/runs`` latency, sequential requests on one keep-alive connection:
  the first page, a filtered page, and a page a few hundred ``next_cursor`` hops deep;
  baseline ``GET /api/status``, jupyter_server's own trivial endpoint.
* Live events: the delay from a node's state change (the event's ``time``, stamped by
  the engine) to a ``/workflow/api/events`` WebSocket client receiving it, over whole
  runs of the fan-out workflow after one untimed warm-up run; baseline a ping/pong round
  trip on the same socket, sent every 100 ms during the same runs.
"""

import asyncio
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from fill_store import fill_store
from stats import p95, print_table

JUPYTER = Path(sys.executable).parent / "jupyter"
LIST_TARGET_S = 0.050  # p95 of GET /workflow/api/runs
EVENT_TARGET_S = 0.100  # p95 of state change → WebSocket client
NODES = 20


class ServerDidNotStart(RuntimeError):
    """The jupyter server exited, never answered, or answered without the extension."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class JupyterServer:
    """A ``jupyter server`` subprocess with a random token; ``with`` starts it and stops it cleanly."""

    def __init__(self, root: Path, env: dict, log_path: Path):
        self.root, self.env, self.log_path = root, env, log_path
        self.port = free_port()
        self.token = secrets.token_hex(24)
        self.headers = {"Authorization": f"token {self.token}"}
        self.process = None

    def __enter__(self) -> "JupyterServer":
        command = [
            str(JUPYTER), "server", "--no-browser", f"--port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log_path, "w") as log:
            self.process = subprocess.Popen(
                command, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the bench reaches it only through stop()
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def get(self, connection: http.client.HTTPConnection, path: str) -> tuple[int, bytes]:
        connection.request("GET", path, headers=self.headers)
        response = connection.getresponse()
        return response.status, response.read()

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                code = self.process.returncode
                raise ServerDidNotStart(f"jupyter server exited with code {code}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise ServerDidNotStart(f"jupyter server did not answer within {timeout:.0f} s:\n{self.log_tail()}")
            try:
                status, _ = self.get(self.connection(), "/api/status")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        status, body = self.get(self.connection(), "/workflow/api/openapi.json")
        if status != 200:
            raise ServerDidNotStart(
                f"the server runs but /workflow/api/openapi.json answered {status}: is the extension enabled "
                "(`jupyter server extension list`)? "
                f"{body[:200]!r}\n{self.log_tail()}"
            )

    def stop(self) -> None:
        """SIGTERM (jupyter server's clean shutdown: runs cancelled, kernels killed), SIGKILL if it hangs."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            print(f"  (jupyter server {self.process.pid} ignored SIGTERM for 30 s: killed)", file=sys.stderr)
            self.process.kill()
            self.process.wait()


# --- REST: GET /workflow/api/runs --------------------------------------------------------------


def time_gets(server: JupyterServer, connection, path: str, requests: int, warmup: int) -> list[float]:
    """Seconds per ``GET path`` for ``requests`` sequential requests after ``warmup`` untimed ones."""
    for _ in range(warmup):
        server.get(connection, path)
    samples = []
    for _ in range(requests):
        began = time.perf_counter()
        status, body = server.get(connection, path)
        samples.append(time.perf_counter() - began)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
    return samples


def runs_page(server: JupyterServer, connection, query: str) -> dict:
    status, body = server.get(connection, f"/workflow/api/runs?{query}")
    if status != 200:
        raise RuntimeError(f"GET /workflow/api/runs?{query} answered {status}: {body[:300]!r}")
    return json.loads(body)


def deep_cursor(server: JupyterServer, connection, pages: int) -> str:
    """The cursor of page ``pages + 1`` of ``limit=50``, found by following ``next_cursor``."""
    cursor = None
    for _ in range(pages):
        page = runs_page(server, connection, "limit=50" + (f"&cursor={cursor}" if cursor else ""))
        cursor = page["next_cursor"]
        if cursor is None:
            raise RuntimeError(f"the store has fewer than {pages * 50} runs")
    return cursor


def list_rows(server: JupyterServer, requests: int, warmup: int, pages: int) -> list[tuple]:
    connection = server.connection()
    try:
        first = runs_page(server, connection, "limit=50")
        failed = runs_page(server, connection, "limit=50&status=failed")
        assert len(first["runs"]) == 50 and first["next_cursor"], "the first page should be full"
        assert failed["runs"] and all(run["status"] == "failed" for run in failed["runs"]), "status filter ignored"
        cursor = deep_cursor(server, connection, pages)
        paths = [
            ("baseline: GET /api/status", "/api/status"),
            ("GET /workflow/api/runs?limit=50", "/workflow/api/runs?limit=50"),
            ("GET …/runs?limit=50&status=failed", "/workflow/api/runs?limit=50&status=failed"),
            (f"GET …/runs?limit=50&cursor=<page {pages + 1}>", f"/workflow/api/runs?limit=50&cursor={cursor}"),
        ]
        rows = [(label, time_gets(server, connection, path, requests, warmup)) for label, path in paths]
        return [(label, samples, rows[0][1]) for label, samples in rows]
    finally:
        connection.close()


# --- Live events: state change → WebSocket client -------------------------------------------------


def write_fanout_workflow(root: Path, nodes: int) -> str:
    """A trivial notebook and a workflow of ``nodes`` independent copies of it; returns the workflow's path."""
    notebook = new_notebook(
        cells=[
            new_code_cell("x = 0", metadata={"tags": ["parameters"]}),
            new_code_cell("from jupyter_workflow import record\nrecord('x', 1)"),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                  "language_info": {"name": "python"}},
    )
    nbformat.write(notebook, str(root / "trivial.ipynb"))
    document = {
        "format": "jupyter-workflow/1",
        "name": "bench_fanout",
        "nodes": {f"n{i:02d}": {"notebook": "trivial.ipynb", "parameters": {"x": i}} for i in range(1, nodes + 1)},
    }
    (root / "fanout.workflow.json").write_text(json.dumps(document, indent=2), encoding="utf-8")
    return "fanout.workflow.json"


@dataclass
class LiveEvents:
    delays: list[float] = field(default_factory=list)  # node.status.changed: receive time − event time
    pongs: list[float] = field(default_factory=list)  # ping → pong round trips during the timed runs
    statuses: list[str] = field(default_factory=list)  # how each timed run ended
    warmup_statuses: list[str] = field(default_factory=list)


async def live_events(server: JupyterServer, workflow_path: str, min_samples: int, warmup_runs: int = 1,
                      run_timeout: float = 600) -> LiveEvents:
    """Delays from node state changes to a WebSocket client, and ping/pong round trips, in seconds.

    Runs the workflow ``warmup_runs`` times untimed (the server's first run pays one-off
    imports), then again and again until ``min_samples`` state changes were received.
    Times are taken in the message callback, before anything else happens to the message.
    """
    result = LiveEvents()
    delays, pongs, statuses = result.delays, result.pongs, {}
    finished: dict[str, asyncio.Event] = {}
    pong_waiter: list[asyncio.Future] = []
    timing = False

    def on_message(message) -> None:
        received = time.time()
        if message is None:
            return
        event = json.loads(message)
        if event["type"] == "node.status.changed" and timing:
            delays.append(received - datetime.fromisoformat(event["time"]).timestamp())
        elif event["type"] == "run.finished":
            statuses[event["run_id"]] = event["data"]["status"]
            finished.setdefault(event["run_id"], asyncio.Event()).set()

    def on_pong(data: bytes) -> None:
        if pong_waiter and not pong_waiter[0].done():
            pong_waiter[0].set_result(time.perf_counter())

    async def ping_every(interval: float) -> None:
        while True:
            pong_waiter[:] = [asyncio.get_running_loop().create_future()]
            sent = time.perf_counter()
            websocket.ping(b"bench")
            try:
                round_trip = await asyncio.wait_for(pong_waiter[0], 5) - sent
                if timing:
                    pongs.append(round_trip)
            except asyncio.TimeoutError:
                pass
            await asyncio.sleep(interval)

    async def run_once() -> bool:
        """Start a run and wait for its end; False if it did not end in time."""
        response = await client.fetch(
            f"http://127.0.0.1:{server.port}/workflow/api/runs", method="POST", headers=server.headers,
            body=json.dumps({"path": workflow_path}), raise_error=False,
        )
        if response.code != 202:
            raise RuntimeError(f"POST /workflow/api/runs answered {response.code}: {response.body[:500]!r}")
        run_id = json.loads(response.body)["run_id"]
        try:
            await asyncio.wait_for(finished.setdefault(run_id, asyncio.Event()).wait(), run_timeout)
            return True
        except asyncio.TimeoutError:
            statuses[run_id] = f"not finished after {run_timeout:.0f} s"
            return False

    url = f"ws://127.0.0.1:{server.port}/workflow/api/events"
    websocket = await websocket_connect(HTTPRequest(url, headers=server.headers), on_message_callback=on_message)
    websocket.on_pong = on_pong
    pinger = asyncio.ensure_future(ping_every(0.1))
    client = AsyncHTTPClient()
    try:
        ended = all([await run_once() for _ in range(warmup_runs)])
        result.warmup_statuses = list(statuses.values())
        statuses.clear()
        timing = True
        while ended and len(delays) < min_samples:
            ended = await run_once()
    finally:
        pinger.cancel()
        websocket.close()
        client.close()
    result.statuses = list(statuses.values())
    return result


# --- The section --------------------------------------------------------------------------------


def verdict(label: str, samples: list[float], target: float) -> str:
    value = p95(samples)
    met = "met" if value < target else "NOT MET"
    return f"  {label}: p95 < {target * 1000:.0f} ms: {met} (p95 {value * 1000:.1f} ms)"


def section(store_runs: int, requests: int, warmup: int, pages: int, min_events: int) -> None:
    pages = max(1, min(pages, store_runs // 50 - 1))  # the deep page must exist
    with tempfile.TemporaryDirectory(prefix="jupyter-workflow-bench-") as folder:
        tmp = Path(folder)
        root = tmp / "root"
        root.mkdir()
        db_url = f"sqlite:///{tmp / 'store' / 'workflow.db'}"
        began = time.perf_counter()
        fill_store(db_url, store_runs, runs_dir=str(tmp / "runs"))
        fill_s = time.perf_counter() - began
        workflow_path = write_fanout_workflow(root, NODES)
        env = {
            **os.environ,
            "JUPYTER_WORKFLOW_DB_URL": db_url,
            "JUPYTER_WORKFLOW_RUNS_DIR": str(tmp / "runs"),
            "JUPYTER_CONFIG_DIR": str(tmp / "config"),  # no user config
            "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
            "IPYTHONDIR": str(tmp / "ipython"),
            "TMPDIR": str(tmp),  # kernel connection files too
        }
        began = time.perf_counter()
        with JupyterServer(root, env, tmp / "server.log") as server:
            start_s = time.perf_counter() - began
            http_rows = list_rows(server, requests, warmup, pages)
            live = asyncio.run(live_events(server, workflow_path, min_events))

    print(f"server: a real jupyter server, store of {store_runs:,} runs in SQLite "
          f"(filled in {fill_s:.1f} s, server ready in {start_s:.1f} s)\n")
    print(f"GET on one keep-alive connection, {requests} sequential requests per row after {warmup} warm-up\n")
    print_table(http_rows)
    ended = ", ".join(f"{live.statuses.count(status)} {status}" for status in sorted(set(live.statuses)))
    print(f"\nlive events on WS /workflow/api/events: runs of a workflow of {NODES} independent trivial nodes, "
          f"parallel = CPUs = {os.cpu_count()};\ntimed runs: {len(live.statuses)} ({ended}), "
          f"after untimed warm-up runs: {len(live.warmup_statuses)} ({', '.join(live.warmup_statuses)})\n")
    pongs, delays = live.pongs, live.delays
    event_rows = [("baseline: WS ping→pong, every 100 ms meanwhile", pongs, pongs)] if pongs else []
    if delays:
        event_rows.append(("node.status.changed: state change → client", delays, pongs or None))
    print_table(event_rows)
    print(
        "\nratios compare medians with the section's baseline: HTTP rows with GET /api/status on the same\n"
        "connection, the event row with a ping/pong round trip on the same socket during the same runs\n"
        "(what the transport and the server's event loop cost alone). Event delay = receive time.time()\n"
        "minus the event's `time` (stamped by the engine at the state change; same machine clock)."
    )
    print("\ntargets")
    for label, samples, _ in http_rows[1:]:
        print(verdict(label, samples, LIST_TARGET_S))
    if delays:
        print(verdict("state change → WebSocket client", delays, EVENT_TARGET_S))
    else:
        print("  state change → WebSocket client: no samples (no run reported node state changes)")
    if len(delays) < min_events:
        print(f"  note: only {len(delays)} event samples (wanted {min_events}); runs ended: {live.statuses}")
