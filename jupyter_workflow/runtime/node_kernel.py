"""The IPython kernel of node kernels: it enters its node's folder with the node's first cell.

A pooled kernel starts before anyone knows which node it will run. The engine sends the
node's folder and environment in the metadata of the node's first execute request (under
:data:`~jupyter_workflow.runtime.kernel.HAND_OVER`), and the kernel moves there before it
runs that cell, so taking a node costs no request of its own. ``kernel_info`` names the
key, so that the engine knows the kernel understands it.
"""

import importlib
import os

from ipykernel.ipkernel import IPythonKernel
from traitlets import Float

from jupyter_workflow.runtime.kernel import HAND_OVER


class NodeKernel(IPythonKernel):
    """``IPythonKernel`` that takes its node's folder and environment from an execute request."""

    # ipykernel sleeps 0.5 ms before each execute reply, for clients that stop reading a
    # cell's outputs at its reply. nbclient (and JupyterLab) read them up to the kernel's
    # idle status, which IOPub delivers after them.
    _execute_sleep = Float(0.0).tag(config=True)

    @property
    def kernel_info(self) -> dict:
        return {**super().kernel_info, HAND_OVER: {"cwd": "folder", "env": "variables to set"}}

    async def execute_request(self, stream, ident, parent):
        node = (parent.get("metadata") or {}).get(HAND_OVER)
        if node is not None:
            try:
                os.chdir(node["cwd"])
                os.environ.update(node["env"])
                importlib.invalidate_caches()  # the new folder's modules become importable
            except Exception as error:  # the cell fails in its place, and the cells after it are aborted
                message = f"the kernel could not take its node: {type(error).__name__}: {error}"
                parent["content"]["code"] = f"raise RuntimeError({message!r})"
        await super().execute_request(stream, ident, parent)
