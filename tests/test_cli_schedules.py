"""``jupyter workflow schedule ...`` and ``heartbeats``: schedules as an operator types them, on a real store file."""

import json
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from notebook_factory import make_notebook, write_workflow
from test_imports import ENGINE, loaded_by
from test_server import document_problems

from jupyter_workflow.cli.main import main
from jupyter_workflow.store import RunStore

JUPYTER = Path(sys.executable).parent / "jupyter"


@pytest.fixture
def squares(tmp_path, workflow_home) -> Path:
    make_notebook(tmp_path / "square.ipynb", "x: int = 2",
                  "from jupyter_workflow import record\nrecord('square', x * x)")
    return write_workflow(tmp_path / "squares.workflow.json", {
        "format": "jupyter-workflow/1", "name": "squares",
        "inputs": {"x": {"type": "integer", "default": 3}, "label": {"type": "string", "default": ""}},
        "nodes": {"first": {"notebook": "square.ipynb", "parameters": {"x": {"input": "x"}}}},
    })


def command(capsys, *argv) -> tuple[int, str, str]:
    """``jupyter workflow ARGV`` in this process: its exit code, what it printed and what it complained."""
    try:
        code = main(list(argv))
    except SystemExit as exit:  # argparse's refusals
        code = exit.code
    out, err = capsys.readouterr()
    return code, out, err


def ok(capsys, *argv) -> str:
    code, out, err = command(capsys, *argv)
    assert code == 0, err
    return out


def refused(capsys, *argv) -> str:
    """The message of a command that must exit 2 without a traceback."""
    code, out, err = command(capsys, *argv)
    assert code == 2, (out, err)
    assert "Traceback" not in err and err.strip()
    return err


def added(capsys, squares, *options) -> dict:
    shown = json.loads(ok(capsys, "schedule", "add", str(squares), "--json", *options))
    assert document_problems("Schedule", shown) == []
    return shown


def test_add_then_list_and_show_give_the_fire_times_in_the_schedules_zone(capsys, squares):
    out = ok(capsys, "schedule", "add", str(squares), "--cron", "0 6 * * *", "--tz", "Europe/Berlin", "-p", "x=5",
             "-p", "label=7")
    schedule_id = re.search(r"schedule ([0-9a-f]{32}): squares \(enabled, version 1\)", out).group(1)
    assert "cron: 0 6 * * * in Europe/Berlin" in out and 'inputs: {"x": 5, "label": "7"}' in out
    times = re.findall(r"^  (\S+)  (\w+ \d+ \w+ \d{4}, 06:00 CES?T)$", out, re.MULTILINE)
    assert len(times) == 5 and all(datetime.fromisoformat(iso).hour == 6 for iso, _ in times)

    listing = ok(capsys, "schedule", "list")
    [row] = listing.splitlines()[1:]
    assert row.startswith(schedule_id[:8]) and "squares" in row and "Europe/Berlin" in row
    assert re.search(r"\d{4}-\d\d-\d\d 06:00 CES?T", row)

    as_json = json.loads(ok(capsys, "schedule", "show", schedule_id[:6], "--json"))
    assert document_problems("Schedule", as_json) == []
    assert as_json["next_fire_at"] == times[0][0] and as_json["workflow_path"] == str(squares)
    [listed] = json.loads(ok(capsys, "schedule", "list", "--json"))
    assert listed["id"] == schedule_id and listed["last_status"] is None


def test_the_options_of_add_become_the_schedules_settings(capsys, squares):
    schedule = added(capsys, squares, "--cron", "@hourly", "--name", "hourly squares", "--catch-up", "all",
                     "--max-concurrent", "3", "--retries", "2", "--notify-email", "ops@example.com", "cfo@example.com",
                     "--notify-webhook", "https://hooks.example.com/w", "--notify-on", "failure,success", "--pin",
                     "--disabled")
    assert schedule["name"] == "hourly squares" and schedule["timezone"] == "UTC" and schedule["catch_up"] == "all"
    assert (schedule["max_concurrent"], schedule["retries"], schedule["enabled"]) == (3, 2, False)
    assert schedule["notify"] == {"email": ["ops@example.com", "cfo@example.com"],
                                  "webhook": "https://hooks.example.com/w", "on": ["failure", "success"]}
    assert schedule["next_fire_times"] == [] and re.fullmatch("[0-9a-f]{64}", schedule["content_hash"])
    assert "no fire while it is disabled" in ok(capsys, "schedule", "show", schedule["id"])


def test_edit_enable_disable_and_remove(capsys, squares, workflow_home):
    schedule = added(capsys, squares, "--cron", "0 6 * * *", "-p", "x=5")
    out = ok(capsys, "schedule", "edit", schedule["id"][:8], "--cron", "30 7 * * 1-5", "--tz", "America/New_York",
             "-p", "label=weekday", "--notify-email", "ops@example.com")
    assert "(enabled, version 2)" in out and "cron: 30 7 * * 1-5 in America/New_York" in out
    assert 'inputs: {"x": 5, "label": "weekday"}' in out and '"email": ["ops@example.com"]' in out
    assert len(re.findall(r"^  \S+  \w+ \d+ \w+ \d{4}, 07:30 E[SD]T$", out, re.MULTILINE)) == 5
    assert "nothing to change" in refused(capsys, "schedule", "edit", schedule["id"])
    assert re.search(r"pinned at [0-9a-f]{12}", ok(capsys, "schedule", "edit", schedule["id"], "--pin"))
    assert "(as it is at fire time)" in ok(capsys, "schedule", "edit", schedule["id"], "--unpin")
    moved = squares.with_name("moved.workflow.json")
    squares.rename(moved)
    assert f"workflow: {moved} (as it is at fire time)" in ok(capsys, "schedule", "edit", schedule["id"],
                                                              "--file", str(moved))

    assert ok(capsys, "schedule", "disable", schedule["id"]) == f"schedule {schedule['id'][:8]} disabled\n"
    enabled = ok(capsys, "schedule", "enable", schedule["id"])
    assert re.fullmatch(rf"schedule {schedule['id'][:8]} enabled: next fire \S+ 07:30 E[SD]T\n", enabled)

    assert "its runs stay" in ok(capsys, "schedule", "remove", schedule["id"])
    assert f"no schedule with id {schedule['id']!r}" in refused(capsys, "schedule", "show", schedule["id"])
    store = RunStore(workflow_home.db_url)
    try:
        actions = sorted(entry.action for entry in store.audit_log(target=schedule["id"]))
    finally:
        store.close()
    assert actions == ["schedule.create", "schedule.delete", "schedule.disable", "schedule.enable"] + [
        "schedule.update"] * 4


def test_run_now_queues_a_run_and_fires_lists_it_with_its_status(capsys, squares):
    schedule = added(capsys, squares, "--cron", "0 6 * * *")
    assert "has not fired yet" in ok(capsys, "schedule", "fires", schedule["id"])
    out = ok(capsys, "schedule", "run-now", schedule["id"])
    run_id = re.fullmatch(rf"fired schedule {schedule['id'][:8]}: run ([0-9a-f]{{32}}) is queued for a worker\n",
                          out).group(1)
    [row] = ok(capsys, "schedule", "fires", schedule["id"]).splitlines()[1:]
    assert run_id in row and row.count("queued") == 2
    [fire] = json.loads(ok(capsys, "schedule", "fires", schedule["id"], "--json"))
    assert document_problems("Fire", fire) == []
    assert (fire["run_id"], fire["status"], fire["run_status"]) == (run_id, "queued", "queued")
    shown = json.loads(ok(capsys, "runs", "show", run_id, "--json"))
    assert shown["trigger"] == "schedule" and shown["fire_id"] == fire["id"]
    assert json.loads(ok(capsys, "schedule", "list", "--json"))[0]["last_status"] == "queued"


def test_bad_input_exits_2_with_the_message_and_no_traceback(capsys, squares, tmp_path):
    add = ["schedule", "add", str(squares)]
    assert "/cron: invalid cron expression '0 25 * * *'" in refused(capsys, *add, "--cron", "0 25 * * *")
    assert "unknown time zone 'Europe/Nowhere'" in refused(capsys, *add, "--cron", "@daily", "--tz", "Europe/Nowhere")
    assert "no workflow file" in refused(capsys, "schedule", "add", str(tmp_path / "gone.workflow.json"),
                                         "--cron", "@daily")
    assert "/inputs/x" in refused(capsys, *add, "--cron", "@daily", "-p", "x=five")
    assert "/notify/on/0: 'always' is neither" in refused(capsys, *add, "--cron", "@daily", "--notify-on", "always")
    assert "/notify/email/0: 'ops' is not an email address" in refused(capsys, *add, "--cron", "@daily",
                                                                         "--notify-email", "ops")
    assert "expected a whole number from 1" in refused(capsys, *add, "--cron", "@daily", "--max-concurrent", "0")
    assert "the following arguments are required: --cron" in refused(capsys, *add)
    for subcommand in ("show", "edit", "enable", "disable", "remove", "run-now", "fires"):
        extra = ["--cron", "@daily"] if subcommand == "edit" else []
        assert "no schedule with id 'abc'" in refused(capsys, "schedule", subcommand, "abc", *extra)
    assert json.loads(ok(capsys, "schedule", "list", "--json")) == []

    done = subprocess.run([str(JUPYTER), "workflow", "schedule", "add", str(squares), "--cron", "* * *"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("jupyter workflow: the schedule cannot be kept:\n  /cron: ")


def test_heartbeats_lists_schedulers_and_workers(capsys, workflow_home):
    assert "no scheduler or worker" in ok(capsys, "heartbeats")
    store = RunStore(workflow_home.db_url)
    try:
        store.beat("scheduler-a", "scheduler")
        store.beat("worker-b", "worker")
        store.stop_beating("worker-b")
    finally:
        store.close()
    rows = ok(capsys, "heartbeats").splitlines()[1:]
    assert {row.split()[0]: row.split()[1] for row in rows} == {"scheduler": "scheduler-a", "worker": "worker-b"}
    assert [row.split()[-1] for row in rows if "scheduler-a" in row] == ["running"]
    assert any("stopped" in row for row in rows if "worker-b" in row)
    [worker] = json.loads(ok(capsys, "heartbeats", "--kind", "worker", "--json"))
    assert document_problems("Heartbeat", worker) == [] and worker["name"] == "worker-b"


def test_listing_schedules_loads_no_engine(squares, capsys):
    added(capsys, squares, "--cron", "@daily")
    assert loaded_by(["schedule", "list"], ENGINE) == []
