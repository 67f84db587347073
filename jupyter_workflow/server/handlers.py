"""REST and WebSocket handlers under ``/workflow/api/``.

Every handler is authenticated and authorized by jupyter_server (resource ``workflow``),
answers JSON, and reports a user's mistake as ``4xx`` with ``{"message", "errors"}``
(the WebSocket routes too, when a request is not a WebSocket handshake), and a store that
cannot be written as ``503``. Blocking work (database, files, validation, parsing a large
body) runs off the event loop; bodies above ``WorkflowExtension.max_body_size`` are refused.
"""

import asyncio
import difflib
import json
from contextlib import contextmanager
from datetime import datetime
from importlib.resources import files

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from jupyter_workflow.events import RunStatus
from jupyter_workflow.model import InvalidWorkflow
from jupyter_workflow.model.components import NotANotebook, inspect_notebook
from jupyter_workflow.model.json_values import UnsafeJson, load_json
from jupyter_workflow.model.paths import PathOutsideRoot, name_problem
from jupyter_workflow.runner import CannotRetry
from jupyter_workflow.server.service import NotAWorkflowFile, RunService, VersionConflict
from jupyter_workflow.store import (
    AmbiguousRunId,
    AmbiguousScheduleId,
    AuditNote,
    InvalidCursor,
    InvalidSchedule,
    NotFound,
    ScheduleConflict,
    StoreUnavailable,
)

EXTENSION = "jupyter_workflow"
AUTH_RESOURCE = "workflow"
RUN_ID = r"(?P<run_id>[0-9a-f]{1,32})"
VERSION = r"[0-9a-f]{64}"
# Bodies up to this size are parsed on the event loop; larger ones in a thread.
PARSE_ON_LOOP_MAX = 64 * 1024
LARGEST_EVENT_ID = 2**63 - 1
WEBSOCKET_VERSIONS = ("7", "8", "13")  # the versions tornado speaks
VOILA_EXTENSION = "voila.server_extension"


class ApiError(web.HTTPError):
    """A request the API refuses, with the problems that explain why."""

    def __init__(self, status: int, message: str, errors: list | None = None, headers: dict | None = None):
        super().__init__(status, message.replace("%", "%%"))
        self.message = message
        self.errors = errors or []
        self.headers = headers or {}


def unprocessable(error: InvalidWorkflow) -> ApiError:
    """422 listing every problem of an invalid workflow or of its inputs."""
    return ApiError(422, str(error).splitlines()[0], [problem.to_dict() for problem in error.problems])


@contextmanager
def api_errors():
    """Turn the failures a request can meet into their answers: 4xx for the client's, 503 for the store's."""
    try:
        yield
    except InvalidWorkflow as error:
        raise unprocessable(error) from None
    except PathOutsideRoot as error:
        raise ApiError(403, str(error)) from None
    except StoreUnavailable as error:
        raise ApiError(503, f"{error}; nothing was changed") from None
    except CannotRetry as error:
        raise ApiError(409, str(error)) from None
    except VersionConflict as conflict:
        raise ApiError(
            409,
            f"{conflict.path} changed since version {conflict.base}: it is now at {conflict.current}",
            [{"pointer": "/base_version", "message": f"current version is {conflict.current}"}],
        ) from None
    except InvalidSchedule as error:
        raise ApiError(422, str(error), [problem.to_dict() for problem in error.problems]) from None
    except ScheduleConflict as error:
        raise ApiError(409, str(error), [{"pointer": "/expected_version", "message": str(error)}]) from None
    except (AmbiguousRunId, AmbiguousScheduleId) as error:
        raise ApiError(400, error.args[0]) from None
    except (NotFound, NotANotebook, FileNotFoundError, IsADirectoryError) as error:
        raise ApiError(404, str(error)) from None
    except OSError as error:  # a name too long, a folder that is a file...
        raise ApiError(400, f"cannot use that path: {error.strerror or error}") from None
    except (UnsafeJson, InvalidCursor, NotAWorkflowFile) as error:
        raise ApiError(400, str(error)) from None


def user_name(handler) -> str | None:
    user = handler.current_user
    return getattr(user, "username", None) or (user if isinstance(user, str) else None)


def error_message(error: web.HTTPError, reason: str) -> str:
    """The sentence of a tornado or jupyter_server error (its log message, with its arguments)."""
    if not error.log_message:
        return reason
    try:
        return error.log_message % error.args if error.args else error.log_message
    except (TypeError, ValueError):
        return error.log_message


class JsonErrors:
    """Errors answered as ``{"message", "errors"}`` JSON: never an HTML page, never a traceback."""

    def write_error(self, status_code: int, **kwargs):
        error = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(error, ApiError):
            body = {"message": error.message, "errors": error.errors}
            for name, value in error.headers.items():
                self.set_header(name, value)
        elif isinstance(error, web.HTTPError):
            body = {"message": error_message(error, self._reason), "errors": []}
        else:
            body = {"message": "internal error: see the server log", "errors": []}
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


def checked_path(relative: str, pointer: str) -> str:
    """A path given by the client, refused with 400 if no file name could hold it (control characters...)."""
    problem = name_problem(relative)
    if problem:
        raise ApiError(400, problem, [{"pointer": pointer, "message": problem}])
    return relative


@web.stream_request_body
class WorkflowHandler(JsonErrors, ExtensionHandlerMixin, APIHandler):
    """Base of the REST handlers: the service, JSON bodies and uniform JSON errors.

    The body is received as it streams in, so that one larger than the extension's
    ``max_body_size`` is refused (413) without being kept: at once when its
    ``Content-Length`` says so, otherwise when the handler reads it.
    """

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str = EXTENSION, *args, **kwargs):
        super().initialize(name, *args, **kwargs)
        self._chunks: list[bytes] = []
        self._received = 0

    @property
    def service(self) -> RunService:
        return self.settings["jupyter_workflow_service"]

    @property
    def max_body_size(self) -> int:
        return self.extensionapp.max_body_size

    async def prepare(self):
        await super().prepare()
        declared = self.request.headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_body_size:
            raise self.too_large()

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._received <= self.max_body_size:
            self._chunks.append(chunk)  # beyond: dropped, and refused when the body is read

    def too_large(self) -> ApiError:
        return ApiError(413, f"the request body is larger than the {self.max_body_size} bytes this server accepts")

    async def body(self) -> dict:
        """The request's JSON object body; 400 if it is not one, 413 if it is too large."""
        if self._received > self.max_body_size:
            raise self.too_large()
        raw, self._chunks = b"".join(self._chunks) or b"{}", []
        with api_errors():
            if len(raw) > PARSE_ON_LOOP_MAX:
                value = await asyncio.to_thread(load_json, raw, "the request body")
            else:
                value = load_json(raw, "the request body")
        if not isinstance(value, dict):
            raise ApiError(400, "the request body must be a JSON object")
        return value

    async def workflow_source(self) -> tuple[str | None, dict | None, dict]:
        """``path`` or ``spec`` (exactly one) and ``inputs`` from the JSON body."""
        body = await self.body()
        path, spec = field(body, "path", str), field(body, "spec", dict)
        if (path is None) == (spec is None):
            raise ApiError(400, "give exactly one of 'path' and 'spec'")
        if path is not None:
            checked_path(path, "/path")
        return path, spec, field(body, "inputs", dict, default={})

    def reply(self, value, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(value, allow_nan=False))

    async def call(self, function, *args, **kwargs):
        """Run blocking ``function`` in a thread, its failures turned into answers (:func:`api_errors`)."""
        with api_errors():
            return await asyncio.to_thread(function, *args, **kwargs)

    async def attempt(self, awaitable):
        """Await ``awaitable`` (a service coroutine), its failures turned into answers (:func:`api_errors`)."""
        with api_errors():
            return await awaitable


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


def page_size(handler: WorkflowHandler, default: int) -> int:
    """The ``limit`` query argument: a whole number from 1 to 500."""
    try:
        limit = int(handler.get_argument("limit", str(default)))
    except ValueError:
        raise ApiError(400, "limit must be a whole number") from None
    if not 1 <= limit <= 500:
        raise ApiError(400, "limit must be between 1 and 500")
    return limit


class OpenApiHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def get(self):
        document = files("jupyter_workflow.server").joinpath("openapi.json").read_text("utf-8")
        self.set_header("Content-Type", "application/json")
        self.finish(document)


class ComponentsHandler(WorkflowHandler):
    """Notebooks under a folder with their parameter schemas, a page at a time."""

    @web.authenticated
    @authorized
    async def get(self):
        folder = checked_path(self.get_argument("folder", "") or ".", "/folder")
        limit = page_size(self, default=500)
        cursor = self.get_argument("cursor", None)
        components, next_cursor = await self.call(self.service.components, folder, limit, cursor)
        self.reply({"components": components, "next_cursor": next_cursor})


class ComponentHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def get(self, path):
        checked_path(path, "/path")

        def inspect():
            component = inspect_notebook(self.service.resolve(path))
            return {**component.to_dict(), "path": path}

        self.reply(await self.call(inspect))


class ValidateHandler(WorkflowHandler):
    """The same problems the CLI reports, for a file or an inline document."""

    @web.authenticated
    @authorized
    async def post(self):
        path, spec, inputs = await self.workflow_source()

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
        path, spec, inputs = await self.workflow_source()
        workflow = await self.call(self.service.load, path, spec, inputs)
        note = AuditNote(user_name(self), "run.start", None, {"workflow": workflow.name, "path": path})
        run_id = await self.attempt(self.service.start(workflow, inputs, note))
        self.reply({"run_id": run_id}, status=202)

    @web.authenticated
    @authorized
    async def get(self):
        limit = page_size(self, default=50)
        status = self.get_argument("status", None)
        if status is not None and status not in list(RunStatus):
            raise ApiError(400, f"status must be one of {', '.join(RunStatus)}; got {status!r}",
                           [{"pointer": "/status", "message": f"one of {', '.join(RunStatus)}"}])
        runs, cursor = await self.call(
            self.service.store.list_runs,
            limit=limit,
            workflow=self.get_argument("workflow", None),
            status=status,
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
        if not await self.attempt(self.service.cancel(record.id, user_name(self))):
            raise ApiError(409, f"run {record.id} is not running on this server nor queued (it is {record.status})")
        record = await self.call(self.service.store.get_run, record.id)
        self.reply(record.to_dict())


class RetryHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id):
        new_id = await self.attempt(self.service.retry(run_id, user_name(self)))
        self.reply({"run_id": new_id, "retry_of": run_id}, status=202)


class NotebookHandler(WorkflowHandler):
    """The executed notebook of one node of a run (nbformat JSON)."""

    @web.authenticated
    @authorized
    async def get(self, run_id, node_id):
        text = await self.call(self.service.executed_notebook, run_id, node_id)
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


class WorkflowFileHandler(WorkflowHandler):
    """Read or save a workflow file, with an optimistic lock on its current version."""

    @web.authenticated
    @authorized
    async def get(self):
        path = checked_path(self.get_argument("path"), "/path")

        document, version = await self.call(self.service.read_workflow, path)
        self.reply({"path": path, "spec": document, "version": version})

    @web.authenticated
    @authorized
    async def put(self):
        body = await self.body()
        path = field(body, "path", str, required=True)
        spec = field(body, "spec", dict, required=True)
        base = field(body, "base_version", (str, type(None)), required=True)
        checked_path(path, "/path")
        version = await self.call(self.service.write_workflow, path, spec, base, user_name(self), "workflow.save")
        self.reply({"path": path, "version": version})


class RestoreHandler(WorkflowHandler):
    """Write an earlier version back into a workflow file (same optimistic lock as a save)."""

    @web.authenticated
    @authorized
    async def post(self, content_hash):
        body = await self.body()
        path = field(body, "path", str, required=True)
        base = field(body, "base_version", (str, type(None)), required=True)
        checked_path(path, "/path")
        version = await self.call(self.service.restore_version, path, content_hash, base, user_name(self))
        self.reply({"path": path, "version": version})


class AuditHandler(WorkflowHandler):
    @web.authenticated
    @authorized
    async def get(self):
        entries = await self.call(
            self.service.store.audit_log, action=self.get_argument("action", None), target=self.get_argument("target", None)
        )
        self.reply({"entries": [entry.to_dict() for entry in entries]})


class AppsHandler(WorkflowHandler):
    """The app notebook of a workflow (its form), written beside it when there is none."""

    @web.authenticated
    @authorized
    async def post(self):
        path = checked_path(field(await self.body(), "path", str, required=True), "/path")
        app, created = await self.call(self.service.app, path)
        self.reply({"app": app, "created": created, "voila": voila_serves(self.serverapp)})


def voila_serves(serverapp) -> bool:
    """Whether Voilà's server extension is on in this server (it renders notebooks at ``/voila/render/<path>``)."""
    package = serverapp.extension_manager.extensions.get(VOILA_EXTENSION)
    return package is not None and package.enabled


class NotFoundHandler(WorkflowHandler):
    """Any other path under /workflow/api/: a JSON 404."""

    async def prepare(self):
        await super().prepare()
        if self.current_user is None:
            raise web.HTTPError(403)
        raise ApiError(404, f"no such API route: {self.request.path}")


class EventsSocket(JsonErrors, WebSocketMixin, WebSocketHandler, ExtensionHandlerMixin, JupyterHandler):
    """Live events of one run (or of all runs), from a resume point: ``?after=EVENT_ID``.

    A request that cannot become a WebSocket gets a JSON error, as on the REST routes.
    """

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
            raise ApiError(403, "not authorized to read workflow events")
        self.check_handshake()
        after = self.get_argument("after", None)
        # One run's socket replays its whole log; the all-runs socket starts from now.
        self.after = event_id(after) if after is not None else None
        self.run_id = None
        with api_errors():
            if run_id is not None:
                self.run_id = (await asyncio.to_thread(self.service.store.get_run, run_id)).id
            if self.after is None:
                self.after = 0 if self.run_id else await asyncio.to_thread(self.service.store.last_event_id)
        await super().get(run_id=run_id)

    def check_handshake(self) -> None:
        """Refuse in JSON what tornado would refuse in text: not a WebSocket handshake, another origin or version."""
        headers = self.request.headers
        connection = [part.strip().lower() for part in headers.get("Connection", "").split(",")]
        if headers.get("Upgrade", "").lower() != "websocket" or "upgrade" not in connection:
            raise ApiError(400, "this route is a WebSocket: open it with an 'Upgrade: websocket' request")
        origin = headers.get("Origin") or headers.get("Sec-Websocket-Origin")
        if origin is not None and not self.check_origin(origin):
            raise ApiError(403, f"WebSockets from {origin} are not allowed")
        if headers.get("Sec-WebSocket-Version") not in WEBSOCKET_VERSIONS:
            raise ApiError(426, "this server speaks WebSocket version 13", headers={"Sec-WebSocket-Version": "13"})


    async def open(self, run_id=None):
        super().open()
        self.queue = self.service.hub.subscribe(self.run_id)
        self.pump = asyncio.ensure_future(self._pump())

    async def _pump(self) -> None:
        last = self.after
        try:
            for event in await asyncio.to_thread(self.service.store.events, self.run_id, last):
                await self.write_message(json.dumps(event.to_dict()))
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


def event_id(text: str) -> int:
    """An event id given as ``after``; 400 unless a whole number an event id can be."""
    if not (text.isascii() and text.isdigit()) or int(text) > LARGEST_EVENT_ID:
        raise ApiError(400, f"after must be an event id (a whole number from 0), got {text[:40]!r}")
    return int(text)


def routes() -> list[tuple]:
    from jupyter_workflow.server.schedule_handlers import schedule_routes  # it builds on this module

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
        (f"{api}/apps", AppsHandler),
        *schedule_routes(api),
        (f"{api}/.*", NotFoundHandler),
    ]
