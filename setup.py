"""Setuptools shim: the project is configured in pyproject.toml.

A wheel carries the JupyterLab extension prebuilt (so installing it needs no Node.js). When
a wheel is built and the extension's build is missing or older than its sources, it is
built here first, with `jlpm` (from jupyter-builder, a build requirement) and Node.js: the
data-file globs in pyproject.toml are expanded when setup() reads its configuration, so the
files must exist before that.
"""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).parent.resolve()
SOURCE = HERE / "labextension"
BUILT = HERE / "jupyter_workflow" / "labextension" / "package.json"
INPUTS = ["package.json", "yarn.lock", "tsconfig.json", "src", "style"]


def newest_input() -> float:
    paths = [HERE / "jupyter_workflow" / "server" / "openapi.json"]
    for name in INPUTS:
        path = SOURCE / name
        paths += [p for p in path.rglob("*") if p.is_file() and "generated" not in p.parts] if path.is_dir() else [path]
    return max(p.stat().st_mtime for p in paths if p.exists())


def build_labextension() -> None:
    if not (SOURCE / "package.json").exists():  # an sdist without the extension's sources
        return
    if BUILT.exists() and BUILT.stat().st_mtime >= newest_input():
        return
    jlpm = shutil.which("jlpm") or shutil.which("jlpm", path=str(Path(sys.executable).parent))
    if jlpm is None or shutil.which("node") is None:
        raise SystemExit(
            "The JupyterLab extension in labextension/ is not built or is older than its sources, and "
            "building it needs Node.js and jlpm (from jupyter-builder or jupyterlab): install them, "
            "or run `make lab`, then build the wheel again."
        )
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(jlpm).parent), os.environ.get("PATH", "")])}
    subprocess.run([jlpm, "install"], cwd=SOURCE, env=env, check=True)
    subprocess.run([jlpm, "build:prod"], cwd=SOURCE, env=env, check=True)


if "bdist_wheel" in sys.argv:
    build_labextension()

setup()
