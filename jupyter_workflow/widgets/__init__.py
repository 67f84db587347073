"""Forms for people who run workflows without seeing code: ipywidgets, in JupyterLab or served by Voilà.

``WorkflowForm(path)`` shows a workflow's inputs as fields, checks them as the engine
does, runs the workflow and shows its progress, results and past runs;
``ComponentForm(notebook)`` does the same for one component notebook. See docs/forms.md.
"""

from jupyter_workflow.widgets.component import ComponentForm
from jupyter_workflow.widgets.form import WorkflowForm

__all__ = ["ComponentForm", "WorkflowForm"]
