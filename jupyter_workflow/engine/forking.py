"""Node kernels forked from a server that has already imported them, instead of started cold.

A cold Python kernel spends about half a second of CPU starting an interpreter and
importing ipykernel before it can answer. :class:`ForkServer` runs
``python -m jupyter_workflow.runtime.kernel --fork-server`` once; each node kernel is then
a ``fork`` of it, ready in a few milliseconds. :class:`ForkProvisioner` is the
jupyter_client provisioner that launches through it, so the kernel manager, the client and
nbclient treat the kernel like any other (signals, kill, liveness by pid).
"""

import asyncio
import json
import os
import select
import signal
import subprocess
import threading
import uuid

from jupyter_client.provisioning import LocalProvisioner

from jupyter_workflow.processes import process_alive
from jupyter_workflow.runtime.kernel import start_fork_server


class ForkServerFailed(RuntimeError):
    """The fork server did not start, or stopped answering."""


class ForkedProcess:
    """The parts of ``subprocess.Popen`` a provisioner uses, for a kernel the fork server made.

    The kernel is the server's child, not ours: the server reaps it when it exits. This
    side holds a pidfd for it where the platform has them, so that a pid the system has
    given to another process since is never mistaken for the kernel, nor signalled.
    """

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        try:
            self.pidfd: int | None = os.pidfd_open(pid)  # readable once the kernel has ended
        except (AttributeError, OSError):  # no pidfds here, or the kernel is already gone
            self.pidfd = None

    def poll(self) -> int | None:
        if self.returncode is None and not self._alive():
            self.returncode = -signal.SIGKILL  # the real status went to the server
            if self.pidfd is not None:
                os.close(self.pidfd)
                self.pidfd = None
        return self.returncode

    def _alive(self) -> bool:
        if self.pidfd is not None:
            readable, _, _ = select.select([self.pidfd], [], [], 0)
            return not readable
        return process_alive(self.pid)

    def wait(self) -> int | None:
        return self.poll()

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkServer:
    """One fork server process, started on first use (or given, already starting).

    Requests are answered one at a time, each in a worker thread: the pipes are plain
    blocking files, so that a command can start the server before it has an event loop.
    A request whose caller is cancelled still finishes; the kernel it made is killed.
    """

    def __init__(self, preload_modules=(), process: subprocess.Popen | None = None):
        self.preload_modules = tuple(preload_modules)
        self._process = process
        self._ready = False
        self._lock = threading.Lock()  # held by the worker thread, so a cancelled caller cannot release it early

    async def fork(self, args: list[str], env: dict, cwd: str) -> int:
        """A new kernel process running ``args`` in ``cwd`` with exactly ``env``; its pid."""
        forking = asyncio.ensure_future(asyncio.to_thread(self._fork, args, env, cwd))
        try:
            return await asyncio.shield(forking)
        except asyncio.CancelledError:
            forking.add_done_callback(_kill_unwanted)
            raise

    def _fork(self, args: list[str], env: dict, cwd: str) -> int:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process, self._ready = start_fork_server(self.preload_modules), False
            if not self._ready:
                self._answer()
                self._ready = True
            self._process.stdin.write((json.dumps({"args": args, "env": env, "cwd": cwd}) + "\n").encode())
            self._process.stdin.flush()
            return self._answer()["pid"]

    def _answer(self) -> dict:
        line = self._process.stdout.readline()
        if not line:
            code = self._process.wait()
            raise ForkServerFailed(f"the node kernel's fork server exited (status {code}); see its messages above")
        return json.loads(line)

    def provisioner(self, manager) -> "ForkProvisioner":
        """A provisioner for ``manager`` (an unstarted kernel manager) that forks from this server."""
        manager.kernel_id = manager.kernel_id or str(uuid.uuid4())
        provisioner = ForkProvisioner(kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec, parent=manager)
        provisioner.fork_server = self
        return provisioner

    async def close(self) -> None:
        """Stop the server (closing its stdin); kernels it forked notice and exit."""
        try:
            await asyncio.to_thread(self._stop)
        except RuntimeError:  # the interpreter is exiting, and worker threads take no more work
            self._stop()

    def _stop(self) -> None:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                return
            self._process.stdin.close()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()


def _kill_unwanted(forking: asyncio.Future) -> None:
    """Kill the kernel a cancelled request made (the server reaps it)."""
    if not forking.cancelled() and forking.exception() is None:
        try:
            os.kill(forking.result(), signal.SIGKILL)
        except ProcessLookupError:
            pass


class ForkProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, launching by fork from a :class:`ForkServer`."""

    fork_server: ForkServer

    async def send_signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:  # never a group whose leader is gone
            await super().send_signal(signum)

    async def launch_kernel(self, cmd: list[str], **kwargs):
        args = cmd[cmd.index("-f"):]
        cwd = str(kwargs.get("cwd") or os.getcwd())
        pid = await self.fork_server.fork(args, dict(kwargs.get("env") or os.environ), cwd)
        self.process = ForkedProcess(pid)
        self.pid = self.pgid = pid  # the kernel leads a process group of its own
        self.cwd = cwd
        return self.connection_info
