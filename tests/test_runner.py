"""The one assembly (``Runner``) on the fake executor: what it builds, closes and retries."""

import asyncio

import pytest
from fake_executor import FakeExecutor, Script
from notebook_factory import make_notebook, write_workflow

from jupyter_workflow.config import resolve_config
from jupyter_workflow.model import load_workflow
from jupyter_workflow.runner import CannotRetry, Runner
from jupyter_workflow.store import RunStore


@pytest.fixture
def pair(tmp_path):
    """``a`` then ``b``, which takes ``a``'s output ``n`` (the notebooks only need to exist)."""
    make_notebook(tmp_path / "a.ipynb", None)
    make_notebook(tmp_path / "b.ipynb", "n = 0")
    return write_workflow(tmp_path / "pair.workflow.json", {
        "format": "jupyter-workflow/1",
        "nodes": {"a": {"notebook": "a.ipynb"}, "b": {"notebook": "b.ipynb", "parameters": {"n": {"output": "a.n"}}}},
    })


def run_to_the_end(runner: Runner, prepare):
    async def go():
        try:
            return await runner.execute(await asyncio.to_thread(prepare, runner))
        finally:
            await runner.close()

    return asyncio.run(go())


def test_a_retry_runs_only_what_did_not_succeed(pair, workflow_home):
    settings = resolve_config()
    fake = FakeExecutor({"a": Script(outputs={"n": 21}), "b": Script(failures=1, outputs=lambda p: {"double": p["n"] * 2})})
    first = run_to_the_end(Runner.from_config(settings, executor=fake),
                           lambda runner: runner.new_run(load_workflow(pair), {}, trigger="api", user=None))
    assert (first.status, first.nodes["b"].status) == ("failed", "failed")

    retried = run_to_the_end(Runner.from_config(settings, executor=fake),
                             lambda runner: runner.retry_run(first.run_id[:8], trigger="retry", user="ada"))

    assert retried.status == "succeeded" and retried.retry_of == first.run_id
    assert {node_id: node.status for node_id, node in retried.nodes.items()} == {"a": "cached", "b": "succeeded"}
    assert retried.nodes["b"].outputs == {"double": 42}
    assert fake.attempts == {"a": 1, "b": 2}  # a ran once, in the first run


def test_the_runner_closes_what_it_built_and_leaves_what_it_was_given(pair, workflow_home):
    settings = resolve_config()
    given_store, given_executor = RunStore(settings.db_url), FakeExecutor({"a": Script(outputs={"n": 1})})
    try:
        run = run_to_the_end(Runner.from_config(settings, store=given_store, executor=given_executor),
                             lambda runner: runner.new_run(load_workflow(pair), {}, trigger="api", user=None))
        assert not given_executor.closed
        assert given_store.get_run(run.run_id).status == "succeeded"  # still open
    finally:
        given_store.close()

    built = Runner.from_config(settings, executor_class=FakeExecutor)
    asyncio.run(built.close())
    assert built.engine.executor.closed


def test_a_store_opened_for_a_runner_that_cannot_be_built_is_closed(workflow_home):
    closed = []

    class TrackedStore(RunStore):
        def close(self):
            closed.append(self)
            super().close()

    class Unbuildable:
        @classmethod
        def from_config(cls, settings, **options):
            raise RuntimeError("no executor here")

    with pytest.raises(RuntimeError, match="no executor here"):
        Runner.from_config(resolve_config(), store_class=TrackedStore, executor_class=Unbuildable)
    assert len(closed) == 1


def test_a_run_of_a_document_sent_to_a_server_is_retried_there_only(pair, workflow_home):
    settings = resolve_config()
    inline = load_workflow(pair)
    inline.path = None  # as a document sent in a request body is stored: no file
    fake = FakeExecutor({"b": Script(failures=1)})
    first = run_to_the_end(Runner.from_config(settings, executor=fake),
                           lambda runner: runner.new_run(inline, {}, trigger="server", user=None))
    runner = Runner.from_config(settings, executor=fake)
    try:
        with pytest.raises(CannotRetry, match="retry it there"):
            runner.retry_run(first.run_id, trigger="retry", user=None)
    finally:
        asyncio.run(runner.close())
