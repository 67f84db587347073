"""REST handlers of schedules, their fires, a cron preview, and the heartbeats of schedulers and workers.

They sit beside :mod:`~jupyter_workflow.server.handlers` (same authentication, JSON errors,
blocking store calls off the event loop) under ``/workflow/api/schedules`` and
``/workflow/api/heartbeats``. Every change leaves an audit entry (``schedule.create``,
``schedule.update``, ``schedule.delete``, ``schedule.enable``, ``schedule.disable``,
``schedule.run-now``).
"""

from pathlib import Path

from jupyter_server.auth.decorator import authorized
from tornado import web

from jupyter_workflow.config import resolve_config
from jupyter_workflow.schedules import operations
from jupyter_workflow.schedules.scheduler import Scheduler
from jupyter_workflow.server.handlers import (
    ApiError,
    WorkflowHandler,
    api_errors,
    checked_path,
    field,
    page_size,
    user_name,
)
from jupyter_workflow.store.heartbeats import PROCESS_KINDS

SCHEDULE_ID = r"(?P<schedule_id>[0-9a-f]{1,32})"


NEW_SCHEDULE_FIELDS = ("name", "cron", "timezone", "inputs", "enabled", "catch_up", "catch_up_limit",
                       "max_concurrent", "retries", "notify", "pin")


class ServedSchedules:
    """The schedules as the server shows them: workflow paths relative to its root, blocking calls."""

    def __init__(self, service, serverapp):
        self.store, self.root, self.serverapp = service.store, service.root, serverapp
        self.resolve = service.resolve

    def locate(self, path: str) -> Path:
        """A workflow file given relative to the root, as the schedule keeps it (absolute)."""
        return self.resolve(checked_path(path, "/workflow_path"))

    def view(self, schedule, with_upcoming: bool = False) -> dict:
        view = operations.schedule_view(self.store, schedule, with_upcoming)
        path = Path(schedule.workflow_path)
        view["workflow_path"] = path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else str(path)
        return view

    def every(self) -> list[dict]:
        return [self.view(schedule) for schedule in self.store.list_schedules()]

    def show(self, schedule_id: str) -> dict:
        return self.view(self.store.get_schedule(schedule_id), with_upcoming=True)

    def create(self, body: dict, user: str | None) -> dict:
        settings = {name: body[name] for name in NEW_SCHEDULE_FIELDS if name in body}
        schedule = operations.create(self.store, self.locate(body["workflow_path"]), settings, user)
        return self.view(schedule, with_upcoming=True)

    def update(self, schedule_id: str, changes: dict, expected_version: int, user: str | None) -> dict:
        schedule = operations.update(self.store, schedule_id, changes, expected_version, user, self.locate)
        return self.view(schedule, with_upcoming=True)

    def set_enabled(self, schedule_id: str, enabled: bool, user: str | None) -> dict:
        return self.view(operations.set_enabled(self.store, schedule_id, enabled, user), with_upcoming=True)

    def delete(self, schedule_id: str, user: str | None) -> None:
        operations.delete(self.store, schedule_id, user)

    def run_now(self, schedule_id: str, user: str | None) -> dict:
        scheduler = Scheduler(self.store, resolve_config(config=self.serverapp.config))
        return operations.fire_view(self.store, operations.run_now(self.store, schedule_id, user, scheduler))

    def fires(self, schedule_id: str, limit: int) -> list[dict]:
        return [operations.fire_view(self.store, fire) for fire in self.store.list_fires(schedule_id, limit)]


class ScheduleApiHandler(WorkflowHandler):
    """Base of the schedule routes: the schedules as this server shows them."""

    @property
    def schedules(self) -> ServedSchedules:
        return ServedSchedules(self.service, self.serverapp)


class SchedulesHandler(ScheduleApiHandler):
    """Every schedule (GET) or a new one (POST)."""

    @web.authenticated
    @authorized
    async def get(self):
        self.reply({"schedules": await self.call(self.schedules.every)})

    @web.authenticated
    @authorized
    async def post(self):
        body = await self.body()
        field(body, "workflow_path", str, required=True)
        field(body, "inputs", dict)
        field(body, "pin", bool)
        self.reply(await self.call(self.schedules.create, body, user_name(self)), status=201)


class CronPreviewHandler(ScheduleApiHandler):
    """The next five fire times of a cron expression in a zone; nothing is stored."""

    @web.authenticated
    @authorized
    async def post(self):
        body = await self.body()
        cron = field(body, "cron", str, required=True)
        timezone = field(body, "timezone", str, default=operations.DEFAULT_TIMEZONE)
        with api_errors():
            self.reply(operations.preview(cron, timezone))


class ScheduleHandler(ScheduleApiHandler):
    """One schedule: read, change (naming the version it was read at), delete."""

    @web.authenticated
    @authorized
    async def get(self, schedule_id):
        self.reply(await self.call(self.schedules.show, schedule_id))

    @web.authenticated
    @authorized
    async def patch(self, schedule_id):
        body = await self.body()
        expected = field(body, "expected_version", int, required=True)
        field(body, "workflow_path", str)
        field(body, "inputs", dict)
        field(body, "pin", bool)
        changes = {name: value for name, value in body.items() if name != "expected_version"}
        if not changes:
            raise ApiError(400, "nothing to change: give the fields to change with expected_version")
        self.reply(await self.call(self.schedules.update, schedule_id, changes, expected, user_name(self)))

    @web.authenticated
    @authorized
    async def delete(self, schedule_id):
        await self.call(self.schedules.delete, schedule_id, user_name(self))
        self.set_status(204)
        self.finish()


class EnableHandler(ScheduleApiHandler):
    enabled = True

    @web.authenticated
    @authorized
    async def post(self, schedule_id):
        self.reply(await self.call(self.schedules.set_enabled, schedule_id, self.enabled, user_name(self)))


class DisableHandler(EnableHandler):
    enabled = False


class RunNowHandler(ScheduleApiHandler):
    """Fire a schedule now: its run is queued for a worker."""

    @web.authenticated
    @authorized
    async def post(self, schedule_id):
        self.reply(await self.call(self.schedules.run_now, schedule_id, user_name(self)), status=202)


class FiresHandler(ScheduleApiHandler):
    @web.authenticated
    @authorized
    async def get(self, schedule_id):
        limit = page_size(self, default=50)
        self.reply({"fires": await self.call(self.schedules.fires, schedule_id, limit)})


class HeartbeatsHandler(ScheduleApiHandler):
    """The schedulers and workers that ever beat, the latest beat first."""

    @web.authenticated
    @authorized
    async def get(self):
        kind = self.get_argument("kind", None)
        if kind is not None and kind not in PROCESS_KINDS:
            raise ApiError(400, f"kind must be one of {', '.join(PROCESS_KINDS)}; got {kind!r}",
                           [{"pointer": "/kind", "message": f"one of {', '.join(PROCESS_KINDS)}"}])
        beats = await self.call(self.service.store.heartbeats, kind)
        self.reply({"heartbeats": [beat.to_dict() for beat in beats]})


def schedule_routes(api: str) -> list[tuple]:
    """The schedule routes under ``api`` (``/workflow/api``), before its catch-all 404."""
    return [
        (f"{api}/schedules", SchedulesHandler),
        (f"{api}/schedules/preview", CronPreviewHandler),
        (f"{api}/schedules/{SCHEDULE_ID}", ScheduleHandler),
        (f"{api}/schedules/{SCHEDULE_ID}/enable", EnableHandler),
        (f"{api}/schedules/{SCHEDULE_ID}/disable", DisableHandler),
        (f"{api}/schedules/{SCHEDULE_ID}/run-now", RunNowHandler),
        (f"{api}/schedules/{SCHEDULE_ID}/fires", FiresHandler),
        (f"{api}/heartbeats", HeartbeatsHandler),
    ]
