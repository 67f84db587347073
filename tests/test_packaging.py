"""The wheel a user installs: its license, every file the package names, and the examples."""

import json
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.kernels

REPOSITORY = Path(__file__).parent.parent
JUPYTER = Path(sys.executable).parent / "jupyter"
EXAMPLES = "share/jupyter/workflow/examples/"
LABEXTENSION = "share/jupyter/labextensions/jupyter-workflow/"


def test_the_wheel_carries_its_license_and_every_package_file(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    tracked = subprocess.run(
        ["git", "ls-files", "jupyter_workflow"], cwd=REPOSITORY, capture_output=True, text=True, check=True
    ).stdout.split()
    assert tracked and sorted(set(tracked) - set(names)) == []
    for data in ("etc/jupyter/jupyter_server_config.d/jupyter_workflow.json", "share/jupyter/kernels/jupyter-workflow/kernel.json"):
        assert any(name.endswith(".data/data/" + data) for name in names), data


def test_every_file_pattern_the_package_names_matches_a_file():
    """setuptools skips a pattern that matches nothing without a word: a file the wheel silently lacks."""
    setuptools = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = [f"jupyter_workflow/{p}" for p in setuptools["package-data"]["jupyter_workflow"]]
    patterns += [p for files in setuptools["data-files"].values() for p in files]
    assert [p for p in patterns if not list(REPOSITORY.glob(p))] == []


def test_the_examples_in_the_wheel_copy_out_and_run(wheel, tmp_path, workflow_home):
    unpacked = tmp_path / "wheel"
    zipfile.ZipFile(wheel).extractall(unpacked)
    [data] = unpacked.glob("*.data/data")
    shipped = sorted(str(p.relative_to(data / EXAMPLES)) for p in (data / EXAMPLES).rglob("*") if p.is_file())
    assert "reconcile.workflow.json" in shipped and "data/bank.csv" in shipped

    # The command finds the examples on the Jupyter data path, where the wheel installs them.
    env = {"JUPYTER_PATH": str(data / "share/jupyter")}
    target = tmp_path / "mine"
    done = subprocess.run([str(JUPYTER), "workflow", "examples", str(target)], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == shipped
    assert f"jupyter workflow run {target / 'reconcile.workflow.json'}" in done.stdout

    again = subprocess.run([str(JUPYTER), "workflow", "examples", str(target)], capture_output=True, text=True,
                           env={**os.environ, **env}, timeout=120)
    assert again.returncode == 2 and "already exist" in again.stderr and "Traceback" not in again.stderr
    run = subprocess.run([str(JUPYTER), "workflow", "run", str(target / "reconcile.workflow.json"), "--json"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr


def test_the_wheel_carries_the_jupyterlab_extension_prebuilt_once(wheel, tmp_path):
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {name.split(".data/data/" + LABEXTENSION, 1)[1] for name in names if ".data/data/" + LABEXTENSION in name}
    assert {"package.json", "install.json", "static/style.js"} <= shipped
    # Only as data files: not a second time inside the Python package.
    assert [name for name in names if name.startswith("jupyter_workflow/labextension")] == []

    unpacked = tmp_path / "wheel"
    zipfile.ZipFile(wheel).extractall(unpacked)
    [data] = unpacked.glob("*.data/data")
    extension = data / LABEXTENSION
    package = json.loads((extension / "package.json").read_text())
    assert package["name"] == "jupyter-workflow" and package["jupyterlab"]["extension"] is True
    # The entry point JupyterLab loads is in the wheel; a production build, without source maps.
    assert (extension / package["jupyterlab"]["_build"]["load"]).is_file()
    maps = [name for name in shipped if name.endswith(".map")]
    assert maps == [], "a development build of the extension (jlpm build) is in jupyter_workflow/labextension: run jlpm build:prod"
    assert json.loads((extension / "install.json").read_text())["packageName"] == "jupyter-workflow"

    # JupyterLab finds it enabled on the data path where pip installs the wheel's data files.
    listed = subprocess.run([str(JUPYTER), "labextension", "list"], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "JUPYTER_PATH": str(data / "share/jupyter")})
    assert listed.returncode == 0, listed.stderr
    text = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
    section = text.split(str(data / "share/jupyter/labextensions"), 1)[1].split("\n/", 1)[0]
    assert re.search(r"jupyter-workflow v0\.1\.0 enabled\s+OK \(python, jupyter-workflow\)", section), text
