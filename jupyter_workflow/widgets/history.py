"""Past runs of a form's workflow, each with its inputs and a button that puts them back in the form."""

import html
import json

import ipywidgets

from jupyter_workflow.store.records import RunRecord
from jupyter_workflow.widgets.progress import badge


def inputs_text(inputs: dict) -> str:
    """Input values as ``name=value, …`` (secrets are not stored, so never shown)."""
    return ", ".join(f"{name}={json.dumps(value, default=str)}" for name, value in inputs.items()) or "defaults"


class RunHistory(ipywidgets.VBox):
    """The latest runs, newest first; "Use these values" calls ``use(inputs)``."""

    def __init__(self, use):
        self.use = use
        super().__init__(_dom_classes=["jw-history"])

    def show(self, records: list[RunRecord]) -> None:
        rows = [ipywidgets.HTML("<b>Past runs</b>" if records else "")]
        for record in records:
            when = record.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
            text = (f"{badge(record.status)} {when} · {html.escape(record.trigger)}"
                    f"{' by ' + html.escape(record.user) if record.user else ''} · "
                    f"<code>{html.escape(inputs_text(record.inputs))}</code>")
            button = ipywidgets.Button(description="Use these values", _dom_classes=["jw-use-values"])
            button.on_click(lambda _button, inputs=record.inputs: self.use(inputs))
            rows.append(ipywidgets.HBox([button, ipywidgets.HTML(text)], _dom_classes=["jw-history-run"]))
        self.children = rows

    def show_problem(self, text: str) -> None:
        """Say why the past runs cannot be listed."""
        self.children = [ipywidgets.HTML(f"<b>Past runs</b><br>{html.escape(text)}", _dom_classes=["jw-history-error"])]
