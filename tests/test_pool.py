"""The warm kernel pool: single-use kernels, refilled under load, robust to kernels that die."""

import asyncio
import os
import signal
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import process_gone
from nbformat.v4 import new_code_cell, new_notebook
from notebook_factory import hanging_workflow, make_notebook, write_workflow

from jupyter_workflow.engine import Engine, KernelExecutor, KernelPool
from jupyter_workflow.engine.kernel_executor import NodeNotebookClient
from jupyter_workflow.engine.pool import NODE_KERNEL
from jupyter_workflow.model import load_workflow
from jupyter_workflow.runtime import ARTIFACTS_DIR_ENV

pytestmark = pytest.mark.kernels

RECORD = "from jupyter_workflow import record\n"
WHO_AM_I = RECORD + "import os\nrecord('pid', os.getpid())\nrecord('cwd', os.getcwd())\n"


def run_with_pool(path, pool: KernelPool, parallel: int = 2):
    """Run the workflow at ``path`` on ``pool``; the pool is closed afterwards."""

    async def go():
        engine = Engine(path.parent / "runs", parallel, KernelExecutor(pool))
        try:
            return await engine.run(load_workflow(path))
        finally:
            await pool.close()

    return asyncio.run(go())


def who_am_i_workflow(tmp_path):
    """A workflow of one node, ``only``, that records its kernel's pid and folder."""
    make_notebook(tmp_path / "who.ipynb", "i = 0", WHO_AM_I)
    return write_workflow(
        tmp_path / "one.workflow.json",
        {"format": "jupyter-workflow/1", "nodes": {"only": {"notebook": "who.ipynb"}}},
    )


def node_outputs(run) -> dict:
    assert run.status == "succeeded", {n: s.error for n, s in run.nodes.items() if s.error}
    return {node_id: state.outputs for node_id, state in run.nodes.items()}


def test_each_node_gets_a_fresh_process_and_nothing_leaks(tmp_path):
    make_notebook(tmp_path / "first.ipynb", "secret = 42", WHO_AM_I + "import random\nrecord('draw', random.random())")
    make_notebook(
        tmp_path / "second.ipynb",
        "after = 0",
        WHO_AM_I + "import random\nrecord('draw', random.random())\nrecord('sees_secret', 'secret' in globals())",
    )
    path = write_workflow(
        tmp_path / "two.workflow.json",
        {
            "format": "jupyter-workflow/1",
            "nodes": {
                "first": {"notebook": "first.ipynb"},
                "second": {"notebook": "second.ipynb", "after": ["first"]},
            },
        },
    )
    pool = KernelPool(size=2)
    outputs = node_outputs(run_with_pool(path, pool, parallel=1))

    assert outputs["second"]["sees_secret"] is False
    assert outputs["first"]["pid"] != outputs["second"]["pid"]
    assert outputs["first"]["draw"] != outputs["second"]["draw"]  # forked kernels are reseeded
    assert outputs["first"]["cwd"] == outputs["second"]["cwd"] == str(tmp_path)  # set at hand-over
    assert all(process_gone(outputs[node]["pid"]) for node in outputs)


def test_the_pool_refills_under_parallel_load(tmp_path):
    make_notebook(tmp_path / "work.ipynb", "i = 0", WHO_AM_I + "import time\ntime.sleep(0.2)\nrecord('i', i)")
    nodes = {f"n{i}": {"notebook": "work.ipynb", "parameters": {"i": i}} for i in range(8)}
    path = write_workflow(tmp_path / "wide.workflow.json", {"format": "jupyter-workflow/1", "nodes": nodes})
    pool = KernelPool(size=2)  # fewer kernels ahead than nodes running at once
    outputs = node_outputs(run_with_pool(path, pool, parallel=4))

    assert sorted(out["i"] for out in outputs.values()) == list(range(8))
    pids = {out["pid"] for out in outputs.values()}
    assert len(pids) == 8  # one kernel per node
    assert pool.started >= 8
    assert all(process_gone(pid) for pid in pids)


def test_a_pooled_kernel_that_dies_before_use_is_replaced(tmp_path):
    make_notebook(tmp_path / "who.ipynb", "i = 0", WHO_AM_I)
    nodes = {f"n{i}": {"notebook": "who.ipynb", "parameters": {"i": i}} for i in range(3)}
    path = write_workflow(tmp_path / "three.workflow.json", {"format": "jupyter-workflow/1", "nodes": nodes})

    async def go():
        pool = KernelPool(size=2, keep_warm=True)
        pool.expect(Counter({"python3": 2}))
        deadline = time.monotonic() + 60
        while len(pool.ready("python3")) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        victim = pool.ready("python3")[0].pid
        os.kill(victim, signal.SIGKILL)
        while not process_gone(victim):
            await asyncio.sleep(0.01)
        engine = Engine(tmp_path / "runs", 1, KernelExecutor(pool))
        try:
            return victim, await engine.run(load_workflow(path))
        finally:
            await pool.close()

    victim, run = asyncio.run(go())
    outputs = node_outputs(run)
    assert victim not in {out["pid"] for out in outputs.values()}


def test_a_kernel_that_dies_between_hand_over_and_first_cell_is_replaced(tmp_path):
    path = who_am_i_workflow(tmp_path)

    class DyingPool(KernelPool):
        """Kills the first kernel it hands over, right after the hand-over."""

        killed = []

        async def acquire(self, *args, **kwargs):
            kernel = await super().acquire(*args, **kwargs)
            if not self.killed:
                self.killed.append(kernel.pid)
                os.kill(kernel.pid, signal.SIGKILL)
            return kernel

    outputs = node_outputs(run_with_pool(path, DyingPool(size=1)))

    assert DyingPool.killed and outputs["only"]["pid"] != DyingPool.killed[0]
    assert outputs["only"]["cwd"] == str(tmp_path)


def test_the_node_kernel_imports_the_preloaded_modules_before_hand_over(tmp_path):
    make_notebook(
        tmp_path / "probe.ipynb",
        "i = 0",
        RECORD + "import sys\nrecord('preloaded', 'fractions' in sys.modules)",
    )
    path = write_workflow(
        tmp_path / "probe.workflow.json",
        {"format": "jupyter-workflow/1", "nodes": {"probe": {"notebook": "probe.ipynb"}}},
    )
    plain = node_outputs(run_with_pool(path, KernelPool(size=1, python_kernel="")))
    preloading_pool = KernelPool(size=1, preload=["fractions"])
    assert preloading_pool.resolve("python3") == NODE_KERNEL
    preloaded = node_outputs(run_with_pool(path, preloading_pool))

    assert plain["probe"] == {"preloaded": False}
    assert preloaded["probe"] == {"preloaded": True}


def test_a_node_cancelled_while_waiting_for_a_kernel_leaves_none_behind(tmp_path):
    path = who_am_i_workflow(tmp_path)

    class RecordingPool(KernelPool):
        """Remembers every kernel it finished starting; its events mark the moments of a node's kernel."""

        kernels = []

        def __init__(self, **options):
            super().__init__(**options)
            self.asked, self.started_one, self.handed = asyncio.Event(), asyncio.Event(), asyncio.Event()

        async def _start(self, *args, **kwargs):
            kernel = await super()._start(*args, **kwargs)
            self.kernels.append(kernel)
            self.started_one.set()
            return kernel

        async def acquire(self, *args, **kwargs):
            self.asked.set()
            kernel = await super().acquire(*args, **kwargs)
            self.handed.set()
            return kernel

    async def go(moment: str):
        pool = RecordingPool(size=1)
        engine = Engine(tmp_path / "runs", 1, KernelExecutor(pool))
        task = asyncio.ensure_future(engine.run(load_workflow(path)))
        await getattr(pool, moment).wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert pool.ready("python3") == []  # the run's end dropped what it had asked for
        await pool.close()

    for moment in ("asked", "started_one", "handed"):  # waiting for a kernel, one ready, one in hand
        asyncio.run(go(moment))
    assert RecordingPool.kernels
    assert all(process_gone(kernel.pid) for kernel in RecordingPool.kernels)


def test_a_downstream_kernel_is_handed_over_while_its_upstream_runs_and_dropped_if_unused(tmp_path):
    # An upstream node runs until its downstream node's kernel is handed over (the pool leaves a file).
    wait = "import pathlib, time\nwhile not pathlib.Path(handed).exists():\n    time.sleep(0.01)\n"
    make_notebook(tmp_path / "slow.ipynb", "fail = False\nhanded = ''", WHO_AM_I + wait + "assert not fail")
    make_notebook(tmp_path / "who.ipynb", "i = 0", WHO_AM_I)
    nodes = {
        "slow": {"notebook": "slow.ipynb", "parameters": {"handed": str(tmp_path / "next.handed")}, "timeout": 120},
        "next": {"notebook": "who.ipynb", "after": ["slow"]},
        "bad": {"notebook": "slow.ipynb", "parameters": {"fail": True, "handed": str(tmp_path / "after_bad.handed")},
                "timeout": 120},
        "after_bad": {"notebook": "who.ipynb", "after": ["bad"]},
    }
    path = write_workflow(tmp_path / "ahead.workflow.json", {"format": "jupyter-workflow/1", "nodes": nodes})

    class WatchedPool(KernelPool):
        """Remembers which node got which kernel, and when it was handed over; leaves ``<node>.handed``."""

        handed = {}

        async def acquire(self, kernel_name, cwd, env, announced=False):
            kernel = await super().acquire(kernel_name, cwd, env, announced)
            node = Path(env[ARTIFACTS_DIR_ENV]).name
            self.handed[node] = (time.time(), kernel)
            (tmp_path / f"{node}.handed").touch()
            return kernel

    async def go():
        pool = WatchedPool(size=2)
        engine = Engine(tmp_path / "runs", 4, KernelExecutor(pool))
        try:
            run = await engine.run(load_workflow(path))
            return run, {node: process_gone(kernel.pid) for node, (_, kernel) in pool.handed.items()}
        finally:
            await pool.close()

    run, gone_at_run_end = asyncio.run(go())
    handed = WatchedPool.handed

    assert [run.nodes[n].status for n in nodes] == ["succeeded", "succeeded", "failed", "skipped"]
    assert handed["next"][0] < run.nodes["slow"].finished_at.timestamp()  # ready before its upstream ended
    assert run.nodes["next"].outputs["cwd"] == str(tmp_path)
    assert run.nodes["next"].outputs["pid"] == handed["next"][1].pid != run.nodes["slow"].outputs["pid"]
    assert "after_bad" in handed  # made ready ahead, then not used: killed by the run's end
    assert gone_at_run_end == {node: True for node in nodes}


def test_a_node_kernel_that_cannot_enter_its_folder_runs_none_of_the_cells(tmp_path):
    notebook = new_notebook(cells=[new_code_cell("print('first')"), new_code_cell("print('second')")])

    async def go():
        pool = KernelPool(size=1)
        try:
            kernel = await pool.acquire("python3", tmp_path / "missing", {})
            try:
                await NodeNotebookClient(notebook, kernel).run_cells()
            finally:
                pool.discard(kernel)
        finally:
            await pool.close()

    asyncio.run(go())
    first, second = notebook.cells
    assert [output.get("ename") for output in first.outputs] == ["RuntimeError"]
    assert "could not take its node" in first.outputs[0]["evalue"] and "missing" in first.outputs[0]["evalue"]
    assert second.outputs == [] and second.execution_count is None


def test_a_cancelled_node_leaves_no_task_running_on_the_loop(tmp_path):
    """What the loop runs for a node ends with it: a server's loop goes on, and a task left would outlive the run."""
    path, pid_file = hanging_workflow(tmp_path), tmp_path / "hang.pid"

    async def cancel_while_it_runs():
        pool = KernelPool(size=1)
        engine = Engine(tmp_path / "runs", 1, KernelExecutor(pool))
        run = asyncio.ensure_future(engine.run(load_workflow(path)))
        while not pid_file.exists() and not run.done():
            await asyncio.sleep(0.05)
        run.cancel()
        await asyncio.wait([run])
        await pool.close()
        return [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]

    assert asyncio.run(cancel_while_it_runs()) == []
    assert process_gone(int(pid_file.read_text()))
