"""The Python API: run a workflow file from a script or a notebook."""

import asyncio
import getpass
import threading

from jupyter_workflow.config import resolve_config
from jupyter_workflow.engine import Engine, RunListener, RunState
from jupyter_workflow.model import load_workflow
from jupyter_workflow.store import RunStore


def run_blocking(coroutine):
    """Run ``coroutine`` to completion, also from inside a running event loop (a notebook).

    There the coroutine runs on a loop of its own in a thread; interrupting the caller
    (the kernel's stop button) cancels it, which cancels the run and kills its kernels.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    loop = asyncio.new_event_loop()
    task = loop.create_task(coroutine)
    finished = threading.Event()  # not Thread.join: an interrupted join leaves the thread's state wrong

    def drive():
        try:
            loop.run_until_complete(task)
        except BaseException:  # the task keeps its outcome; task.result() re-raises it below
            pass
        finally:
            loop.close()
            finished.set()

    threading.Thread(target=drive, name="jupyter-workflow").start()
    try:
        while not finished.wait(0.1):
            pass
    except KeyboardInterrupt:
        loop.call_soon_threadsafe(task.cancel)
        finished.wait()
        raise
    return task.result()


def run(
    path,
    inputs: dict | None = None,
    parallel: int | None = None,
    *,
    db_url: str | None = None,
    runs_dir: str | None = None,
    trigger: str = "api",
    listeners: list[RunListener] = (),
) -> RunState:
    """Run the workflow file at ``path`` with ``inputs`` and wait for the end.

    Returns the final :class:`~jupyter_workflow.engine.RunState`: ``status``,
    ``outputs`` (artifacts as ``ArtifactRef``, whose ``load()`` gives the object),
    ``error`` and ``nodes`` (per node: status, duration, executed notebook, outputs,
    error). The run is kept in the run store. Invalid workflows or inputs raise
    :class:`~jupyter_workflow.model.InvalidWorkflow` before anything runs.
    """
    settings = resolve_config(db_url=db_url, runs_dir=runs_dir, parallel=parallel)
    workflow = load_workflow(path, inputs=inputs or {})
    store = RunStore(settings.db_url)
    engine = Engine(settings.runs_dir, settings.max_parallel, listeners=[store, *listeners], cache=store)
    try:
        return run_blocking(engine.run(workflow, inputs, trigger=trigger, user=getpass.getuser()))
    finally:
        engine.close()
        store.close()
