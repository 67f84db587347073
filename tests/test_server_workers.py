"""The Jupyter server as a worker: with ``WorkflowConfig.server_workers`` set, it executes queued runs."""

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fake_executor import FakeExecutor
from notebook_factory import make_notebook, write_workflow
from test_server import call

pytestmark = pytest.mark.kernels  # a Jupyter server (its nodes run on no kernel)

JUPYTER = Path(sys.executable).parent / "jupyter"


@pytest.fixture
def jp_server_config(workflow_home):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_workflow": True}},
        "WorkflowExtension": {"executor_class": "fake_executor.FakeExecutor"},
        "WorkflowConfig": {"server_workers": 1},
    }


async def wait_status(jp_fetch, run_id: str, status: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while (run := await call(jp_fetch, "runs", run_id))["status"] != status:
        assert time.monotonic() < deadline, f"run {run_id} stayed {run['status']}, never {status}"
        await asyncio.sleep(0.1)
    return run


async def test_a_server_with_workers_executes_queued_runs(jp_fetch, jp_serverapp, jp_root_dir):
    make_notebook(jp_root_dir / "never_run.ipynb", "x = 1", "raise RuntimeError('a kernel ran this')")
    path = write_workflow(jp_root_dir / "pair.workflow.json", {
        "format": "jupyter-workflow/1",
        "nodes": {"a": {"notebook": "never_run.ipynb"}, "b": {"notebook": "never_run.ipynb", "after": ["a"]}},
    })
    [extension] = jp_serverapp.extension_manager.extension_apps["jupyter_workflow"]
    await jp_serverapp.extension_manager.start_all_extensions()  # a served lab does this once its loop runs
    queued = subprocess.run([str(JUPYTER), "workflow", "run", str(path), "--queue"], capture_output=True, text=True,
                            timeout=120)
    assert queued.returncode == 0, queued.stderr

    run = await wait_status(jp_fetch, queued.stdout.strip(), "succeeded")

    assert [node["status"] for node in run["nodes"]] == ["succeeded", "succeeded"]
    assert run["trigger"] == "queue"
    executor = extension.worker._runner.engine.executor
    assert isinstance(executor, FakeExecutor) and executor.attempts == {"a": 1, "b": 1}
    [beat] = extension.service.store.heartbeats("worker")
    assert (beat.name, beat.stopped_at) == (extension.worker.name, None)
