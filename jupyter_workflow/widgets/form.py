"""The form of a workflow: its inputs as fields, checked live, then Run, progress, results and past runs.

Threads: widgets change only on the kernel's event loop. Run starts a task there and
returns at once; starting the run and reading stores or artifacts go through
``asyncio.to_thread``; the engine's events arrive on its own thread and hop to the
kernel's loop (:class:`~jupyter_workflow.widgets.progress.KernelLoopListener`). While the
run goes, the task redraws the elapsed times once a second.
"""

import asyncio
import html
from pathlib import Path

import ipywidgets

from jupyter_workflow import api
from jupyter_workflow.engine import RunState
from jupyter_workflow.model import InvalidWorkflow, load_workflow
from jupyter_workflow.model.validation import check_inputs
from jupyter_workflow.widgets.fields import EMPTY, FileField, UnreadableValue, make_field
from jupyter_workflow.widgets.history import RunHistory
from jupyter_workflow.widgets.progress import KernelLoopListener, RunProgress
from jupyter_workflow.widgets.results import render_failure, render_output


# The look of what the results and past runs write as HTML; ipywidgets style their own widgets.
STYLE = """<style>
.jw-form .jw-table { border-collapse: collapse; margin: 4px 0; }
.jw-form .jw-table th, .jw-form .jw-table td { padding: 2px 10px; text-align: left; border-bottom: 1px solid #e0e0e0;
  white-space: nowrap; }
.jw-form .jw-table-wrap { overflow-x: auto; max-width: 100%; }
.jw-form .jw-table thead th { background: #f5f5f5; }
.jw-form .jw-failure-sentence { color: #c62828; font-weight: bold; }
</style>"""


class Form(ipywidgets.VBox):
    """What workflow and component forms share; subclasses say how to start a run and where its outputs are."""

    def __init__(self, title: str, description: str, declarations: dict[str, dict], *,
                 node_titles: dict[str, str], history_name: str | None, optional=frozenset(), blocking=()):
        """``optional``: inputs that may stay empty without a default; ``blocking``: why nothing can run at all."""
        self.declarations, self.optional, self.blocking = declarations, frozenset(optional), list(blocking)
        self.node_titles, self.history_name = node_titles, history_name
        self.fields = {name: make_field(name, declaration, optional=name in self.optional)
                       for name, declaration in declarations.items()}
        header = ipywidgets.HTML(f"{STYLE}<h3>{html.escape(title)}</h3><p>{html.escape(description)}</p>",
                                 _dom_classes=["jw-header"])
        self.problem = ipywidgets.HTML(_dom_classes=["jw-form-error"])
        self.run_button = ipywidgets.Button(description="Run", button_style="primary", icon="play",
                                            _dom_classes=["jw-run"])
        self.cancel_button = ipywidgets.Button(description="Cancel", icon="stop", disabled=True,
                                               _dom_classes=["jw-cancel"])
        self.progress = ipywidgets.VBox()
        self.results = ipywidgets.VBox(_dom_classes=["jw-results"])
        self.history = RunHistory(self.fill)
        super().__init__(
            [header, *(field.box for field in self.fields.values()), self.problem,
             ipywidgets.HBox([self.run_button, self.cancel_button]), self.progress, self.results, self.history],
            _dom_classes=["jw-form"],
        )
        self.handle = None  # the run going, if any
        self.valid, self.running = False, False
        self._tasks = set()  # tasks on the kernel's loop, kept until they end
        for field in self.fields.values():
            field.on_change(self.check)
        self.run_button.on_click(self._run_clicked)
        self.cancel_button.on_click(self._cancel_clicked)
        self.check()
        self._load_history()

    def start(self, values: dict, files: dict, listeners: list):
        """Start a run with these values (blocking; called off the kernel's loop) and return its handle."""
        raise NotImplementedError

    def outputs_of(self, run: RunState) -> tuple[dict, dict]:
        """The outputs to show for a finished run, and their declarations by name."""
        raise NotImplementedError

    def declarations_for(self, values: dict) -> dict[str, dict]:
        """The declarations the given values are checked against."""
        return self.declarations

    def read(self) -> tuple[dict, dict[str, str]]:
        """The values given (fields left empty take their default) and, by field, text that is not a value."""
        values, unreadable = {}, {}
        for name, field in self.fields.items():
            try:
                value = field.read()
            except UnreadableValue as error:
                unreadable[name] = str(error)
                continue
            if value is not EMPTY:
                values[name] = value
        return values, unreadable

    def check(self) -> bool:
        """Check the values with the engine's own check; show each message under its field."""
        values, messages = self.read()
        _, problems = check_inputs(self.declarations_for(values), values, check_defaults=False)
        general = list(self.blocking)
        for problem in problems:
            parts = problem.pointer.split("/")
            if len(parts) > 2 and parts[2] in self.fields:
                messages.setdefault(parts[2], problem.message)
            else:
                general.append(problem.message)
        for name, field in self.fields.items():
            field.show_message(messages.get(name, ""))
        self.problem.value = "<br>".join(html.escape(message) for message in general)
        self.valid = not messages and not general
        self.run_button.disabled = self.running or not self.valid
        return self.valid

    def fill(self, values: dict) -> None:
        """Put these values in the form; fields they lack go back to their default, secrets stay empty."""
        for name, field in self.fields.items():
            if name in values and not field.declaration.get("secret"):
                field.fill(values[name])
            else:
                field.reset()
        self.check()

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.run_button.disabled = running or not self.valid
        self.cancel_button.disabled = True

    def _soon(self, coroutine) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _run_clicked(self, _button) -> None:
        if self.running or not self.check():
            return
        values, _ = self.read()
        uploads = {name: field.upload() for name, field in self.fields.items() if isinstance(field, FileField)}
        files = {name: upload for name, upload in uploads.items() if upload}
        for name in files:
            values.pop(name)
        for field in self.fields.values():  # a secret leaves the page once read
            if field.declaration.get("secret"):
                field.reset()
        self._set_running(True)
        progress = RunProgress(self.node_titles)
        self.progress.children, self.results.children = [progress], []
        self._soon(self._run(values, files, progress))

    def _cancel_clicked(self, _button) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.cancel_button.disabled = True

    async def _run(self, values: dict, files: dict, progress: RunProgress) -> None:
        """Start the run, draw it as it goes, then show its results and the refreshed past runs."""
        loop = asyncio.get_running_loop()
        try:
            self.handle = await asyncio.to_thread(self.start, values, files, [KernelLoopListener(loop, progress.show)])
            finished = loop.create_future()
            self.handle.add_done_callback(lambda _handle: loop.call_soon_threadsafe(finished.set_result, None))
            self.cancel_button.disabled = False
            while not finished.done():  # the elapsed times move on between events
                progress.show(self.handle.run)
                await asyncio.wait({finished}, timeout=1)
            progress.show(self.handle.run)
            if self.handle.error() is not None:
                raise self.handle.error()
            shown = await asyncio.to_thread(self._render, self.handle.run)
            self.results.children = [ipywidgets.HTML(body, _dom_classes=classes) for classes, body in shown]
        except InvalidWorkflow as error:
            progress.show_status("failed", "The run was refused.")
            self.problem.value = "<br>".join(html.escape(problem.message) for problem in error.problems)
        except Exception as error:  # the task's end: shown on the page, where the user looks
            progress.show_status("failed", f"The run could not be started or followed: {error}")
        finally:
            self.handle = None
            self._set_running(False)
        await self._refresh_history()

    def _render(self, run: RunState) -> list[tuple[list[str], str]]:
        """CSS classes and HTML of each part of the results (reads artifacts: call off the loop)."""
        shown = []
        if run.error and run.status == "failed":
            node_id = run.error.get("node")
            node = run.nodes.get(node_id) if node_id else None
            shown.append((["jw-failure"], render_failure(
                run.error, self.node_titles.get(node_id, node_id) if node_id else None, node and node.notebook)))
        elif run.status == "cancelled":
            shown.append((["jw-cancelled"], "<p>The run was cancelled.</p>"))
        outputs, declarations = self.outputs_of(run)
        for name, value in outputs.items():
            shown.append((["jw-output", f"jw-output-{name}"], render_output(name, value, declarations.get(name))))
        return shown

    async def _refresh_history(self) -> None:
        try:
            self.history.show(await asyncio.to_thread(api.list_runs, self.history_name))
        except Exception as error:  # the store cannot be read: said where the runs would be
            self.history.show_problem(f"The past runs cannot be listed: {error}")

    def _load_history(self) -> None:
        """List past runs: from a task on the kernel's loop, or at once outside of one (a script)."""
        if self.history_name is None:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no running event loop
            self.history.show(api.list_runs(self.history_name))
            return
        self._soon(self._refresh_history())


class WorkflowForm(Form):
    """The form of the workflow file at ``path``: display it in a notebook, or serve it with Voilà."""

    def __init__(self, path):
        self.path = Path(path)
        try:
            self.workflow = load_workflow(self.path)
        except InvalidWorkflow as error:  # said on the page, where its user looks, and nothing runs
            self.workflow = None
            super().__init__(self.path.name, "This workflow cannot run until its file is fixed:", {}, node_titles={},
                             history_name=None, blocking=[f"{p.pointer or '/'}: {p.message}" for p in error.problems])
            return
        super().__init__(
            self.workflow.title or self.workflow.name,
            self.workflow.document.get("description", ""),
            self.workflow.inputs,
            node_titles={node_id: node.title or node_id for node_id, node in self.workflow.nodes.items()},
            history_name=self.workflow.name,
        )

    def start(self, values, files, listeners):
        return api.start(self.path, values, files=files, trigger="form", user=api.current_user(),
                         listeners=listeners)

    def outputs_of(self, run):
        return run.outputs, {}
