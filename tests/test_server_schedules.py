"""Schedules through the REST API of a real Jupyter server: every route, its answers and its refusals."""

import asyncio
import json
from datetime import datetime, timedelta
from importlib.resources import files

import pytest
from test_server import call, document_problems, square_workflow  # noqa: F401 (a fixture)

from jupyter_workflow.store import RunStore

pytestmark = pytest.mark.kernels  # a Jupyter server (no node runs)

BERLIN = "Europe/Berlin"
BERLIN_OFFSETS = (timedelta(hours=1), timedelta(hours=2))
NEW = {"workflow_path": "squares.workflow.json", "cron": "0 6 * * *", "timezone": BERLIN, "inputs": {"x": 5}}
SCHEDULE_ROUTES = [
    ("GET", "schedules"), ("POST", "schedules"), ("POST", "schedules/preview"), ("GET", "schedules/0abc"),
    ("PATCH", "schedules/0abc"), ("DELETE", "schedules/0abc"), ("POST", "schedules/0abc/enable"),
    ("POST", "schedules/0abc/disable"), ("POST", "schedules/0abc/run-now"), ("GET", "schedules/0abc/fires"),
    ("GET", "heartbeats"),
]


def conforms(schema: str, value) -> None:
    assert document_problems(schema, value) == [], value


async def create(jp_fetch, **changes) -> dict:
    schedule = await call(jp_fetch, "schedules", method="POST", body={**NEW, **changes}, expect=201)
    conforms("Schedule", schedule)
    return schedule


async def audit_actions(jp_fetch, target: str) -> list[str]:
    entries = (await call(jp_fetch, "audit", params={"target": target}))["entries"]
    return sorted(entry["action"] for entry in entries)


async def test_a_schedule_is_created_listed_changed_disabled_enabled_and_deleted(jp_fetch, square_workflow):
    schedule = await create(jp_fetch)
    assert schedule["name"] == "squares" and schedule["workflow_path"] == "squares.workflow.json"
    assert schedule["version"] == 1 and schedule["enabled"] and schedule["inputs"] == {"x": 5}
    assert schedule["content_hash"] is None and schedule["last_status"] is None
    times = [datetime.fromisoformat(text) for text in schedule["next_fire_times"]]
    assert len(times) == 5 and all((t.hour, t.minute) == (6, 0) and t.utcoffset() in BERLIN_OFFSETS for t in times)
    assert schedule["next_fire_at"] == schedule["next_fire_times"][0]

    listed = await call(jp_fetch, "schedules")
    conforms("ScheduleList", listed)
    assert [s["id"] for s in listed["schedules"]] == [schedule["id"]]
    shown = await call(jp_fetch, "schedules", schedule["id"][:8])
    assert shown["id"] == schedule["id"] and shown["next_fire_times"] == schedule["next_fire_times"]

    changed = await call(jp_fetch, "schedules", schedule["id"], method="PATCH",
                         body={"expected_version": 1, "cron": "30 7 * * 1-5", "max_concurrent": 2})
    conforms("Schedule", changed)
    assert changed["version"] == 2 and changed["cron"] == "30 7 * * 1-5" and changed["max_concurrent"] == 2
    weekdays = [datetime.fromisoformat(text) for text in changed["next_fire_times"]]
    assert all((t.hour, t.minute) == (7, 30) and t.isoweekday() <= 5 for t in weekdays)

    stale = await call(jp_fetch, "schedules", schedule["id"], method="PATCH",
                       body={"expected_version": 1, "cron": "0 8 * * *"}, expect=409)
    assert stale["errors"][0]["pointer"] == "/expected_version" and "version 2" in stale["message"]
    assert (await call(jp_fetch, "schedules", schedule["id"]))["cron"] == "30 7 * * 1-5"

    disabled = await call(jp_fetch, "schedules", schedule["id"], "disable", method="POST")
    assert not disabled["enabled"] and disabled["next_fire_at"] is None and disabled["next_fire_times"] == []
    enabled = await call(jp_fetch, "schedules", schedule["id"], "enable", method="POST")
    assert enabled["enabled"] and enabled["next_fire_times"] == changed["next_fire_times"]

    pinned = await call(jp_fetch, "schedules", schedule["id"], method="PATCH",
                        body={"expected_version": enabled["version"], "pin": True})
    version = await call(jp_fetch, "versions", pinned["content_hash"])
    assert version["name"] == "squares"

    response = await jp_fetch("workflow", "api", "schedules", schedule["id"], method="DELETE")
    assert response.code == 204
    await call(jp_fetch, "schedules", schedule["id"], expect=404)
    assert (await call(jp_fetch, "schedules"))["schedules"] == []
    assert await audit_actions(jp_fetch, schedule["id"]) == [
        "schedule.create", "schedule.delete", "schedule.disable", "schedule.enable", "schedule.update",
        "schedule.update"]


async def test_a_pinned_schedule_runs_the_version_stored_when_it_was_made(jp_fetch, square_workflow):
    schedule = await create(jp_fetch, pin=True, name="pinned squares")
    version = await call(jp_fetch, "versions", schedule["content_hash"])
    assert schedule["name"] == "pinned squares" and version["spec"]["name"] == "squares"


async def test_the_preview_gives_the_next_five_times_in_the_zone_and_in_words(jp_fetch):
    preview = await call(jp_fetch, "schedules", "preview", method="POST",
                         body={"cron": "0 6 1 * *", "timezone": BERLIN})
    conforms("CronPreview", preview)
    times = [datetime.fromisoformat(item["at"]) for item in preview["fire_times"]]
    assert len(times) == 5 and all(t.day == 1 and t.hour == 6 for t in times)
    first = preview["fire_times"][0]["text"]
    zone = "CET" if times[0].utcoffset() == BERLIN_OFFSETS[0] else "CEST"
    assert first == f"{times[0]:%A} 1 {times[0]:%B %Y}, 06:00 {zone}"

    utc = await call(jp_fetch, "schedules", "preview", method="POST", body={"cron": "@hourly"})
    assert utc["timezone"] == "UTC" and datetime.fromisoformat(utc["fire_times"][0]["at"]).utcoffset() == timedelta(0)

    for body, pointer in (({"cron": "61 * * * *"}, "/cron"), ({"cron": "* * *"}, "/cron"),
                          ({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "/timezone"),
                          ({"cron": "0 6 * * *", "timezone": "America"}, "/timezone"),  # a folder of zones
                          ({"cron": "0 6 * * *", "timezone": "Mars/Olympus"}, "/timezone")):
        refused = await call(jp_fetch, "schedules", "preview", method="POST", body=body, expect=422)
        conforms("Error", refused)
        assert refused["errors"][0]["pointer"] == pointer and refused["message"]
    assert "Mars/Olympus" in refused["message"] and "site-packages" not in json.dumps(refused)
    await call(jp_fetch, "schedules", "preview", method="POST", body={"timezone": BERLIN}, expect=400)


async def test_bad_schedules_are_refused_with_what_is_wrong_and_nothing_is_stored(jp_fetch, square_workflow, tmp_path):
    cron = await call(jp_fetch, "schedules", method="POST", body={**NEW, "cron": "0 25 * * *"}, expect=422)
    assert [problem["pointer"] for problem in cron["errors"]] == ["/cron"]
    zone = await call(jp_fetch, "schedules", method="POST", body={**NEW, "timezone": "Europe/Nowhere"}, expect=422)
    assert [problem["pointer"] for problem in zone["errors"]] == ["/timezone"] and "Europe/Nowhere" in zone["message"]
    policy = await call(jp_fetch, "schedules", method="POST", body={**NEW, "catch_up": "sometimes"}, expect=422)
    assert [problem["pointer"] for problem in policy["errors"]] == ["/catch_up"]
    notify = await call(jp_fetch, "schedules", method="POST", expect=422,
                        body={**NEW, "notify": {"email": ["ops@example.com", "nobody"], "webhook": "ftp://x"}})
    assert [problem["pointer"] for problem in notify["errors"]] == ["/notify/email/1", "/notify/webhook"]
    huge = await call(jp_fetch, "schedules", method="POST", body={**NEW, "catch_up_limit": 2**70, "retries": -1},
                      expect=422)
    assert [problem["pointer"] for problem in huge["errors"]] == ["/catch_up_limit", "/retries"]
    missing = await call(jp_fetch, "schedules", method="POST", body={**NEW, "workflow_path": "gone.workflow.json"},
                         expect=404)
    assert "gone.workflow.json" in missing["message"]
    inputs = await call(jp_fetch, "schedules", method="POST", body={**NEW, "inputs": {"x": "five"}}, expect=422)
    assert any(problem["pointer"].startswith("/inputs/x") for problem in inputs["errors"])
    (tmp_path / "elsewhere.workflow.json").write_text(square_workflow.read_text())
    await call(jp_fetch, "schedules", method="POST", body={**NEW, "workflow_path": "../elsewhere.workflow.json"},
               expect=403)
    await call(jp_fetch, "schedules", method="POST", body={"cron": "0 6 * * *"}, expect=400)
    await call(jp_fetch, "schedules", method="POST", body={**NEW, "inputs": [5]}, expect=400)
    assert (await call(jp_fetch, "schedules"))["schedules"] == []

    schedule = await create(jp_fetch)
    wrong = await call(jp_fetch, "schedules", schedule["id"], method="PATCH",
                       body={"expected_version": 1, "timezone": "Nowhere"}, expect=422)
    assert [problem["pointer"] for problem in wrong["errors"]] == ["/timezone"]
    await call(jp_fetch, "schedules", schedule["id"], method="PATCH", body={"cron": "0 7 * * *"}, expect=400)
    await call(jp_fetch, "schedules", schedule["id"], method="PATCH", body={"expected_version": 1}, expect=400)
    assert (await call(jp_fetch, "schedules", schedule["id"]))["version"] == 1

    for method, route in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/enable"), ("POST", "/run-now"),
                          ("GET", "/fires")):
        body = {"expected_version": 1, "cron": "0 7 * * *"} if method == "PATCH" else None
        unknown = await call(jp_fetch, f"schedules/{'f' * 32}{route}", method=method, body=body, expect=404)
        conforms("Error", unknown)


async def test_run_now_queues_a_run_for_a_worker_and_the_fires_show_it(jp_fetch, square_workflow):
    schedule = await create(jp_fetch)
    fire = await call(jp_fetch, "schedules", schedule["id"], "run-now", method="POST", expect=202)
    conforms("Fire", fire)
    assert fire["schedule_id"] == schedule["id"] and fire["status"] == "queued" and fire["run_status"] == "queued"
    run = await call(jp_fetch, "runs", fire["run_id"])
    assert run["trigger"] == "schedule" and run["fire_id"] == fire["id"] and run["inputs"]["x"] == 5
    assert run["status"] == "queued"

    fires = await call(jp_fetch, "schedules", schedule["id"][:6], "fires")
    conforms("FireList", fires)
    assert [(f["id"], f["run_id"], f["run_status"]) for f in fires["fires"]] == [(fire["id"], fire["run_id"], "queued")]
    [listed] = (await call(jp_fetch, "schedules"))["schedules"]
    assert listed["last_status"] == "queued"
    assert "schedule.run-now" in await audit_actions(jp_fetch, schedule["id"])

    square_workflow.unlink()  # a fire whose workflow is gone makes no run, and says why
    failed = await call(jp_fetch, "schedules", schedule["id"], "run-now", method="POST", expect=202)
    assert failed["status"] == "failed" and failed["run_id"] is None and "cannot" in failed["reason"]
    latest = (await call(jp_fetch, "schedules", schedule["id"], "fires", params={"limit": "1"}))["fires"]
    assert [f["id"] for f in latest] == [failed["id"]]


async def test_heartbeats_list_the_schedulers_and_workers(jp_fetch, workflow_home):
    store = RunStore(workflow_home.db_url)
    try:
        store.beat("scheduler-test", "scheduler", details={"poll_s": 1.0})
        store.beat("worker-test", "worker")
        store.stop_beating("worker-test")
    finally:
        store.close()
    beats = await call(jp_fetch, "heartbeats")
    conforms("HeartbeatList", beats)
    by_name = {beat["name"]: beat for beat in beats["heartbeats"]}
    assert by_name["scheduler-test"]["kind"] == "scheduler" and by_name["scheduler-test"]["stopped_at"] is None
    assert by_name["worker-test"]["kind"] == "worker" and by_name["worker-test"]["stopped_at"] is not None
    workers = await call(jp_fetch, "heartbeats", params={"kind": "worker"})
    assert [beat["name"] for beat in workers["heartbeats"]] == ["worker-test"]
    refused = await call(jp_fetch, "heartbeats", params={"kind": "robot"}, expect=400)
    assert "scheduler, worker" in refused["message"]


async def test_every_schedule_route_is_in_the_document_and_refuses_unauthenticated_requests(
    http_server_client, jp_base_url
):
    document = json.loads(files("jupyter_workflow.server").joinpath("openapi.json").read_text("utf-8"))
    for method, route in SCHEDULE_ROUTES:
        templated = "/workflow/api/" + route.replace("0abc", "{schedule_id}")
        assert method.lower() in document["paths"][templated], (method, route)
        response = await http_server_client.fetch(
            f"{jp_base_url}workflow/api/{route}", method=method,
            body="{}" if method in ("POST", "PATCH") else None, raise_error=False,
        )
        assert response.code in (401, 403), (method, route, response.code)



async def test_a_schedule_made_through_the_api_is_fired_by_the_servers_scheduler(jp_fetch, square_workflow):
    schedule = await create(jp_fetch, cron="* * * * * *", timezone="UTC")  # every second
    deadline = asyncio.get_running_loop().time() + 30
    while not (queued := [fire for fire in (await call(jp_fetch, "schedules", schedule["id"], "fires"))["fires"]
                          if fire["status"] == "queued"]):
        assert asyncio.get_running_loop().time() < deadline, "the server's scheduler made no run in 30 s"
        await asyncio.sleep(0.2)
    await call(jp_fetch, "schedules", schedule["id"], "disable", method="POST")
    fire = queued[-1]
    assert fire["run_status"] == "queued" and fire["scheduler"].startswith("scheduler-")
    assert (await call(jp_fetch, "runs", fire["run_id"]))["trigger"] == "schedule"
    [beat] = (await call(jp_fetch, "heartbeats", params={"kind": "scheduler"}))["heartbeats"]
    assert beat["name"] == fire["scheduler"] and beat["stopped_at"] is None
