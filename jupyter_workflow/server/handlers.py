"""REST and WebSocket handlers under ``/workflow/api/``.

Every handler is authenticated and authorized by jupyter_server (resource ``workflow``),
answers JSON, and reports a user's mistake as ``4xx`` with ``{"message", "errors"}``.
Blocking work (database, files, validation) runs off the event loop.
"""

import asyncio
import difflib
import json
from datetime import datetime
from importlib.resources import files

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from jupyter_workflow.model import InvalidWorkflow
from jupyter_workflow.model.components import NotANotebook, inspect_notebook
from jupyter_workflow.model.spec import content_hash, read_document
from jupyter_workflow.server.events import event_payload
from jupyter_workflow.server.service import PathOutsideRoot, RunService, RunStillActive
from jupyter_workflow.store import AmbiguousRunId

EXTENSION = "jupyter_workflow"
AUTH_RESOURCE = "workflow"
RUN_ID = r"(?P<run_id>[0-9a-f]{1,32})"
VERSION = r"[0-9a-f]{64}"


class ApiError(web.HTTPError):
    """A request the API refuses, with the problems that explain why."""

    def __init__(self, status: int, message: str, errors: list | None = None):
        super().__init__(status, message.replace("%", "%%"))
        self.message = message
        self.errors = errors or []


def unprocessable(error: InvalidWorkflow) -> ApiError:
    """422 listing every problem of an invalid workflow or of its inputs."""
    return ApiError(422, str(error).splitlines()[0], [problem.to_dict() for problem in error.problems])


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def user_name(handler) -> str | None:
    user = handler.current_user
    return getattr(user, "username", None) or (user if isinstance(user, str) else None)


class WorkflowHandler(ExtensionHandlerMixin, APIHandler):
    """Base of the REST handlers: the service, JSON bodies and uniform JSON errors."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str = EXTENSION, *args, **kwargs):
        super().initialize(name, *args, **kwargs)

    @property
    def service(self) -> RunService:
        return self.settings["jupyter_workflow_service"]

    def write_error(self, status_code: int, **kwargs):
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, ApiError):
            body = {"message": error.message, "errors": error.errors}
        elif isinstance(error, web.HTTPError):
            body = {"message": error.log_message or self._reason, "errors": []}
        else:
            body = {"message": "internal error: see the server log", "errors": []}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))

    def workflow_source(self) -> tuple[str | None, dict | None, dict]:
        """``path`` or ``spec`` (exactly one) and ``inputs`` from the JSON body."""
        body = self.body()
        path, spec = field(body, "path", str), field(body, "spec", dict)
        if (path is None) == (spec is None):
            raise ApiError(400, "give exactly one of 'path' and 'spec'")
        return path, spec, field(body, "inputs", dict, default={})

    def body(self) -> dict:
        """The request's JSON object body; 400 if it is not one."""
        try:
            value = json.loads(self.request.body or b"{}", parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "the request body is not valid JSON (NaN and Infinity are not JSON)") from None
        if not isinstance(value, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return value

    def reply(self, value, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(value, allow_nan=False))

    async def call(self, function, *args, **kwargs):
        """Run blocking ``function`` in a thread, turning known failures into 4xx answers."""
        try:
            return await asyncio.to_thread(function, *args, **kwargs)
        except InvalidWorkflow as error:
            raise unprocessable(error) from None
        except PathOutsideRoot as error:
            raise ApiError(403, str(error)) from None
        except AmbiguousRunId as error:
            raise ApiError(400, error.args[0]) from None
        except KeyError as error:
            raise ApiError(404, str(error.args[0]) if error.args else "not found") from None
        except (NotANotebook, FileNotFoundError, IsADirectoryError) as error:
            raise ApiError(404, str(error)) from None
        except OSError as error:  # a name too long, a folder that is a file...
            raise ApiError(400, f"cannot use that path: {error.strerror or error}") from None
        except ValueError as error:
            raise ApiError(400, str(error)) from None


def field(body: dict, name: str, kind, required: bool = False, default=None):
    """``body[name]`` checked against ``kind``; 400 with the field named otherwise."""
    if name not in body:
        if required:
            raise ApiError(400, f"missing field {name!r}", [{"pointer": f"/{name}", "message": "required"}])
        return default
    value = body[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiError(400, f"field {name!r} has the wrong type", [{"pointer": f"/{name}", "message": "wrong type"}])
    return value


class OpenApiHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def get(self):
        document = files("jupyter_workflow.server").joinpath("openapi.json").read_text("utf-8")
        self.set_header("Content-Type", "application/json")
        self.finish(document)


class ComponentsHandler(WorkflowHandler):
    """Notebooks under a folder with their parameter schemas."""

    @web.authenticated
    @authorized
    async def get(self):
        folder = self.get_argument("folder", "") or "."
        limit = 500

        def scan():
            base = self.service.resolve(folder)
            if not base.is_dir():
                raise FileNotFoundError(f"no folder {folder!r} under the server root")
            found = []
            for path in sorted(base.rglob("*.ipynb")):
                if ".ipynb_checkpoints" in path.parts or len(found) >= limit:
                    continue
                relative = str(path.relative_to(self.service.root))
                try:
                    found.append({**inspect_notebook(path).to_dict(), "path": relative})
                except NotANotebook as error:
                    found.append({"path": relative, "error": str(error)})
            return found

        self.reply({"components": await self.call(scan)})


class ComponentHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def get(self, path):
        def inspect():
            component = inspect_notebook(self.service.resolve(path))
            return {**component.to_dict(), "path": path}

        self.reply(await self.call(inspect))


class ValidateHandler(WorkflowHandler):
    """The same problems the CLI reports, for a file or an inline document."""

    @web.authenticated
    @authorized
    async def post(self):
        path, spec, inputs = self.workflow_source()

        def check():
            try:
                return self.service.load(path, spec, inputs), None
            except InvalidWorkflow as error:
                return None, error

        workflow, invalid = await self.call(check)
        if invalid is not None:
            errors, warnings = [p.to_dict() for p in invalid.problems], [p.to_dict() for p in invalid.warnings]
            self.reply({"valid": False, "errors": errors, "warnings": warnings})
            return
        warnings = [p.to_dict() for p in workflow.warnings]
        self.reply({"valid": True, "errors": [], "warnings": warnings, "content_hash": workflow.content_hash})


def parse_time(text: str | None, name: str) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(400, f"{name} must be an ISO 8601 time, got {text!r}") from None
    if moment.tzinfo is None:
        raise ApiError(400, f"{name} must include a time zone, e.g. {text}Z or {text}+00:00")
    return moment


class RunsHandler(WorkflowHandler):
    """Start a run (202, it goes on in the background) or list runs."""

    @web.authenticated
    @authorized
    async def post(self):
        path, spec, inputs = self.workflow_source()
        workflow = await self.call(self.service.load, path, spec, inputs)
        user = user_name(self)
        try:
            run_id = self.service.start(workflow, inputs, user)
        except InvalidWorkflow as error:
            raise unprocessable(error) from None
        await self.call(self.service.store.audit, user, "run.start", run_id, {"workflow": workflow.name, "path": path})
        await self.service.stored()
        self.reply({"run_id": run_id}, status=202)

    @web.authenticated
    @authorized
    async def get(self):
        try:
            limit = int(self.get_argument("limit", "50"))
        except ValueError:
            raise ApiError(400, "limit must be a whole number") from None
        if not 1 <= limit <= 500:
            raise ApiError(400, "limit must be between 1 and 500")
        runs, cursor = await self.call(
            self.service.store.list_runs,
            limit=limit,
            workflow=self.get_argument("workflow", None),
            status=self.get_argument("status", None),
            trigger=self.get_argument("trigger", None),
            since=parse_time(self.get_argument("since", None), "since"),
            until=parse_time(self.get_argument("until", None), "until"),
            cursor=self.get_argument("cursor", None),
        )
        self.reply({"runs": [run.to_dict() for run in runs], "next_cursor": cursor})


class RunHandler(WorkflowHandler):
    """One run: its status and the run tree (every node's state, times, outputs, error)."""

    @web.authenticated
    @authorized
    async def get(self, run_id):
        record = await self.call(self.service.store.get_run, run_id)
        self.reply(record.to_dict())


class CancelHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id):
        record = await self.call(self.service.store.get_run, run_id)
        if not await self.service.cancel(record.id):
            raise ApiError(409, f"run {record.id} is not running on this server (it is {record.status})")
        await self.call(self.service.store.audit, user_name(self), "run.cancel", record.id)
        record = await self.call(self.service.store.get_run, record.id)
        self.reply(record.to_dict())


class RetryHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id):
        user = user_name(self)
        try:
            new_id = await self.service.retry(run_id, user)
        except RunStillActive as error:
            raise ApiError(409, str(error)) from None
        except InvalidWorkflow as error:
            raise unprocessable(error) from None
        except AmbiguousRunId as error:
            raise ApiError(400, error.args[0]) from None
        except KeyError as error:
            raise ApiError(404, str(error.args[0])) from None
        await self.call(self.service.store.audit, user, "run.retry", new_id, {"retry_of": run_id})
        await self.service.stored()
        self.reply({"run_id": new_id, "retry_of": run_id}, status=202)


class NotebookHandler(WorkflowHandler):
    """The executed notebook of one node of a run (nbformat JSON)."""

    @web.authenticated
    @authorized
    async def get(self, run_id, node_id):
        def read():
            record = self.service.store.get_run(run_id)
            node = next((n for n in record.nodes if n.node_id == node_id), None)
            if node is None:
                raise KeyError(f"run {record.id} has no node {node_id!r}")
            if not node.notebook:
                raise KeyError(f"node {node_id!r} of run {record.id} has no executed notebook ({node.status})")
            with open(node.notebook, encoding="utf-8") as stream:
                return stream.read()

        text = await self.call(read)
        self.set_header("Content-Type", "application/x-ipynb+json")
        self.finish(text)


class VersionsHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def get(self):
        versions = await self.call(self.service.store.list_versions, name=self.get_argument("name", None))
        self.reply({"versions": [version.to_dict() for version in versions]})


class VersionHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def get(self, content_hash):
        self.reply((await self.call(self.service.store.get_version, content_hash)).to_dict())


class VersionDiffHandler(WorkflowHandler):
    """A unified diff between two versions' documents."""

    @web.authenticated
    @authorized
    async def get(self, first, second):
        a = await self.call(self.service.store.get_version, first)
        b = await self.call(self.service.store.get_version, second)
        lines = difflib.unified_diff(
            json.dumps(a.spec, indent=2, sort_keys=True).splitlines(keepends=True),
            json.dumps(b.spec, indent=2, sort_keys=True).splitlines(keepends=True),
            fromfile=first,
            tofile=second,
        )
        self.reply({"from": first, "to": second, "diff": "".join(lines)})


def file_version(path) -> str | None:
    """The content hash of the workflow file at ``path`` (None if it does not exist)."""
    if not path.exists():
        return None
    return content_hash(read_document(path.read_text(encoding="utf-8"), str(path)))


class VersionConflict(Exception):
    """A save or restore against a version that is no longer the file's current one."""

    def __init__(self, path, current, base):
        super().__init__(path)
        self.path, self.current, self.base = path, current, base


async def write_version(handler: WorkflowHandler, path: str, spec: dict, base: str | None, action: str) -> dict:
    """Write ``spec`` to the workflow file ``path`` if it is still at version ``base``; 409 if not."""
    user = user_name(handler)
    service = handler.service

    def write():
        target = service.resolve(path)
        if not target.name.endswith(".workflow.json"):
            raise ValueError(f"{path!r} is not a *.workflow.json file")
        current = file_version(target)
        if current != base:
            raise VersionConflict(path, current, base)
        name = spec.get("name") if isinstance(spec.get("name"), str) else target.name.removesuffix(".workflow.json")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
        version = service.store.save_version(spec, name, user)
        service.store.audit(user, action, path, {"version": version.content_hash, "base_version": base})
        return {"path": path, "version": version.content_hash}

    try:
        return await handler.call(write)
    except VersionConflict as conflict:
        raise ApiError(
            409,
            f"{conflict.path} changed since version {conflict.base}: it is now at {conflict.current}",
            [{"pointer": "/base_version", "message": f"current version is {conflict.current}"}],
        ) from None


class WorkflowFileHandler(WorkflowHandler):
    """Read or save a workflow file, with an optimistic lock on its current version."""

    @web.authenticated
    @authorized
    async def get(self):
        path = self.get_argument("path")

        def read():
            target = self.service.resolve(path)
            if not target.is_file():
                raise FileNotFoundError(f"no workflow file {path!r}")
            return read_document(target.read_text(encoding="utf-8"), path), file_version(target)

        document, version = await self.call(read)
        self.reply({"path": path, "spec": document, "version": version})

    @web.authenticated
    @authorized
    async def put(self):
        body = self.body()
        path = field(body, "path", str, required=True)
        spec = field(body, "spec", dict, required=True)
        base = field(body, "base_version", (str, type(None)), required=True)
        self.reply(await write_version(self, path, spec, base, action="workflow.save"))


class RestoreHandler(WorkflowHandler):
    """Write an earlier version back into a workflow file (same optimistic lock as a save)."""

    @web.authenticated
    @authorized
    async def post(self, content_hash):
        body = self.body()
        path = field(body, "path", str, required=True)
        base = field(body, "base_version", (str, type(None)), required=True)
        version = await self.call(self.service.store.get_version, content_hash)
        self.reply(await write_version(self, path, version.spec, base, action="version.restore"))


class AuditHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def get(self):
        entries = await self.call(
            self.service.store.audit_log, action=self.get_argument("action", None), target=self.get_argument("target", None)
        )
        self.reply({"entries": [entry.to_dict() for entry in entries]})


class NotFoundHandler(WorkflowHandler):
    """Any other path under /workflow/api/: a JSON 404."""

    async def prepare(self):
        await super().prepare()
        if self.current_user is None:
            raise web.HTTPError(403)
        raise ApiError(404, f"no such API route: {self.request.path}")


class EventsSocket(WebSocketMixin, WebSocketHandler, ExtensionHandlerMixin, JupyterHandler):
    """Live events of one run (or of all runs), from a resume point: ``?after=EVENT_ID``."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str = EXTENSION, *args, **kwargs):
        super().initialize(name, *args, **kwargs)

    def set_default_headers(self):
        """WebSockets take none of JupyterHandler's default headers."""

    @property
    def service(self) -> RunService:
        return self.settings["jupyter_workflow_service"]

    @ws_authenticated
    async def get(self, run_id=None):
        if not await ensure_async(self.authorizer.is_authorized(self, self.current_user, "read", AUTH_RESOURCE)):
            raise web.HTTPError(403)
        try:
            after = self.get_argument("after", None)
            # One run's socket replays its whole log; the all-runs socket starts from now.
            self.after = int(after) if after is not None else None
        except ValueError:
            raise web.HTTPError(400, "after must be an event id") from None
        self.run_id = None
        if run_id is not None:
            try:
                self.run_id = (await asyncio.to_thread(self.service.store.get_run, run_id)).id
            except (KeyError, AmbiguousRunId):
                raise web.HTTPError(404, f"no run {run_id}") from None
        if self.after is None:
            self.after = 0 if self.run_id else await asyncio.to_thread(self.service.store.last_event_id)
        await super().get(run_id=run_id)

    async def open(self, run_id=None):
        super().open()
        self.queue = self.service.hub.subscribe(self.run_id)
        self.pump = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        last = self.after
        try:
            for event in await asyncio.to_thread(self.service.store.events, self.run_id, last):
                await self.write_message(json.dumps(event_payload(event.id, event)))
                last = event.id
            while True:
                payload = await self.queue.get()
                if payload["id"] > last:
                    await self.write_message(json.dumps(payload))
                    last = payload["id"]
        except WebSocketClosedError:
            pass

    def on_message(self, message):
        """Clients only listen."""

    def on_close(self):
        self.service.hub.unsubscribe(self.queue)
        self.pump.cancel()


def routes() -> list[tuple]:
    api = "/workflow/api"
    return [
        (f"{api}/openapi.json", OpenApiHandler),
        (f"{api}/components", ComponentsHandler),
        (f"{api}/components/(?P<path>.+)", ComponentHandler),
        (f"{api}/validate", ValidateHandler),
        (f"{api}/runs", RunsHandler),
        (f"{api}/runs/{RUN_ID}", RunHandler),
        (f"{api}/runs/{RUN_ID}/cancel", CancelHandler),
        (f"{api}/runs/{RUN_ID}/retry", RetryHandler),
        (f"{api}/runs/{RUN_ID}/nodes/(?P<node_id>[A-Za-z_][A-Za-z0-9_]*)/notebook", NotebookHandler),
        (f"{api}/runs/{RUN_ID}/events", EventsSocket),
        (f"{api}/events", EventsSocket),
        (f"{api}/versions", VersionsHandler),
        (f"{api}/versions/(?P<content_hash>{VERSION})", VersionHandler),
        (f"{api}/versions/(?P<first>{VERSION})/diff/(?P<second>{VERSION})", VersionDiffHandler),
        (f"{api}/versions/(?P<content_hash>{VERSION})/restore", RestoreHandler),
        (f"{api}/workflows", WorkflowFileHandler),
        (f"{api}/audit", AuditHandler),
        (f"{api}/.*", NotFoundHandler),
    ]
