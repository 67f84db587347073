"""``jupyter workflow schedule ...`` and ``jupyter workflow heartbeats``: schedules from the command line.

Times are printed on the clock of each schedule's own zone. Bad input (an unknown id, a
cron expression or zone that does not parse, an invalid workflow, a schedule changed by
someone else meanwhile) exits 2 with the message, as every command does. The store and
the schedule code are imported when a command runs, not when the parser is built.
"""

import argparse
import getpass
import json
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from jupyter_workflow.cli.display import table
from jupyter_workflow.cli.main import EXIT_OK, UsageError, _open_store, _settings, parse_assignments, read_declarations
from jupyter_workflow.schedules.catchup import CATCH_UP_POLICIES

TIME_FORMAT = "%Y-%m-%d %H:%M %Z"


@contextmanager
def opened_store(args):
    """The run store for one command; its refusals of a user's input become usage errors (exit 2)."""
    from jupyter_workflow.store import AmbiguousScheduleId, InvalidSchedule, NotFound, ScheduleConflict

    store = _open_store(args)
    try:
        yield store
    except InvalidSchedule as error:
        raise UsageError("the schedule cannot be kept:\n" + "\n".join(f"  {p}" for p in error.problems)) from None
    except (NotFound, AmbiguousScheduleId, ScheduleConflict, FileNotFoundError) as error:
        raise UsageError(str(error.args[0]) if error.args else str(error)) from None
    finally:
        store.close()


def format_time(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime(TIME_FORMAT)


def notify_settings(args, current: dict | None = None) -> dict | None:
    """The ``notify`` of a schedule from ``--notify-*`` options (over ``current``); None when none is given."""
    given = {}
    if args.notify_email is not None:
        given["email"] = args.notify_email
    if args.notify_webhook is not None:
        given["webhook"] = args.notify_webhook or None
    if args.notify_on is not None:  # checked with the rest of the schedule
        given["on"] = [event.strip() for event in args.notify_on.split(",") if event.strip()]
    return {**(current or {}), **given} if given else None


def common_settings(args, current=None) -> dict:
    """The settings that ``add`` and ``edit`` share, from the options given."""
    settings = {}
    for option, name in (("cron", "cron"), ("tz", "timezone"), ("name", "name"), ("catch_up", "catch_up"),
                         ("max_concurrent", "max_concurrent"), ("retries", "retries")):
        if getattr(args, option) is not None:
            settings[name] = getattr(args, option)
    if args.param:
        path = args.file if getattr(args, "file", None) else current.workflow_path
        given = parse_assignments(args.param, read_declarations(path))
        settings["inputs"] = {**(current.inputs if current else {}), **given}
    notify = notify_settings(args, current.notify if current else None)
    if notify is not None:
        settings["notify"] = notify
    return settings


def command_add(args) -> int:
    from jupyter_workflow.schedules import operations

    settings = common_settings(args)
    settings["pin"] = args.pin
    if args.disabled:
        settings["enabled"] = False
    with opened_store(args) as store:
        schedule = operations.create(store, Path(args.file).resolve(), settings, getpass.getuser())
        print_schedule(store, schedule, args.json)
    return EXIT_OK


def command_list(args) -> int:
    from jupyter_workflow.schedules import operations

    with opened_store(args) as store:
        schedules = store.list_schedules()
        if args.json:
            print(json.dumps([operations.schedule_view(store, schedule) for schedule in schedules], indent=2))
            return EXIT_OK
        if not schedules:
            print("no schedules yet: add one with jupyter workflow schedule add FILE --cron EXPR")
            return EXIT_OK
        rows = [[schedule.id[:8], schedule.name, schedule.cron, schedule.timezone, "yes" if schedule.enabled else "no",
                 format_time(operations.in_zone(schedule.next_fire_at, schedule)),
                 format_time(operations.in_zone(schedule.last_fire_at, schedule)),
                 operations.last_status(store, schedule) or ""]
                for schedule in schedules]
    print(table(["schedule", "name", "cron", "zone", "enabled", "next fire", "last fire", "last status"], rows))
    return EXIT_OK


def print_schedule(store, schedule, as_json: bool) -> None:
    """One schedule: its settings, then its next fire times in its zone, in words."""
    from jupyter_workflow.schedules import operations
    from jupyter_workflow.schedules.cron import describe

    if as_json:
        print(json.dumps(operations.schedule_view(store, schedule, with_upcoming=True), indent=2))
        return
    state = "enabled" if schedule.enabled else "disabled"
    print(f"schedule {schedule.id}: {schedule.name} ({state}, version {schedule.version})")
    print(f"workflow: {schedule.workflow_path}" + (f" pinned at {schedule.content_hash[:12]}" if schedule.content_hash
                                                     else " (as it is at fire time)"))
    print(f"cron: {schedule.cron} in {schedule.timezone}")
    print(f"inputs: {json.dumps(schedule.inputs, ensure_ascii=False)}")
    print(f"catch-up: {schedule.catch_up} (at most {schedule.catch_up_limit}), at most {schedule.max_concurrent} "
          f"at once, {schedule.retries} retries of an interrupted run")
    if schedule.notify:
        print(f"notify: {json.dumps(schedule.notify, ensure_ascii=False)}")
    last = operations.last_status(store, schedule)
    if schedule.last_fire_at is not None:
        print(f"last fire: {format_time(operations.in_zone(schedule.last_fire_at, schedule))} ({last})")
    times = operations.upcoming(schedule)
    if times:
        print("next fire times:\n" + "\n".join(f"  {moment.isoformat()}  {words}"
                                               for moment, words in zip(times, describe(times))))
    else:
        print("no fire while it is disabled")


def command_show(args) -> int:
    with opened_store(args) as store:
        print_schedule(store, store.get_schedule(args.schedule_id), args.json)
    return EXIT_OK


def command_edit(args) -> int:
    from jupyter_workflow.schedules import operations

    with opened_store(args) as store:
        current = store.get_schedule(args.schedule_id)
        changes = common_settings(args, current)
        if args.file:
            changes["workflow_path"] = args.file
        if args.pin is not None:
            changes["pin"] = args.pin
        if not changes:
            raise UsageError("nothing to change: give the options to change (see --help)")
        schedule = operations.update(store, current.id, changes, current.version, getpass.getuser(),
                                     locate=lambda path: Path(path).resolve())
        print_schedule(store, schedule, as_json=False)
    return EXIT_OK


def command_enable(args) -> int:
    from jupyter_workflow.schedules import operations

    with opened_store(args) as store:
        schedule = operations.set_enabled(store, args.schedule_id, args.enabled, getpass.getuser())
        nxt = operations.in_zone(schedule.next_fire_at, schedule)
        print(f"schedule {schedule.id[:8]} {'enabled' if schedule.enabled else 'disabled'}"
              + (f": next fire {format_time(nxt)}" if nxt else ""))
    return EXIT_OK


def command_remove(args) -> int:
    from jupyter_workflow.schedules import operations

    with opened_store(args) as store:
        schedule = store.get_schedule(args.schedule_id)
        operations.delete(store, schedule.id, getpass.getuser())
    print(f"removed schedule {schedule.id[:8]} ({schedule.name}); its runs stay")
    return EXIT_OK


def command_run_now(args) -> int:
    from jupyter_workflow.schedules import operations
    from jupyter_workflow.schedules.scheduler import Scheduler

    with opened_store(args) as store:
        fire = operations.run_now(store, args.schedule_id, getpass.getuser(), Scheduler(store, _settings(args)))
        view = operations.fire_view(store, fire)
    if args.json:
        print(json.dumps(view, indent=2))
    elif fire.run_id:
        print(f"fired schedule {fire.schedule_id[:8]}: run {fire.run_id} is queued for a worker")
    else:
        print(f"fired schedule {fire.schedule_id[:8]}: no run ({fire.status}: {fire.reason})")
    return EXIT_OK


def command_fires(args) -> int:
    from jupyter_workflow.schedules import operations

    with opened_store(args) as store:
        schedule = store.get_schedule(args.schedule_id)
        fires = store.list_fires(schedule.id, limit=args.limit)
        views = [operations.fire_view(store, fire) for fire in fires]
    if args.json:
        print(json.dumps(views, indent=2))
        return EXIT_OK
    if not fires:
        print(f"schedule {schedule.id[:8]} has not fired yet")
        return EXIT_OK
    rows = [[format_time(operations.in_zone(fire.scheduled_for, schedule)), fire.status, fire.run_id or "",
             view["run_status"] or "", fire.reason or ""] for fire, view in zip(fires, views)]
    print(table(["scheduled for", "fire", "run", "run status", "reason"], rows))
    return EXIT_OK


def command_heartbeats(args) -> int:
    with opened_store(args) as store:
        beats = store.heartbeats(args.kind)
    if args.json:
        print(json.dumps([beat.to_dict() for beat in beats], indent=2))
        return EXIT_OK
    if not beats:
        print("no scheduler or worker has run against this store")
        return EXIT_OK
    rows = [[beat.kind, beat.name, beat.host, str(beat.pid), format_time(beat.started_at.astimezone()),
             format_time(beat.last_beat_at.astimezone()),
             "stopped " + format_time(beat.stopped_at.astimezone()) if beat.stopped_at else "running"]
            for beat in beats]
    print(table(["kind", "name", "host", "pid", "started", "last beat", "state"], rows))
    return EXIT_OK


def whole_number(least: int):
    """An argparse type: a whole number from ``least``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"expected a whole number from {least}, got {value}")
        return value

    return parse


def add_settings_options(command: argparse.ArgumentParser, required_cron: bool) -> None:
    """The options ``add`` and ``edit`` share."""
    command.add_argument("--cron", required=required_cron, metavar="EXPR",
                         help="five cron fields (minute hour day-of-month month day-of-week) or @hourly, @daily...")
    command.add_argument("--tz", metavar="ZONE", help="IANA time zone the cron is read in (default UTC)")
    command.add_argument("--name", help="for people (default: the workflow's name)")
    command.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                         help="an input value of every run")
    command.add_argument("--catch-up", choices=CATCH_UP_POLICIES,
                         help="fires missed while no scheduler ran: none, the latest once (default), or all")
    command.add_argument("--max-concurrent", type=whole_number(1), metavar="N",
                         help="runs of the schedule at once (default 1)")
    command.add_argument("--retries", type=whole_number(0), metavar="N",
                         help="retries of a run interrupted under a worker (default 0)")
    command.add_argument("--notify-email", nargs="+", metavar="ADDR", help="mail these addresses when a run ends")
    command.add_argument("--notify-webhook", metavar="URL", help="post the run's summary to this URL ('' for none)")
    command.add_argument("--notify-on", metavar="failure,success", help="which ends to tell (default: failure)")


def add_schedule_commands(commands) -> None:
    """Register ``schedule ...`` and ``heartbeats`` on the ``jupyter workflow`` subcommands."""
    schedule = commands.add_parser("schedule", help="run workflows on cron schedules").add_subparsers(
        dest="schedule_command", required=True, metavar="COMMAND")

    add = schedule.add_parser("add", help="schedule a workflow file")
    add.add_argument("file", help="a *.workflow.json file")
    add_settings_options(add, required_cron=True)
    add.add_argument("--pin", action="store_true", help="run the file as it is now at every fire")
    add.add_argument("--disabled", action="store_true", help="create it disabled")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=command_add)

    listing = schedule.add_parser("list", help="every schedule with its next and last fire")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=command_list)

    def with_id(name: str, help: str, handler, **defaults) -> argparse.ArgumentParser:
        command = schedule.add_parser(name, help=help)
        command.add_argument("schedule_id", metavar="ID", help="the schedule (a unique prefix of its id is enough)")
        command.set_defaults(handler=handler, **defaults)
        return command

    with_id("show", "one schedule and its next fire times", command_show).add_argument("--json", action="store_true")
    edit = with_id("edit", "change a schedule", command_edit)
    add_settings_options(edit, required_cron=False)
    edit.add_argument("--file", help="run this workflow file instead")
    pinning = edit.add_mutually_exclusive_group()
    pinning.add_argument("--pin", action="store_true", default=None, help="run the file as it is now at every fire")
    pinning.add_argument("--unpin", dest="pin", action="store_false", help="run the file as it is at fire time")
    with_id("enable", "fire again from now on", command_enable, enabled=True)
    with_id("disable", "stop firing", command_enable, enabled=False)
    with_id("remove", "delete a schedule and its fires (its runs stay)", command_remove)
    run_now = with_id("run-now", "fire now: queue a run for a worker", command_run_now)
    run_now.add_argument("--json", action="store_true")
    fires = with_id("fires", "the latest fires with their runs and statuses", command_fires)
    fires.add_argument("--limit", type=whole_number(1), default=20)
    fires.add_argument("--json", action="store_true")

    heartbeats = commands.add_parser("heartbeats", help="the schedulers and workers and when each last spoke")
    heartbeats.add_argument("--kind", choices=["scheduler", "worker"])
    heartbeats.add_argument("--json", action="store_true")
    heartbeats.set_defaults(handler=command_heartbeats)
