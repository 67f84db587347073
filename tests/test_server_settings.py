"""The server extension's swappable parts: executor and store classes set in its configuration."""

import json

import pytest
from fake_executor import FakeExecutor
from notebook_factory import make_notebook, write_workflow
from test_server import call, wait_finished

from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels  # a Jupyter server (its nodes run on no kernel)


class RecordingStore(RunStore):
    """A run store that also remembers the runs it was asked to begin."""

    begun: list[str] = []

    def begin(self, run, note=None):
        RecordingStore.begun.append(run.run_id)
        return super().begin(run, note)


@pytest.fixture
def jp_server_config(workflow_home):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_workflow": True}},
        "WorkflowExtension": {
            "executor_class": "fake_executor.FakeExecutor",
            "store_class": "test_server_settings.RecordingStore",
        },
    }


async def test_the_server_builds_the_executor_and_store_classes_it_is_configured_with(jp_fetch, jp_serverapp, jp_root_dir):
    make_notebook(jp_root_dir / "never_run.ipynb", "x = 1", "raise RuntimeError('a kernel ran this')")
    write_workflow(jp_root_dir / "pair.workflow.json", {
        "format": "jupyter-workflow/1",
        "nodes": {"a": {"notebook": "never_run.ipynb"}, "b": {"notebook": "never_run.ipynb", "after": ["a"]}},
    })
    [extension] = jp_serverapp.extension_manager.extension_apps["jupyter_workflow"]
    executor = extension.service.runner.engine.executor
    assert isinstance(executor, FakeExecutor) and isinstance(extension.service.store, RecordingStore)

    started = await call(jp_fetch, "runs", method="POST", body={"path": "pair.workflow.json"}, expect=202)
    run = await wait_finished(jp_fetch, started["run_id"])

    assert run["status"] == "succeeded", json.dumps(run)
    assert [node["status"] for node in run["nodes"]] == ["succeeded", "succeeded"]
    assert executor.attempts == {"a": 1, "b": 1} and started["run_id"] in RecordingStore.begun
