"""The ways of running a workload that are not ours, and the subprocess plumbing they share.

* papermill CLI, node by node in topological order: one ``papermill in.ipynb out.ipynb
  -p x 3`` subprocess per node, what a user would script. Each node is handed its
  upstream values as ``-p`` (``-y`` for a list): baselines are not charged for reading
  values back from the upstream notebooks, which favours them.
* papermill ``execute_notebook`` in a loop, in one long-lived process (papermill
  imported and its first node executed once, untimed, before the timed rounds).
* Ploomber ``ploomber build --force``, with the serial and the parallel executor.
* The floor: every node's cells (its ``parameters`` cell, the injected values as plain
  assignments, its body) executed back to back on ONE already-running kernel; no kernel
  start is timed.

Every subprocess runs in a session of its own; on any exit (a timeout, Ctrl-C, the
SIGTERM ``run.py`` turns into ``SystemExit``) its whole process group gets SIGTERM, then
SIGKILL. Kernels run in sessions of their own (jupyter_client, a fork server), out of
that group's reach, so every subprocess also carries a marker in its environment
(:data:`MARKER_ENV`, inherited by everything it starts): :func:`reap` ends whatever still
carries this run's marker after each row.

Run as a script, this module is the driver of the in-process rows::

    python baselines.py papermill-loop|floor SPEC.json RESULT.json
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
MARKER_ENV = "JUPYTER_WORKFLOW_BENCH_SESSION"
STOP_GRACE_S = 10
TAIL_LINES = 12


class RowFailed(RuntimeError):
    """One way of running a workload failed; the row shows the reason, the section goes on."""


# --- subprocesses ---------------------------------------------------------------------------------


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM to ``process``'s group, SIGKILL to what is left after a grace period."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            # The leader is gone; its group may not be: finish it off.
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue
        return


def marked_processes(marker: str) -> list[int]:
    """Pids of processes whose environment carries ``MARKER_ENV=marker``: this run's descendants."""
    needle = f"{MARKER_ENV}={marker}".encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes().split(b"\0"):
                pids.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return pids


def reap(marker: str, grace: float = 3) -> int:
    """Give this run's leftover processes ``grace`` seconds to end, then SIGKILL them; returns how many were killed."""
    deadline = time.monotonic() + grace
    while (pids := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])


def run_process(command: list, env: dict, cwd=None, timeout: float = 3600, check: bool = True) -> tuple:
    """Run ``command`` to its end; returns (wall seconds, stdout, stderr).

    A non-zero exit raises :class:`RowFailed`; with ``check=False`` the exit code comes
    back instead, as (wall seconds, code, stdout, stderr).
    """
    began = time.perf_counter()
    process = subprocess.Popen(
        [str(part) for part in command], env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_group(process)
        raise RowFailed(f"{Path(command[0]).name} did not finish within {timeout:.0f} s") from None
    except BaseException:
        stop_group(process)
        raise
    wall = time.perf_counter() - began
    if not check:
        return wall, process.returncode, stdout, stderr
    if process.returncode != 0:
        raise RowFailed(f"{Path(command[0]).name} exited with {process.returncode}:\n{tail(stderr or stdout)}")
    return wall, stdout, stderr


def run_driver(script: Path, mode: str, spec: dict, folder: Path, env: dict, timeout: float = 7200) -> dict:
    """Run ``script mode SPEC RESULT`` in a subprocess; returns the result it wrote."""
    folder.mkdir(parents=True, exist_ok=True)
    spec_path, result_path = folder / f"{mode}.spec.json", folder / f"{mode}.result.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    try:
        run_process([sys.executable, script, mode, spec_path, result_path], env, cwd=folder, timeout=timeout)
    except RowFailed as failure:
        if result_path.exists():  # the driver explained itself
            raise RowFailed(json.loads(result_path.read_text())["error"]) from None
        raise failure
    return json.loads(result_path.read_text())


def interrupt(signum, frame):
    raise KeyboardInterrupt


def driver_main(modes: dict) -> int:
    """Entry point of a driver script: ``MODE SPEC RESULT``; writes the result, or ``{"error"}`` and exits 1."""
    signal.signal(signal.SIGTERM, interrupt)  # unwind like Ctrl-C: runs are cancelled, kernels shut down
    mode, spec_path, result_path = sys.argv[1:4]
    spec = json.loads(Path(spec_path).read_text())
    try:
        result = modes[mode](spec)
    except RowFailed as error:  # a result the driver checked and found wrong
        Path(result_path).write_text(json.dumps({"error": str(error)}))
        return 1
    except Exception as error:  # reported as the row's reason
        import traceback

        Path(result_path).write_text(json.dumps({"error": f"{type(error).__name__}: {error}\n"
                                                 f"{tail(traceback.format_exc(), 6)}"}))
        return 1
    Path(result_path).write_text(json.dumps(result))
    return 0


# --- papermill CLI, node by node ---------------------------------------------------------------


def papermill_arguments(params: dict) -> list[str]:
    """``-p name value`` for scalars (as a user types them), ``-y 'name: [..]'`` for the rest."""
    arguments = []
    for name, value in params.items():
        if isinstance(value, (bool, int, float, str)):
            arguments += ["-p", name, str(value)]
        else:
            arguments += ["-y", f"{name}: {json.dumps(value)}"]
    return arguments


def papermill_cli(workload, out: Path, env: dict) -> float:
    """Wall time of one papermill subprocess per node, in topological order."""
    out.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    for node_id, node in workload.nodes.items():
        command = [BIN / "papermill", node.notebook, out / f"{node_id}.ipynb", *papermill_arguments(node.params)]
        run_process(command, env, cwd=workload.folder)
    return time.perf_counter() - began


# --- Ploomber -------------------------------------------------------------------------------------


def ploomber_build(workload, executor: str, env: dict) -> float:
    """Wall time of ``ploomber build --force`` on the workload's serial or parallel spec."""
    command = [BIN / "ploomber", "build", "--entry-point", workload.pipeline_path(executor).name, "--force"]
    return run_process(command, env, cwd=workload.folder)[0]


# --- in-process rows (run in a driver subprocess) -------------------------------------------------


def loop_spec(workload, out: Path, repeat: int) -> dict:
    return {
        "repeat": repeat,
        "cwd": str(workload.folder),
        "out": str(out),
        "nodes": [{"id": node_id, "notebook": str(workload.folder / node.notebook), "params": node.params}
                  for node_id, node in workload.nodes.items()],
        "cells": workload.floor_cells(),
    }


def drive_papermill_loop(spec: dict) -> dict:
    """The first node once untimed (papermill and nbclient warm), then ``repeat`` timed rounds of every node."""
    import papermill

    def execute(node: dict, out: Path) -> None:
        papermill.execute_notebook(node["notebook"], str(out / f"{node['id']}.ipynb"), parameters=node["params"],
                                   progress_bar=False)

    os.chdir(spec["cwd"])
    warmup = Path(spec["out"]) / "warmup"
    warmup.mkdir(parents=True)
    execute(spec["nodes"][0], warmup)
    samples = []
    for round_ in range(spec["repeat"]):
        out = Path(spec["out"]) / f"round{round_}"
        out.mkdir(parents=True)
        began = time.perf_counter()
        for node in spec["nodes"]:
            execute(node, out)
        samples.append(time.perf_counter() - began)
    return {"samples": samples}


def drive_floor(spec: dict) -> dict:
    """Every node's cells on one running kernel: one untimed round, then ``repeat`` timed rounds."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", cwd=spec["cwd"], startup_timeout=120)
    try:
        samples, per_node = [], {node_id: [] for node_id, _ in spec["cells"]}
        for round_ in range(spec["repeat"] + 1):
            began = time.perf_counter()
            for node_id, sources in spec["cells"]:
                node_began = time.perf_counter()
                for source in sources:
                    reply = client.execute_interactive(source, store_history=False, output_hook=lambda msg: None,
                                                       timeout=600)
                    if reply["content"]["status"] != "ok":
                        content = reply["content"]
                        raise RuntimeError(f"node {node_id}: {content.get('ename')}: {content.get('evalue')}")
                if round_:
                    per_node[node_id].append(time.perf_counter() - node_began)
            if round_:
                samples.append(time.perf_counter() - began)
        return {"samples": samples, "per_node": per_node}
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


if __name__ == "__main__":
    sys.exit(driver_main({"papermill-loop": drive_papermill_loop, "floor": drive_floor}))
