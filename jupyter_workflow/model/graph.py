"""The workflow as a graph: order, cycles, and drawings (Graphviz dot, Mermaid)."""

from graphlib import CycleError, TopologicalSorter

from jupyter_workflow.events import STATUS_STYLES
from jupyter_workflow.model.spec import Workflow


def fill(status: str) -> str:
    """The fill colour of a node in ``status`` (white for one unknown)."""
    style = STATUS_STYLES.get(status)
    return style.fill if style else "#ffffff"


def find_cycle(dependencies: dict[str, set[str]]) -> list[str] | None:
    """A cycle as node ids in flow order, first repeated last (``a, b, a``), or None."""
    try:
        TopologicalSorter(dependencies).prepare()
    except CycleError as error:
        # graphlib lists the cycle so that each node is a predecessor of the next.
        return list(error.args[1])
    return None


def topological_order(dependencies: dict[str, set[str]]) -> list[str]:
    """Node ids so that every node comes after its upstream nodes (ties by id)."""
    sorter = TopologicalSorter(dependencies)
    sorter.prepare()
    order = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order


def edges(workflow: Workflow) -> list[tuple[str, str]]:
    """``(upstream, downstream)`` pairs in a stable order."""
    deps = workflow.dependencies()
    return [(up, node) for node in topological_order(deps) for up in sorted(deps[node])]


def _label(workflow: Workflow, node_id: str, states: dict[str, str] | None) -> str:
    title = workflow.nodes[node_id].title or node_id
    state = (states or {}).get(node_id)
    return f"{title}\n{state}" if state else title


def to_dot(workflow: Workflow, states: dict[str, str] | None = None) -> str:
    """Graphviz source; with ``states`` (node id → status) nodes are coloured by status."""
    lines = [f"digraph {_dot_id(workflow.name)} {{", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fillcolor="#ffffff"];']
    for node_id in topological_order(workflow.dependencies()):
        attributes = [f"label={_dot_string(_label(workflow, node_id, states))}"]
        state = (states or {}).get(node_id)
        if state:
            attributes.append(f'fillcolor="{fill(state)}"')
        lines.append(f"  {node_id} [{', '.join(attributes)}];")
    lines += [f"  {up} -> {down};" for up, down in edges(workflow)]
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(workflow: Workflow, states: dict[str, str] | None = None) -> str:
    """Mermaid flowchart source; with ``states`` nodes get a class per status."""
    lines = ["flowchart LR"]
    for node_id in topological_order(workflow.dependencies()):
        label = _label(workflow, node_id, states).replace('"', "#quot;").replace("\n", "<br/>")
        state = (states or {}).get(node_id)
        lines.append(f'  {node_id}["{label}"]' + (f":::{state}" if state else ""))
    lines += [f"  {up} --> {down}" for up, down in edges(workflow)]
    if states:
        for state in sorted(set(states.values())):
            lines.append(f"  classDef {state} fill:{fill(state)}")
    return "\n".join(lines) + "\n"


def _dot_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_id(name: str) -> str:
    return name if name.isidentifier() else _dot_string(name)
