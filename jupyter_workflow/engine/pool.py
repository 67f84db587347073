"""A warm pool of single-use kernels: started ahead of need, one node each, then killed.

Starting a kernel costs far more than running a small notebook, so the pool starts
Python kernels before nodes ask for them. Isolation is kept: a kernel serves exactly one
node and is killed afterwards, so every node still gets a fresh process. What a node
needs from its kernel — its working directory and the environment that locates its
artifact folder — is set at hand-over: a node kernel takes them with the node's first
cell (:class:`~jupyter_workflow.runtime.node_kernel.NodeKernel`), another Python kernel
by a silent request before it.

Node kernels (the ``jupyter-workflow`` kernelspec) are forked from a server that has
already imported them (:mod:`jupyter_workflow.engine.forking`), where the platform can fork.
Kernels of other languages are not pooled: each node starts its own kernel, in its
folder and with its environment, as a plain kernel launch would.

How many kernels are kept ahead, per kernelspec: the nodes that runs announced and have
not taken a kernel yet (``expect``), at most ``size``; a ``keep_warm`` pool (a server, a
Python session) also tops up to ``size`` ready kernels a moment after a run has ended, when
no node of that kernelspec is running or waiting (starting kernels takes the CPU for a
while: not while nodes run, nor while the run's caller stores and reads its results). A
node asking when none is ready gets the next one to finish starting, beyond ``size`` if
need be.
"""

import asyncio
import logging
import os
import re
import shutil
import stat
import tempfile
import uuid
from collections import Counter, defaultdict, deque
from pathlib import Path

from jupyter_workflow.processes import process_alive
from jupyter_workflow.runtime.kernel import HAND_OVER, PRELOAD_ENV, STOPS

log = logging.getLogger(__name__)

NODE_KERNEL = "jupyter-workflow"
SOCKET_FOLDER_PREFIX = "jw-"  # then the pid of the process whose pool made it
MAX_SOCKET_PATH = 100
HAND_OVER_TIMEOUT = 10  # seconds for a ready kernel to take its node's folder and environment
HAND_OVER_ATTEMPTS = 3
KILL_TIMEOUT = 5  # seconds for a killed kernel to end before its files are removed anyway
REFILL_DELAY = 0.1  # seconds between a run's end and the pool topping up again

# Run silently in a pooled Python kernel other than a node kernel, before its node: the
# node's folder and environment.
_HAND_OVER = """\
import importlib as _jw_importlib, os as _jw_os
_jw_os.chdir({cwd!r})
_jw_os.environ.update({env!r})
_jw_importlib.invalidate_caches()
del _jw_importlib, _jw_os
"""


class KernelDidNotStart(RuntimeError):
    """A kernel failed to start or to answer in time."""


class Kernel:
    """One started kernel and its client; used for one node, then discarded.

    ``info`` is the kernel's first ``kernel_info`` reply, kept so that a node does not ask
    again. ``first_request_metadata`` goes with the node's first execute request.
    """

    def __init__(self, name: str, manager, client, info: dict | None = None):
        self.name, self.manager, self.client = name, manager, client
        self.info = info or {}
        self.first_request_metadata: dict = {}
        self.in_use = False  # handed to a node by the pool

    @property
    def language_info(self) -> dict | None:
        return self.info.get("language_info")

    @property
    def stops_at_failure(self) -> bool:
        """Whether the kernel runs no request of its node after a failed one (a node kernel).

        Only such a kernel is sent a node's cells all at once.
        """
        return STOPS in self.info

    @property
    def pid(self) -> int | None:
        provisioner = self.manager.provisioner
        return getattr(provisioner, "pid", None) if provisioner is not None else None

    async def is_alive(self) -> bool:
        return await self.manager.is_alive()

    async def hand_over(self, cwd: Path, env: dict, timeout: float) -> None:
        """Move the kernel to the node's folder and environment (a Python kernel).

        A node kernel is told with the node's first cell; another kernel by a request now.
        """
        if HAND_OVER in self.info:
            self.first_request_metadata = {HAND_OVER: {"cwd": str(cwd), "env": dict(env)}}
            return
        try:
            reply = await self.client.execute_interactive(
                _HAND_OVER.format(cwd=str(cwd), env=dict(env)), silent=True, store_history=False, timeout=timeout
            )
        except TimeoutError as error:
            raise KernelDidNotStart(f"a pooled {self.name} kernel (pid {self.pid}) did not answer: {error}") from None
        if reply["content"]["status"] != "ok":
            content = reply["content"]
            raise KernelDidNotStart(f"kernel {self.name!r} refused its node: {content.get('ename')}: {content.get('evalue')}")

    async def kill(self) -> None:
        """Kill the process at once (no graceful shutdown: nothing in it is kept)."""
        await _kill(self.manager, self.client)


class KernelPool:
    """Kernels started ahead of need, keyed by kernelspec name; see the module doc."""

    def __init__(
        self,
        size: int = 4,
        *,
        keep_warm: bool = False,
        python_kernel: str = NODE_KERNEL,
        preload: list[str] | tuple[str, ...] = (),
        start_timeout: float = 60,
        fork_server=None,
    ):
        self.size = size
        self.keep_warm = keep_warm
        self.python_kernel = python_kernel
        self.start_timeout = start_timeout
        self.env = {PRELOAD_ENV: ",".join(preload)} if preload else {}
        self._fork_server = fork_server
        if fork_server is None and python_kernel and hasattr(os, "fork"):
            from jupyter_workflow.engine.forking import ForkServer

            self._fork_server = ForkServer(preload)
        self.started = 0  # kernels started so far (pooled and dedicated)
        self._ready: dict[str, deque[Kernel]] = defaultdict(deque)
        self._starting: dict[str, set[asyncio.Task]] = defaultdict(set)
        self._waiters: dict[str, deque[asyncio.Future]] = defaultdict(deque)
        self._demand: Counter = Counter()
        self._in_use: Counter = Counter()  # pooled kernels handed out and not discarded yet
        self._dying: set[asyncio.Task] = set()
        self._languages: dict[str, str | None] = {}
        self._socket_dir: str | None = None  # pooled kernels talk over Unix sockets in here
        self._sockets_fit = True  # False where socket paths would be too long: TCP then
        self._spec_manager = None
        self._context = None  # see _zmq_context
        self._refill: asyncio.TimerHandle | None = None  # the top-up after a run, see trim
        self._closed = False

    # -- which kernelspec, pooled or not ------------------------------------------------

    def resolve(self, kernel_name: str) -> str:
        """The kernelspec that runs ``kernel_name``'s nodes.

        ``python3`` nodes run in the node kernel (``python_kernel``) when it is installed
        for the same interpreter: the same packages, with the runtime preloaded.
        """
        if kernel_name == "python3" and self.python_kernel and self._language(self.python_kernel) == "python":
            return self.python_kernel
        return kernel_name

    def pooled(self, kernel_name: str) -> bool:
        return self._language(kernel_name) == "python"

    def _language(self, kernel_name: str) -> str | None:
        if kernel_name not in self._languages:
            from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

            self._spec_manager = self._spec_manager or KernelSpecManager()
            try:
                self._languages[kernel_name] = self._spec_manager.get_kernel_spec(kernel_name).language.lower()
            except NoSuchKernel:
                self._languages[kernel_name] = None
        return self._languages[kernel_name]

    def ready(self, kernel_name: str) -> list[Kernel]:
        """The kernels started ahead for ``kernel_name`` and not handed out yet."""
        return list(self._ready[self.resolve(kernel_name)])

    # -- demand --------------------------------------------------------------------------

    def expect(self, kernel_names: Counter) -> None:
        """Nodes of these kernelspecs will ask for kernels soon: start them ahead."""
        for name, count in kernel_names.items():
            name = self.resolve(name)
            if self.pooled(name):
                self._demand[name] += count
                self._balance(name)

    def forget(self, kernel_names: Counter) -> None:
        """Announced nodes that will not ask after all (cached, skipped, cancelled)."""
        for name, count in kernel_names.items():
            name = self.resolve(name)
            if name in self._demand:
                self._demand[name] = max(0, self._demand[name] - count)
                self._balance(name)

    def _wanted(self, name: str) -> int:
        busy = self._demand[name] or self._waiters[name] or self._in_use[name]
        ahead = self._demand[name] if busy or not self.keep_warm else self.size
        return len(self._waiters[name]) + min(self.size, ahead)

    def _balance(self, name: str, start: bool = True) -> None:
        """Discard ready kernels beyond what is wanted; start the missing ones too, if ``start``."""
        if self._closed:
            return
        wanted = self._wanted(name)
        ready, starting = self._ready[name], self._starting[name]
        while len(ready) + len(starting) > wanted and ready:
            self._discard(ready.popleft())
        for _ in range(wanted - len(ready) - len(starting) if start else 0):
            task = asyncio.ensure_future(self._start(name, env=self.env, local=True))
            starting.add(task)
            task.add_done_callback(lambda task, name=name: self._started(name, task))

    # -- kernels in and out --------------------------------------------------------------

    async def acquire(self, kernel_name: str, cwd: Path, env: dict, announced: bool = False) -> Kernel:
        """A fresh kernel for one node, in ``cwd`` with ``env`` set; discard it after use.

        ``announced``: the node was counted by :meth:`expect`, and now takes its kernel.
        """
        name = self.resolve(kernel_name)
        if not self.pooled(name):
            return await self._start(name, cwd=cwd, env={**self.env, **env}, local=False)
        if announced and self._demand[name]:
            self._demand[name] -= 1
        for attempt in range(1, HAND_OVER_ATTEMPTS + 1):
            kernel = await self._take(name)
            try:
                if not await kernel.is_alive():
                    raise KernelDidNotStart(f"a pooled {name} kernel (pid {kernel.pid}) died before use")
                await kernel.hand_over(cwd, env, HAND_OVER_TIMEOUT)
            except asyncio.CancelledError:
                self._discard(kernel)
                raise
            except Exception as error:  # dead or stuck: another kernel takes its place
                self._discard(kernel)
                if attempt == HAND_OVER_ATTEMPTS:
                    raise
                log.warning("%s; taking another", error)
                continue
            kernel.in_use = True
            self._in_use[name] += 1
            return kernel

    async def _take(self, name: str) -> Kernel:
        ready = self._ready[name]
        if ready:
            kernel = ready.popleft()
            self._balance(name)
            return kernel
        waiter = asyncio.get_running_loop().create_future()
        self._waiters[name].append(waiter)
        self._balance(name)
        try:
            return await waiter
        except asyncio.CancelledError:  # a kernel handed to us just before the cancel is not lost
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._discard(waiter.result())
            raise
        finally:
            if waiter in self._waiters[name]:
                self._waiters[name].remove(waiter)

    def _started(self, name: str, task: asyncio.Task) -> None:
        self._starting[name].discard(task)
        if task.cancelled():
            return
        error = task.exception()
        waiters = self._waiters[name]
        while waiters and waiters[0].done():  # cancelled while waiting
            waiters.popleft()
        if error is not None:
            if waiters:
                waiters.popleft().set_exception(error)
            else:
                log.warning("a %s kernel for the pool did not start: %s", name, error)
            return
        kernel = task.result()
        if waiters:
            waiters.popleft().set_result(kernel)
        elif self._closed or len(self._ready[name]) + len(self._starting[name]) >= self._wanted(name):
            self._discard(kernel)
        else:
            self._ready[name].append(kernel)

    async def _start(self, name: str, cwd: Path | None = None, env: dict | None = None, local: bool = False) -> Kernel:
        """Start a kernel; ``local`` ones (pooled Python kernels) use Unix sockets, not TCP.

        TCP ports are picked free and bound by the kernel a moment later: with many kernels
        starting at once, another socket can take one in between. Socket files cannot clash.
        """
        from jupyter_client import AsyncKernelManager

        ipc = local and self._socket_folder() is not None
        # Only this user can reach sockets in the pool's private folder, and can read their keys anyway.
        encryption = "disabled" if ipc else _encryption()
        manager = AsyncKernelManager(kernel_name=name, context=self._zmq_context(), transport_encryption=encryption)
        if ipc:
            manager.transport = "ipc"
            manager.connection_file = os.path.join(self._socket_dir, f"{uuid.uuid4().hex[:12]}.json")
        if self._fork_server is not None and name == self.python_kernel:
            manager.provisioner = self._fork_server.provisioner(manager)
        client = None
        self.started += 1
        try:
            await manager.start_kernel(cwd=str(cwd or tempfile.gettempdir()), env={**os.environ, **(env or {})})
            client = manager.client(context=manager.context)
            # Shell and IOPub only: no input is asked for, liveness comes from the process, kills are signals.
            client.start_channels(stdin=False, hb=False, control=False)
            info = await _wait_until_ready(client, manager, self.start_timeout)
            if local:  # a kernel's first request costs it twice a later one: pay that ahead
                await client.execute_interactive("pass", silent=True, store_history=False, timeout=self.start_timeout)
        except BaseException as error:  # cancelled or failed half-way: leave no process behind
            if manager.has_kernel:
                await _kill(manager, client)
            elif client is not None:
                _close_channels(client)
            if isinstance(error, Exception):
                raise KernelDidNotStart(f"kernel {name!r} did not start: {error}") from error
            raise
        client.allow_stdin = False
        return Kernel(name, manager, client, info)

    def _zmq_context(self):
        """One ZeroMQ context (one I/O thread) for all the pool's kernels, not one per kernel."""
        if self._context is None:
            import zmq.asyncio

            self._context = zmq.asyncio.Context()
        return self._context

    def _socket_folder(self) -> str | None:
        """The pool's private folder for socket files; None where their paths would be too long.

        It is named after this process (``jw-<pid>-…``), and removed when the pool closes.
        Creating it first removes the folders left by pools of processes that have ended
        without closing them (killed).
        """
        if self._socket_dir is None and self._sockets_fit:
            remove_stale_socket_folders()
            folder = tempfile.mkdtemp(prefix=f"{SOCKET_FOLDER_PREFIX}{os.getpid()}-")
            # Unix socket paths have room for about 100 bytes: <folder>/<12 hex>-ipc-<port>.
            self._sockets_fit = len(folder) + 30 <= MAX_SOCKET_PATH
            if self._sockets_fit:
                self._socket_dir = folder
            else:
                os.rmdir(folder)
        return self._socket_dir

    def discard(self, kernel: Kernel) -> None:
        """Kill a used kernel in the background; :meth:`trim` and :meth:`close` wait for it."""
        self._discard(kernel)
        if kernel.in_use:
            kernel.in_use = False
            self._in_use[kernel.name] -= 1

    def _discard(self, kernel: Kernel) -> None:
        task = asyncio.ensure_future(kernel.kill())
        self._dying.add(task)
        task.add_done_callback(self._dying.discard)

    async def trim(self) -> None:
        """After a run: wait until its kernels are gone, drop what no run wants; top up later.

        The top-up starts :data:`REFILL_DELAY` after the last run's end (see the module doc).
        """
        await self._settle([])
        cancelled = []
        for name in list(self._ready):
            self._balance(name, start=False)
            surplus = len(self._ready[name]) + len(self._starting[name]) - self._wanted(name)
            cancelled += list(self._starting[name])[: max(0, surplus)]
        await self._settle(cancelled)
        if self._refill is not None:
            self._refill.cancel()
        self._refill = asyncio.get_running_loop().call_later(REFILL_DELAY, self._top_up)

    def _top_up(self) -> None:
        self._refill = None
        for name in list(self._ready):
            self._balance(name)

    async def close(self) -> None:
        """Kill every kernel of the pool, ready or starting."""
        self._closed = True
        if self._refill is not None:
            self._refill.cancel()
        for ready in self._ready.values():
            while ready:
                self._discard(ready.popleft())
        await self._settle([task for tasks in self._starting.values() for task in tasks])
        if self._fork_server is not None:
            await self._fork_server.close()
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        if self._context is not None:
            self._context.destroy(linger=0)

    async def _settle(self, starting: list[asyncio.Task]) -> None:
        for task in starting:
            task.cancel()
        pending = set(starting)
        while pending or self._dying:
            await asyncio.wait(pending | self._dying)
            pending = set()


def remove_stale_socket_folders() -> None:
    """Remove the socket folders in the temporary directory that this user's ended processes left behind."""
    prefix = re.compile(rf"{re.escape(SOCKET_FOLDER_PREFIX)}(\d+)-")
    temporary = Path(tempfile.gettempdir())
    for entry in temporary.iterdir():
        owner = prefix.match(entry.name)
        if owner is None or not _ours(entry) or process_alive(int(owner.group(1))):
            continue
        log.debug("removing %s, left by process %s", entry, owner.group(1))
        shutil.rmtree(entry, ignore_errors=True)


def _ours(path: Path) -> bool:
    """Whether ``path`` is a folder of this user's (not a link to one)."""
    try:
        info = path.lstat()
    except OSError:  # removed meanwhile
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()


async def _wait_until_ready(client, manager, timeout: float) -> dict:
    """Wait for the kernel's first ``kernel_info`` reply, with IOPub connected; its content.

    jupyter_client's ``wait_for_ready`` then drains IOPub until it stays quiet for 0.2 s;
    a kernel that will only ever run one notebook has nothing to drain (nbclient reads
    IOPub by request), so this skips that wait.
    """
    from queue import Empty

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        client.kernel_info()
        try:
            reply = await client.shell_channel.get_msg(timeout=1)
            if reply["msg_type"] == "kernel_info_reply":  # to this request or an earlier one
                await client.iopub_channel.get_msg(timeout=0.5)  # its status: IOPub is connected
                return reply["content"]
        except Empty:
            pass
        if not await manager.is_alive():
            raise RuntimeError("the kernel died before it answered")
    raise RuntimeError(f"the kernel did not answer within {timeout:g} s")


def _close_channels(client) -> None:
    """Close the channels :meth:`KernelPool._start` opens (``stop_channels`` would open the others to close them)."""
    client.shell_channel.stop()
    client.iopub_channel.stop()


async def _kill(manager, client=None) -> None:
    """SIGKILL a kernel, wait for the process to end and remove its files.

    This is not ``shutdown_kernel(now=True)``: that interrupts the kernel first (every
    kernel of a finished fan-out would handle a KeyboardInterrupt at the same moment) and
    then polls for the end every 0.1 s, which a run's last node would wait for.
    """
    if client is not None:
        _close_channels(client)
    provisioner = manager.provisioner
    pid = getattr(provisioner, "pid", None)
    try:
        if provisioner is not None and provisioner.has_process:
            await provisioner.kill()
            if await _ended(provisioner.process, KILL_TIMEOUT):
                await provisioner.wait()  # reaps it, at once
            else:
                log.warning("kernel %s did not end within %g s of SIGKILL", pid, KILL_TIMEOUT)
        await manager.cleanup_resources()
    except Exception as error:  # already gone, or its files already removed
        log.debug("kernel %s: %s", pid, error)


async def _ended(process, timeout: float) -> bool:
    """Whether ``process`` (a Popen or a forked process) ends within ``timeout`` seconds.

    Where the platform has pidfds, the loop watches one and learns of the end at once;
    elsewhere this polls at short, growing intervals (a killed process ends within
    milliseconds).
    """
    if process.poll() is not None:
        return True
    watched = await _watched_end(process, timeout)
    if watched is not None:
        return watched
    loop = asyncio.get_running_loop()
    deadline, delay = loop.time() + timeout, 0.001
    while process.poll() is None:
        if loop.time() > deadline:
            return False
        await asyncio.sleep(delay)
        delay = min(2 * delay, 0.05)
    return True


async def _watched_end(process, timeout: float) -> bool | None:
    """:func:`_ended` by watching a pidfd of ``process``; None where that cannot be done."""
    forked = hasattr(process, "pidfd")  # a forked kernel holds its own pidfd
    try:  # a child of ours is not reaped before poll() says it ended: its pid is still its own
        pidfd = process.pidfd if forked else os.pidfd_open(process.pid)
    except (AttributeError, OSError):  # no pidfds here
        return None
    if pidfd is None:
        return None
    loop = asyncio.get_running_loop()
    ended = loop.create_future()
    try:
        loop.add_reader(pidfd, lambda: ended.done() or ended.set_result(None))
    except NotImplementedError:  # a loop that cannot watch files
        if not forked:
            os.close(pidfd)
        return None
    try:
        await asyncio.wait_for(ended, timeout)
    except asyncio.TimeoutError:
        return False
    finally:
        loop.remove_reader(pidfd)
        if not forked:
            os.close(pidfd)
    return process.poll() is not None


def _encryption() -> str:
    import zmq

    return "auto" if zmq.has("curve") else "disabled"
