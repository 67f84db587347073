"""The node kernel: the IPython kernel with the runtime and chosen modules imported first.

Started as ``python -m jupyter_workflow.runtime.kernel -f CONNECTION_FILE`` (the
``jupyter-workflow`` kernelspec). The modules named in ``JUPYTER_WORKFLOW_PRELOAD``
(comma-separated, e.g. ``pandas,pyarrow``) are imported before the kernel answers its
first request, so a warm pool pays for heavy imports ahead of time, not while a node waits.
The kernel is :class:`~jupyter_workflow.runtime.node_kernel.NodeKernel`, which takes its
node's folder and environment with the node's first cell.

With ``--fork-server`` the module instead imports all that once and then forks one kernel
per request: a kernel process in a few milliseconds of CPU instead of half a second of
interpreter start and imports. Each kernel is a new process, forked from a parent that
never runs user code, so nothing passes from one node to another. Requests come as JSON
lines on stdin (``{"args", "env", "cwd"}``); each answer is a line ``{"pid": N}``. The
server exits when its stdin closes, and its kernels exit with it.
"""

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile

PRELOAD_ENV = "JUPYTER_WORKFLOW_PRELOAD"
HAND_OVER = "jupyter_workflow_node"  # execute request metadata: the node's folder and environment
STOPS = "jupyter_workflow_stops"  # kernel_info: once it runs a node, no request runs after a failure


def preload(names: str) -> None:
    """Import each module named in ``names``; one that fails is reported, not fatal."""
    for name in filter(None, (part.strip() for part in names.split(","))):
        try:
            importlib.import_module(name)
        except Exception as error:
            print(f"jupyter-workflow kernel: cannot preload {name!r}: {error}", file=sys.stderr)


def _prepare() -> None:
    # As ipykernel_launcher does: the launch folder leaves sys.path until IPython adds ''.
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    preload(os.environ.get(PRELOAD_ENV, ""))
    import jupyter_workflow.runtime  # noqa: F401  (the runtime every node imports)


def launch(args: list[str]) -> None:
    from ipykernel.kernelapp import IPKernelApp

    from jupyter_workflow.runtime.node_kernel import NodeKernel

    app = IPKernelApp.instance(kernel_class=NodeKernel)
    app.initialize(args)
    # traitlets lets every record through the logger and filters at the handler: the
    # kernel would build a debug record for each message it handles, then drop it.
    app.log.setLevel(app.log_level)
    app.start()


def _fork_kernel(request: dict) -> int:
    """Fork a kernel for ``request``; in the child, become it and never return."""
    pid = os.fork()
    if pid:
        return pid
    try:
        os.setsid()  # its own process group, as a kernel launched by jupyter_client has
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(2, 1)  # the kernel's own logs go where the server's go, not into the pipe
        sys.stdout = sys.__stdout__
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        _reseed()
        # ipykernel read JPY_PARENT_PID when the server imported it: name the parent here,
        # so that the kernel exits if its server does.
        args = [*request["args"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = [sys.argv[0], *args]
        launch(args)
    except BaseException as error:  # noqa: BLE001  (a child must never return into the server loop)
        if not isinstance(error, SystemExit):
            print(f"jupyter-workflow kernel: {type(error).__name__}: {error}", file=sys.stderr)
    finally:
        os._exit(0)


def _reseed() -> None:
    """Give the child random generators of its own, not copies of the server's state."""
    import random

    random.seed()
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def serve_forks() -> None:
    """Answer fork requests on stdin until it closes."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # kernels are reaped as they exit
    # What every kernel imports or looks up as it starts, once; none of it starts a thread,
    # so forking stays safe.
    import faulthandler  # noqa: F401
    import pdb  # noqa: F401

    import ipykernel.debugger  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import ipykernel.zmqshell  # noqa: F401
    import tornado.platform.asyncio  # noqa: F401
    from jupyter_client.localinterfaces import local_ips

    import jupyter_workflow.runtime.node_kernel  # noqa: F401

    local_ips()  # the network interfaces, found once (psutil)

    answers = sys.stdout
    sys.stdout = sys.stderr
    try:
        answers.write(json.dumps({"ready": os.getpid()}) + "\n")
        answers.flush()
        for line in sys.stdin:
            answers.write(json.dumps({"pid": _fork_kernel(json.loads(line))}) + "\n")
            answers.flush()
    except (BrokenPipeError, KeyboardInterrupt):  # whoever started the server is gone
        pass


def start_fork_server(preload_modules=()) -> subprocess.Popen:
    """Start a fork server (it gets ready in the background); see the module doc.

    Starting one is cheap for the caller, so a command can start it first thing and let
    it import while the command itself is still starting.
    """
    # The debugger's import warns about frozen modules on every start; the kernels still debug.
    env = {**os.environ, PRELOAD_ENV: ",".join(preload_modules), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "jupyter_workflow.runtime.kernel", "--fork-server"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        cwd=tempfile.gettempdir(),
        start_new_session=True,  # Ctrl-C in a terminal reaches the engine, which decides
    )


def main() -> None:
    _prepare()
    if sys.argv[1:2] == ["--fork-server"]:
        serve_forks()
    else:
        launch(sys.argv[1:])


if __name__ == "__main__":
    main()
