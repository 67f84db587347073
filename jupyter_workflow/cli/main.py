"""``jupyter workflow``: run, validate, inspect and draw workflows; query past runs.

Exit codes: 0 success, 1 the run failed, 2 invalid input (message on stderr).

Each command imports what it uses when it runs, so that starting one stays quick:
``--help`` loads neither the store (SQLAlchemy) nor the settings, and ``runs``,
``graph`` and ``validate`` load no engine (nbclient, zmq, papermill); see
``tests/test_imports.py``.
"""

import argparse
import gc
import json
import re
import sys
from contextlib import contextmanager
from pathlib import Path

from jupyter_workflow.cli.display import Progress, error_line, format_seconds, format_value, table
from jupyter_workflow.events import USABLE_NODE_STATUSES, RunStatus
from jupyter_workflow.model.problems import InvalidWorkflow

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


class UsageError(Exception):
    """Bad command-line input: reported on stderr with exit code 2."""


def parse_assignments(pairs: list[str], declarations: dict) -> dict:
    """``NAME=VALUE`` pairs as input values: JSON unless the input is declared a string."""
    values = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"-p expects NAME=VALUE, got {pair!r}")
        if declarations.get(name, {}).get("type") == "string":
            values[name] = text
            continue
        try:
            values[name] = json.loads(text)
        except json.JSONDecodeError:
            values[name] = text
        except RecursionError:
            raise UsageError(f"-p {name}: the value is nested too deeply") from None
        except ValueError as error:  # an integer with more digits than Python reads
            raise UsageError(f"-p {name}: {error}") from None
    return values


def read_declarations(path: str) -> dict:
    """The input declarations of a workflow file, or {} if it cannot be read (validation reports why)."""
    from jupyter_workflow.model.spec import read_document

    try:
        inputs = read_document(Path(path).read_bytes()).get("inputs", {})
    except (OSError, InvalidWorkflow, AttributeError):
        return {}
    return inputs if isinstance(inputs, dict) else {}


def _settings(args):
    from jupyter_workflow.config import resolve_config

    return resolve_config(db_url=args.db, runs_dir=getattr(args, "runs_dir", None), parallel=getattr(args, "parallel", None))


def _open_store(args):
    from jupyter_workflow.store import RunStore

    return RunStore(_settings(args).db_url)


def node_summary(nodes) -> dict:
    return {
        node.node_id: {
            "status": node.status,
            "attempt": node.attempt,
            "duration_s": node.duration_s,
            "notebook": node.notebook,
            "error": node.error,
        }
        for node in nodes
    }


def print_nodes(nodes, colour: bool, verbose: bool) -> None:
    """The table of nodes, then each failed node's error; its whole traceback when ``verbose``."""
    rows = [
        [n.node_id, n.status, format_seconds(n.duration_s), str(n.attempt or ""), n.notebook or ""] for n in nodes
    ]
    print(table(["node", "status", "duration", "attempts", "notebook"], rows, [n.status for n in nodes], colour))
    for node in nodes:
        if node.error:
            print_error(node, verbose)


def print_error(node, verbose: bool) -> None:
    """A failed node: its error in a line, the failing cell's first lines, its executed notebook."""
    error = node.error
    print(f"\n{node.node_id} failed: {error_line(error)}")
    source = failing_cell_source(node.notebook, error)
    if source:
        where = f"cell [{error['execution_count']}]" if error.get("execution_count") else "the failing cell"
        print(f"  in {where}:\n" + cell_excerpt(source, failing_line(error.get("traceback") or "")))
    if node.notebook:
        print(f"  executed notebook: {node.notebook}")
    if verbose and error.get("traceback"):
        print(error["traceback"])


FAILING_CELL_LINES = 5
CELL_FRAME = re.compile(r"^Cell In\[\d+\], line (\d+)", re.MULTILINE)  # IPython's traceback frame of a cell


def failing_line(traceback: str) -> int | None:
    """The line of the cell where an IPython traceback says the error was raised."""
    found = CELL_FRAME.search(traceback)
    return int(found.group(1)) if found else None


def cell_excerpt(source: str, line: int | None) -> str:
    """The cell's first lines, indented, and the failing line marked if it comes after them."""
    lines = source.splitlines()
    shown = [f"    {text}" for text in lines[:FAILING_CELL_LINES]]
    if line is not None and FAILING_CELL_LINES < line <= len(lines):
        shown += ["    ..."] if line > FAILING_CELL_LINES + 1 else []
        shown.append(f"--> {lines[line - 1]}")
    if len(lines) > max(FAILING_CELL_LINES, line or 0):
        shown.append("    ...")
    return "\n".join(shown)


def failing_cell_source(notebook: str | None, error: dict) -> str | None:
    """The source of the cell that failed (``error["cell_index"]`` in the executed notebook), if known."""
    index = error.get("cell_index")
    if not notebook or not isinstance(index, int):
        return None
    try:
        source = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"][index]["source"]
    except (OSError, ValueError, LookupError, TypeError):
        return None
    return "".join(source) if isinstance(source, list) else str(source)


def print_node_outputs(nodes) -> None:
    """What the nodes that succeeded recorded: after a failure, the results that still exist."""
    lines = [
        f"  {node.node_id}.{name} = {format_value(value)}"
        for node in nodes
        if node.status in USABLE_NODE_STATUSES
        for name, value in node.outputs.items()
    ]
    if lines:
        print("\noutputs of the nodes that succeeded:\n" + "\n".join(lines))


def print_outputs(outputs: dict) -> None:
    if outputs:
        print("\noutputs:")
        for name, value in outputs.items():
            print(f"  {name} = {format_value(value)}")


def command_run(args) -> int:
    import getpass

    from jupyter_workflow.model import load_workflow

    settings = _settings(args)
    with fork_server(settings) as fork_process:
        inputs = parse_assignments(args.param, read_declarations(args.file))
        workflow = load_workflow(args.file, inputs=inputs)
        for warning in workflow.warnings:
            print(f"{args.file}: {warning}", file=sys.stderr)

        def new_run(runner):
            return runner.new_run(workflow, inputs, trigger="cli", user=getpass.getuser())

        return _execute(args, settings, fork_process, new_run)


def command_retry(args) -> int:
    import getpass

    from jupyter_workflow.runner import CannotRetry
    from jupyter_workflow.store import AmbiguousRunId, NotFound

    def retry_run(runner):
        try:
            return runner.retry_run(args.run_id, trigger="retry", user=getpass.getuser())
        except (NotFound, AmbiguousRunId, CannotRetry) as error:
            raise UsageError(error.args[0]) from None

    settings = _settings(args)
    with fork_server(settings) as fork_process:
        return _execute(args, settings, fork_process, retry_run)


@contextmanager
def fork_server(settings):
    """The node kernel's fork server, started now so that it imports the kernel while the engine loads."""
    process = settings.start_fork_server()
    try:
        yield process
    finally:
        if process is not None:  # still there if the run never started
            process.kill()
            process.wait()


def _execute(args, settings, fork_process, prepare) -> int:
    """Prepare a run with ``prepare(runner)``, execute it with live progress and report it; the exit code."""
    import asyncio
    import signal

    from jupyter_workflow.runner import Runner
    from jupyter_workflow.runtime.artifacts import encode_refs

    live = sys.stdout.isatty() and not args.json
    progress = Progress(sys.stderr if args.json else sys.stdout, live=live)

    async def run_with_progress():
        # SIGTERM (a scheduler stopping the job) cancels the run like Ctrl-C does.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
        runner = Runner.from_config(
            settings, listeners=[] if args.json else [progress], keep_warm=False, fork_process=fork_process
        )
        ticker = None
        try:
            run = await asyncio.to_thread(prepare, runner)
            ticker = asyncio.ensure_future(progress.animate()) if live else None
            return await runner.execute(run)
        finally:
            if ticker:
                ticker.cancel()
            await runner.close()

    run = asyncio.run(run_with_progress())
    nodes = [run.nodes[node_id] for node_id in progress.order or run.nodes]
    if args.json:
        print(
            json.dumps(
                {
                    "run_id": run.run_id,
                    "status": run.status,
                    "duration_s": run.duration_s,
                    "outputs": encode_refs(run.outputs),
                    "error": run.error,
                    "nodes": node_summary(nodes),
                },
                indent=2,
            )
        )
    else:
        if live:
            progress.clear()
        print()
        print_nodes(nodes, sys.stdout.isatty(), verbose=args.verbose)
        print_outputs(run.outputs)
        if run.status != RunStatus.SUCCEEDED:
            print_node_outputs(nodes)
            if not args.verbose and any(node.error and node.error.get("traceback") for node in nodes):
                print(f"\n(the full traceback: --verbose, or jupyter workflow runs show {run.run_id[:12]})")
        print(f"\nrun {run.run_id} {run.status} in {format_seconds(run.duration_s)}")
        print(f"executed notebooks: {run.run_dir / 'nodes'}")
    return EXIT_OK if run.status == RunStatus.SUCCEEDED else EXIT_FAILED


def command_validate(args) -> int:
    from jupyter_workflow.model import load_workflow

    inputs = parse_assignments(args.param, read_declarations(args.file)) if args.param else None
    workflow = load_workflow(args.file, inputs=inputs)
    if args.json:
        print(json.dumps({"valid": True, "errors": [], "warnings": [w.to_dict() for w in workflow.warnings]}))
        return EXIT_OK
    count = len(workflow.warnings)
    warned = f", {count} warning{'s' if count != 1 else ''}" if count else ""
    print(f"{args.file}: valid ({len(workflow.nodes)} nodes{warned})")
    for warning in workflow.warnings:
        print(f"  {warning}")
    return EXIT_OK


def command_inspect(args) -> int:
    from jupyter_workflow.model.components import NotANotebook, inspect_notebook

    try:
        component = inspect_notebook(args.notebook)
    except NotANotebook as error:
        raise UsageError(str(error)) from None
    if args.json:
        print(json.dumps(component.to_dict(), indent=2, default=str))
        return EXIT_OK
    print(f"{component.title} ({component.path})")
    if component.description:
        print(component.description)
    if not component.has_parameters_cell:
        print("\nno cell tagged 'parameters': this notebook takes no parameters")
    else:
        rows = [[p.name, p.type or "any", p.default_source, p.help] for p in component.parameters.values()]
        print("\nparameters:\n" + table(["name", "type", "default", "help"], rows))
    if component.outputs:
        rows = [[name, spec.get("type", ""), spec.get("description", "")] for name, spec in component.outputs.items()]
        print("\noutputs:\n" + table(["name", "type", "description"], rows))
    return EXIT_OK


def command_runs_list(args) -> int:
    store = _open_store(args)
    try:
        runs, _ = store.list_runs(limit=args.limit, workflow=args.workflow, status=args.status)
    finally:
        store.close()
    if args.json:
        print(json.dumps([run.to_dict() for run in runs], indent=2))
        return EXIT_OK
    if not runs:
        filters = [f"{name} {value}" for name, value in (("workflow", args.workflow), ("status", args.status)) if value]
        print(f"no runs match {' and '.join(filters)}" if filters else "no runs yet")
        return EXIT_OK
    rows = [
        [r.id[:12], r.workflow_name, r.status, r.trigger, r.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
         format_seconds(r.duration_s)]
        for r in runs
    ]
    colour = sys.stdout.isatty()
    print(table(["run", "workflow", "status", "trigger", "started", "duration"], rows, [r.status for r in runs], colour))
    return EXIT_OK


def command_runs_show(args) -> int:
    from jupyter_workflow.store import AmbiguousRunId, NotFound

    store = _open_store(args)
    try:
        run = store.get_run(args.run_id)
    except (NotFound, AmbiguousRunId) as error:
        raise UsageError(error.args[0]) from None
    finally:
        store.close()
    if args.json:
        print(json.dumps(run.to_dict(), indent=2))
        return EXIT_OK
    print(f"run {run.id}: {run.workflow_name} {run.status} in {format_seconds(run.duration_s)}")
    print(f"trigger {run.trigger}, user {run.user}, started {run.created_at.astimezone():%Y-%m-%d %H:%M:%S}")
    print(f"inputs: {json.dumps(run.inputs, ensure_ascii=False)}\n")
    print_nodes(run.nodes, sys.stdout.isatty(), verbose=True)
    print_outputs(run.outputs)
    if run.status != RunStatus.SUCCEEDED:
        print_node_outputs(run.nodes)
    return EXIT_OK


def command_graph(args) -> int:
    from jupyter_workflow.model import load_workflow
    from jupyter_workflow.model.graph import to_dot, to_mermaid

    workflow = load_workflow(args.file)
    states = None
    if args.run:
        from jupyter_workflow.store import AmbiguousRunId, NotFound

        store = _open_store(args)
        try:
            states = {node.node_id: node.status for node in store.get_run(args.run).nodes}
        except (NotFound, AmbiguousRunId) as error:
            raise UsageError(error.args[0]) from None
        finally:
            store.close()
    print((to_dot if args.format == "dot" else to_mermaid)(workflow, states), end="")
    return EXIT_OK


def inputs_help(path: str) -> str:
    """The inputs a workflow file declares, as ``run FILE --help`` lists them."""
    from jupyter_workflow.model.spec import read_document

    try:
        document = read_document(Path(path).read_text(encoding="utf-8"), path)
    except (OSError, ValueError) as error:  # InvalidWorkflow is a ValueError
        reason = error.strerror if isinstance(error, OSError) else str(error).splitlines()[-1].strip()
        return f"\n{path}: cannot list its inputs ({reason})"
    inputs = document.get("inputs") if isinstance(document, dict) else None
    if not isinstance(inputs, dict) or not inputs:
        return f"\n{path} declares no inputs."
    rows = []
    for name, declaration in inputs.items():
        declaration = declaration if isinstance(declaration, dict) else {}
        default = json.dumps(declaration["default"], ensure_ascii=False) if "default" in declaration else "(required)"
        rows.append([name, str(declaration.get("type", "any")), default, input_description(declaration)])
    return f"\ninputs of {path} (-p NAME=VALUE):\n" + table(["name", "type", "default", "description"], rows)


def input_description(declaration: dict) -> str:
    """An input's title and description, then its allowed values or bounds in brackets."""
    text = ": ".join(str(declaration[key]) for key in ("title", "description") if declaration.get(key))
    rules = []
    if isinstance(declaration.get("enum"), list):
        rules.append("one of " + ", ".join(json.dumps(choice, ensure_ascii=False) for choice in declaration["enum"]))
    rules += [f"{word} {declaration[key]}" for key, word in (("minimum", "at least"), ("maximum", "at most"))
              if key in declaration]
    if declaration.get("format"):
        rules.append(f"format {declaration['format']}")
    if isinstance(declaration.get("items"), dict) and declaration["items"].get("type"):
        rules.append(f"a list of {declaration['items']['type']}s")
    rules += [key for key in ("secret", "multiline") if declaration.get(key) is True]
    return f"{text} ({', '.join(rules)})".strip() if rules else text


class RunHelp(argparse.Action):
    """``-h`` of ``run``: the command's help, then the inputs of the workflow named before it."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help="show this help and FILE's inputs")

    def __call__(self, parser, namespace, values, option_string=None):
        parser.print_help()
        if getattr(namespace, "file", None):
            print(inputs_help(namespace.file))
        parser.exit()


def command_examples(args) -> int:
    from jupyter_workflow.examples import copy_examples

    try:
        copied = copy_examples(Path(args.folder))
    except (FileExistsError, FileNotFoundError, NotADirectoryError) as error:
        raise UsageError(str(error)) from None
    print(f"copied {len(copied)} files into {args.folder}")
    workflows = sorted(str(path) for path in copied if path.name.endswith(".workflow.json"))
    if workflows:
        print("try: " + "\n     ".join(f"jupyter workflow run {path}" for path in workflows))
    return EXIT_OK


def command_app(args) -> int:
    from jupyter_workflow.apps import AppExists, write_app

    try:
        out = write_app(Path(args.file), Path(args.output) if args.output else None, force=args.force)
    except AppExists as error:
        raise UsageError(str(error)) from None
    print(f"wrote {out}\ntry: voila {out}")
    return EXIT_OK


def add_execution_options(command: argparse.ArgumentParser) -> None:
    """The options of the commands that execute a run (``run``, ``retry``)."""
    command.add_argument("--parallel", type=int, help="nodes run at once (default: CPU count)")
    command.add_argument("--runs-dir", help="folder for executed notebooks and artifacts")
    command.add_argument("--json", action="store_true", help="print the result as one JSON object")
    command.add_argument("-v", "--verbose", action="store_true", help="print a failed node's whole traceback")


def build_parser() -> argparse.ArgumentParser:
    # The commands of schedules and workers are in modules of their own, which import this one.
    from jupyter_workflow.cli import schedule_commands, scheduler_commands, worker_commands

    parser = argparse.ArgumentParser(prog="jupyter workflow", description="Workflows of parameterized notebooks.")
    parser.add_argument("--db", help="run store URL (default: $JUPYTER_WORKFLOW_DB_URL or SQLite in the Jupyter data dir)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a workflow file", add_help=False)
    run.add_argument("-h", "--help", action=RunHelp)
    run.add_argument("file", help="a *.workflow.json file (FILE --help lists its inputs)")
    run.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE", help="an input value")
    add_execution_options(run)
    run.set_defaults(handler=command_run)
    run.add_argument("--queue", action="store_const", dest="handler", const=worker_commands.command_queue,
                     default=command_run, help="queue the run for a worker instead of running it; print its id")

    retry = commands.add_parser("retry", help="run again what did not succeed in a finished run")
    retry.add_argument("run_id", help="the run (a unique prefix of its id is enough)")
    add_execution_options(retry)
    retry.set_defaults(handler=command_retry)

    validate = commands.add_parser("validate", help="check a workflow file and list every problem")
    validate.add_argument("file")
    validate.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    validate.add_argument("--json", action="store_true")
    validate.set_defaults(handler=command_validate)

    inspect = commands.add_parser("inspect", help="show a notebook's parameters and outputs")
    inspect.add_argument("notebook")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(handler=command_inspect)

    runs = commands.add_parser("runs", help="past runs").add_subparsers(dest="runs_command", required=True, metavar="COMMAND")
    listing = runs.add_parser("list", help="recent runs, newest first")
    listing.add_argument("--limit", type=int, default=20)
    listing.add_argument("--workflow")
    listing.add_argument("--status", choices=[status.value for status in RunStatus])
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=command_runs_list)
    show = runs.add_parser("show", help="one run with its nodes (a unique prefix of the id is enough)")
    show.add_argument("run_id")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=command_runs_show)

    graph = commands.add_parser("graph", help="draw a workflow as Graphviz dot or Mermaid")
    graph.add_argument("file")
    graph.add_argument("--run", help="colour nodes by their state in this run")
    graph.add_argument("--format", choices=["dot", "mermaid"], default="dot")
    graph.set_defaults(handler=command_graph)

    examples = commands.add_parser("examples", help="copy the example workflows and components into a folder")
    examples.add_argument("folder", help="where to copy them (created if needed; no file is overwritten)")
    examples.set_defaults(handler=command_examples)

    app = commands.add_parser("app", help="write an app notebook that shows a workflow's form (for Voilà)")
    app.add_argument("file", help="a *.workflow.json file")
    app.add_argument("-o", "--output", metavar="OUT", help="the notebook to write (default: apps/<name>.ipynb beside FILE)")
    app.add_argument("--force", action="store_true", help="overwrite OUT if it exists")
    app.set_defaults(handler=command_app)

    worker_commands.add_worker_parser(commands)
    scheduler_commands.add_scheduler_parser(commands)
    schedule_commands.add_schedule_commands(commands)
    return parser


# An except clause's class is looked up only when an exception reaches it: these two import
# asyncio and the store then, not at every command's start.


def cancellations() -> tuple[type[BaseException], ...]:
    """What ends a command as cancelled: Ctrl-C, or a run cancelled by SIGTERM."""
    import asyncio

    return KeyboardInterrupt, asyncio.CancelledError


def store_unavailable() -> type[Exception]:
    """The error of a run store that cannot be opened or written."""
    from jupyter_workflow.store import StoreUnavailable

    return StoreUnavailable


def main(argv: list[str] | None = None) -> int:
    """Run one command, ``argv`` or the process's arguments; the exit code.

    Without ``argv`` it is the process's entry point, and the process ends when it
    returns: what the command's imports made is frozen (:func:`gc.freeze`), which spares
    the interpreter's last garbage collection over it (about 50 ms of ``runs list``).
    """
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except InvalidWorkflow as error:
        if getattr(args, "json", False):
            print(json.dumps({"valid": False, **error.to_dict()}, indent=2))
        print(error, file=sys.stderr)
        return EXIT_INVALID
    except UsageError as error:
        print(f"jupyter workflow: {error}", file=sys.stderr)
        return EXIT_INVALID
    except cancellations():
        print("\ncancelled", file=sys.stderr)
        return 130
    except store_unavailable() as error:
        print(f"jupyter workflow: {error}\n(set it with --db or JUPYTER_WORKFLOW_DB_URL)", file=sys.stderr)
        return EXIT_INVALID
    finally:
        if argv is None:
            gc.freeze()


if __name__ == "__main__":
    sys.exit(main())
