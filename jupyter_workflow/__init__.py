"""jupyter-workflow: workflows of parameterized notebooks, run by papermill.

Inside a node's kernel only :func:`record` is needed, so importing this package stays
cheap: the engine, store and CLI load on first use of :func:`run` or :func:`retry`.
"""

from jupyter_workflow.runtime import record

__version__ = "0.1.0"
__all__ = ["__version__", "record", "retry", "run"]


def _jupyter_server_extension_points():
    """The Jupyter server extension: the REST API and live events under /workflow/api/."""
    from jupyter_workflow.server import WorkflowExtension

    return [{"module": "jupyter_workflow.server", "app": WorkflowExtension}]


def __getattr__(name):
    if name in ("run", "retry"):
        from jupyter_workflow import api

        return getattr(api, name)
    raise AttributeError(f"module 'jupyter_workflow' has no attribute {name!r}")
