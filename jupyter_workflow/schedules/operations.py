"""What operators do with schedules, shared by the REST API and the command line.

A schedule is made from a workflow file checked with its input values as a run would be
(and, pinned, from the version the file holds now); it is shown with its next fire times in
its own zone and the status of its last fire's run; every change leaves an audit entry
(``schedule.create``, ``schedule.update``, ``schedule.delete``, ``schedule.enable``,
``schedule.disable``, ``schedule.run-now``), stored with the change. Paths are resolved by the caller: the server
against its root, the command line against the current folder. Every function here is
blocking (files, database).
"""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from jupyter_workflow.events import now
from jupyter_workflow.model.problems import Problem, pointer
from jupyter_workflow.schedules.cron import CronError, check_cron, check_timezone, describe, next_fire_times
from jupyter_workflow.store import InvalidSchedule, RunStore
from jupyter_workflow.store.records import AuditNote, FireRecord, ScheduleRecord

if TYPE_CHECKING:  # the scheduler brings the engine: only run_now needs it
    from jupyter_workflow.schedules.scheduler import Scheduler

DEFAULT_TIMEZONE = "UTC"
UPCOMING = 5  # fire times shown by a preview and a single schedule


def preview(cron: str, timezone: str, after: datetime | None = None) -> dict:
    """The next :data:`UPCOMING` fire times of ``cron`` in ``timezone`` after ``after`` (now), ISO and in words.

    Raises :class:`~jupyter_workflow.store.InvalidSchedule` naming what does not parse (``/cron``, ``/timezone``).
    """
    problems = []
    for name, check, value in (("cron", check_cron, cron), ("timezone", check_timezone, timezone)):
        try:
            check(value)
        except CronError as error:
            problems.append(Problem(pointer(name), str(error)))
    if problems:
        raise InvalidSchedule(problems)
    times = next_fire_times(cron, timezone, after or now(), UPCOMING)
    return {"cron": cron, "timezone": timezone,
            "fire_times": [{"at": time.isoformat(), "text": text} for time, text in zip(times, describe(times))]}


def upcoming(schedule: ScheduleRecord, count: int = UPCOMING) -> list[datetime]:
    """The next ``count`` fire times of an enabled schedule, in its zone, from the one owed; none while disabled."""
    if not schedule.enabled or schedule.next_fire_at is None:
        return []
    first = schedule.next_fire_at.astimezone(ZoneInfo(schedule.timezone))
    return [first] + next_fire_times(schedule.cron, schedule.timezone, first, count - 1)


def in_zone(moment: datetime | None, schedule: ScheduleRecord) -> datetime | None:
    """``moment`` on the clock of the schedule's zone."""
    return None if moment is None else moment.astimezone(ZoneInfo(schedule.timezone))


def last_status(store: RunStore, schedule: ScheduleRecord) -> str | None:
    """The status of the last fire's run, or of the fire itself when it made none; None before the first fire."""
    fires = store.list_fires(schedule.id, limit=1)
    if not fires:
        return None
    return fire_run_status(store, fires[0]) or fires[0].status


def fire_run_status(store: RunStore, fire: FireRecord) -> str | None:
    """The status of the run a fire made, None if it made none (or the run is gone)."""
    if fire.run_id is None:
        return None
    try:
        return store.get_run(fire.run_id).status
    except LookupError:
        return None


def schedule_view(store: RunStore, schedule: ScheduleRecord, with_upcoming: bool = False) -> dict:
    """The JSON form of a schedule: its record, times in its zone, its last status, its next fire times if asked."""
    view = schedule.to_dict()
    for name in ("next_fire_at", "last_fire_at"):
        moment = in_zone(getattr(schedule, name), schedule)
        view[name] = None if moment is None else moment.isoformat()
    view["last_status"] = last_status(store, schedule)
    if with_upcoming:
        view["next_fire_times"] = [moment.isoformat() for moment in upcoming(schedule)]
    return view


def fire_view(store: RunStore, fire: FireRecord) -> dict:
    """The JSON form of a fire, with the status of its run."""
    return {**fire.to_dict(), "run_status": fire_run_status(store, fire)}


def create(store: RunStore, workflow_file: Path, settings: dict, owner: str | None) -> ScheduleRecord:
    """Store a new schedule of ``workflow_file`` with ``settings`` (those of ``NewSchedule``), owned by ``owner``.

    The file must be a valid workflow for the given inputs (:class:`InvalidWorkflow`
    otherwise, :class:`FileNotFoundError` when there is no such file); ``pin`` stores the
    version it holds now, run at every fire. The name is the workflow's when not given.
    """
    settings = dict(settings)
    check_notify_setting(settings)
    workflow = checked_workflow_file(workflow_file, settings.get("inputs", {}))
    pin = settings.pop("pin", False)
    if pin:
        settings["content_hash"] = store.save_version(workflow.document, workflow.name, owner).content_hash
    settings.setdefault("name", workflow.name)
    note = AuditNote(owner, "schedule.create", None, {"name": settings["name"], "workflow_path": str(workflow_file)})
    return store.create_schedule(**settings, workflow_path=str(workflow_file), owner=owner, note=note)


def update(store: RunStore, schedule_id: str, changes: dict, expected_version: int, user: str | None,
           locate: Callable[[str], Path]) -> ScheduleRecord:
    """The schedule with ``changes`` (fields of ``ScheduleChanges``) made if it is still at ``expected_version``.

    A new ``workflow_path`` is found with ``locate``; a new file, new inputs or ``pin``
    check the workflow again with the inputs it will run with; ``pin: false`` unpins.
    Raises :class:`~jupyter_workflow.store.ScheduleConflict` if the schedule changed since.
    """
    changes = dict(changes)
    check_notify_setting(changes)
    current = store.get_schedule(schedule_id)
    if "workflow_path" in changes:
        changes["workflow_path"] = str(locate(changes["workflow_path"]))
    pin = changes.pop("pin", None)
    if pin is not None or changes.keys() & {"workflow_path", "inputs"}:
        path = Path(changes.get("workflow_path", current.workflow_path))
        workflow = checked_workflow_file(path, changes.get("inputs", current.inputs))
        if pin:
            changes["content_hash"] = store.save_version(workflow.document, workflow.name, user).content_hash
        elif pin is False:
            changes["content_hash"] = None
    details = {"changed": sorted(changes), "from_version": expected_version}
    note = AuditNote(user, "schedule.update", current.id, details)
    return store.update_schedule(current.id, changes, expected_version, note=note)


def set_enabled(store: RunStore, schedule_id: str, enabled: bool, user: str | None) -> ScheduleRecord:
    """The schedule enabled (its next time owed from now) or disabled."""
    found = store.get_schedule(schedule_id)
    note = AuditNote(user, "schedule.enable" if enabled else "schedule.disable", found.id)
    return store.set_enabled(found.id, enabled, note=note)


def delete(store: RunStore, schedule_id: str, user: str | None) -> None:
    """Remove the schedule and its fires; the runs it made stay."""
    schedule = store.get_schedule(schedule_id)
    details = {"name": schedule.name, "workflow_path": schedule.workflow_path}
    note = AuditNote(user, "schedule.delete", schedule.id, details)
    store.delete_schedule(schedule.id, note=note)


def run_now(store: RunStore, schedule_id: str, user: str | None, scheduler: "Scheduler") -> FireRecord:
    """Fire the schedule now (enabled or not) and queue its run as ``scheduler`` makes a fire's run.

    A fire whose workflow cannot run is recorded ``failed`` with the reason, and makes no run.
    """
    found = store.get_schedule(schedule_id)
    fire = store.fire_now(found.id, user, note=AuditNote(user, "schedule.run-now", found.id))
    scheduler.make_run(fire)
    return store.fire_with_schedule(fire.id)[0]  # as making its run left it


def check_notify_setting(settings: dict) -> None:
    """Raise :class:`~jupyter_workflow.store.InvalidSchedule` if ``settings`` has a ``notify`` notifications refuse."""
    from jupyter_workflow.schedules.notify import check_notify  # mail and HTTP: only when a schedule is written

    problems = check_notify(settings["notify"]) if "notify" in settings else []
    if problems:
        raise InvalidSchedule(problems)


def checked_workflow_file(path: Path, inputs: dict):
    """The workflow in ``path`` checked with ``inputs``; :class:`FileNotFoundError` if there is no such file.

    A workflow with secret inputs cannot be scheduled: a schedule keeps its input values, and
    secrets are never stored (:class:`InvalidWorkflow` naming them).
    """
    from jupyter_workflow.model import InvalidWorkflow, load_workflow  # JSON Schema and notebooks: when checked

    if not path.is_file():
        raise FileNotFoundError(f"no workflow file {path}")
    workflow = load_workflow(path)  # first the file alone: its secrets are said before missing values
    if workflow.secret_inputs():
        raise InvalidWorkflow([Problem(pointer("inputs", name), f"input {name!r} is a secret: a schedule keeps its "
                                       "input values and secrets are never stored, so this workflow cannot be "
                                       "scheduled") for name in workflow.secret_inputs()], str(path))
    return load_workflow(path, inputs=inputs)
