"""A real ``jupyter lab`` and Debian's Chromium, for the browser tests and the panel benchmark.

No pytest here: ``tests/browser.py`` wraps these in fixtures, and ``benchmarks/panel.py``
uses them directly (it adds this folder to ``sys.path``).

- :func:`lab_server` starts ``jupyter lab`` from the running interpreter's environment on a
  free port with ``port_retries=0``, serving a given folder, with its own workspaces,
  settings (news and update checks off), run store, runs and runtime folders;
- :func:`voila_server` starts ``voila NOTEBOOK`` the same way, with a run store of its own;
- :func:`launch_chromium` launches ``/usr/bin/chromium`` through Playwright (no browser is
  ever downloaded);
- :class:`Lab` is JupyterLab in one page, with the helpers the tests share.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import subprocess
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO / "test-screenshots"
CHROMIUM = Path("/usr/bin/chromium")
TOKEN = "jupyter-workflow-browser-tests"
SERVER_START_TIMEOUT = 90.0
# For every Playwright wait and `expect` (the machine is shared: the first open of a panel may be slow).
UI_TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1400, "height": 800}

# The flags the team's note measured for Debian's Chromium here; Playwright adds --headless.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
if os.geteuid() == 0:
    CHROMIUM_ARGS.insert(0, "--no-sandbox")


def free_port() -> int:
    """A port nothing listens on now; the server is started with port_retries=0, so a race fails loudly."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout: float, what: str, interval: float = 0.1):
    """Poll ``condition`` until it returns a true value (returned), or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@dataclass
class LabServer:
    """A running ``jupyter lab``: where it serves, the folder it serves, its log."""

    url: str
    token: str
    root: Path
    home: Path
    log: Path
    process: subprocess.Popen = field(repr=False)

    def api(self, path: str, method: str = "GET", body: object | None = None) -> object:
        """A JSON request to the server's REST API (``path`` without the leading slash)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _answers(url: str, token: str, process: subprocess.Popen, log: Path) -> bool:
    if process.poll() is not None:
        raise RuntimeError(
            f"jupyter lab exited with {process.returncode} before answering; its log:\n"
            + log.read_text(errors="replace")[-4000:]
        )
    try:
        with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # SIGTERM: the server shuts its kernels and terminals down and exits
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextlib.contextmanager
def lab_server(home: Path, root: Path, token: str = TOKEN, extra_env: dict | None = None, jupyter: Path | None = None):
    """``jupyter lab`` (from this environment, or the ``jupyter`` given) serving ``root``, everything else of it under ``home``.

    Yields a :class:`LabServer` once ``/api/status`` answers; stops the server on exit.
    """
    # A settings override, in a settings folder of this server only: no news or update toast
    # (and no request for them) covers the screenshots.
    app_settings = home / "app-settings"
    app_settings.mkdir(exist_ok=True)
    (app_settings / "overrides.json").write_text(
        json.dumps({"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}})
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    jupyter = jupyter or Path(sys.executable).with_name("jupyter")
    command = [
        str(jupyter), "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        # Never move to another port silently: a test would then talk to some other server.
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root}",
        f"--IdentityProvider.token={token}",
        # The default workspaces folder is shared by every server run by this user.
        f"--LabApp.workspaces_dir={home / 'workspaces'}",
        f"--LabApp.user_settings_dir={home / 'user-settings'}",
        f"--LabApp.app_settings_dir={app_settings}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = home / "jupyter-lab.log"
    answers = functools.partial(_answers, url, token, log=log)
    with _started(command, root, private_environment(home, extra_env), log, answers, f"jupyter lab to answer on {url}") as process:
        yield LabServer(url=url, token=token, root=root, home=home, log=log, process=process)


def private_environment(home: Path, extra_env: dict | None = None) -> dict:
    """This process's environment with a run store, runs folder, Jupyter config and runtime folders under ``home``."""
    return dict(
        os.environ,
        JUPYTER_WORKFLOW_DB_URL=f"sqlite:///{home / 'store' / 'workflow.db'}",
        JUPYTER_WORKFLOW_RUNS_DIR=str(home / "runs"),
        JUPYTER_CONFIG_DIR=str(home / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        **(extra_env or {}),
    )


@contextlib.contextmanager
def _started(command: list[str], cwd: Path, env: dict, log: Path, answers, what: str):
    """Start ``command`` (its output into ``log``); yield its process once ``answers(process)``; stop it on exit."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: answers(process), SERVER_START_TIMEOUT, what)
        yield process
    finally:
        _stop(process)


@dataclass
class VoilaServer:
    """A running ``voila NOTEBOOK``: the page's URL, its run store's environment, its log."""

    url: str
    env: dict = field(repr=False)  # the environment it runs in: its run store and runs folder
    log: Path
    process: subprocess.Popen = field(repr=False)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _voila_answers(url: str, process: subprocess.Popen, log: Path) -> bool:
    """Whether Voilà serves its static files yet (asking for the page itself would start a kernel)."""
    if process.poll() is not None:
        raise RuntimeError(f"voila exited with {process.returncode} before answering; its log:\n"
                           + log.read_text(errors="replace")[-4000:])
    try:
        with urllib.request.urlopen(f"{url}/voila/static/voila.js", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


@contextlib.contextmanager
def voila_server(home: Path, notebook: Path):
    """``voila NOTEBOOK`` from this environment on a free port, its run store, runs, config and runtime under ``home``.

    Yields a :class:`VoilaServer` once it answers; stops it on exit. Each page it serves
    runs the notebook in a kernel of its own.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        str(Path(sys.executable).with_name("voila")), str(notebook),
        "--no-browser", f"--port={port}", "--Voila.ip=127.0.0.1",
        # Never move to another port silently: a test would then talk to some other server.
        "--Voila.port_retries=0",
    ]
    env, log = private_environment(home), home / "voila.log"
    answers = functools.partial(_voila_answers, url, log=log)
    with _started(command, notebook.parent, env, log, answers, f"voila to answer on {url}") as process:
        yield VoilaServer(url=url, env=env, log=log, process=process)


def launch_chromium(playwright):
    """Debian's Chromium, headless, from a started Playwright (``sync_playwright().start()`` or its ``with``)."""
    if not CHROMIUM.exists():
        raise FileNotFoundError(f"Debian's chromium is needed at {CHROMIUM} (apt-get install chromium)")
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)


class Lab:
    """JupyterLab in one browser page, with the helpers the panel tests share."""

    def __init__(self, server: LabServer, page, workspace: str, test_name: str):
        self.server = server
        self.page = page
        self.workspace = workspace
        self.test_name = test_name
        self.url = f"{server.url}/lab/workspaces/{workspace}?token={server.token}"
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))

    def _on_console(self, message) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.errors.append(f"console error: {message.text}" + (f" ({where})" if where else ""))

    def load(self) -> None:
        """Open (or reload) JupyterLab and wait until the application has started and restored its layout."""
        if self.page.url.startswith(self.server.url):
            self.page.reload()
        else:
            self.page.goto(self.url)
        self.page.wait_for_function("window.jupyterapp !== undefined")
        self.page.evaluate("window.jupyterapp.restored.then(() => true)")
        self.page.locator(".jp-DirListing-content").wait_for()

    def command(self, command: str, args: dict | None = None) -> None:
        """Run a JupyterLab command (returns once its promise settles; its result is not sent back)."""
        self.page.evaluate(
            "([id, args]) => window.jupyterapp.commands.execute(id, args).then(() => null)", [command, args or {}]
        )

    def file_item(self, name: str):
        """A file's row in the file browser."""
        return self.page.locator(".jp-DirListing-item").filter(
            has=self.page.locator(".jp-DirListing-itemText", has_text=re.compile(rf"^{re.escape(name)}$"))
        )

    def tab(self, label: str):
        """A main-area tab by its label."""
        return self.page.locator(".lm-DockPanel .lm-TabBar-tab").filter(
            has=self.page.locator(".lm-TabBar-tabLabel", has_text=re.compile(rf"^{re.escape(label)}$"))
        )

    def current_panel(self):
        """The main-area widget shown in front (the current tab's)."""
        return self.page.locator(".lm-DockPanel-widget:not(.lm-mod-hidden)")

    def wait_canvas_still(self, panel) -> None:
        """Wait until the canvas's view transform has stopped changing (the fit is done) for a picture."""
        panel.locator(".react-flow__viewport").wait_for()
        panel.locator(".react-flow__viewport").evaluate(
            """viewport => new Promise(resolve => {
                let last = null, same = 0;
                const tick = () => {
                    const now = getComputedStyle(viewport).transform;
                    same = now === last ? same + 1 : 0;
                    last = now;
                    if (same >= 5) { resolve(now); } else { requestAnimationFrame(tick); }
                };
                requestAnimationFrame(tick);
            })"""
        )

    def screenshot(self, suffix: str = "") -> Path:
        """Save the page as ``test-screenshots/<test name>[-suffix].png``."""
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{self.test_name}{'-' + suffix if suffix else ''}.png"
        self.page.screenshot(path=str(path))
        return path
