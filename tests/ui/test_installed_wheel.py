"""The wheel as a user installs it: ``pip install`` into a fresh venv beside JupyterLab, no Node.js
anywhere on the PATH, and JupyterLab has the panel: the extension is listed enabled and a
workflow opens in the Workflow Editor, drawn. The install needs the package registry (as
``make test`` does); everything else is local.
"""

import os
import re
import shutil
import subprocess
import sys
from importlib.metadata import version

import pytest
from playwright.sync_api import expect

import labsession
from labsession import REPO, VIEWPORT, Lab

pytestmark = pytest.mark.kernels


@pytest.fixture(scope="module")
def fresh_venv(wheel, tmp_path_factory):
    """A new venv holding the built wheel and this environment's JupyterLab version, and nothing of Node.js."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
    installed = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(wheel), f"jupyterlab=={version('jupyterlab')}"],
        env=only_the_venv(venv), capture_output=True, text=True, timeout=900,
    )
    assert installed.returncode == 0, installed.stderr
    return venv


def only_the_venv(venv) -> dict:
    """This process's environment with the venv's bin as the whole PATH: no node, no jlpm."""
    env = {key: value for key, value in os.environ.items() if key not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, "PATH": str(venv / "bin")}


def test_pip_install_of_the_wheel_gives_jupyterlab_the_panel_without_nodejs(fresh_venv, browser, tmp_path):
    env = only_the_venv(fresh_venv)
    assert shutil.which("node", path=env["PATH"]) is None
    listed = subprocess.run([str(fresh_venv / "bin" / "jupyter"), "labextension", "list"], env=env,
                            capture_output=True, text=True, timeout=120)
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    assert re.search(r"jupyter-workflow v\S+ enabled\s+OK \(python, jupyter-workflow\)", text), text

    root = tmp_path / "files"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "runs"))
    with labsession.lab_server(tmp_path, root, jupyter=fresh_venv / "bin" / "jupyter", extra_env=env) as server:
        context = browser.new_context(viewport=VIEWPORT)
        try:
            app = Lab(server, context.new_page(), workspace="installed-wheel",
                      test_name="test_pip_install_of_the_wheel_gives_jupyterlab_the_panel_without_nodejs")
            app.load()
            app.file_item("reconcile.workflow.json").dblclick()
            panel = app.current_panel()
            expect(panel.locator(".jp-WorkflowEditor")).to_be_visible()
            expect(panel.locator(".jp-WorkflowNode")).to_have_count(5)
            app.wait_canvas_still(panel)
            app.screenshot()
        finally:
            context.close()
    assert not app.errors, "the page logged errors:\n" + "\n".join(app.errors)
