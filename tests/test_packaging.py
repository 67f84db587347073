"""The wheel a user installs: its license, every file the package names, and the examples."""

import os
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


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The project built as a wheel, the way pip builds it for an install."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out),
         str(REPOSITORY)],
        check=True, capture_output=True, timeout=300,
    )
    [built] = out.glob("jupyter_workflow-*.whl")
    return built


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
