"""The Jupyter server extension of jupyter-workflow."""

from jupyter_workflow.server.extension import WorkflowExtension

__all__ = ["WorkflowExtension"]
