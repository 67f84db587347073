"""The IPython kernel of node kernels: it takes its node with the node's first cell, and stops at its failure.

A pooled kernel starts before anyone knows which node it will run. The engine sends the
node's folder and environment in the metadata of the node's first execute request (under
:data:`~jupyter_workflow.runtime.kernel.HAND_OVER`), and the kernel moves there before it
runs that cell, so taking a node costs no request of its own.

The engine sends a node's cells all at once. After a failed request, ipykernel aborts the
requests queued behind it only until a message it posts through its shell channel thread
comes back: a request that thread had not passed on yet still runs. A node kernel runs
one notebook once, so once it has taken its node it stops for good instead: it refuses
(answers as aborted) every execute request after one that failed and stops on error, or
after ``exit()``. ``kernel_info`` names both keys (:data:`HAND_OVER` and
:data:`~jupyter_workflow.runtime.kernel.STOPS`), so that the engine knows the kernel does
both. Picked by hand in JupyterLab, it takes no node and behaves like the IPython kernel.
"""

import importlib
import os

from ipykernel.ipkernel import IPythonKernel
from traitlets import Bool, Float

from jupyter_workflow.runtime.kernel import HAND_OVER, STOPS


class NodeKernel(IPythonKernel):
    """``IPythonKernel`` that takes its node's folder and environment from an execute request."""

    # ipykernel sleeps 0.5 ms before each execute reply, for clients that stop reading a
    # cell's outputs at its reply. nbclient (and JupyterLab) read them up to the kernel's
    # idle status, which IOPub delivers after them.
    _execute_sleep = Float(0.0).tag(config=True)

    has_node = Bool(False, help="it took a node: the metadata of an execute request named one")
    stopped = Bool(False, help="its node failed or asked to exit: no execute request runs any more")

    @property
    def kernel_info(self) -> dict:
        return {
            **super().kernel_info,
            HAND_OVER: {"cwd": "folder", "env": "variables to set"},
            STOPS: "once it has a node, no execute request runs after one that failed and stops on error, or after exit()",
        }

    async def execute_request(self, stream, ident, parent):
        if self.stopped:
            self._send_abort_reply(stream, parent, ident)
            return
        node = (parent.get("metadata") or {}).get(HAND_OVER)
        if node is not None:
            self.has_node = True
            try:
                os.chdir(node["cwd"])
                os.environ.update(node["env"])
                importlib.invalidate_caches()  # the new folder's modules become importable
            except Exception as error:  # the cell fails in its place, and the cells after it are refused
                message = f"the kernel could not take its node: {type(error).__name__}: {error}"
                parent["content"]["code"] = f"raise RuntimeError({message!r})"
        await super().execute_request(stream, ident, parent)
        if self.has_node and self.shell.exit_now:  # exit() or quit(): the kernel ends in a moment
            self.stopped = True

    def _abort_queues(self, subshell_id=None):
        """ipykernel's abort after a failed request that stops on error; with a node, for good."""
        self.stopped = self.stopped or self.has_node
        super()._abort_queues(subshell_id)
