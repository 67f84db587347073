"""How a node's cells run: every cell that does not complete fails its node, none runs after it.

Real kernels and notebooks shaped like the ones papermill and Ploomber users write.
"""

import asyncio
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from notebook_factory import write_workflow

import jupyter_workflow
from jupyter_workflow.engine import Engine, KernelExecutor, KernelPool
from jupyter_workflow.model import load_workflow
from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels

KERNELSPEC = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
PARAMETERS = new_code_cell("marker = ''", metadata={"tags": ["parameters"]})
SIDE_EFFECT = "import pathlib\npathlib.Path(marker).write_text('this cell ran')"
PAPERMILL_MARKER = "papermill-error-cell-tag"


def notebook_file(path: Path, *cells) -> Path:
    """A notebook of a ``parameters`` cell (``marker``, a file path) and ``cells`` (sources or cells)."""
    cells = [new_code_cell(cell) if isinstance(cell, str) else cell for cell in cells]
    nbformat.write(new_notebook(cells=[PARAMETERS, *cells], metadata=KERNELSPEC), path)
    return path


def workflow(tmp_path, nodes: dict) -> Path:
    """A workflow of one node per entry of ``nodes`` (node id → notebook file name), each with its own marker."""
    document = {
        "format": "jupyter-workflow/1",
        "nodes": {
            node_id: {"notebook": notebook, "parameters": {"marker": str(tmp_path / "markers" / node_id)}}
            for node_id, notebook in nodes.items()
        },
    }
    (tmp_path / "markers").mkdir(exist_ok=True)
    return write_workflow(tmp_path / "cells.workflow.json", document)


def markers(tmp_path) -> list[str]:
    """The nodes whose side-effect cell ran."""
    return sorted(path.name for path in (tmp_path / "markers").iterdir())


def executed(run, node_id: str):
    return nbformat.read(run.nodes[node_id].notebook, as_version=4)


def test_a_cell_failing_without_an_error_output_fails_its_node_at_that_cell(tmp_path, workflow_home):
    """An unknown line magic raises IPython's UsageError, which leaves only a stderr stream."""
    notebook_file(tmp_path / "magic.ipynb", "%this_magic_does_not_exist", SIDE_EFFECT)
    run = jupyter_workflow.run(workflow(tmp_path, {"magic": "magic.ipynb"}))

    assert markers(tmp_path) == []
    assert run.status == "failed"
    error = run.nodes["magic"].error
    assert error["ename"] == "UsageError" and "this_magic_does_not_exist" in error["evalue"]
    assert error["traceback"].startswith("UsageError: ")  # the kernel gave none: its name and value
    # parameters (In [1]), injected parameters (In [2]), the magic (In [3])
    assert error["execution_count"] == 3
    notebook = executed(run, "magic")
    failing = notebook.cells[error["cell_index"]]
    assert failing.source == "%this_magic_does_not_exist" and failing.execution_count == 3
    assert PAPERMILL_MARKER in notebook.cells[0].metadata["tags"]  # papermill's markers, as for any failure
    assert "In [3]" in notebook.cells[0].source
    assert PAPERMILL_MARKER in notebook.cells[error["cell_index"] - 1].metadata["tags"]
    stored = RunStore(workflow_home.db_url).get_run(run.run_id)
    assert stored.status == "failed" and stored.error["cell_index"] == error["cell_index"]


class TouchWhenPrinted:
    """A run listener that creates ``path`` once a node prints ``text``.

    The engine reads a cell's output only after the cells before it are done (reply and
    all), so a cell that waits for the file knows they were.
    """

    def __init__(self, text: str, path: Path):
        self.text, self.path = text, path

    def begin(self, run) -> None:
        pass

    def record(self, run, event) -> None:
        if event.type == "node.output" and self.text in event.data["text"]:
            self.path.touch()


@pytest.mark.parametrize(
    "ending",
    ["exit()", "quit()", "import os\nos._exit(0)", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"],
)
def test_a_kernel_ending_in_a_middle_cell_fails_its_node(tmp_path, workflow_home, ending):
    seen = tmp_path / "seen"
    ends = f"print('ending')\nimport pathlib, time\nwhile not pathlib.Path({str(seen)!r}).exists():\n    time.sleep(0.01)\n{ending}"
    notebook_file(tmp_path / "ends.ipynb", "print('before')", ends, SIDE_EFFECT)
    run = jupyter_workflow.run(workflow(tmp_path, {"ends": "ends.ipynb"}), listeners=[TouchWhenPrinted("ending", seen)])

    assert markers(tmp_path) == []
    assert run.status == "failed"
    error = run.nodes["ends"].error
    assert error["execution_count"] == 4 and executed(run, "ends").cells[error["cell_index"]].source == ends
    assert error["ename"] in ("KernelExited", "DeadKernelError") and error["evalue"]


KILL_ONCE_SEEN = """\
import os, pathlib, signal, threading, time

def kill_once_seen():
    while not pathlib.Path(marker + '.seen').exists():
        time.sleep(0.01)
    os.kill(os.getpid(), signal.SIGKILL)

threading.Thread(target=kill_once_seen).start()"""


def test_a_kernel_killed_after_a_cell_fails_its_node_at_the_cell_it_did_not_answer(tmp_path, workflow_home):
    running = "print('running')\nimport time\ntime.sleep(60)"
    notebook_file(tmp_path / "killed.ipynb", KILL_ONCE_SEEN, running, SIDE_EFFECT)
    seen = TouchWhenPrinted("running", tmp_path / "markers" / "killed.seen")
    run = jupyter_workflow.run(workflow(tmp_path, {"killed": "killed.ipynb"}), listeners=[seen])

    assert markers(tmp_path) == ["killed.seen"]
    error = run.nodes["killed"].error
    assert run.status == "failed" and error["ename"] == "DeadKernelError"
    assert error["execution_count"] == 4 and executed(run, "killed").cells[error["cell_index"]].source == running


def test_a_cell_the_kernel_aborts_instead_of_running_fails_its_node(tmp_path, workflow_home):
    abort_next = "get_ipython().kernel._aborting = True  # as ipykernel does after an error"
    notebook_file(tmp_path / "aborts.ipynb", abort_next, SIDE_EFFECT)
    run = jupyter_workflow.run(workflow(tmp_path, {"aborts": "aborts.ipynb"}))

    assert markers(tmp_path) == []
    error = run.nodes["aborts"].error
    assert run.status == "failed" and error["ename"] == "CellAborted"
    assert executed(run, "aborts").cells[error["cell_index"]].source == SIDE_EFFECT


@pytest.mark.parametrize("ending", ["import sys\nsys.exit(0)", "import sys\nsys.exit()", "raise SystemExit"])
def test_a_system_exit_of_zero_ends_its_node_early_and_successfully_as_in_papermill(tmp_path, workflow_home, ending):
    record = "from jupyter_workflow import record\nrecord('done', 'before the exit')"
    notebook_file(tmp_path / "done.ipynb", record, ending, SIDE_EFFECT)
    run = jupyter_workflow.run(workflow(tmp_path, {"done": "done.ipynb"}))

    assert markers(tmp_path) == []
    assert run.status == "succeeded", run.error
    assert run.nodes["done"].outputs == {"done": "before the exit"}
    assert executed(run, "done").cells[-1].execution_count is None


def test_a_system_exit_with_another_value_fails_its_node(tmp_path, workflow_home):
    notebook_file(tmp_path / "exit.ipynb", "import sys\nsys.exit('no data today')", SIDE_EFFECT)
    run = jupyter_workflow.run(workflow(tmp_path, {"exit": "exit.ipynb"}))

    assert markers(tmp_path) == []
    error = run.nodes["exit"].error
    assert run.status == "failed" and (error["ename"], error["evalue"]) == ("SystemExit", "no data today")


def test_a_cell_that_allows_errors_does_not_fail_its_node(tmp_path, workflow_home):
    tolerated = new_code_cell("raise ValueError('expected')", metadata={"tags": ["raises-exception"]})
    notebook_file(tmp_path / "tolerates.ipynb", tolerated, SIDE_EFFECT)
    run = jupyter_workflow.run(workflow(tmp_path, {"tolerates": "tolerates.ipynb"}))

    assert run.status == "succeeded", run.error
    assert markers(tmp_path) == ["tolerates"]
    assert [o.get("ename") for o in executed(run, "tolerates").cells[2].outputs] == ["ValueError"]


def test_the_executed_notebook_shows_only_what_this_run_produced(tmp_path, workflow_home):
    """Cells of the source that carry old outputs and counts, and do not run now, are cleared."""

    def stale(cell, count=7):
        cell.execution_count = count
        cell.outputs = [new_output("execute_result", {"text/plain": "3"}, execution_count=count)]
        cell.metadata["execution"] = {"iopub.status.busy": "2020-01-01T00:00:00Z"}
        return cell

    nbformat.write(
        new_notebook(
            cells=[
                stale(new_code_cell("n = 1", metadata={"tags": ["parameters"]}), 1),
                stale(new_code_cell("", metadata={})),
                stale(new_code_cell("print('skipped')", metadata={"tags": ["skip-execution"]})),
                new_markdown_cell("# notes"),
                stale(new_code_cell("n + 1"), 2),
                stale(new_code_cell("raise ValueError(n)")),
                stale(new_code_cell("n + 2"), 9),
            ],
            metadata=KERNELSPEC,
        ),
        tmp_path / "stale.ipynb",
    )
    document = {"format": "jupyter-workflow/1", "nodes": {"stale": {"notebook": "stale.ipynb", "parameters": {"n": 5}}}}
    run = jupyter_workflow.run(write_workflow(tmp_path / "stale.workflow.json", document))

    assert run.status == "failed"
    code = {cell.source: cell for cell in executed(run, "stale").cells if cell.cell_type == "code"}
    for source in ("", "print('skipped')", "n + 2"):  # did not run in this run
        assert (code[source].outputs, code[source].execution_count) == ([], None)
        assert "execution" not in code[source].metadata
    assert [o.data["text/plain"] for o in code["n + 1"].outputs] == ["6"]
    assert code["n + 1"].execution_count == 3
    assert [o.ename for o in code["raise ValueError(n)"].outputs] == ["ValueError"]


@pytest.fixture
def cpu_hogs():
    """Three processes spinning on the CPU beside the test, killed at its end."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    yield hogs
    for hog in hogs:
        hog.kill()
        hog.wait()


def test_no_cell_runs_after_a_failing_one_even_under_cpu_load(tmp_path, workflow_home, cpu_hogs):
    """The node's cells go to its kernel all at once; the kernel refuses those after a failure."""
    notebook_file(tmp_path / "value_error.ipynb", "raise ValueError('stop here')", SIDE_EFFECT)
    notebook_file(tmp_path / "magic.ipynb", "%this_magic_does_not_exist", SIDE_EFFECT)
    nodes = {f"{kind}_{index}": f"{kind}.ipynb" for kind in ("value_error", "magic") for index in range(6)}
    path = workflow(tmp_path, nodes)
    for _ in range(6):  # 72 failing nodes in all
        run = jupyter_workflow.run(path, parallel=4)
        assert markers(tmp_path) == [], "a cell ran after a failing one"
        assert {node.status for node in run.nodes.values()} == {"failed"}


def test_a_kernel_that_does_not_stop_at_failures_gets_the_cells_one_by_one(tmp_path, cpu_hogs):
    """A plain IPython kernel (``python_kernel = ""``) does not announce that it stops: nothing is sent ahead."""
    notebook_file(tmp_path / "value_error.ipynb", "raise ValueError('stop here')", SIDE_EFFECT)
    notebook_file(tmp_path / "magic.ipynb", "%this_magic_does_not_exist", SIDE_EFFECT)
    path = workflow(tmp_path, {f"{kind}_{index}": f"{kind}.ipynb" for kind in ("value_error", "magic") for index in range(2)})
    pool = KernelPool(size=2, python_kernel="")

    async def run_and_close():
        try:
            return await Engine(tmp_path / "runs", 2, KernelExecutor(pool)).run(load_workflow(path))
        finally:
            await pool.close()

    run = asyncio.run(run_and_close())
    assert markers(tmp_path) == []
    assert {node.status for node in run.nodes.values()} == {"failed"}
    assert {node.error["ename"] for node in run.nodes.values()} == {"ValueError", "UsageError"}
