"""The scheduler inside the Jupyter server: on by default, fires the store's schedules, stops with the server; off by configuration."""

import pytest
from labsession import wait_until
from notebook_factory import make_notebook, write_workflow

from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels  # a Jupyter server (the queued runs are executed by no one here)


def extension(serverapp):
    [app] = serverapp.extension_manager.extension_apps["jupyter_workflow"]
    return app


@pytest.fixture
def schedule(workflow_home, jp_root_dir):
    make_notebook(jp_root_dir / "double.ipynb", "x: int = 1", "record('y', x * 2)")
    workflow = write_workflow(jp_root_dir / "double.workflow.json", {
        "format": "jupyter-workflow/1", "nodes": {"a": {"notebook": "double.ipynb"}}})
    store = RunStore(workflow_home.db_url)
    schedule = store.create_schedule(name="every second", workflow_path=str(workflow), cron="* * * * * *",
                                     max_concurrent=100)
    yield store, schedule
    store.close()


async def test_the_server_fires_schedules_and_stops_its_scheduler_with_it(schedule, jp_serverapp):
    store, created = schedule
    app = extension(jp_serverapp)
    assert app.scheduler_thread.is_alive()
    fires = wait_until(lambda: [fire for fire in store.list_fires(created.id) if fire.status == "queued"], 30,
                       "a fire of the server's scheduler with its run")
    run = store.get_run(fires[0].run_id)
    assert (run.status, run.trigger) == ("queued", "schedule")
    [beat] = store.heartbeats("scheduler")
    assert beat.stopped_at is None and beat.name == app.scheduler_thread.name
    await app.stop_scheduler()
    assert not app.scheduler_thread.is_alive()
    assert store.heartbeats("scheduler")[0].stopped_at is not None


class TestTurnedOff:
    @pytest.fixture
    def jp_server_config(self, workflow_home):
        return {"ServerApp": {"jpserver_extensions": {"jupyter_workflow": True}},
                "WorkflowConfig": {"scheduler": False}}

    async def test_a_server_configured_without_the_scheduler_fires_nothing(self, schedule, jp_serverapp, jp_fetch):
        store, created = schedule
        assert extension(jp_serverapp).scheduler_thread is None
        response = await jp_fetch("workflow", "api", "runs", method="GET")  # the server answers all the same
        assert response.code == 200
        assert store.heartbeats("scheduler") == [] and store.list_fires(created.id) == []
