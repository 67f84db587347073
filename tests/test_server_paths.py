"""Paths through the REST API: one containment rule, run folders and hidden folders left out, names refused.

The server here keeps its runs folder under its root, as a user who serves their home
folder does.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from notebook_factory import make_notebook, write_workflow
from test_server import call

pytestmark = pytest.mark.kernels

JUPYTER = Path(sys.executable).parent / "jupyter"


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir, workflow_home, monkeypatch):
    """conftest's server, with its runs folder under the served folder."""
    workflow_home.runs_dir = jp_root_dir / "runs"
    monkeypatch.setenv("JUPYTER_WORKFLOW_RUNS_DIR", str(workflow_home.runs_dir))
    return jp_server_config


@pytest.fixture
def outside(tmp_path):
    """A folder beside the served one, with a notebook nobody may see through the server."""
    make_notebook(tmp_path / "outside" / "secret.ipynb", "password = 'hunter2'",
                  metadata={"jupyter_workflow": {"description": "SECRET description"}})
    return tmp_path / "outside"


async def test_the_listing_shows_no_notebook_outside_the_root_whatever_the_links(jp_fetch, jp_root_dir, outside):
    make_notebook(jp_root_dir / "shared" / "inner.ipynb", "x = 1")
    (jp_root_dir / "linked_out").symlink_to(outside, target_is_directory=True)
    (jp_root_dir / "alias.ipynb").symlink_to(outside / "secret.ipynb")
    (jp_root_dir / "components").mkdir()
    (jp_root_dir / "components" / "inner").symlink_to(jp_root_dir / "shared", target_is_directory=True)
    (jp_root_dir / "shared" / "loop").symlink_to(jp_root_dir / "shared", target_is_directory=True)

    listed = await call(jp_fetch, "components")
    assert [c["path"] for c in listed["components"]] == ["components/inner/inner.ipynb"]
    assert "SECRET" not in str(listed) and "hunter2" not in str(listed)
    for path in ("alias.ipynb", "linked_out/secret.ipynb"):
        await call(jp_fetch, "components", path, expect=403)
    await call(jp_fetch, "components", params={"folder": "linked_out"}, expect=403)


async def test_the_listing_leaves_out_run_and_hidden_folders_and_comes_in_pages(jp_fetch, jp_root_dir):
    for name in ("a", "b", "c", "d", "e"):
        make_notebook(jp_root_dir / "nbs" / f"{name}.ipynb", "x = 1")
    make_notebook(jp_root_dir / "runs" / ("0" * 32) / "nodes" / "a.ipynb", "x = 1")  # an executed notebook
    make_notebook(jp_root_dir / "nbs" / ".ipynb_checkpoints" / "a-checkpoint.ipynb", "x = 1")
    make_notebook(jp_root_dir / ".hidden" / "h.ipynb", "x = 1")
    make_notebook(jp_root_dir / "nbs" / ".h.ipynb", "x = 1")

    pages, cursor = [], None
    while True:
        page = await call(jp_fetch, "components", params={"limit": "2", **({"cursor": cursor} if cursor else {})})
        pages.append([c["path"] for c in page["components"]])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == [["nbs/a.ipynb", "nbs/b.ipynb"], ["nbs/c.ipynb", "nbs/d.ipynb"], ["nbs/e.ipynb"]]
    everything = await call(jp_fetch, "components")
    assert len(everything["components"]) == 5 and everything["next_cursor"] is None
    await call(jp_fetch, "components", params={"limit": "0"}, expect=400)
    await call(jp_fetch, "components", params={"cursor": "not a cursor!"}, expect=400)


async def test_a_retry_through_the_server_stays_inside_its_root(jp_fetch, tmp_path, workflow_home):
    marker = tmp_path / "outside-executed"
    make_notebook(tmp_path / "elsewhere" / "touch.ipynb", f"marker = {str(marker)!r}\nfail = True",
                  "import pathlib\npathlib.Path(marker).write_text('ran')\nassert not fail")
    path = write_workflow(tmp_path / "elsewhere" / "touch.workflow.json",
                          {"format": "jupyter-workflow/1", "nodes": {"touch": {"notebook": "touch.ipynb"}}})
    done = subprocess.run([str(JUPYTER), "workflow", "run", str(path), "--json"], capture_output=True, text=True,
                          env={**os.environ, "JUPYTER_WORKFLOW_RUNS_DIR": str(tmp_path / "cli-runs")})
    assert done.returncode == 1, done.stderr
    marker.unlink()
    cli_run = (await call(jp_fetch, "runs"))["runs"][0]
    assert cli_run["trigger"] == "cli" and cli_run["status"] == "failed"

    refused = await call(jp_fetch, "runs", cli_run["id"], "retry", method="POST", expect=403)
    assert "outside the server root" in refused["message"]
    assert [run["id"] for run in (await call(jp_fetch, "runs"))["runs"]] == [cli_run["id"]]
    assert not marker.exists()


async def test_paths_with_control_characters_are_refused_everywhere(jp_fetch, jp_root_dir):
    spec = {"format": "jupyter-workflow/1", "nodes": {}}
    for name in ("new\nline.workflow.json", "tab\t.workflow.json", "bell\x07.workflow.json", "nul\x00.workflow.json"):
        body = {"path": name, "spec": spec, "base_version": None}
        answer = await call(jp_fetch, "workflows", method="PUT", body=body, expect=400)
        assert "control character" in answer["message"] and answer["errors"][0]["pointer"] == "/path"
        await call(jp_fetch, "runs", method="POST", body={"path": name}, expect=400)
        await call(jp_fetch, "validate", method="POST", body={"path": name}, expect=400)
        await call(jp_fetch, "components", name.replace(".workflow.json", ".ipynb"), expect=400)
    # Query arguments: tornado turns the other control characters into spaces before the API sees them.
    for name in ("new\nline.workflow.json", "tab\there/x.workflow.json"):
        await call(jp_fetch, "workflows", params={"path": name}, expect=400)
        await call(jp_fetch, "components", params={"folder": name.removesuffix("/x.workflow.json")}, expect=400)
    assert sorted(path.name for path in jp_root_dir.iterdir()) == []
