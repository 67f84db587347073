"""The workflow model: the ``jupyter-workflow/1`` file, its validation, components, graph."""

from jupyter_workflow.model.problems import InvalidWorkflow, Problem
from jupyter_workflow.model.spec import (
    FORMAT,
    FanIn,
    InputRef,
    Literal,
    Node,
    OutputRef,
    Workflow,
    load_workflow,
    parse_workflow,
)

__all__ = [
    "FORMAT",
    "FanIn",
    "InputRef",
    "InvalidWorkflow",
    "Literal",
    "Node",
    "OutputRef",
    "Problem",
    "Workflow",
    "load_workflow",
    "parse_workflow",
]
